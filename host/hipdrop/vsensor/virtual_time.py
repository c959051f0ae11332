"""An asyncio event loop on simulated time: a 10-minute session runs in seconds, unchanged.

Everything in the virtual world — the sensor's main loop, Bumble's controllers and link, the
host's bleak code, its timeouts, back-offs and scans — waits with asyncio's timers. This loop's
clock does not follow the wall: whenever nothing is ready to run, it jumps to the next timer
instead of sleeping. Work takes no simulated time, so the order of events is that of a very
fast computer with real pacing, and every run is the same.

It waits for real only when there is no timer at all (e.g. a signal), so Ctrl-C still works.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without waiting; a wait for ``timeout`` moves the loop's clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            return super().select(None)
        self.loop.advance(timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose :meth:`time` is simulated (see the module docstring)."""

    def __init__(self, start_s: float = 0.0) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = start_s

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)


def run_virtual(main: Coroutine[Any, Any, Any]):
    """``asyncio.run`` on a :class:`VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
