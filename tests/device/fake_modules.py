"""The board-only modules a fake ESP32 offers its Python code: ``machine``, ``bluetooth``,
``time``, ``gc``, ``micropython`` and ``sys``.

Touching the app's hardware (``machine.I2C``, ``machine.WDT``, ``bluetooth.BLE``) raises
``AppStarted``: the fake does not run the device app, it notes that ``main.py`` got that far
(the app runs, so its watchdog is armed). ``machine.reset()`` raises ``HardReset``. Both are
``BaseException``s, so ``main.py``'s ``except Exception`` lets them through as the real ones
would never return.
"""

import time as _time
import types

# What mpy-cross 1.2x writes for bytecode (version 6) and a MicroPython 1.25 ESP32 reports as
# sys.implementation._mpy: version 6, sub-version 3, architecture xtensawin (10).
MPY_ESP32 = 6 | ((10 << 2 | 3) << 8)
VERSION = (1, 25, 0, "")
BANNER = (
    b"MicroPython v1.25.0 on 2025-04-15; Generic ESP32 module with SPIRAM with ESP32\r\n"
    b'Type "help()" for more information.\r\n>>> '
)


class AppStarted(BaseException):
    """main.py reached the app's hardware: the app runs (and its watchdog with it)."""


class HardReset(BaseException):
    """machine.reset() (or the watchdog): the board reboots."""


def module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


def _hardware(name):
    def touch(*args, **kwargs):
        raise AppStarted(name)

    return touch


class _Pin:
    OUT, IN, PULL_UP = 1, 0, 2

    def __init__(self, *args, **kwargs):
        self.args = args


def _reset():
    raise HardReset()


def board_modules(sys_module):
    """name -> module for one boot (``sys_module`` is that boot's ``sys``)."""
    return {
        "machine": module(
            "machine",
            Pin=_Pin,
            I2C=_hardware("I2C"),
            WDT=_hardware("WDT"),
            reset=_reset,
            soft_reset=_reset,
        ),
        "bluetooth": module("bluetooth", BLE=_hardware("BLE"), UUID=lambda value: value),
        "time": module(
            "time",
            sleep_ms=lambda ms: _time.sleep(min(ms, 100) / 1000),
            sleep=lambda s: _time.sleep(min(s, 0.1)),
            ticks_ms=lambda: int(_time.monotonic() * 1000) & 0x3FFFFFFF,
            ticks_us=lambda: int(_time.monotonic() * 1e6) & 0x3FFFFFFF,
            ticks_diff=lambda a, b: ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000,
            time=lambda: int(_time.time()),
        ),
        "gc": module("gc", collect=lambda: None, mem_free=lambda: 2_000_000),
        "micropython": module("micropython", const=lambda x: x),
        "sys": sys_module,
    }


def sys_module(modules, mpy, print_exception):
    impl = types.SimpleNamespace(name="micropython", version=VERSION, _mpy=mpy)
    return module(
        "sys",
        implementation=impl,
        modules=modules,
        path=["", ".frozen", "/lib"],
        platform="esp32",
        print_exception=print_exception,
    )
