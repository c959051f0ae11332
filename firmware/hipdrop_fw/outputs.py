"""LED, buzzer and vibration motor: the patterns of ``IDENTIFY`` and ``CUE``, without sleeping.

``Outputs(led_pin, buzzer_pwm, motor_pin, led_active_high=True)``: ``led_pin`` and
``motor_pin`` are ``machine.Pin`` outputs (``value(v)``), ``buzzer_pwm`` a ``machine.PWM`` on
a passive buzzer (``freq(hz)``, ``duty_u16(d)``); any of them may be ``None`` (a board
without it). ``pattern(name, repeat)`` starts a pattern, replacing the one playing;
``poll(ticks_ms)`` from the main loop advances it. Nothing blocks: a step's end is a
deadline, so steps are as exact as the main loop's period (20 ms on the board), and the
deadlines follow one another (a late poll does not stretch the pattern).

A pattern is a tuple of steps ``(ms, led, tone_hz)``: the LED on or off, the buzzer sounding
``tone_hz`` (0: silent) and the motor running whenever the buzzer would sound, for ``ms``.
The pattern plays ``repeat`` times (``"identify"``: ``repeat`` seconds); ``"off"`` stops
everything at once. Rising and falling differ in pitch on the buzzer and in pulse length
on the motor (short-medium-long / long-medium-short), so both boards tell them apart.
"""

from hipdrop_fw.compat import const

_DUTY_ON = const(32768)  # 50 %: a passive buzzer's loudest square wave
_IDENTIFY_STEP_MS = const(500)

PATTERNS = {
    # one 500 ms cycle per second of IDENTIFY is two cycles: repeat = seconds * 2
    "identify": ((60, 1, 2700), (190, 1, 0), (250, 0, 0)),
    "short": ((100, 1, 2000), (200, 0, 0)),
    "double": ((80, 1, 2000), (100, 0, 0), (80, 1, 2000), (300, 0, 0)),
    "long": ((500, 1, 2000), (300, 0, 0)),
    "rising": (
        (80, 1, 1000),
        (40, 0, 0),
        (140, 1, 1500),
        (40, 0, 0),
        (220, 1, 2200),
        (300, 0, 0),
    ),
    "falling": (
        (220, 1, 2200),
        (40, 0, 0),
        (140, 1, 1500),
        (40, 0, 0),
        (80, 1, 1000),
        (300, 0, 0),
    ),
}


def _diff(a, b):
    """``time.ticks_diff`` for ms ticks that wrap at 2^30 (as MicroPython's do)."""
    return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000


class Outputs:
    """Non-blocking LED/buzzer/motor patterns (module docstring)."""

    def __init__(self, led_pin=None, buzzer_pwm=None, motor_pin=None, led_active_high=True):
        self.led_pin = led_pin
        self.buzzer = buzzer_pwm
        self.motor_pin = motor_pin
        self.led_active_high = led_active_high
        self.name = "off"
        self._steps = None
        self._step = 0
        self._left = 0  # plays left after the current one
        self._pending = False  # started, waiting for poll's clock
        self._end = 0  # the current step's deadline, ticks_ms
        self._led = -1  # last applied: LED, tone (-1: unknown, apply)
        self._tone = -1
        self._apply(0, 0)

    @property
    def active(self):
        return self._pending or self._steps is not None

    def pattern(self, name, repeat=1):
        """Start ``name`` (``PATTERNS`` or ``"off"``) ``repeat`` times (identify: seconds)."""
        steps = PATTERNS.get(name)
        if steps is None or repeat <= 0:
            self.stop()
            return
        if name == "identify":
            repeat *= 1000 // _IDENTIFY_STEP_MS
        self.name = name
        self._steps = steps
        self._step = 0
        self._left = repeat - 1
        self._pending = True

    def stop(self):
        self.name = "off"
        self._steps = None
        self._pending = False
        self._apply(0, 0)

    def poll(self, now):
        """Advance the playing pattern to ``now`` (``time.ticks_ms()``)."""
        steps = self._steps
        if steps is None:
            return
        if self._pending:
            self._pending = False
            self._end = now
            self._step = -1
        while _diff(now, self._end) >= 0:
            i = self._step + 1
            if i == len(steps):
                if self._left <= 0:
                    self.stop()
                    return
                self._left -= 1
                i = 0
            self._step = i
            ms, led, tone = steps[i]
            self._end = (self._end + ms) & 0x3FFFFFFF
            self._apply(led, tone)

    def _apply(self, led, tone):
        if led != self._led:
            self._led = led
            if self.led_pin is not None:
                self.led_pin.value(led if self.led_active_high else 1 - led)
        if tone != self._tone:
            self._tone = tone
            if self.buzzer is not None:
                if tone:
                    self.buzzer.freq(tone)
                    self.buzzer.duty_u16(_DUTY_ON)
                else:
                    self.buzzer.duty_u16(0)
            if self.motor_pin is not None:
                self.motor_pin.value(1 if tone else 0)


def for_board(profile, machine):
    """The board's outputs from its profile (``LED_PIN``, ``BUZZER_PIN``, ``MOTOR_PIN``,
    ``LED_ACTIVE_HIGH``) and the ``machine`` module: M5StickC Plus2 LED + buzzer, DIY LED +
    motor. Everything starts off."""
    pin = machine.Pin
    led = motor = buzzer = None
    if profile.LED_PIN is not None:
        led = pin(profile.LED_PIN, pin.OUT, value=0 if profile.LED_ACTIVE_HIGH else 1)
    if profile.MOTOR_PIN is not None:
        motor = pin(profile.MOTOR_PIN, pin.OUT, value=0)
    if profile.BUZZER_PIN is not None:
        buzzer = machine.PWM(pin(profile.BUZZER_PIN), freq=2000, duty_u16=0)
    return Outputs(led, buzzer, motor, profile.LED_ACTIVE_HIGH)


class NullOutputs:
    """Outputs of a board without LED, buzzer or motor (and of the virtual sensor)."""

    def __init__(self):
        self.log = []

    def pattern(self, name, repeat=1):
        self.log.append((name, repeat))

    def poll(self, now):
        pass
