"""A board running the firmware's own sampling path: chip model → driver → sampler → packets.

The firmware's ``imu.mpu6886`` driver talks to the register-level chip model
(``mpu6886.Mpu6886Model``) instead of an I2C bus, its ``sampler`` reads the chip's FIFO every
``poll_s`` of a fake clock, and the packets it hands to its sink are the notifications a real
board would send. The chip is fed one stretch of a simulated recording (one device boot),
expressed in the chip's own axes through the board profile's ``AXES``. The whole device
application on the same chip model and the fake radio is ``app_device.VirtualDevice``.
"""

from .firmware import firmware_module
from .mpu6886 import ArraySource, Mpu6886Model, to_chip_axes

TICKS_MASK = 2**30 - 1


def chip_for(recording, start, stop, board="m5stickc_plus2", part="mpu6886"):
    """The chip model fed samples ``start:stop`` of ``recording`` in the chip's own axes."""
    axes = firmware_module("boards").load(board).AXES
    source = ArraySource(
        to_chip_axes(recording.acc_ms2[start:stop], axes),
        to_chip_axes(recording.gyr_dps[start:stop], axes),
    )
    return Mpu6886Model(source, part=part, clock_error=recording.spec.rate_error)


class VirtualBoard:
    """One boot of a board on samples ``start:stop`` of ``recording``.

    ``on_sample`` is the sampler's per-sample hook (the tilt filter); ``packets`` collects
    ``(chip time s, bytes)`` as the sampler completes them.
    """

    def __init__(
        self,
        recording,
        start,
        stop,
        boot,
        mtu,
        board="m5stickc_plus2",
        part="mpu6886",
        on_sample=None,
        ticks_offset_us=0,
    ):
        axes = firmware_module("boards").load(board).AXES
        self.chip = chip_for(recording, start, stop, board, part)
        self.clock_error = recording.spec.clock_error
        self.ticks_offset_us = ticks_offset_us
        self.imu = firmware_module("imu.mpu6886").Mpu6886(
            self.chip, axes=axes, sleep_ms=lambda ms: self.chip.advance(ms / 1e3)
        )
        packer = firmware_module("packet").SamplePacker(mtu - 3)
        self.sampler = firmware_module("sampler").Sampler(
            self.imu, self.ticks_us, packer, self._keep, boot=boot, on_sample=on_sample
        )
        self.packets = []
        self.boot_fault = 0

    def ticks_us(self):
        """The ESP32's microsecond clock: ``ticks_offset_us`` at the boot, running
        1 + clock_error fast against the fake clock, wrapping at 2**30."""
        elapsed = int(self.chip.time_s * 1e6 * (1 + self.clock_error))
        return (elapsed + self.ticks_offset_us) & TICKS_MASK

    def _keep(self, packet):
        self.packets.append((self.chip.time_s, bytes(packet)))

    def start(self, rate_code, fs_code):
        """Self-test, configure, start sampling; return the chip sample that becomes seq 0."""
        self.boot_fault = self.imu.self_test()
        self.imu.configure(rate_code, fs_code)
        self.sampler.start()
        return self.chip.fifo_reset_sample

    def run(self, poll_s):
        """Poll the FIFO every ``poll_s`` until the chip has used up its samples; yield the
        packets as they complete."""
        per_poll = int(poll_s * self.chip.rate_hz()) + 2
        while self.chip.sample_count + per_poll < len(self.chip.source):
            self.chip.advance(poll_s)
            self.sampler.poll()
            yield from self._take()
        self.sampler.flush()
        yield from self._take()

    def _take(self):
        packets, self.packets = self.packets, []
        return packets
