"""Board profiles: pins, IMU part and axis orientation, one module per board.

These modules are the single source of truth; hardware/README.md documents them (a test
checks that its table agrees). Every profile defines the same names:

``NAME`` (the Model Number string, e.g. ``m5stickc-plus2``), ``IMU_PART``, ``I2C_ID``,
``I2C_SDA``, ``I2C_SCL``, ``I2C_FREQ`` (Hz), ``IMU_ADDR``, ``RTC_ADDR`` (a BM8563/PCF8563
real-time clock on the IMU's bus; ``None``: the ESP32's own ``machine.RTC``), ``AXES``,
``BUTTON_PINS`` (first = main button, all active low), ``LED_PIN``, ``LED_ACTIVE_HIGH``,
``BUZZER_PIN``, ``MOTOR_PIN``, ``POWER_HOLD_PIN``, ``BATTERY_ADC_PIN`` and ``BATTERY_DIVIDER``
(battery volts = ADC pin volts x divider). A pin or part the board lacks is ``None``.

``AXES`` maps the IMU's axes to the board's nominal wearing axes (x forward, y left, z up):
one ``(source index, sign)`` per board axis, so ``board[k] = sign * imu[source]``; it must be
a proper rotation (a signed permutation with determinant +1).
"""

BOARDS = ("m5stickc_plus2", "diy_esp32")


def load(name):
    """The profile module of board ``name`` (``m5stickc-plus2`` or ``m5stickc_plus2``).

    Raises ValueError naming the known boards when ``name`` is not one of them.
    """
    module = name.replace("-", "_")
    if module not in BOARDS:
        raise ValueError("unknown board " + repr(name) + "; known: " + ", ".join(BOARDS))
    full = "hipdrop_fw.boards." + module
    __import__(full)
    import sys

    return sys.modules[full]
