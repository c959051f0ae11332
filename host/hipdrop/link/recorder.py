"""``hipdrop record``: a session from a sensor, kept whole across disconnects.

The recorder finds the sensor, opens a session in the store, and then, until told to stop:
connects (bleak; retry with back-off), pairs on first use, checks the protocol, time-syncs,
starts the stream and ingests it (:class:`~.ingest.Ingest`). When the link drops — a runner
turns away from the laptop — it reconnects with back-off and asks the sensor to **backfill**
every missing range from its ring buffer; what the sensor no longer holds stays a gap and is
reported as lost (a later ``hipdrop sync`` of the sensor's flash log can still fill it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from bleak import BleakClient
from bleak.exc import BleakError

from ..blebackend import BleakBackends
from ..errors import HipdropError
from ..protocol import Opcode, Result
from .find import SCAN_S, Sighting, find_sensor
from .ingest import Ingest
from .sensor import LinkError, SensorLink, SensorRefused
from .session_record import SessionRecord

CONNECT_TIMEOUT_S = 10.0
RESCAN_S = 10.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
TICK_S = 1.0
_U32 = 0xFFFFFFFF


@dataclass
class RecordOptions:
    """What to record: ``wanted`` sensor (address, macOS UUID or name; None = strongest),
    for ``minutes`` (None = until stopped), for ``athlete``, with ``notes`` and ``tags``."""

    wanted: str | None = None
    minutes: float | None = None
    athlete: str | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    source: str = "live"
    scan_s: float = SCAN_S
    resume: str | int | None = None  # an interrupted session to continue


@dataclass(frozen=True)
class LinkState:
    """One status line's worth: what the user sees while recording."""

    elapsed_s: float
    connected: bool
    rate_hz: float
    samples: int
    lost: int
    recovered: int
    rejected: int
    battery_pct: int | None
    rssi: int | None
    reconnects: int


class Recorder:
    """Records one session into ``store`` over ``backends`` (see the module docstring).

    ``clock`` is the host clock (Unix seconds); ``stop`` an event that ends the recording;
    ``on_state(LinkState)`` is called every second; ``on_samples`` gets released samples;
    ``on_event(kind, text)`` gets connection events as they happen.
    """

    def __init__(self, store, backends: BleakBackends, clock: Callable[[], float],
                 options: RecordOptions, stop: asyncio.Event | None = None,
                 on_state=None, on_samples=None, on_event=None):  # fmt: skip
        self.store, self.backends, self.clock, self.options = store, backends, clock, options
        self.stop = stop or asyncio.Event()
        self.on_state = on_state
        self.record = SessionRecord(store, clock, on_samples, on_event)
        self.sighting: Sighting | None = None
        self.link: SensorLink | None = None
        self.reconnects = 0
        self.kept = True  # False when nothing was recorded and the session was dropped
        self._began_s = 0.0
        self._down = asyncio.Event()
        self._backfill_asked: list[tuple[int, int, int]] = []

    @property
    def session_id(self) -> int | None:
        return self.record.session_id

    @property
    def ingest(self) -> Ingest | None:
        return self.record.ingest

    @property
    def unrecoverable(self) -> list[tuple[int, int, int]]:
        return self.record.unrecoverable

    # -- the session --------------------------------------------------------------------

    async def run(self) -> int:
        """Record until stopped or ``minutes`` have passed; the session id."""
        self.sighting = await find_sensor(self.backends, self.options.wanted, self.options.scan_s)
        self._open_session()
        try:
            await self._keep_connected()
        finally:
            self._close_session()
        return self.session_id

    def _open_session(self) -> None:
        self.record.open(self.options, self.sighting)
        self._began_s = self.clock()  # minutes count from here

    def _close_session(self) -> None:
        self.kept = self.record.close(self.stats)

    def stats(self) -> dict:
        t = self.ingest.tally
        return {
            "packets": t.packets, "stored": t.stored, "rejected": t.rejected,
            "duplicates": t.duplicates, "samples": t.samples, "recovered": t.recovered,
            "lost": self.ingest.lost(), "reconnects": self.reconnects, "boots": sorted(t.boots),
        }  # fmt: skip

    def _finished(self) -> bool:
        if self.stop.is_set():
            return True
        minutes = self.options.minutes
        return minutes is not None and self.clock() - self._began_s >= minutes * 60

    def _event(self, kind: str, text: str, detail: dict | None = None) -> None:
        self.record.event(kind, text, detail)

    # -- connecting ---------------------------------------------------------------------

    async def _keep_connected(self) -> None:
        """Connect, stream, and after a drop or a failure try again with back-off; a sensor
        that refuses (:class:`SensorRefused`) ends the recording with its reason."""
        failures = 0
        while not self._finished():
            try:
                if failures:
                    await self._rescan()
                await self._connection()
                failures = 0
            except SensorRefused as error:
                self._event("refused", str(error))
                raise
            except (BleakError, LinkError, TimeoutError, OSError) as error:
                self._event("connect_failed", f"could not connect: {error}")
                failures += 1
            if self._finished():
                return
            delay = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)

    async def _rescan(self) -> None:
        """Look for the sensor again before retrying: an OS may forget a device it no longer
        hears (BlueZ does), and the scan refreshes the signal strength shown."""
        try:
            self.sighting = await find_sensor(self.backends, self.sighting.address, RESCAN_S)
        except HipdropError as error:
            raise LinkError(str(error)) from None

    async def _connection(self) -> None:
        self._down.clear()
        client = BleakClient(
            self.sighting.device, disconnected_callback=lambda _c: self._down.set(),
            timeout=CONNECT_TIMEOUT_S, backend=self.backends.client,
        )  # fmt: skip
        async with client:
            self.link = SensorLink(client, self.ingest.packet, self.clock)
            try:
                await self._handshake(client)
                await self._stream()
            finally:
                self.link = None

    async def _handshake(self, client: BleakClient) -> None:
        link = self.link
        await link.open(pair=False)
        try:
            if await link.ensure_bonded():
                self._event("paired", "paired and bonded with the sensor")
        except SensorRefused as error:  # streaming needs no bond: record anyway
            self._event("unbonded", f"{error}; recording without a bond")
        self.store.update_session(self.session_id, firmware=link.firmware, board=link.model)
        await link.command(Opcode.TIME_SYNC, int(self.clock() * 1000))
        answer = await link.command(Opcode.START)
        if answer.result == Result.BUSY:
            raise LinkError("the sensor is busy (a log read or a calibration): trying again")
        if not answer.ok:
            raise SensorRefused(f"the sensor refused to stream: {_name(answer.result)}"
                                f"{_REFUSALS.get(answer.result, '')}")  # fmt: skip
        kind = "reconnect" if self.reconnects or self.ingest.tally.packets else "connect"
        self.reconnects += kind == "reconnect"
        self._event(kind, f"streaming from {self.sighting.name} (MTU {client.mtu_size})")

    # -- streaming ----------------------------------------------------------------------

    async def _stream(self) -> None:
        """Until stopped or the link drops: backfill gaps, report state once a second."""
        while not self._finished() and not self._down.is_set():
            self.record.note_restarts()
            await self._backfill()
            self._report(connected=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._down.wait(), TICK_S)
        if self._down.is_set():
            self._event("disconnect", "link lost: reconnecting")
            self._report(connected=False)
            return
        with contextlib.suppress(BleakError, LinkError, TimeoutError):
            await self.link.command(Opcode.STOP)

    async def _backfill(self) -> None:
        """Ask once for each missing range the sensor may still hold."""
        for boot, start, end in self.ingest.gaps():
            if self._asked(boot, start, end) or self._down.is_set():
                continue
            self._backfill_asked.append((boot, start, end))
            answer = await self.link.command(
                Opcode.BACKFILL, boot & 0xFFFF, start & _U32, end & _U32
            )
            detail = {"boot": boot, "start": start, "end": end, "result": _name(answer.result)}
            if answer.payload is not None:
                detail.update(first=answer.payload.first, end_available=answer.payload.end)
            self._event("backfill", f"backfill {end - start} samples: {_name(answer.result)}",
                        detail)  # fmt: skip

    def _asked(self, boot: int, start: int, end: int) -> bool:
        """Whether the range lies in one already asked for (it shrinks as packets arrive)."""
        return any(b == boot and s <= start and end <= e for b, s, e in self._backfill_asked)

    def _report(self, connected: bool) -> None:
        if self.on_state is None:
            return
        now = self.clock()
        t, status = self.ingest.tally, self.link.status if self.link else None
        self.on_state(LinkState(
            elapsed_s=now - self.record.started_s, connected=connected, rate_hz=t.rate_hz(now),
            samples=t.samples, lost=self.ingest.lost(), recovered=t.recovered,
            rejected=t.rejected, battery_pct=status.battery_pct if status else None,
            rssi=self.sighting.rssi, reconnects=self.reconnects,
        ))  # fmt: skip


_REFUSALS = {
    Result.MTU_TOO_SMALL: " — this computer's Bluetooth could not raise the link's MTU to 87 "
    "bytes or more (an old adapter or OS)",
    Result.IMU_FAULT: " — its motion sensor is missing or failed its self-test",
    Result.BATTERY_LOW: " — charge it",
}


def _name(result) -> str:
    return result.name if isinstance(result, Result) else str(result)
