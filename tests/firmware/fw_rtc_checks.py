"""RTC checks that run unchanged on CPython (test_fw_rtc.py) and on MicroPython (fw_mpy_rtc.py).

The date arithmetic against dates worked out by hand and against its own calendar walked day
by day over 2000-2099; the BM8563 driver against a plain register file (``RegisterBus``: no
clock, so every byte is checked exactly; the counting chip model is host code, in
test_fw_rtc.py); ``WallClock`` on a settable tick counter. Each ``check_*`` raises
AssertionError on a mismatch.
"""

from hipdrop_fw import rtc

_MASK = 0x3FFFFFFF  # ticks_ms wraps at 2**30 on the ESP32


class RegisterBus:
    """Sixteen registers at 0x51 behind ``machine.I2C``'s calls; ``writes`` logs each call.
    ``present=False``: nothing answers (ENODEV, as MicroPython's I2C on the ESP32)."""

    def __init__(self, present=True):
        self.regs = bytearray(16)
        self.writes = []
        self.present = present

    def _check(self, addr):
        if not self.present or addr != rtc.ADDR:
            raise OSError(19)

    def readfrom_mem_into(self, addr, reg, buf):
        self._check(addr)
        for i in range(len(buf)):
            buf[i] = self.regs[reg + i]

    def writeto_mem(self, addr, reg, buf):
        self._check(addr)
        self.writes.append((reg, bytes(buf)))
        self.regs[reg : reg + len(buf)] = buf


class Ticks:
    """``time``'s ticks_ms and ticks_diff on a settable counter."""

    def __init__(self, now=0):
        self.now = now

    def ticks_ms(self):
        return self.now & _MASK

    @staticmethod
    def ticks_diff(a, b):
        return ((a - b + 0x20000000) & _MASK) - 0x20000000


class StoredRtc:
    """A board clock that returns ``unix_s`` and records what it is set to."""

    def __init__(self, unix_s=None):
        self.unix_s = unix_s
        self.set_to = []

    def read_unix_s(self):
        return self.unix_s

    def set_unix_s(self, unix_s):
        self.set_to.append(unix_s)
        return True


# -- dates -----------------------------------------------------------------------------

# (year, month, day, days from 1970-01-01, weekday with 0 = Sunday), counted by hand:
# 2000-01-01 = 30 * 365 + 7 leap days (1972 .. 1996) = 10957, a Saturday.
_DAYS = (
    (1970, 1, 1, 0, 4),
    (1969, 12, 31, -1, 3),
    (2000, 1, 1, 10957, 6),
    (2000, 2, 29, 11016, 2),  # 2000 is a leap year (divisible by 400)
    (2000, 3, 1, 11017, 3),
    (2024, 2, 29, 19782, 4),
    (2099, 12, 31, 47481, 4),
    (2100, 3, 1, 47541, 1),  # 2100 is not: 28 February + 1
    (1900, 3, 1, -25508, 4),
    (1600, 2, 29, -135081, 2),
)


def check_days_of_known_dates():
    for y, m, d, days, wd in _DAYS:
        assert rtc.days_from_civil(y, m, d) == days, (y, m, d)
        assert rtc.civil_from_days(days) == (y, m, d), days
        assert rtc.weekday(days * 86400 + 86399) == wd, (y, m, d)


def check_unix_seconds_of_known_times():
    for fields, unix_s in (
        ((2000, 1, 1, 0, 0, 0), 946684800),
        ((2024, 2, 29, 23, 59, 59), 1709251199),
        ((2038, 1, 19, 3, 14, 8), 2147483648),  # 2**31: past a signed 32-bit time_t
        ((2099, 12, 31, 23, 59, 59), 4102444799),
    ):
        assert rtc.to_unix_s(*fields) == unix_s, fields
        assert rtc.from_unix_s(unix_s) == fields, unix_s


def check_calendar_walk_2000_to_2099():
    """Day by day from 2000-01-01: each next day is the day after in the calendar (month
    lengths and leap years from ``days_in_month``), and converts back to its day number."""
    y, m, d = rtc.civil_from_days(10957)
    for days in range(10958, 47482 + 1):
        if d < rtc.days_in_month(y, m):
            d += 1
        elif m < 12:
            m, d = m + 1, 1
        else:
            y, m, d = y + 1, 1, 1
        assert rtc.civil_from_days(days) == (y, m, d), days
        assert rtc.days_from_civil(y, m, d) == days, (y, m, d)
    assert (y, m, d) == (2100, 1, 1)
    leap = [year for year in range(2000, 2100) if rtc.days_in_month(year, 2) == 29]
    assert leap == list(range(2000, 2100, 4))


def check_validity():
    assert rtc.is_valid(2024, 2, 29, 23, 59, 59)
    for bad in ((2023, 2, 29, 0, 0, 0), (2024, 13, 1, 0, 0, 0), (2024, 4, 31, 0, 0, 0),
                (2024, 1, 0, 0, 0, 0), (2024, 1, 1, 24, 0, 0), (2024, 1, 1, 0, 60, 0),
                (2024, 1, 1, 0, 0, 60)):  # fmt: skip
        assert not rtc.is_valid(*bad), bad


# -- the BM8563 driver on a register file ----------------------------------------------


def check_bm8563_writes_bcd_between_stop_and_release():
    bus = RegisterBus()
    clock = rtc.Bm8563(bus)
    assert clock.set_unix_s(1709251199)  # 2024-02-29 23:59:59, a Thursday
    # STOP, then seconds 59, minutes 59, hours 23, day 29, weekday 4, month 02, year 24
    assert bus.writes == [(0x00, b"\x20"), (0x02, b"\x59\x59\x23\x29\x04\x02\x24"),
                          (0x00, b"\x00")]  # fmt: skip
    assert clock.read_unix_s() == 1709251199


def check_bm8563_range_edges():
    bus = RegisterBus()
    clock = rtc.Bm8563(bus)
    assert clock.set_unix_s(946684800)  # 2000-01-01 00:00:00, a Saturday
    assert bytes(bus.regs[2:9]) == b"\x00\x00\x00\x01\x06\x01\x00"
    assert clock.read_unix_s() == 946684800
    assert clock.set_unix_s(4102444799)  # 2099-12-31 23:59:59
    assert bytes(bus.regs[2:9]) == b"\x59\x59\x23\x31\x04\x12\x99"
    assert clock.read_unix_s() == 4102444799
    n = len(bus.writes)
    assert not clock.set_unix_s(946684799)  # 1999: C would be needed
    assert not clock.set_unix_s(4102444800)  # 2100
    assert len(bus.writes) == n


def check_bm8563_masks_unimplemented_bits():
    bus = RegisterBus()
    # 2024-02-29 23:59:59 with every unimplemented bit read back as 1
    bus.regs[2:9] = b"\x59\xd9\xe3\xe9\xfc\x62\x24"
    assert rtc.Bm8563(bus).read_unix_s() == 1709251199


def check_bm8563_invalid_time_reads_none():
    bus = RegisterBus()
    clock = rtc.Bm8563(bus)
    good = b"\x59\x59\x23\x29\x04\x02\x24"
    for at, value in ((0, 0xD9), (5, 0x82), (0, 0x5A), (3, 0x30), (5, 0x13), (5, 0x00),
                      (6, 0x9A), (2, 0x24), (1, 0x60)):  # fmt: skip
        bus.regs[2:9] = good
        bus.regs[2 + at] = value  # VL set, C set, a non-BCD digit, 30 February, month 13...
        assert clock.read_unix_s() is None, (at, value)
    bus.regs[2:9] = b"\x00\x00\x00\x29\x02\x02\x23"  # 2023-02-29: no leap year
    assert clock.read_unix_s() is None


def check_bm8563_absent_reads_none():
    bus = RegisterBus(present=False)
    clock = rtc.Bm8563(bus)
    assert clock.read_unix_s() is None
    assert not clock.set_unix_s(1709251199)
    assert rtc.Bm8563(RegisterBus(), 0x52).read_unix_s() is None  # another address


# -- the wall clock ----------------------------------------------------------------------


def check_wall_clock_unknown_without_a_set_clock():
    ticks = Ticks(5000)
    assert rtc.WallClock(ticks).unix_s() == 0
    assert rtc.WallClock(ticks, StoredRtc(None)).unix_s() == 0
    assert rtc.WallClock(ticks, StoredRtc(946684800 + 3600)).unix_s() == 0  # 2000: never set


def check_wall_clock_follows_the_rtc_read_at_boot():
    ticks = Ticks(_MASK - 700)  # wraps 0.7 s later
    clock = StoredRtc(1709251199)
    wall = rtc.WallClock(ticks, clock)
    clock.unix_s = None  # read once, at boot
    assert wall.unix_s() == 1709251199
    ticks.now += 499  # + 0.5 s for the whole-second reading
    assert wall.unix_s() == 1709251199
    ticks.now += 1
    assert wall.unix_s() == 1709251200
    ticks.now += 3_600_000
    assert wall.unix_s() == 1709254800
    assert clock.set_to == []


def check_wall_clock_sync_wins_and_sets_the_rtc():
    ticks = Ticks(1000)
    clock = StoredRtc(1709251199)
    wall = rtc.WallClock(ticks, clock)
    wall.sync(1_750_000_000_999, 900)  # the host's time at ticks 900
    assert clock.set_to == [1_750_000_000]
    assert wall.unix_s() == 1_750_000_001  # 100 ms later
    ticks.now += 60_000
    assert wall.unix_s() == 1_750_000_061
    bare = rtc.WallClock(ticks)
    bare.sync(1_750_000_000_000, ticks.now)
    assert bare.unix_s() == 1_750_000_000


CHECKS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("check_")]
