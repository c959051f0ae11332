"""A register-level model of the BM8563 / PCF8563 real-time clock behind a ``machine.I2C``-like API.

It stands in for the M5StickC Plus2's RTC in the firmware tests and the virtual device: the
firmware's ``rtc.Bm8563`` driver talks to it through ``readfrom_mem_into`` and
``writeto_mem``. It models the chip, so it imports nothing from the firmware; dates come
from Python's ``datetime``, not from the firmware's own arithmetic.

Time: the model counts the seconds of a clock it is given (``time_s``, a callable: the IMU
chip model's fake time). ``follow(time_s)`` moves it onto another clock (a reboot: each
boot's chip model starts at 0 s), ``advance(seconds)`` counts time no clock shows (the board
switched off: the chip runs on the battery).

Modelled from the PCF8563 datasheet (NXP, rev. 11):

- Registers 0x00-0x0F; bursts auto-increment and wrap from 0x0F to 0x00. Registers other
  than the time are stored as written, except STOP below.
- 0x02-0x08 seconds, minutes, hours, days, weekdays, century_months, years in BCD, counting
  one second per second; leap years every fourth year, which is the Gregorian rule for the
  2000-2099 the model holds. The weekday counts on from whatever was written. Bits the chip
  leaves unimplemented read as 1 here (the datasheet: read-back "may differ"), so a driver
  that does not mask them fails. The century bit C reads as written.
- VL (seconds bit 7): set at power-on (a new model with ``vl=True``) or by setting ``vl``;
  cleared only by writing the seconds register with bit 7 clear.
- STOP (control_status_1 bit 5): freezes the time and resets the prescaler (the fraction of
  a second); after STOP is released the first increment comes 0.507813 s later.
- A write that leaves the time registers on no valid date raises ValueError (the chip would
  count on from it; the firmware never writes one). An absent chip (``present = False``) or
  another address raises ``OSError(19)`` (ENODEV), as MicroPython does on the ESP32.
"""

import math
from datetime import UTC, datetime

from .i2c_chip import I2cChip

ADDR = 0x51
CONTROL_1 = 0x00
SECONDS = 0x02
MONTHS = 0x07
YEARS = 0x08
STOP = 0x20
VL = 0x80
CENTURY = 0x80
N_REGISTERS = 16
FIRST_TICK_AFTER_STOP_S = 0.507813
POWER_ON_UNIX_S = 946_684_800  # 2000-01-01T00:00:00Z (the datasheet leaves it undefined)
_FIELD_BITS = (0x7F, 0x7F, 0x3F, 0x3F, 0x07, 0x1F, 0xFF)  # seconds .. years
_UNUSED_BITS = (0x00, 0x80, 0xC0, 0xC0, 0xF8, 0x60, 0x00)  # VL and C are the others


def _bcd(n):
    return (n // 10) << 4 | n % 10


def _from_bcd(b):
    return (b >> 4) * 10 + (b & 0x0F)


class Bm8563Model(I2cChip):
    """The chip at ``ADDR`` holding ``unix_s`` (UTC) at ``time_s()`` now; ``vl`` its VL flag."""

    addr = ADDR

    def __init__(self, time_s=None, unix_s=POWER_ON_UNIX_S, vl=True, present=True):
        self._time_s = time_s if time_s is not None else (lambda: 0.0)
        self._t = float(unix_s)  # the chip's time (unix s; the fraction is the prescaler's)
        self._at = self._time_s()
        self._weekday_shift = 0  # written weekday - true weekday (Sunday = 0)
        self._century = 0
        self._regs = bytearray(N_REGISTERS)
        self.vl = vl
        self.present = present

    # -- time ----------------------------------------------------------------------------

    @property
    def stopped(self):
        return bool(self._regs[CONTROL_1] & STOP)

    def unix_s(self):
        """The chip's time now, with the fraction of a second (float UTC seconds)."""
        return self._t if self.stopped else self._t + self._time_s() - self._at

    def follow(self, time_s):
        """Count with clock ``time_s`` from now on."""
        self._t = self.unix_s()
        self._time_s = time_s
        self._at = time_s()

    def advance(self, seconds):
        """Count ``seconds`` that no clock shows (the board off, the chip on its battery)."""
        if not self.stopped:
            self._t += seconds

    # -- the bus -------------------------------------------------------------------------

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._check(addr)
        regs = self._registers()
        for i in range(len(buf)):
            buf[i] = regs[(memaddr + i) % N_REGISTERS]

    def writeto_mem(self, addr, memaddr, buf):
        self._check(addr)
        regs = self._registers()
        for i, value in enumerate(bytes(buf)):
            regs[(memaddr + i) % N_REGISTERS] = value
        if any(SECONDS <= (memaddr + i) % N_REGISTERS <= YEARS for i in range(len(buf))):
            self._set_time(regs[SECONDS : YEARS + 1])
        self._set_control(regs[CONTROL_1])
        self._regs[:SECONDS] = regs[:SECONDS]
        self._regs[YEARS + 1 :] = regs[YEARS + 1 :]

    def _registers(self):
        """All 16 registers as a read sees them now."""
        regs = bytearray(self._regs)
        now = datetime.fromtimestamp(math.floor(self.unix_s()), UTC)
        weekday = (now.isoweekday() + self._weekday_shift) % 7  # Sunday = 0 unless shifted
        fields = (now.second, now.minute, now.hour, now.day, weekday, now.month, now.year % 100)
        for i, value in enumerate(fields):
            regs[SECONDS + i] = _bcd(value) | _UNUSED_BITS[i]
        regs[SECONDS] |= VL if self.vl else 0
        regs[MONTHS] |= CENTURY if self._century else 0
        return regs

    def _set_time(self, raw):
        """The time registers were written: ``raw`` is their 7 bytes (seconds .. years)."""
        s, mi, h, d, wd, mo, y = (_from_bcd(b & m) for b, m in zip(raw, _FIELD_BITS, strict=True))
        new = datetime(2000 + y, mo, d, h, mi, s, tzinfo=UTC)
        fraction = 0.0 if self.stopped else self.unix_s() % 1.0
        self._t = new.timestamp() + fraction
        self._at = self._time_s()
        self._weekday_shift = (wd - new.isoweekday()) % 7
        self.vl = bool(raw[0] & VL)
        self._century = raw[MONTHS - SECONDS] & CENTURY

    def _set_control(self, value):
        """STOP set: the time freezes on its whole second; released: it runs again, the first
        increment ``FIRST_TICK_AFTER_STOP_S`` later."""
        was, now = self.stopped, bool(value & STOP)
        if now and not was:
            self._t = math.floor(self.unix_s())
        elif was and not now:
            self._t = math.floor(self._t) + 1 - FIRST_TICK_AFTER_STOP_S
            self._at = self._time_s()
        self._regs[CONTROL_1] = value
