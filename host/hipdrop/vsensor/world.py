"""A simulated world for ``--sim``: the sensor on the air and the host's Bluetooth adapter.

``async with SimWorld(recording) as world:`` starts an :class:`~.air_sensor.AirSensor`
streaming ``recording`` on an :class:`~.bumble_air.Air`, powers on a Bumble device for the host,
and offers what production code takes as parameters: ``world.backends`` (bleak backends on
that host device) and ``world.clock`` (the host's clock in this world). ``world.finished``
is set when the sensor's recording has run out.
"""

from __future__ import annotations

import asyncio
import contextlib

from .air_sensor import PSRAM_RING_SAMPLES, AirSensor
from .bleak_bumble import bleak_backends
from .bumble_air import Air

HOST_ADDRESS = "C0:FF:EE:00:00:01"


class SimWorld:
    """The virtual sensor and the host adapter on one virtual link (see the module docstring).

    ``faults`` as :func:`~.faults.parse_faults` returns them; ``ring_capacity`` the sensor's
    backfill ring in samples; ``untethered``: the sensor is out of range until the recording
    has run out (it logs to its flash meanwhile); ``first_boot`` the sensor's boot counter.
    """

    def __init__(self, recording, faults=(), ring_capacity=PSRAM_RING_SAMPLES, epoch_s=None,
                 untethered=False, first_boot=1):  # fmt: skip
        self.air = Air()
        self.sensor = AirSensor(
            self.air, recording, faults=faults, ring_capacity=ring_capacity, epoch_s=epoch_s,
            untethered=untethered, first_boot=first_boot,
        )  # fmt: skip
        self.backends = None
        self._task: asyncio.Task | None = None

    @property
    def finished(self) -> asyncio.Event:
        return self.sensor.finished

    def clock(self) -> float:
        return self.sensor.clock()

    async def __aenter__(self) -> SimWorld:
        host = self.air.device("host", HOST_ADDRESS)
        await host.power_on()
        self.backends = bleak_backends(host)
        self._task = asyncio.get_running_loop().create_task(self.sensor.run())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
