"""What MicroPython has and CPython lacks, for the modules that also run in the host's virtual
sensor. On the device these are MicroPython's own; ``X = const(n)`` is still folded by the
MicroPython compiler, which recognises the name ``const`` wherever it was imported from."""

try:
    from micropython import const
except ImportError:  # CPython (the host's virtual sensor)

    def const(expr):  # type: ignore[misc]
        return expr


try:
    from time import sleep_ms
except ImportError:  # CPython: time has no sleep_ms
    import time as _time

    def sleep_ms(ms):  # type: ignore[misc]
        _time.sleep(ms / 1000)
