"""The main button (hipdrop_fw.button) on a fake pin and clock, and in the virtual device: a
short press toggles the untethered log, a long press calibrates."""

import pytest
from test_fw_app import Host

from hipdrop.sim import scenario
from hipdrop.vsensor.app_device import VirtualDevice
from hipdrop_fw import boards, button
from hipdrop_fw import protocol as p


class FakePin:
    """``machine.Pin`` input, active low: ``level`` 1 released, 0 pressed."""

    IN = 1

    def __init__(self, num=0, mode=None):
        self.num, self.mode, self.level = num, mode, 1

    def value(self):
        return self.level


def run(b, pin, levels, step=10, start=0):
    """Poll every ``step`` ms; ``levels`` is [(until_ms, level)]; returns [(t, event)]."""
    events, t = [], start
    for until, level in levels:
        pin.level = level
        while t - start < until:
            e = b.poll(t & 0x3FFFFFFF)
            if e != button.NONE:
                events.append((t - start, e))
            t += step
    return events


def test_short_press_on_release():
    pin = FakePin()
    b = button.Button(pin)
    assert run(b, pin, [(100, 1), (400, 0), (600, 1)]) == [(430, button.SHORT)]


def test_long_press_while_held_and_nothing_on_release():
    pin = FakePin()
    b = button.Button(pin)
    events = run(b, pin, [(100, 1), (3000, 0), (3500, 1)])
    assert events == [(2100, button.LONG)]  # 2 s after the press began (at 100 ms)


def test_bounce_and_glitches_are_ignored():
    pin = FakePin()
    b = button.Button(pin, debounce_ms=30)
    bouncy = [(100, 1), (110, 0), (120, 1), (130, 0), (140, 1)]  # contact bounce, no press
    assert run(b, pin, [*bouncy, (400, 1)], step=10) == []
    assert not b.pressed
    press = [(100, 1), (110, 0), (120, 1), (500, 0), (510, 1), (700, 0), (900, 1)]  # bounce, glitch
    assert run(b, pin, press, start=1000) == [(730, button.SHORT)]


def test_ticks_wrap():
    pin = FakePin()
    b = button.Button(pin)
    start = 0x3FFFFFFF - 205
    assert run(b, pin, [(100, 1), (2500, 0), (2700, 1)], start=start) == [(2100, button.LONG)]


class FakeMachine:
    Pin = FakePin


@pytest.mark.parametrize("board", boards.BOARDS)
def test_for_board(board):
    profile = boards.load(board)
    b = button.for_board(profile, FakeMachine)
    assert b.pin.num == profile.BUTTON_PINS[0] and b.pin.mode == FakePin.IN


@pytest.fixture(scope="module")
def recording():
    return scenario("treadmill_quick", seed=1)


def _press(dev, pin, seconds):
    pin.level = 0
    dev.run(seconds)
    pin.level = 1
    dev.run(0.1)


def test_short_press_toggles_the_untethered_log(recording):
    pin = FakePin()
    dev = VirtualDevice(recording, button=button.Button(pin))
    log = dev.app.logs.log
    dev.run(3.0)
    assert log.logging
    _press(dev, pin, 0.2)
    assert not log.logging and dev.outputs.log == [("falling", 1)]
    (entry,) = log.list()
    n = entry[2]
    dev.run(2.0)
    assert not log.logging and log.list()[0][2] == n  # paused: no new log
    _press(dev, pin, 0.2)
    assert dev.outputs.log[-1] == ("rising", 1)
    dev.run(0.5)  # the next finished packet starts the log
    assert log.logging
    assert len(log.list()) == 2


def test_short_press_starts_a_log_while_connected(recording):
    pin = FakePin()
    dev = VirtualDevice(recording, button=button.Button(pin))
    host = Host(dev)
    host.connect()
    dev.run(1.0)
    assert not dev.app.logs.log.logging  # a central is connected: no automatic log
    _press(dev, pin, 0.2)
    dev.run(0.5)
    assert dev.app.logs.log.logging and dev.outputs.log == [("rising", 1)]
    assert host.central.read(host.status)[5] & p.STATE_LOGGING
    assert host.command(b"\x01\x01")[2] == p.RESULT_OK  # START closes it
    assert not dev.app.logs.log.logging
    _press(dev, pin, 0.2)  # streaming: logging is impossible
    assert dev.outputs.log[-1] == ("long", 1)


def test_long_press_calibrates_while_standing(recording):
    pin = FakePin()
    dev = VirtualDevice(recording, button=button.Button(pin))
    host = Host(dev)
    host.connect()
    assert not dev.app.calibrated
    _press(dev, pin, 2.2)
    assert dev.app._cal is not None  # collecting BUTTON_CAL_S seconds
    dev.run(3.5)
    assert dev.app.calibrated and dev.outputs.log == [("double", 1)]
    assert host.central.indications == []  # no host asked: a cue, no indication
    assert host.central.read(host.status)[5] & p.STATE_CALIBRATED
