"""LED/buzzer/motor patterns (hipdrop_fw.outputs) on fake pins and a fake clock: the timeline of
every pattern, no drift with a 20 ms main loop, off/replace, both boards' wiring, and CUE
over the fake radio driving the buzzer through App.poll."""

import pytest
from test_fw_app import Host

from hipdrop.sim import scenario
from hipdrop.vsensor.app_device import VirtualDevice
from hipdrop_fw import boards, outputs


class Timeline:
    """A shared log of (t_ms, device, value) writes; ``t`` is set by the test's clock."""

    def __init__(self):
        self.t = 0
        self.clock = None  # or a function giving the time
        self.writes = []

    def now(self):
        return self.t if self.clock is None else self.clock()


class FakePin:
    """``machine.Pin`` as an output: ``value(v)`` sets, ``value()`` reads."""

    OUT = 1

    def __init__(self, tl, name, *args, value=None):
        self.tl, self.name, self._v = tl, name, value

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = v
        self.tl.writes.append((self.tl.now(), self.name, v))
        return None


class FakePWM:
    """``machine.PWM``: ``freq(hz)`` and ``duty_u16(d)`` set, no argument reads."""

    def __init__(self, tl, freq=0, duty_u16=0):
        self.tl, self._freq, self._duty = tl, freq, duty_u16

    def freq(self, hz=None):
        if hz is None:
            return self._freq
        self._freq = hz
        return None

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        self._duty = d
        self.tl.writes.append((self.tl.now(), "tone", self._freq if d else 0))
        return None


def rig(led=True, buzzer=True, motor=True, active_high=True):
    tl = Timeline()
    out = outputs.Outputs(
        FakePin(tl, "led") if led else None,
        FakePWM(tl) if buzzer else None,
        FakePin(tl, "motor") if motor else None,
        active_high,
    )
    tl.writes.clear()  # the constructor's "all off"
    return tl, out


def play(tl, out, until_ms, step_ms=1, start=0):
    for t in range(start, until_ms, step_ms):
        tl.t = t
        out.poll(t)


def expected(name, repeat):
    """The writes a pattern should make at 1 ms polls, from its step table."""
    steps = outputs.PATTERNS[name]
    writes, t, led, tone = [], 0, 0, 0
    for _ in range(repeat):
        for ms, step_led, step_tone in steps:
            if step_led != led:
                writes.append((t, "led", step_led))
                led = step_led
            if step_tone != tone:
                writes.append((t, "tone", step_tone))
                writes.append((t, "motor", 1 if step_tone else 0))
                tone = step_tone
            t += ms
    return writes, t


def test_short_twice_timeline():
    tl, out = rig()
    out.pattern("short", 2)
    play(tl, out, 1000)
    assert tl.writes == [
        (0, "led", 1), (0, "tone", 2000), (0, "motor", 1),
        (100, "led", 0), (100, "tone", 0), (100, "motor", 0),
        (300, "led", 1), (300, "tone", 2000), (300, "motor", 1),
        (400, "led", 0), (400, "tone", 0), (400, "motor", 0),
    ]  # fmt: skip
    assert not out.active and out.name == "off"


def test_double_timeline():
    tl, out = rig(motor=False)
    out.pattern("double", 1)
    play(tl, out, 800)
    assert tl.writes == [
        (0, "led", 1), (0, "tone", 2000), (80, "led", 0), (80, "tone", 0),
        (180, "led", 1), (180, "tone", 2000), (260, "led", 0), (260, "tone", 0),
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(outputs.PATTERNS))
@pytest.mark.parametrize("repeat", [1, 3])
def test_every_pattern_follows_its_table(name, repeat):
    tl, out = rig()
    out.pattern(name, repeat)
    n = repeat * 2 if name == "identify" else repeat  # identify: repeat = seconds
    want, total = expected(name, n)
    play(tl, out, total + 50)
    assert tl.writes == want
    assert not out.active
    if name == "identify":
        assert total == repeat * 1000


def test_rising_and_falling_differ_on_the_motor():
    def pulses(name):
        tl, out = rig(led=False, buzzer=False)
        out.pattern(name, 1)
        play(tl, out, 1200)
        on = [t for t, _, v in tl.writes if v == 1]
        off = [t for t, _, v in tl.writes if v == 0]
        return [b - a for a, b in zip(on, off, strict=True)]

    assert pulses("rising") == [80, 140, 220] and pulses("falling") == [220, 140, 80]


def test_main_loop_period_does_not_stretch_the_pattern():
    tl, out = rig()
    out.pattern("long", 5)  # 5 x 800 ms
    play(tl, out, 5000, step_ms=20, start=3)  # polls at 3, 23, 43, ...
    on = [t for t, n, v in tl.writes if n == "led" and v == 1]
    assert on == [3, 803, 1603, 2403, 3203]  # deadlines from the start, not from each poll
    assert not out.active


def test_off_and_replace_and_zero():
    tl, out = rig()
    out.pattern("identify", 10)
    play(tl, out, 70)
    assert out.active and tl.writes[-1][1:] == ("motor", 0)  # the chirp ended at 60 ms
    out.pattern("off", 0)
    assert not out.active and ("led", 0) in [w[1:] for w in tl.writes[-3:]]
    tl.writes.clear()
    play(tl, out, 200, start=70)
    assert tl.writes == []
    out.pattern("long", 1)
    out.pattern("short", 1)  # replaces before it starts
    play(tl, out, 400, start=200)
    assert [w for w in tl.writes if w[1] == "led"] == [(200, "led", 1), (300, "led", 0)]
    out.pattern("nonsense", 3)
    out.pattern("short", 0)
    assert not out.active


def test_led_active_low():
    tl, out = rig(buzzer=False, motor=False, active_high=False)
    out.pattern("short", 1)
    play(tl, out, 400)
    assert tl.writes == [(0, "led", 0), (100, "led", 1)]


def test_ticks_wrap():
    tl, out = rig()
    start = 0x3FFFFFFF - 50
    out.pattern("short", 1)
    for k in range(400):
        t = (start + k) & 0x3FFFFFFF
        tl.t = k
        out.poll(t)
    assert [w[0] for w in tl.writes if w[1] == "led"] == [0, 100]


class FakeMachine:
    def __init__(self):
        self.tl = Timeline()
        self.made = []
        tl, made = self.tl, self.made

        class Pin(FakePin):
            def __init__(self, num, mode=None, value=None):
                super().__init__(tl, f"pin{num}", value=value)
                made.append(("Pin", num, mode, value))

        class PWM(FakePWM):
            def __init__(self, pin, freq=0, duty_u16=0):
                super().__init__(tl, freq, duty_u16)
                made.append(("PWM", pin.name, freq, duty_u16))

        self.Pin, self.PWM = Pin, PWM


@pytest.mark.parametrize(
    ("board", "parts"),
    [("m5stickc_plus2", ("led", "buzzer")), ("diy_esp32", ("led", "motor"))],
)
def test_for_board(board, parts):
    profile = boards.load(board)
    m = FakeMachine()
    out = outputs.for_board(profile, m)
    have = tuple(n for n, o in (("led", out.led_pin), ("buzzer", out.buzzer),
                                ("motor", out.motor_pin)) if o is not None)  # fmt: skip
    assert have == parts
    assert ("Pin", profile.LED_PIN, FakePin.OUT, 0) in m.made
    if profile.BUZZER_PIN is not None:
        assert ("PWM", f"pin{profile.BUZZER_PIN}", 2000, 0) in m.made
    out.pattern("short", 1)
    out.poll(0)
    assert out.led_pin.value() == 1
    if out.motor_pin is not None:
        assert out.motor_pin.value() == 1
    else:
        assert out.buzzer.duty_u16() > 0 and out.buzzer.freq() == 2000


def test_cue_over_ble_plays_through_app_poll():
    rec = scenario("treadmill_quick", seed=1)
    tl, out = rig()
    dev = VirtualDevice(rec, boot=3, outputs=out)
    host = Host(dev)
    host.connect()
    tl.clock = dev.clock.ticks_ms
    assert host.command(b"\x08\x04\x01\x02") == b"\x88\x04\x00"  # CUE short x2
    dev.run(0.8)
    tones = [(t, v) for t, n, v in tl.writes if n == "tone"]
    assert [v for _, v in tones] == [2000, 0, 2000, 0]
    assert 95 <= tones[1][0] - tones[0][0] <= 125 and 280 <= tones[2][0] - tones[0][0] <= 320
