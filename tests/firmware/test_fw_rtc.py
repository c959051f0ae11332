"""hipdrop_fw.rtc: the date arithmetic against Python's datetime (on CPython and on MicroPython),
the BM8563 driver against the register-level chip model, the machine.RTC fallback, and the
board profiles' choice between them."""

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fw_rtc_checks
import pytest
from fw_support import assert_passed, assert_ran_to_the_end, run_micropython

from hipdrop.vsensor.bm8563 import FIRST_TICK_AFTER_STOP_S, Bm8563Model
from hipdrop_fw import boards, rtc

HERE = Path(__file__).parent
EPOCH = date(1970, 1, 1)
T = 1_709_251_199  # 2024-02-29 23:59:59 UTC


def _fields(unix_s):
    t = datetime.fromtimestamp(unix_s, UTC)
    return t.year, t.month, t.day, t.hour, t.minute, t.second


def _sample_times(n=3000, seed=5):
    """Random times over 1970-2106 and every second around each 2000-2099 year's end and
    leap day."""
    rng = random.Random(seed)
    times = [rng.randrange(0, 2**32) for _ in range(n)]
    for year in range(2000, 2100):
        for edge in (datetime(year, 1, 1, tzinfo=UTC), datetime(year, 3, 1, tzinfo=UTC)):
            at = int(edge.timestamp())
            times += [at - 1, at, at + 1]
    return times


@pytest.mark.parametrize(
    ("name", "check"), fw_rtc_checks.CHECKS, ids=[n for n, _ in fw_rtc_checks.CHECKS]
)
def test_shared_check(name, check):
    check()


# -- dates against datetime ------------------------------------------------------------


def test_every_day_1600_to_2400_matches_datetime():
    day = date(1600, 1, 1)
    while day < date(2400, 1, 1):
        days = (day - EPOCH).days
        assert rtc.days_from_civil(day.year, day.month, day.day) == days
        assert rtc.civil_from_days(days) == (day.year, day.month, day.day)
        assert rtc.weekday(days * 86400) == day.isoweekday() % 7
        day += timedelta(days=1)


def test_seconds_match_datetime():
    for unix_s in _sample_times():
        fields = _fields(unix_s)
        assert rtc.from_unix_s(unix_s) == fields
        assert rtc.to_unix_s(*fields) == unix_s


def test_validity_matches_datetime():
    for y, m, d in [(y, m, d) for y in (1900, 2000, 2023, 2024) for m in (0, 1, 2, 4, 13)
                    for d in (0, 1, 28, 29, 30, 31)]:  # fmt: skip
        try:
            datetime(y, m, d)
            real = True
        except ValueError:
            real = False
        assert rtc.is_valid(y, m, d, 0, 0, 0) == real, (y, m, d)


@pytest.fixture(scope="module")
def mpy_result(tmp_path_factory):
    """The shared checks and the datetime rows on MicroPython (one node start)."""
    rows = [[t, *_fields(t), datetime.fromtimestamp(t, UTC).isoweekday() % 7]
            for t in _sample_times(1500)]  # fmt: skip
    path = tmp_path_factory.mktemp("rtc") / "rtc_dates.json"
    path.write_text(json.dumps(rows))
    return run_micropython(HERE / "fw_mpy_rtc.py", HERE / "fw_rtc_checks.py", path)


def test_micropython_run_succeeds(mpy_result):
    assert_ran_to_the_end(mpy_result)


@pytest.mark.parametrize(
    "name", [n for n, _ in fw_rtc_checks.CHECKS] + ["check_dates_agree_with_cpython_datetime"]
)
def test_micropython_check(mpy_result, name):
    assert_passed(mpy_result, name)


# -- the driver against the chip model ---------------------------------------------------


class Clock:
    """The fake time the chip model counts with."""

    def __init__(self):
        self.s = 0.0

    def __call__(self):
        return self.s


@pytest.fixture
def chip():
    clock = Clock()
    return clock, Bm8563Model(clock)


def test_power_on_reads_none_until_set(chip):
    clock, model = chip
    driver = rtc.Bm8563(model)
    assert model.vl and driver.read_unix_s() is None
    assert driver.set_unix_s(T)
    assert not model.vl and driver.read_unix_s() == T
    model.vl = True  # the battery ran flat
    assert driver.read_unix_s() is None


@pytest.mark.parametrize(
    ("start", "seconds", "want"),
    [
        ((2024, 2, 29, 23, 59, 58), 1, (2024, 2, 29, 23, 59, 59)),  # a leap day
        ((2024, 2, 29, 23, 59, 59), 1, (2024, 3, 1, 0, 0, 0)),
        ((2024, 2, 29, 23, 59, 59), 365 * 86400, (2025, 2, 28, 23, 59, 59)),
        ((2023, 2, 28, 23, 59, 59), 1, (2023, 3, 1, 0, 0, 0)),
        ((2000, 2, 28, 12, 0, 0), 86400, (2000, 2, 29, 12, 0, 0)),  # 2000: divisible by 400
        ((2029, 12, 31, 23, 59, 0), 61, (2030, 1, 1, 0, 0, 1)),
        ((2099, 12, 31, 23, 59, 59), 0, (2099, 12, 31, 23, 59, 59)),
    ],
)
def test_driver_reads_the_counting_chip(chip, start, seconds, want):
    clock, model = chip
    driver = rtc.Bm8563(model)
    assert driver.set_unix_s(int(datetime(*start, tzinfo=UTC).timestamp()))
    clock.s += seconds + 0.25  # a quarter second in (the first increment comes at 0.508 s)
    assert rtc.from_unix_s(driver.read_unix_s()) == want


def test_weekday_register_counts_with_the_date(chip):
    clock, model = chip
    rtc.Bm8563(model).set_unix_s(T)  # a Thursday
    clock.s += 1.0  # Friday 1 March
    assert model.readfrom_mem(rtc.ADDR, 0x06, 1)[0] & 0x07 == 5


def test_setting_keeps_the_chip_within_half_a_second(chip):
    """The host's time has a fraction the chip cannot hold; STOP centres the error."""
    clock, model = chip
    driver = rtc.Bm8563(model)
    for fraction in [k / 20 for k in range(20)]:
        host_s = T + fraction
        assert driver.set_unix_s(int(host_s))
        for later in (0.0, 0.3, 0.7, 5.2):
            clock.s += later
            assert abs(model.unix_s() - (host_s + later)) <= 0.51
            assert abs(driver.read_unix_s() + 0.5 - (host_s + later)) <= 1.01  # + WallClock's 0.5
            clock.s -= later


def test_unimplemented_bits_read_set_and_are_masked(chip):
    clock, model = chip
    rtc.Bm8563(model).set_unix_s(T)
    raw = model.readfrom_mem(rtc.ADDR, 0x02, 7)
    assert raw == b"\x59\xd9\xe3\xe9\xfc\x62\x24"
    assert rtc.Bm8563(model).read_unix_s() == T


def test_century_bit_from_another_convention_reads_none(chip):
    clock, model = chip
    driver = rtc.Bm8563(model)
    driver.set_unix_s(T)
    model.writeto_mem(rtc.ADDR, 0x07, b"\x82")  # C = 1: "20xx" in some Arduino libraries
    assert driver.read_unix_s() is None
    assert driver.set_unix_s(T)  # the next host connection writes C = 0
    assert driver.read_unix_s() == T


def test_absent_or_elsewhere_reads_none(chip):
    clock, model = chip
    rtc.Bm8563(model).set_unix_s(T)
    assert rtc.Bm8563(model, 0x52).read_unix_s() is None
    model.present = False
    assert rtc.Bm8563(model).read_unix_s() is None
    assert not rtc.Bm8563(model).set_unix_s(T)


# -- the chip model itself -----------------------------------------------------------------


def test_model_follows_another_clock_and_counts_time_off(chip):
    clock, model = chip
    rtc.Bm8563(model).set_unix_s(T)
    clock.s += 10.0
    other = Clock()
    other.s = 3.0
    model.follow(other)  # a reboot: the new chip model's time
    model.advance(3600.0)  # switched off for an hour
    other.s += 2.0
    assert model.unix_s() == pytest.approx(T + 1 - FIRST_TICK_AFTER_STOP_S + 10 + 3600 + 2)


def test_model_stop_freezes_on_the_whole_second(chip):
    clock, model = chip
    rtc.Bm8563(model).set_unix_s(T)
    clock.s += 2.3  # T + 2.79
    model.writeto_mem(rtc.ADDR, 0x00, b"\x20")
    assert model.stopped and model.unix_s() == T + 2
    clock.s += 100.0
    model.advance(50.0)
    assert model.unix_s() == T + 2
    model.writeto_mem(rtc.ADDR, 0x00, b"\x00")
    clock.s += FIRST_TICK_AFTER_STOP_S
    assert model.unix_s() == pytest.approx(T + 3)


def test_model_bursts_wrap_and_keep_other_registers(chip):
    clock, model = chip
    model.writeto_mem(rtc.ADDR, 0x0D, b"\x83\x00\x00")  # CLKOUT, timer control, timer
    assert model.readfrom_mem(rtc.ADDR, 0x0D, 3) == b"\x83\x00\x00"
    assert len(model.readfrom_mem(rtc.ADDR, 0x0F, 2)) == 2  # 0x0F then 0x00
    with pytest.raises(ValueError):
        model.writeto_mem(rtc.ADDR, 0x05, b"\x31\x00\x02")  # 31 February


# -- the machine.RTC fallback and the board profiles ------------------------------------


class FakeMachineRtc:
    """machine.RTC's datetime(): (year, month, day, weekday (0 = Monday), hours, minutes,
    seconds, subseconds); the ESP32 starts it at 2000-01-01 after a power cut."""

    def __init__(self):
        self.value = (2000, 1, 1, 5, 0, 0, 12, 0)

    def datetime(self, value=None):
        if value is None:
            return self.value
        self.value = value
        return None


def test_machine_rtc_round_trip():
    fake = FakeMachineRtc()
    clock = rtc.MachineRtc(fake)
    assert clock.read_unix_s() == 946684812
    assert rtc.WallClock(fw_rtc_checks.Ticks(), clock).unix_s() == 0  # power cut: unknown
    assert clock.set_unix_s(T)
    assert fake.value == (2024, 2, 29, datetime(2024, 2, 29).weekday(), 23, 59, 59, 0)
    assert clock.read_unix_s() == T


class FakeMachine:
    RTC = FakeMachineRtc


def test_for_board_picks_the_profiles_clock(chip):
    clock, model = chip
    m5 = rtc.for_board(boards.load("m5stickc_plus2"), model, FakeMachine)
    assert isinstance(m5, rtc.Bm8563) and m5.addr == 0x51
    assert m5.set_unix_s(T) and m5.read_unix_s() == T
    diy = rtc.for_board(boards.load("diy_esp32"), None, FakeMachine)
    assert isinstance(diy, rtc.MachineRtc)
