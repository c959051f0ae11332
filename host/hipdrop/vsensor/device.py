"""The virtual sensor: a simulated recording streamed as the real device would send it.

Samples go through the firmware's own driver, sampling loop and packer on a model of the IMU
chip, so the bytes are the device's bytes. The device clock, the FIFO timing, the batching to
the MTU and reboots (new boot counter, sequence and clock from zero) behave as on the ESP32.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .board import VirtualBoard
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
    """Streams a :class:`~hipdrop.sim.Recording` as a board running the firmware would.

    Each device boot runs the firmware's driver and sampling loop on the chip model
    (:class:`~hipdrop.vsensor.board.VirtualBoard`), polled every ``poll_s``. ``reboots_s``
    lists host times at which the device restarts; ``boot`` is the first boot counter.
    """

    def __init__(
        self,
        recording,
        mtu=247,
        boot=1,
        reboots_s=(),
        board="m5stickc_plus2",
        part="mpu6886",
        poll_s=0.02,
    ):
        self.recording = recording
        self.mtu, self.board, self.part, self.poll_s = mtu, board, part, poll_s
        self.first_boot = boot
        self.reboots_s = sorted(reboots_s)
        spec = recording.spec
        self.rate_code = rate_code(spec.rate_hz)
        self.fs_code = fs_code(spec.acc_range_g, spec.gyr_range_dps)
        self.boots = list(boot_segments(recording.time_s, self.reboots_s, boot))
        self._first_sample = {}

    def notifications(self) -> Iterator[Notification]:
        """Every notification of the recording, in the order the device sends them."""
        for boot, start, stop, t_boot in self.boots:
            board = VirtualBoard(self.recording, start, stop, boot, self.mtu, self.board, self.part)
            self._first_sample[boot] = start + board.start(self.rate_code, self.fs_code)
            for chip_s, data in board.run(self.poll_s):
                yield Notification(t_boot + chip_s + LINK_LATENCY_S, data)

    def recording_index(self, boot, sample_index):
        """Where samples (boot counter, sample index) sit in the recording."""
        return np.array([self._first_sample[int(b)] for b in boot]) + np.asarray(sample_index)


def boot_segments(time_s, reboots_s, first_boot=1):
    """(boot counter, first sample, end sample, host time of the boot) per device boot: the
    device restarts at each time in ``reboots_s`` and loses ``REBOOT_S`` of samples."""
    edges = [0.0, *sorted(reboots_s)]
    for k, t_boot in enumerate(edges):
        start = int(np.searchsorted(time_s, t_boot + (REBOOT_S if k else 0.0)))
        stop = int(np.searchsorted(time_s, edges[k + 1])) if k + 1 < len(edges) else len(time_s)
        if start < stop:
            yield first_boot + k, start, stop, time_s[start]
