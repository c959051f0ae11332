"""The radio a link command uses: this computer's Bluetooth, or the simulated world (``--sim``).

Production code takes a :class:`Radio` — bleak backends, the host clock and an event that the
world sets when there is nothing more to come — and nothing else differs between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ..blebackend import BleakBackends


@dataclass
class Radio:
    backends: BleakBackends
    clock: Callable[[], float]
    finished: asyncio.Event
    simulated: bool = False


@contextlib.asynccontextmanager
async def open_radio(sim: str | None = None, seed: int = 0, faults: str = "",
                     ring_capacity: int | None = None, untethered: bool = False,
                     realtime: bool = False) -> AsyncIterator[Radio]:  # fmt: skip
    """This computer's Bluetooth, or with ``sim`` the virtual sensor playing that scenario
    (``untethered``: out of range, logging to its flash, until the scenario is over)."""
    if sim is None:
        yield Radio(BleakBackends(), time.time, asyncio.Event())
        return
    logging.getLogger("bumble").setLevel(logging.ERROR)  # its chatter is not the user's
    from ..sim import scenario
    from ..vsensor.faults import parse_faults
    from ..vsensor.world import SimWorld

    options = {} if ring_capacity is None else {"ring_capacity": ring_capacity}
    # every run of a simulated sensor is a new power-up of the same board: a new boot counter
    boot = int(time.time() * 10) % 60_000 + 1
    recording = scenario(sim, seed)
    if not realtime:  # simulated time runs ahead of the wall: let the run end about now
        options["epoch_s"] = time.time() - float(recording.time_s[-1])
    world = SimWorld(recording, parse_faults(faults), untethered=untethered,
                     first_boot=boot, **options)  # fmt: skip
    async with world:
        if untethered:
            await world.finished.wait()  # the runner is back home
        yield Radio(world.backends, world.clock, world.finished, simulated=True)


def run_link(main: Callable[[], object], sim: str | None, realtime: bool):
    """Run the coroutine function ``main``: on simulated time for ``--sim`` (unless
    ``realtime``), else on the normal event loop."""
    if sim is not None and not realtime:
        from ..vsensor.virtual_time import run_virtual

        return run_virtual(main())
    return asyncio.run(main())


def stop_on_interrupt(stop: asyncio.Event) -> None:
    """The first Ctrl-C ends the recording cleanly; a second one interrupts at once."""
    loop = asyncio.get_running_loop()

    def first():
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: plain Ctrl-C
        loop.add_signal_handler(signal.SIGINT, first)
