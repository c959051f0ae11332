"""The board's real-time clock, so logs recorded without a host carry real dates.

``Bm8563``: the BM8563 on the M5StickC Plus2's internal bus (register-compatible with the NXP
PCF8563; datasheet PCF8563 rev. 11). It keeps counting on the battery while the board is
off. ``MachineRtc``: MicroPython's ``machine.RTC`` on boards without one (the ESP32's own
clock: it survives soft resets and deep sleep, not a power cut). Both offer
``read_unix_s()`` (UTC seconds, or None) and ``set_unix_s(unix_s)`` (True when written).
``for_board`` picks one from the board profile's ``RTC_ADDR``.

``WallClock`` is what the App asks for a log's start time: the host's last ``TIME_SYNC``,
else the RTC as read at boot, either followed by ``ticks_ms``; 0 (unknown) without both.

Dates are UTC and computed here with integers (days from the civil date and back, the
proleptic Gregorian calendar), not with ``time.mktime``/``gmtime``: MicroPython's epoch
differs by port and version (1970 or 2000).

BM8563 registers, as the driver uses them (BCD; bits the chip leaves unimplemented may read
either way, so every field is masked):

- 0x00 control_status_1: STOP (bit 5) holds the prescaler in reset; writing 0 clears it
  and TESTC. 0x01 (alarm and timer flags) is never touched.
- 0x02 seconds (bit 7 VL: the supply dropped too low since the time was last written, so the
  time is invalid), 0x03 minutes, 0x04 hours (24 h), 0x05 day of month, 0x06 weekday (0-6,
  written with 0 = Sunday), 0x07 month (bit 7 C: century), 0x08 year 00-99. One burst reads
  or writes all seven: the chip holds its counters still during the access.
- Years are 2000-2099 with C = 0 (M5Stack's convention; the chip toggles C when 99 rolls
  over to 00). A reading with C set is not a time we wrote: None. The chip's leap rule
  (every fourth year, 00 included) is the Gregorian one in that range.
- Setting: STOP, write the time, release STOP. The first seconds increment then comes
  0.508 s later (datasheet "First increment of time circuits after STOP bit release"), so
  writing the whole seconds of the host's time keeps the chip within ±0.5 s of it.
"""

from hipdrop_fw.compat import const

ADDR = const(0x51)
_CONTROL_1 = const(0x00)
_SECONDS = const(0x02)
_STOP = const(0x20)
_VL = const(0x80)
_CENTURY = const(0x80)
_FIELD_MASKS = (0x7F, 0x7F, 0x3F, 0x3F, 0x07, 0x1F, 0xFF)  # seconds .. years
_YEAR_BASE = const(2000)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAY_S = const(86400)
_MIN_VALID_UNIX_S = 1_704_067_200  # 2024-01-01T00:00:00Z: a clock reading earlier was never set
_READ_CENTRE_MS = const(500)  # a reading is whole seconds: on average half a second behind


# -- dates -----------------------------------------------------------------------------


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    return _DAYS_IN_MONTH[month - 1] + (month == 2 and is_leap(year))


def days_from_civil(year, month, day):
    """Days from 1970-01-01 to ``year-month-day`` (negative before it).

    Counts from 1 March of 400-year eras (146,097 days each), so the leap day ends a year.
    """
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400  # year of era, 0-399
    mp = (month + 9) % 12  # March = 0
    doy = (153 * mp + 2) // 5 + day - 1  # day of the March-based year
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy  # day of era
    return era * 146097 + doe - 719468  # 719,468 days from 0000-03-01 to 1970-01-01


def civil_from_days(days):
    """(year, month, day) of ``days`` after 1970-01-01: the inverse of ``days_from_civil``."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def to_unix_s(year, month, day, hours, minutes, seconds):
    """UTC seconds since 1970-01-01 of a civil date and time."""
    return days_from_civil(year, month, day) * _DAY_S + hours * 3600 + minutes * 60 + seconds


def from_unix_s(unix_s):
    """(year, month, day, hours, minutes, seconds) in UTC of ``unix_s``."""
    days, s = divmod(unix_s, _DAY_S)
    year, month, day = civil_from_days(days)
    return year, month, day, s // 3600, s // 60 % 60, s % 60


def weekday(unix_s):
    """0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday)."""
    return (unix_s // _DAY_S + 4) % 7


def is_valid(year, month, day, hours, minutes, seconds):
    """A real civil date and time (no leap second)."""
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return False
    return 0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60


# -- the BM8563 ------------------------------------------------------------------------


def _from_bcd(b):
    """Two BCD digits as a number; -1 when a digit is not 0-9."""
    hi, lo = b >> 4, b & 0x0F
    return hi * 10 + lo if hi < 10 and lo < 10 else -1


def _to_bcd(n):
    return (n // 10) << 4 | n % 10


class Bm8563:
    """The BM8563 / PCF8563 on ``i2c`` (a ``machine.I2C``) at ``addr``; UTC, 2000-2099."""

    def __init__(self, i2c, addr=ADDR):
        self._i2c = i2c
        self.addr = addr
        self._regs = bytearray(7)
        self._b1 = bytearray(1)

    def read_unix_s(self):
        """The chip's time in UTC seconds; None when the chip does not answer, VL says the
        time is invalid, C is set, or the registers hold no valid date."""
        r = self._regs
        try:
            self._i2c.readfrom_mem_into(self.addr, _SECONDS, r)
        except OSError:
            return None
        if r[0] & _VL or r[5] & _CENTURY:
            return None
        s, mi, h, d, _, mo, yy = [_from_bcd(r[i] & _FIELD_MASKS[i]) for i in range(7)]
        y = _YEAR_BASE + yy
        if yy < 0 or not is_valid(y, mo, d, h, mi, s):
            return None
        return to_unix_s(y, mo, d, h, mi, s)

    def set_unix_s(self, unix_s):
        """Set the chip to ``unix_s`` (whole UTC seconds), restarting its seconds count and
        clearing VL. False when the chip does not answer or the year is not 2000-2099."""
        y, mo, d, h, mi, s = from_unix_s(unix_s)
        if not _YEAR_BASE <= y < _YEAR_BASE + 100:
            return False
        r = self._regs
        for i, v in enumerate((s, mi, h, d, weekday(unix_s), mo, y - _YEAR_BASE)):
            r[i] = _to_bcd(v)
        try:
            self._control(_STOP)
            self._i2c.writeto_mem(self.addr, _SECONDS, r)
            self._control(0)
        except OSError:
            return False
        return True

    def _control(self, value):
        self._b1[0] = value
        self._i2c.writeto_mem(self.addr, _CONTROL_1, self._b1)


# -- the ESP32's own clock -------------------------------------------------------------


class MachineRtc:
    """``machine.RTC()`` as a board clock. After a power cut the ESP32 restarts it at
    2000-01-01, which ``WallClock`` takes for "never set"."""

    def __init__(self, rtc):
        self._rtc = rtc

    def read_unix_s(self):
        year, month, day, _, hours, minutes, seconds, _ = self._rtc.datetime()
        return to_unix_s(year, month, day, hours, minutes, seconds)

    def set_unix_s(self, unix_s):
        year, month, day, hours, minutes, seconds = from_unix_s(unix_s)
        monday_first = (weekday(unix_s) + 6) % 7  # machine.RTC: 0 = Monday
        self._rtc.datetime((year, month, day, monday_first, hours, minutes, seconds, 0))
        return True


def for_board(profile, i2c, machine):
    """The board's clock: a ``Bm8563`` on ``i2c`` at the profile's ``RTC_ADDR``, or
    ``MachineRtc`` when the profile has none (``RTC_ADDR = None``)."""
    if profile.RTC_ADDR is None:
        return MachineRtc(machine.RTC())
    return Bm8563(i2c, profile.RTC_ADDR)


# -- wall-clock time for the logs ------------------------------------------------------


class WallClock:
    """UTC seconds for the logs' start times, following ``clock.ticks_ms`` from a base.

    The base is the host's last ``sync`` (``TIME_SYNC``), else the RTC's time read once here
    at boot (plus half a second: the reading is whole seconds), unless it reads before 2024
    (never set). ``sync`` also sets the RTC, so the next boot has the date. ``rtc``: an
    object with ``read_unix_s`` and ``set_unix_s`` (``for_board``), or None.

    ``ticks_ms`` wraps at 2**30 ms on the ESP32, so the base is good for ``ticks_diff``'s
    half period (6.2 days) after the sync or boot.
    """

    def __init__(self, clock, rtc=None):
        self._clock = clock
        self._rtc = rtc
        self._base = None  # (unix_ms, ticks_ms)
        unix_s = rtc.read_unix_s() if rtc is not None else None
        if unix_s is not None and unix_s >= _MIN_VALID_UNIX_S:
            self._base = (unix_s * 1000 + _READ_CENTRE_MS, clock.ticks_ms())

    def sync(self, unix_ms, at_ms):
        """The host's time ``unix_ms`` at ``ticks_ms`` = ``at_ms``: the new base; set the RTC."""
        self._base = (unix_ms, at_ms)
        if self._rtc is not None:
            self._rtc.set_unix_s(unix_ms // 1000)

    def unix_s(self):
        """UTC seconds now, 0 when the date is unknown."""
        if self._base is None:
            return 0
        unix_ms, at = self._base
        return (unix_ms + self._clock.ticks_diff(self._clock.ticks_ms(), at)) // 1000
