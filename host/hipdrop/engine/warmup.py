"""Compile the engine's kernels before the data arrive, and say so when that takes a while.

Numba compiles the kernels at their first call and caches them per user, keyed on the engine's
sources (``hipdrop/__init__.py``). The first run after an install or an upgrade therefore
compiles for ≈ 15–20 s on a 2-core machine; every later run loads the cache in under a second.
Unannounced, that first pause looked like a hang — in ``hipdrop demo`` the live view stopped
for 25 s after its first line — so the commands that use the engine warm it up first, through
:func:`warm_up`, which stays silent when the cache answers at once.
"""

import sys
import threading
import time

import numpy as np

NOTICE_AFTER_S = 2.0
"""A cached start takes ≈ 0.3–0.6 s, a compile ≥ 13 s: longer than this, it is compiling."""
NOTICE = (
    "compiling the gait engine for this machine: once after an install or an upgrade, "
    "about 15-30 s …"
)


def warm_up(say=None, notice_after_s=NOTICE_AFTER_S):
    """Load (or compile) every kernel a recording and a CSV need. If that takes longer than
    ``notice_after_s``, ``say(NOTICE)`` while it lasts and, at the end, how long it took
    (``say`` prints to stderr unless given, leaving stdout to the results)."""
    say = say or _to_stderr
    noticed = threading.Event()

    def notice():
        noticed.set()
        say(NOTICE)

    timer = threading.Timer(notice_after_s, notice)
    timer.daemon = True
    start = time.perf_counter()
    timer.start()
    try:
        _run_kernels()
    finally:
        timer.cancel()
    if noticed.is_set():
        say(f"compiled in {time.perf_counter() - start:.0f} s; later runs start at once")


def _to_stderr(text):
    print(text, file=sys.stderr, flush=True)


def _run_kernels():
    """A few samples of standing through the stream, and two numbers through the CSV parser:
    Numba compiles a kernel and everything it calls at the first call, whatever the data."""
    from . import _csvparse
    from .stream import GaitStream

    n = 8
    t = np.arange(n) * 0.01
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    stream = GaitStream()
    stream.feed(t, acc, np.zeros((n, 3)))
    stream.finish()
    text = np.frombuffer(b"t\n0.5,1\n", dtype=np.uint8).copy()
    _csvparse.parse_numbers(text, 2, 2, 1, np.empty((1, 2)))
