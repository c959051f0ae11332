"""MicroPython entry for the tilt filter and the ring buffer (tests/mpy/run.mjs).

Runs every check of fw_checks_tilt, then the heap checks that only MicroPython can make.
Prints ``ok NAME`` or ``FAIL NAME: error`` per check, then ``DONE``; raises if any failed.
"""

import fw_checks_tilt
import micropython
import mpy_report

from hipdrop_fw import protocol as p
from hipdrop_fw import ringbuf, tilt


def _allocates(fn):
    """True if ``fn()`` allocates on the heap (it raises MemoryError under heap_lock)."""
    micropython.heap_lock()
    try:
        fn()
    except MemoryError:
        return True
    finally:
        micropython.heap_unlock()
    return False


def check_ring_push_allocates_nothing():
    ring = ringbuf.RingBuffer(8)
    rec = memoryview(bytearray(range(16)))

    def push_20():
        for s in range(20):
            ring.push(rec, s, s * 5000)

    assert not _allocates(push_20)
    assert ring.span() == (12, 20)


def check_tilt_update_allocates_nothing_between_steps():
    f = tilt.Tilt(200, 16, 1000)
    for _ in range(4 * 200):  # started, settled
        f.update(10, -20, 2048, 3, -2, 1)

    def three_samples():  # the 4th sample of a block runs the float step
        f.update(10, -20, 2048, 3, -2, 1)
        f.update(11, -21, 2049, 3, -2, 1)
        f.update(12, -22, 2050, 3, -2, 1)

    assert not _allocates(three_samples)
    assert f.flags == 0 and f.roll_cdeg != p.TILT_UNAVAILABLE


def check_tilt_step_allocates():
    """Documented, not wanted: floats are boxed on this port and on the ESP32 (repr A)."""
    f = tilt.Tilt(200, 16, 1000, block=1)
    f.update(0, 0, 2048, 0, 0, 0)
    assert _allocates(lambda: f.update(0, 0, 2048, 0, 0, 0))


def check_calibrator_add_allocates_nothing():
    cal = tilt.Calibrator(16, 1000)
    cal.start(5)
    assert not _allocates(lambda: cal.add(0, 0, 2048, 1, 2, 3))


MPY_ONLY = [
    (n, fn)
    for n, fn in sorted(globals().items())
    if n.startswith(("check_ring_", "check_tilt_", "check_calibrator_"))
]


mpy_report.run_checks(fw_checks_tilt.CHECKS + MPY_ONLY, "tilt/ring")
