"""The virtual sensor: a simulated recording streamed as the real device would send it.

Samples go through the firmware's own packer (``hipdrop_fw.packet``), so the bytes are the
device's bytes. The device clock, the batching to the MTU and reboots (new boot counter,
sequence and clock from zero) behave as on the ESP32.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .firmware import firmware_module

REBOOT_S = 1.2
"""Samples lost while the device restarts."""
LINK_LATENCY_S = 0.004


@dataclass(frozen=True)
class Notification:
    host_time_s: float
    """When the notification reaches the host (host clock, seconds from the recording's start)."""
    data: bytes


def fs_code(acc_range_g, gyr_range_dps):
    protocol = firmware_module("protocol")
    return protocol.ACC_FS_G.index(acc_range_g) | protocol.GYR_FS_DPS.index(gyr_range_dps) << 4


def rate_code(rate_hz):
    codes = {hz: code for code, hz in firmware_module("protocol").RATE_HZ.items()}
    return codes[int(round(rate_hz))]


class VirtualSensor:
    """Packs a :class:`~hipdrop.sim.Recording` into stream notifications.

    ``reboots_s`` lists host times at which the device restarts; ``boot`` is the boot counter
    of the first boot.
    """

    def __init__(self, recording, mtu=247, boot=1, reboots_s=()):
        protocol = firmware_module("protocol")
        packet = firmware_module("packet")
        self.recording = recording
        self.protocol = protocol
        self.packer = packet.SamplePacker(mtu - protocol.ATT_OVERHEAD)
        self.first_boot = boot
        self.reboots_s = sorted(reboots_s)
        spec = recording.spec
        self.rate_code = rate_code(spec.rate_hz)
        self.fs_code = fs_code(spec.acc_range_g, spec.gyr_range_dps)
        self.boots = list(self._boots())

    def notifications(self) -> Iterator[Notification]:
        """Every notification of the recording, in the order the device sends them."""
        for boot, start, stop, t_boot in self.boots:
            yield from self._stream_boot(boot, start, stop, t_boot)

    def recording_index(self, boot, sample_index):
        """Where samples (boot counter, sample index) sit in the recording."""
        starts = {b: start for b, start, _, _ in self.boots}
        return np.array([starts[int(b)] for b in boot]) + np.asarray(sample_index)

    def _boots(self):
        """(boot counter, first sample, end sample, host time of the boot) per device boot."""
        t = self.recording.time_s
        edges = [0.0] + self.reboots_s
        for k, t_boot in enumerate(edges):
            start = int(np.searchsorted(t, t_boot + (REBOOT_S if k else 0.0)))
            stop = int(np.searchsorted(t, edges[k + 1])) if k + 1 < len(edges) else len(t)
            if start < stop:
                yield self.first_boot + k, start, stop, t_boot

    def _stream_boot(self, boot, start, stop, t_boot):
        rec = self.recording
        device_us = (rec.time_s - t_boot) * (1.0 + rec.spec.clock_error) * 1e6
        for first in range(start, stop, self.packer.capacity):
            last = min(first + self.packer.capacity, stop)
            ticks = int(device_us[first]) & 0x3FFFFFFF
            self.packer.start(
                self.protocol.TYPE_LIVE,
                boot,
                first - start,
                ticks,
                self.rate_code,
                self.fs_code,
                self.protocol.FLAG_TILT_UNSETTLED,
            )
            self._add_samples(first, last)
            yield Notification(
                float(rec.time_s[last - 1]) + LINK_LATENCY_S, bytes(self.packer.finish())
            )

    def _add_samples(self, first, last):
        acc = self.recording.sensor.acc_counts[first:last].tolist()
        gyr = self.recording.sensor.gyr_counts[first:last].tolist()
        no_tilt = self.protocol.TILT_UNAVAILABLE
        for a, g in zip(acc, gyr):
            self.packer.add(*a, *g, no_tilt, no_tilt)
