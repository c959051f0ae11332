"""Battery measurement: voltage through the board's divider, a LiPo percent curve, a low flag.

``Battery(adc_read_uv, divider)``: ``adc_read_uv()`` returns the ADC pin's voltage in
microvolts (on the board ``machine.ADC(Pin(profile.BATTERY_ADC_PIN),
atten=ADC.ATTN_11DB).read_uv``, which applies the chip's eFuse calibration); ``divider`` is
the profile's ``BATTERY_DIVIDER`` (battery volts = pin volts x divider).

``read()`` takes one ADC reading, averages it with the last ``window - 1`` (a LiPo sags for
a moment under a buzzer or motor pulse and the ESP32 ADC is noisy; the first reading fills
the window, so the level is known at once) and returns ``(mv, percent)``. It updates
``low``: set when the average falls below ``low_mv``, cleared only when it climbs back above
``clear_mv`` (hysteresis, so a sag-and-recover near the threshold does not toggle it).

A reading below ``absent_mv`` (no cell: a DIY board on USB with nothing on the divider) or an
ADC error reports unknown, ``(0, BATTERY_PCT_UNKNOWN)``, and leaves ``low`` as it was.

Percent curve: ``CURVE`` below, a typical single-cell LiPo (3.7 V nominal, 4.2 V full)
resting-voltage table as published in hobby LiPo charts and battery-gauge app notes (light
load, room temperature), linearly interpolated. It is an assumption, not a measurement of the
M5StickC Plus2's 200 mAh cell: under load and when cold the voltage reads lower, so the
percent is a guide and the low threshold keeps a margin above the 3.3 V the board's
regulator needs.
"""

from hipdrop_fw.compat import const

BATTERY_PCT_UNKNOWN = const(255)  # protocol.BATTERY_PCT_UNKNOWN

# (mV, percent), descending voltage
CURVE = (
    (4200, 100), (4150, 95), (4110, 90), (4080, 85), (4020, 80), (3980, 75), (3950, 70),
    (3910, 65), (3870, 60), (3850, 55), (3840, 50), (3820, 45), (3800, 40), (3790, 35),
    (3770, 30), (3750, 25), (3730, 20), (3710, 15), (3690, 10), (3610, 5), (3270, 0),
)  # fmt: skip

LOW_MV = const(3450)  # about 3 % left: close the log while there is charge to do it safely
CLEAR_MV = const(3600)  # back above ~5 %: charging (or a fresh cell)
EMPTY_MV = const(3300)  # empty: switch off before the cell's protection cuts power mid-write
ABSENT_MV = const(2500)  # below this no cell is connected
WINDOW = const(8)  # readings averaged (2 s at the app's 250 ms status period)


def percent(mv):
    """The LiPo curve: battery millivolts to 0-100 percent (interpolated, clamped)."""
    hi_mv, hi_pct = CURVE[0]
    if mv >= hi_mv:
        return 100
    for i in range(1, len(CURVE)):
        lo_mv, lo_pct = CURVE[i]
        if mv >= lo_mv:
            return lo_pct + ((mv - lo_mv) * (hi_pct - lo_pct) + (hi_mv - lo_mv) // 2) // (
                hi_mv - lo_mv
            )
        hi_mv, hi_pct = lo_mv, lo_pct
    return 0


class Battery:
    """Smoothed battery voltage, percent and low flag (module docstring)."""

    def __init__(self, adc_read_uv, divider, *, window=WINDOW, low_mv=LOW_MV,
                 clear_mv=CLEAR_MV, absent_mv=ABSENT_MV, empty_mv=EMPTY_MV):  # fmt: skip
        self._read_uv = adc_read_uv
        self._divider_milli = int(divider * 1000 + 0.5)
        self.low_mv = low_mv
        self.clear_mv = clear_mv
        self.absent_mv = absent_mv
        self.empty_mv = empty_mv
        self._win = [0] * max(window, 1)
        self._n = 0  # readings in the window (0: empty)
        self._i = 0
        self._sum = 0
        self.low = False
        self.empty = False  # below ``empty_mv`` on average: time to switch off
        self.mv = 0
        self.pct = BATTERY_PCT_UNKNOWN

    def _sample_mv(self):
        """One reading in battery millivolts, or -1 (ADC error)."""
        try:
            uv = self._read_uv()
        except OSError:
            return -1
        return (uv * self._divider_milli) // 1_000_000

    def read(self):
        """Take a reading; ``(mv, percent)`` of the average, ``(0, 255)`` when unknown."""
        mv = self._sample_mv()
        if mv < self.absent_mv:
            self._n = self._i = self._sum = 0  # start afresh when a cell appears
            self.mv, self.pct = 0, BATTERY_PCT_UNKNOWN
            return self.mv, self.pct
        w = self._win
        if self._n == 0:
            for k in range(len(w)):
                w[k] = mv
            self._n = len(w)
            self._sum = mv * len(w)
        else:
            self._sum += mv - w[self._i]
            w[self._i] = mv
        self._i = (self._i + 1) % len(w)
        avg = self._sum // len(w)
        if self.low:
            if avg > self.clear_mv:
                self.low = False
        elif avg < self.low_mv:
            self.low = True
        self.empty = avg < self.empty_mv
        self.mv, self.pct = avg, percent(avg)
        return self.mv, self.pct


def power_off_for(profile, machine):
    """A function that switches the board off: the M5StickC Plus2 lets go of its power-hold
    pin (on battery the board turns off); without that pin, or on USB power where it stays on,
    deep sleep until the reset button."""

    def off():
        if profile.POWER_HOLD_PIN is not None:
            machine.Pin(profile.POWER_HOLD_PIN, machine.Pin.OUT, value=0)
        machine.deepsleep()

    return off


def for_board(profile, machine):
    """The board's ``Battery`` (``BATTERY_ADC_PIN``, ``BATTERY_DIVIDER``) on ``machine.ADC``
    at 11 dB attenuation (0-~3.1 V at the pin: up to ~6.2 V behind a 1:2 divider), or None
    when the profile has no battery pin."""
    if profile.BATTERY_ADC_PIN is None:
        return None
    adc = machine.ADC(machine.Pin(profile.BATTERY_ADC_PIN), atten=machine.ADC.ATTN_11DB)
    return Battery(adc.read_uv, profile.BATTERY_DIVIDER)
