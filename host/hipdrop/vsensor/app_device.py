"""The whole device application (``hipdrop_fw.app.App``) on the chip model and the fake radio.

Where :class:`~hipdrop.vsensor.board.VirtualBoard` runs the firmware's sampling path alone,
a :class:`VirtualDevice` runs what ``firmware/main.py`` runs on the board: the App with the
register-level chip model as its I2C bus, :class:`~hipdrop.vsensor.fake_ble.BLE` as its
radio and a fake clock driven by the chip's time. The test side plays the host with a
:class:`~hipdrop.vsensor.fake_ble.Central` (``device.central()``).
"""

from . import fake_ble
from .board import TICKS_MASK, chip_for
from .fake_flash import FakeFlash
from .firmware import firmware_module


class FakeClock:
    """``time``'s ticks API on the chip model's fake clock (device clock ``1 + clock_error``
    fast, starting at ``ticks_offset_us``); ``sleep_ms`` runs the chip."""

    def __init__(self, chip, clock_error=0.0, ticks_offset_us=0):
        self.chip = chip
        self.clock_error = clock_error
        self.ticks_offset_us = ticks_offset_us

    def _us(self):
        return int(self.chip.time_s * 1e6 * (1 + self.clock_error)) + self.ticks_offset_us

    def ticks_us(self):
        return self._us() & TICKS_MASK

    def ticks_ms(self):
        return (self._us() // 1000) & TICKS_MASK

    @staticmethod
    def ticks_diff(a, b):
        half = (TICKS_MASK + 1) // 2
        return ((a - b + half) & TICKS_MASK) - half

    def sleep_ms(self, ms):
        self.chip.advance(ms / 1e3)


class VirtualDevice:
    """One boot of the device app on samples ``start:stop`` of ``recording``.

    ``present=False`` leaves the IMU off the bus; ``ring_capacity`` samples for backfill
    (default 2,500: a board without PSRAM, docs/firmware.md); ``tx_buffers`` the radio's
    notification buffers; ``poll_s`` the main loop's period; ``flash`` the device's
    filesystem (default: a fresh :class:`~hipdrop.vsensor.fake_flash.FakeFlash`; pass the
    previous device's to reboot on the same flash, ``None`` keeps ``boot`` and the log
    commands answer ``UNKNOWN_OP``); ``boot`` the boot counter (default: the flash's next);
    ``battery`` a firmware ``battery.Battery`` (default none: battery unknown); ``outputs``
    the LED/buzzer/motor (default ``outputs.NullOutputs()``, which records the patterns);
    ``button`` a firmware ``button.Button`` (default none); ``power_off`` what the app calls
    to switch the board off on an empty battery (default none); ``radio`` the ``bluetooth.BLE``
    (default a :class:`~hipdrop.vsensor.fake_ble.BLE` with ``tx_buffers``; a
    :class:`~hipdrop.vsensor.bumble_ble.BumbleBLE` puts the device on a real BLE stack);
    ``rtc`` a :class:`~hipdrop.vsensor.bm8563.Bm8563Model` at the board's ``RTC_ADDR`` (default
    none), which counts with this boot's chip time from now on: pass the previous device's to
    reboot with the clock that kept time (``rtc.advance(s)`` for time switched off).
    """

    def __init__(self, recording, start=0, stop=None, boot=None, board="m5stickc_plus2",
                 part="mpu6886", present=True, ring_capacity=2500, tx_buffers=8,
                 ticks_offset_us=0, poll_s=0.02, flash=..., battery=None,
                 outputs=None, button=None, power_off=None, radio=None, rtc=None):  # fmt: skip
        stop = len(recording.time_s) if stop is None else stop
        self.chip = chip_for(recording, start, stop, board, part)
        self.chip.present = present
        self.clock = FakeClock(self.chip, recording.spec.clock_error, ticks_offset_us)
        self.radio = fake_ble.BLE(tx_buffers=tx_buffers) if radio is None else radio
        self.poll_s = poll_s
        self.flash = FakeFlash() if flash is ... else flash
        app = firmware_module("app")
        self.outputs = firmware_module("outputs").NullOutputs() if outputs is None else outputs
        profile = firmware_module("boards").load(board)
        if rtc is not None:
            rtc.follow(lambda: self.chip.time_s)
            rtc = firmware_module("rtc").Bm8563(rtc, profile.RTC_ADDR)
        self.app = app.App(
            profile, self.chip, self.radio, self.clock, fake_ble.UUID,
            outputs=self.outputs, boot=boot if self.flash is not None or boot is not None else 1,
            ring_capacity=ring_capacity, fs=self.flash, battery=battery,
            button=button, rtc=rtc, power_off=power_off,
        )  # fmt: skip

    def central(self, **kwargs):
        """A central for this device's radio (see :class:`fake_ble.Central`)."""
        return fake_ble.Central(self.radio, **kwargs)

    def handle(self, uuid):
        return self.radio.handle_of(uuid)

    def step(self):
        """One main-loop period: the chip runs ``poll_s``, then ``App.poll``."""
        self.chip.advance(self.poll_s)
        self.app.poll()

    def run(self, seconds, each=None):
        """Run the main loop for ``seconds``; ``each()`` after every poll (the host side)."""
        for _ in range(round(seconds / self.poll_s)):
            self.step()
            if each is not None:
                each()
