"""``hipdrop sync``: the sensor's flash logs into sessions, verified before they are erased.

For each log the sensor lists: download it (``LOG_READ``; chunks appended to a partial file
beside the database, so an interrupted sync resumes where it stopped), check it parses,
store its packets — into the live session whose disconnect it covers (same sensor, same boot,
overlapping samples: duplicates are dropped by the store), else as a new session — and only
then erase it on the sensor with the CRC-32 of what was received, which the sensor compares
with its own copy before erasing (``LOG_ERASE``).

The log being written cannot be read; sync closes it first the way the protocol does: a
``START`` closes the open log, and ``STOP`` ends the stream again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import zlib
from pathlib import Path

from bleak import BleakClient
from bleak.exc import BleakError

from ..errors import HipdropError
from ..protocol import LogEntry, Opcode, PacketType, ProtocolError, Result, decode_log_chunk
from ..protocol.constants import RATE_HZ
from ..store import row_from_packet
from .find import Sighting, find_sensor
from .logfile import LogFile, read_log
from .radio import open_radio
from .sensor import LinkError, SensorLink

CONNECT_TIMEOUT_S = 10.0
STALL_S = 3.0  # no chunk for this long: ask again from where the file ends


class Progress:
    """Download progress: a bar redrawn at each whole percent on a terminal, else one line per
    finished log."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream is not None and stream.isatty()
        self._shown = -1

    def __call__(self, name: str, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if self.stream is None or percent == self._shown or (not self.tty and done < total):
            return
        self._shown = -1 if done >= total else percent
        bar = "#" * (percent * 30 // 100) + "." * (30 - percent * 30 // 100)
        line = f"{name}: [{bar}] {done:,}/{total:,} bytes"
        end = "\n" if done >= total else ""
        print(("\r" if self.tty else "") + line, end=end, file=self.stream, flush=True)


class LogDownload:
    """One log's bytes into ``path`` (resumed from its current length)."""

    def __init__(self, link: SensorLink, entry: LogEntry, path: Path, progress):
        self.link, self.entry, self.path, self.progress = link, entry, path, progress
        self._file = None
        self._done = path.stat().st_size if path.exists() else 0
        self._arrived = asyncio.Event()

    def on_chunk(self, data: bytes) -> None:
        """A log chunk from the stream characteristic; one out of place is dropped."""
        try:
            chunk = decode_log_chunk(data)
        except ProtocolError:
            return  # damaged: the stall timer asks for it again
        if chunk.log_id != self.entry.log_id or chunk.offset != self._done:
            return
        self._file.write(chunk.data)
        self._done += len(chunk.data)
        self._arrived.set()

    async def run(self) -> bytes:
        size = self.entry.size_bytes
        if self._done > size:
            self.path.unlink()  # not this log's beginning: start over
            self._done = 0
        with open(self.path, "ab") as self._file:
            while self._done < size:
                await self._request(size)
                await self._wait_for_chunks(size)
        return self.path.read_bytes()

    async def _request(self, size: int) -> None:
        answer = await self.link.command(
            Opcode.LOG_READ, self.entry.log_id, self._done, size - self._done
        )
        if answer.result != Result.OK:
            raise LinkError(f"the sensor refused to read log {self.entry.log_id}: "
                            f"{getattr(answer.result, 'name', answer.result)}")  # fmt: skip

    async def _wait_for_chunks(self, size: int) -> None:
        """Until the file is whole, or no chunk came for ``STALL_S`` (then ask again)."""
        while self._done < size:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), STALL_S)
            except TimeoutError:
                return
            self._file.flush()
            self.progress(f"log {self.entry.log_id}", self._done, size)


class Syncer:
    """Every closed log of one connected sensor into ``store``."""

    def __init__(self, store, link: SensorLink, sighting: Sighting, clock, athlete=None,
                 keep=False, progress=None):  # fmt: skip
        self.store, self.link, self.sighting, self.clock = store, link, sighting, clock
        self.athlete, self.keep = athlete, keep
        self.progress = progress or Progress()
        self.partial_dir = Path(str(store.path) + ".sync")
        self.download: LogDownload | None = None

    def on_stream(self, data: bytes, _host_rx_s: float) -> None:
        if len(data) > 1 and data[1] == PacketType.LOG_CHUNK and self.download is not None:
            self.download.on_chunk(data)

    async def run(self) -> list[int]:
        await self.link.command(Opcode.TIME_SYNC, int(self.clock() * 1000))  # dates new logs
        await self._close_open_log()
        sessions = []
        for entry in await self._entries():
            sessions.append(await self._sync_one(entry))
        return sorted(set(sessions))

    async def _close_open_log(self) -> None:
        if (await self.link.command(Opcode.START)).ok:
            await self.link.command(Opcode.STOP)

    async def _entries(self) -> list[LogEntry]:
        entries: list[LogEntry] = []
        while True:
            answer = await self.link.command(Opcode.LOG_LIST, len(entries))
            if answer.result != Result.OK:
                raise LinkError(f"the sensor could not list its logs: {answer.result.name}")
            entries.extend(answer.payload.entries)
            if len(entries) >= answer.payload.total or not answer.payload.entries:
                return entries

    async def _sync_one(self, entry: LogEntry) -> int:
        self.partial_dir.mkdir(mode=0o700, exist_ok=True)
        part = self.partial_dir / _partial_name(self.sighting.address, entry)
        self.download = LogDownload(self.link, entry, part, self.progress)
        data = await self.download.run()
        self.download = None
        log = read_log(data, f"log {entry.log_id}")
        session_id = self._store(log, entry)
        part.unlink()
        with contextlib.suppress(OSError):
            self.partial_dir.rmdir()  # only when no other partial download waits there
        if not self.keep:
            await self._erase(entry, zlib.crc32(data))
        return session_id

    def _store(self, log: LogFile, entry: LogEntry) -> int:
        first, end = log.seq_range()
        covering = self.store.sessions_covering(self.sighting.address, log.boot, first, end)
        session_id = covering[0] if covering else self._new_session(log, entry)
        rows = [row_from_packet(p, None, "log") for p in log.packets]
        added = self.store.add_packets(session_id, rows)
        detail = {"log_id": entry.log_id, "boot": log.boot, "first": first, "end": end,
                  "packets": len(rows), "new_packets": added}  # fmt: skip
        self.store.add_event(session_id, "log_merged" if covering else "log_synced", None, detail)
        self.store.commit()
        if covering:
            self._recount_lost(session_id)
        return session_id

    def _recount_lost(self, session_id: int) -> None:
        """A merged log may have filled the session's gaps: its numbers say so now."""
        info = self.store.session(session_id)
        stats = dict(info.stats or {})
        stats["lost"] = sum(end - start for _, start, end in self.store.samples(session_id).gaps)
        self.store.update_session(session_id, stats=stats)

    def _new_session(self, log: LogFile, entry: LogEntry) -> int:
        known = log.start_unix_s > 0
        started_at = float(log.start_unix_s) if known else self.clock()
        session_id = self.store.create_session(
            started_at=started_at, source="sync", athlete=self.athlete,
            device=self.sighting.address, device_name=self.sighting.name, board=log.board,
            firmware=self.link.firmware,
            notes=None if known else "the sensor had no time sync: the start time is the sync's",
        )  # fmt: skip
        if known:  # device time of the first sample = its ticks (the replay unwraps from there)
            self.store.set_clock(session_id, log.boot, started_at - log.start_ticks_us / 1e6, 1.0)
        duration_s = entry.n_samples / RATE_HZ.get(log.packets[0][12], 200.0)
        self.store.finish_session(session_id, ended_at=started_at + duration_s, complete=True)
        return session_id

    async def _erase(self, entry: LogEntry, crc: int) -> None:
        """Erase the sensor's copy; a refusal leaves it there (the next sync finds it again,
        and its packets are not stored twice) and the other logs go on."""
        answer = await self.link.command(Opcode.LOG_ERASE, entry.log_id, crc)
        if answer.result != Result.OK:
            reason = getattr(answer.result, "name", answer.result)
            print(f"log {entry.log_id} is stored, but the sensor did not erase it ({reason}): "
                  "it stays on the sensor", file=sys.stderr)  # fmt: skip


def _partial_name(address: str, entry: LogEntry) -> str:
    tag = address.replace(":", "").replace("-", "")
    return f"{tag}-{entry.log_id}-{entry.start_unix_s}-{entry.size_bytes}.part"


async def sync(store, args) -> list[int]:
    """``hipdrop sync`` as ``args`` say; the ids of the sessions that received logs."""
    radio_options = {"untethered": True, "realtime": args.realtime}
    async with open_radio(args.sim, args.seed, args.faults, **radio_options) as radio:
        sessions = await sync_sensor(store, radio, args.device, args.athlete, args.keep)
    if not sessions:
        print("the sensor holds no logs", file=sys.stderr)
    return sessions


async def sync_sensor(store, radio, wanted=None, athlete=None, keep=False,
                      progress=None) -> list[int]:  # fmt: skip
    """Find the sensor ``wanted`` on ``radio``, connect, and sync its logs into ``store``."""
    sighting = await find_sensor(radio.backends, wanted)
    client = BleakClient(sighting.device, timeout=CONNECT_TIMEOUT_S,
                         backend=radio.backends.client)  # fmt: skip
    try:
        async with client:
            syncer = Syncer(store, None, sighting, radio.clock, athlete, keep, progress)
            syncer.link = link = SensorLink(client, syncer.on_stream, radio.clock)
            await link.open(pair=False)
            await link.ensure_bonded()
            return await syncer.run()
    except (BleakError, TimeoutError, OSError) as error:
        raise HipdropError(
            f"lost {sighting.name} during the sync ({error or type(error).__name__}): run "
            "`hipdrop sync` again, it resumes where it stopped"
        ) from None
