"""Battery measurement (hipdrop_fw.battery) with a fake ADC, and the app's low-battery path in
the virtual device: the log is flushed and closed, no new one starts, the status reports it."""

import struct

import pytest
from test_fw_app import Host

from hipdrop.sim import scenario
from hipdrop.vsensor.app_device import VirtualDevice
from hipdrop_fw import battery
from hipdrop_fw import protocol as p


class FakeAdc:
    """``ADC.read_uv`` of a pin behind a divider: set ``battery_mv``; ``fail`` raises OSError."""

    def __init__(self, battery_mv, divider=2.0):
        self.battery_mv = battery_mv
        self.divider = divider
        self.fail = False
        self.reads = 0

    def __call__(self):
        self.reads += 1
        if self.fail:
            raise OSError(5)
        return round(self.battery_mv * 1000 / self.divider)


@pytest.mark.parametrize("mv", [mv for mv, _ in battery.CURVE])
def test_curve_points_are_exact(mv):
    assert battery.percent(mv) == dict(battery.CURVE)[mv]


def test_curve_interpolates_and_clamps():
    assert battery.percent(4400) == 100 and battery.percent(3000) == 0
    assert battery.percent(3650) == 8  # halfway between 3610 (5 %) and 3690 (10 %), rounded
    assert battery.percent(4000) == 78  # 3980 (75) .. 4020 (80): 75 + 2.5 rounded up
    pcts = [battery.percent(mv) for mv in range(3200, 4300, 5)]
    assert pcts == sorted(pcts)  # monotonic


def test_divider_and_first_reading_fills_the_window():
    adc = FakeAdc(3870, divider=2.0)
    b = battery.Battery(adc, 2.0)
    assert b.read() == (3870, 60)
    adc.battery_mv = 4200
    assert b.read() == (3870 + (4200 - 3870) // 8, battery.percent(3911))  # one of 8 moved


def test_smoothing_rides_out_a_sag():
    adc = FakeAdc(3700)
    b = battery.Battery(adc, 2.0, window=8)
    b.read()
    adc.battery_mv = 3300  # a motor pulse pulls the cell down for two readings
    b.read()
    mv, _ = b.read()
    assert mv == (6 * 3700 + 2 * 3300) // 8 and not b.low
    adc.battery_mv = 3700
    for _ in range(8):
        mv, _ = b.read()
    assert mv == 3700 and not b.low


def test_low_has_hysteresis():
    adc = FakeAdc(3500)
    b = battery.Battery(adc, 2.0, window=1, low_mv=3450, clear_mv=3600)
    b.read()
    assert not b.low
    adc.battery_mv = 3440
    b.read()
    assert b.low
    for mv in (3460, 3550, 3600):  # above the low threshold, not above the clear one
        adc.battery_mv = mv
        b.read()
        assert b.low, mv
    adc.battery_mv = 3610
    b.read()
    assert not b.low
    adc.battery_mv = 3500
    b.read()
    assert not b.low


def test_no_cell_or_adc_error_is_unknown():
    adc = FakeAdc(100)  # USB only, nothing on the divider
    b = battery.Battery(adc, 2.0)
    assert b.read() == (0, p.BATTERY_PCT_UNKNOWN) and not b.low
    adc.battery_mv = 3300
    b.read()
    assert b.low
    adc.fail = True
    assert b.read() == (0, p.BATTERY_PCT_UNKNOWN) and b.low  # kept
    adc.fail = False
    adc.battery_mv = 4100
    assert b.read() == (4100, battery.percent(4100))  # the window starts afresh


@pytest.fixture(scope="module")
def recording():
    return scenario("treadmill_quick", seed=1)


def _status(host):
    s = host.central.read(host.status)
    mv, pct, state = struct.unpack_from("<HBB", s, 2)
    return mv, pct, state, s[14]


def test_app_low_battery_closes_the_log_and_reports_the_fault(recording):
    adc = FakeAdc(3900)
    dev = VirtualDevice(recording, battery=battery.Battery(adc, 2.0))
    dev.run(5.0)  # untethered: logging
    log = dev.app.logs.log
    assert log.logging
    host = Host(dev)
    host.connect()
    mv, pct, state, fault = _status(host)
    assert (mv, pct, fault) == (3900, battery.percent(3900), p.FAULT_NONE)
    assert not state & p.STATE_BATTERY_LOW
    level = dev.handle(0x2A19)
    assert host.central.read(level) == bytes([battery.percent(3900)])

    produced = dev.app.sampler.seq
    adc.battery_mv = 3300
    dev.run(2.5)  # 8 readings average down below 3450 mV
    assert dev.app.battery_low and not log.logging
    mv, pct, state, fault = _status(host)
    assert mv < 3450 and state & p.STATE_BATTERY_LOW and fault == p.FAULT_BATTERY_LOW
    assert host.central.read(level) == bytes([pct])
    ((log_id, _, n_samples, _),) = [e[:4] for e in log.list()]
    assert produced < n_samples <= dev.app.sampler.seq  # flushed: every sample up to closing
    closed_at = n_samples

    host.central.disconnect()
    dev.run(2.0)  # untethered and low: no new log
    assert len(log.list()) == 1 and log.list()[0][2] == closed_at
    host.connect()
    assert host.command(b"\x01\x09") == b"\x81\x09" + bytes([p.RESULT_BATTERY_LOW])

    adc.battery_mv = 4000  # charging
    dev.run(2.5)
    assert not dev.app.battery_low
    mv, pct, state, fault = _status(host)
    assert not state & p.STATE_BATTERY_LOW and fault == p.FAULT_NONE and pct > 70
    assert host.command(b"\x01\x0a")[2] == p.RESULT_OK


def test_an_empty_battery_switches_the_board_off_after_keeping_the_data(recording):
    adc = FakeAdc(3700)
    offs = []
    dev = VirtualDevice(recording, battery=battery.Battery(adc, 2.0), power_off=lambda: offs.append(
        (dev.app.logs.log.logging, dev.app.peripheral._bonds.dirty)))  # fmt: skip
    dev.run(5.0)  # untethered: logging
    host = Host(dev)
    host.connect()  # pairs: the stack hands over a bond key
    host.central.disconnect()
    adc.battery_mv = 3380  # low, not yet empty
    dev.run(2.5)
    assert dev.app.battery_low and offs == []
    adc.battery_mv = 3200
    dev.run(2.5)
    assert offs and offs[0] == (False, False)  # log closed and bonds written before power-off
    ((_, _, n_samples, _),) = [e[:4] for e in dev.app.logs.log.list()]
    assert n_samples > 5 * 190


def test_power_off_lets_go_of_the_hold_pin_then_sleeps():
    calls = []

    class FakePin:
        OUT = 1

        def __init__(self, pin, mode, value):
            calls.append(("pin", pin, value))

    class Machine:
        Pin = FakePin

        @staticmethod
        def deepsleep():
            calls.append(("deepsleep",))

    from hipdrop_fw import boards

    battery.power_off_for(boards.load("m5stickc_plus2"), Machine)()
    battery.power_off_for(boards.load("diy_esp32"), Machine)()
    assert calls == [("pin", 4, 0), ("deepsleep",), ("deepsleep",)]
