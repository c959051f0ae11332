"""The main button: debounced, short press or long press, polled from the main loop.

``Button(pin)``: ``pin`` a ``machine.Pin`` input, active low (both boards' buttons have an
external pull-up: the M5StickC Plus2's G37 is input-only, without internal pulls; the
DevKitC's BOOT button on G0 has its own). ``poll(ticks_ms)`` returns ``NONE``, ``SHORT`` (on
release, after a press shorter than ``long_ms``) or ``LONG`` (as soon as the press has lasted
``long_ms``, while still held, so the wearer feels it happen; its release reports nothing).
A level counts only once it has been stable for ``debounce_ms`` across polls, so contact
bounce and a single-poll glitch are ignored. No interrupt, no allocation.
"""

from hipdrop_fw.compat import const

NONE = const(0)
SHORT = const(1)
LONG = const(2)
LONG_MS = const(2000)
DEBOUNCE_MS = const(30)


def _diff(a, b):
    """``time.ticks_diff`` for ms ticks that wrap at 2^30."""
    return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000


class Button:
    """Debounced short/long press detector (module docstring)."""

    def __init__(self, pin, long_ms=LONG_MS, debounce_ms=DEBOUNCE_MS, active_low=True):
        self.pin = pin
        self.long_ms = long_ms
        self.debounce_ms = debounce_ms
        self.active_low = active_low
        self.pressed = False  # debounced state
        self._raw = False
        self._raw_at = 0  # when the raw level last changed
        self._pressed_at = 0
        self._long_sent = False

    def _level(self):
        v = self.pin.value()
        return (v == 0) if self.active_low else (v != 0)

    def poll(self, now):
        """``NONE``, ``SHORT`` or ``LONG`` for this main-loop step at ``now`` (ticks_ms)."""
        raw = self._level()
        if raw != self._raw:
            self._raw = raw
            self._raw_at = now
        if raw != self.pressed and _diff(now, self._raw_at) >= self.debounce_ms:
            self.pressed = raw
            if raw:
                self._pressed_at = self._raw_at
                self._long_sent = False
                return NONE
            if self._long_sent:
                return NONE
            return SHORT
        long_due = self.pressed and not self._long_sent
        if long_due and _diff(now, self._pressed_at) >= self.long_ms:
            self._long_sent = True
            return LONG
        return NONE


def for_board(profile, machine):
    """The board's main button (``BUTTON_PINS[0]``), or None when it has none."""
    if not profile.BUTTON_PINS:
        return None
    return Button(machine.Pin(profile.BUTTON_PINS[0], machine.Pin.IN))
