"""``Store``: one session database (SQLite, WAL), for the recorder, the review and the CLI.

Rows from :meth:`Store.add_packets`, :meth:`Store.add_event` and :meth:`Store.set_clock` stay
pending until :meth:`Store.commit` (the recorder commits about once a second, so a crash loses
at most that second); every other change is committed at once, together with anything pending.
One ``Store`` must not be used from two threads at the same time.
"""

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import StoreError
from . import db, packets, replay, results, sessions
from .replay import SessionSamples
from .sessions import SessionInfo


def _guarded(method):
    """Run a method with SQLite's errors about the file turned into StoreError."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with db.translated(self.path):
            return method(self, *args, **kwargs)

    return run


def _writes(method):
    """A method that changes the database: refused on a read-only store."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only; {method.__name__} needs write access")
        return method(self, *args, **kwargs)

    return _guarded(run)


class Store:
    """A hipdrop session database. Open with :meth:`Store.open`; use as a context manager."""

    def __init__(self, conn, path, readonly):
        self._conn, self.path, self.readonly = conn, Path(path), readonly

    @classmethod
    def open(cls, path, readonly=False, create=True) -> "Store":
        """Open the database at ``path``; when writable, upgrade its schema, and create it if
        missing unless ``create`` is False.

        ``readonly`` opens it with ``mode=ro``, beside a recorder that is writing it.
        Raises :class:`StoreError` for a file that is not a hipdrop session database.
        """
        return cls(db.connect(path, readonly, create), path, readonly)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @_guarded
    def close(self):
        """Commit anything pending, give up this process's recordings, close."""
        if self._conn is None:
            return
        if not self.readonly:
            with db.write(self._conn):
                sessions.release_writers(self._conn)
        self._conn.close()
        self._conn = None

    # -- recording ---------------------------------------------------------------------------

    @_writes
    def create_session(
        self,
        *,
        started_at: float,
        source: str,
        athlete: str | None = None,
        device: str | None = None,
        device_name: str | None = None,
        firmware: str | None = None,
        board: str | None = None,
        protocol_version: int | None = None,
        sample_rate_hz: float | None = None,
        calibration: dict | None = None,
        notes: str | None = None,
        tags: Sequence[str] = (),
    ) -> int:
        """A new session in state ``recording``, recorded by this process; returns its id."""
        fields = dict(
            athlete=athlete, device=device, device_name=device_name, firmware=firmware,
            board=board, protocol_version=protocol_version, sample_rate_hz=sample_rate_hz,
            calibration=calibration, notes=notes, tags=tags,
        )  # fmt: skip
        with db.write(self._conn):
            return sessions.create(self._conn, started_at=started_at, source=source, **fields)

    @_writes
    def add_packets(self, sid: int, rows: Iterable) -> int:
        """Add (boot, seq, t0_ticks, host_rx_s, origin, payload) rows; returns how many were
        new (a packet already stored is ignored). Pending until :meth:`commit`."""
        db.pending(self._conn)
        return packets.add(self._conn, sid, rows)

    @_writes
    def add_event(self, sid: int, kind: str, t_s: float | None, detail: dict | None = None):
        """A link event (``disconnect``, ``gap``, ``backfill``, ...) at ``t_s`` seconds on the
        session clock (since ``started_at``). Pending until :meth:`commit`."""
        db.pending(self._conn)
        results.add_link_event(self._conn, sid, kind, t_s, detail)

    @_guarded
    def commit(self):
        """Make everything pending durable (and tell readers this recorder is alive)."""
        if self.readonly:
            return
        db.pending(self._conn)
        sessions.heartbeat(self._conn)
        self._conn.execute("COMMIT")

    @_writes
    def set_clock(self, sid: int, boot: int, offset_s: float, scale: float):
        """Map boot ``boot``'s device clock: host time = ``offset_s`` + ``scale`` × device s
        (the assembler's unwrapped device time). Pending until :meth:`commit`."""
        db.pending(self._conn)
        self._conn.execute(
            "INSERT OR REPLACE INTO clocks VALUES (?, ?, ?, ?)", (sid, boot, offset_s, scale)
        )

    @_writes
    def update_session(self, sid: int, **fields):
        """Change session fields (``sessions.EDITABLE``), e.g. athlete, notes, tags, stats."""
        with db.write(self._conn):
            sessions.update(self._conn, sid, fields)

    @_writes
    def finish_session(self, sid: int, ended_at: float, complete: bool = True):
        """End a recording: state ``complete`` (or ``incomplete``)."""
        with db.write(self._conn):
            sessions.finish(self._conn, sid, ended_at, complete)

    @_writes
    def close_session(self, sid: int):
        """End an interrupted recording as ``incomplete`` at its last packet."""
        with db.write(self._conn):
            sessions.close(self._conn, sid)

    @_writes
    def reopen_session(self, sid: int):
        """Resume a session: back to ``recording``, with this process as its recorder."""
        with db.write(self._conn):
            sessions.reopen(self._conn, sid)

    @_writes
    def recover_stale(self, max_age_s: float | None = None) -> list[int]:
        """Mark every interrupted recording ``incomplete``; returns their ids."""
        with db.write(self._conn):
            return sessions.recover_stale(self._conn, max_age_s)

    # -- reading -----------------------------------------------------------------------------

    @_guarded
    def sessions(self, athlete: str | None = None) -> list[SessionInfo]:
        """All sessions (or ``athlete``'s), newest first."""
        return sessions.listing(self._conn, athlete)

    @_guarded
    def session(self, sid: int) -> SessionInfo:
        return sessions.get(self._conn, sid)

    @_guarded
    def resolve(self, ref: str | int) -> int:
        """The id of ``ref``: a session id, or ``latest`` (newest start, even if recording)."""
        return sessions.resolve(self._conn, ref)

    @_guarded
    def sessions_covering(self, device: str, boot: int, first_seq: int, end_seq: int) -> list[int]:
        """Sessions of ``device`` whose samples of ``boot`` overlap sample indices
        ``[first_seq, end_seq)`` — where a flash log of that range belongs — newest first."""
        rows = self._conn.execute(
            "SELECT s.id FROM sessions s JOIN boots b ON b.session_id = s.id "
            "WHERE s.device = ? AND b.boot = ? AND b.first_seq < ? AND ? < b.end_seq "
            "ORDER BY s.started_at DESC",
            (device, boot, end_seq, first_seq),
        )
        return [row[0] for row in rows]

    @_guarded
    def packets(self, sid: int) -> Iterator[tuple]:
        """(boot, seq, t0_ticks, host_rx_s, origin, payload) rows in the order received."""
        return packets.rows(self._conn, sid)

    @_guarded
    def events(self, sid: int) -> list[dict]:
        """The recorder's link events: kind, t_s, detail."""
        return results.link_events(self._conn, sid)

    @_guarded
    def samples(self, sid: int) -> SessionSamples:
        """The session's samples, replayed from its packets, on the session clock."""
        with self._snapshot():
            started_at = self.session(sid).started_at
            clocks = {
                boot: (offset, scale)
                for boot, offset, scale in self._conn.execute(
                    "SELECT boot, offset_s, scale FROM clocks WHERE session_id = ?", (sid,)
                )
            }
            rows = (row[:2] + row[3:] for row in packets.rows(self._conn, sid))
            return replay.replay(rows, clocks, started_at)

    def recording(self, sid: int, speed_mps: float | None = None):
        """The session as the engine's input (``engine.inputs.ImuData``): ``analyze(...)`` it."""
        return engine_input(self.samples(sid), f"session {sid}", speed_mps)

    @_writes
    def analyse(self, sid: int, samples: SessionSamples | None = None,
                speed_mps: float | None = None) -> dict:  # fmt: skip
        """Analyse the session (its stored samples unless given) and store the document as its
        results, replacing any earlier ones (e.g. after a backfill or a sync)."""
        from ..engine.analyze import analyze  # the engine (Numba) loads only when asked

        samples = self.samples(sid) if samples is None else samples
        doc = analyze(engine_input(samples, f"session {sid}", speed_mps))
        self.replace_results(sid, doc)
        return doc

    def replace_results(self, sid: int, doc: dict):
        """Store an analysis document as the session's results, replacing earlier ones."""
        with db.write(self._conn):
            self.session(sid)
            results.replace(self._conn, sid, doc)

    @_guarded
    def results(self, sid: int) -> dict | None:
        """Stored results (steps, minutes, events, fatigue, ...), None before any analysis."""
        self.session(sid)
        return results.load(self._conn, sid)

    # -- deleting ----------------------------------------------------------------------------

    @_writes
    def delete_session(self, sid: int) -> bool:
        """Delete a session and all its rows for good; True when SQLite could also clear its
        log (no reader held an older snapshot). See docs/store.md for what that covers."""
        with db.write(self._conn):
            sessions.check_not_recorded_elsewhere(self._conn, sid)
            self._conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        self._conn.execute("PRAGMA incremental_vacuum").fetchall()
        return db.clear_log(self._conn)

    @contextmanager
    def _snapshot(self):
        """Read several statements from one consistent state of the database."""
        began = not self._conn.in_transaction
        if began:
            self._conn.execute("BEGIN")
        try:
            yield
        finally:
            if began:
                self._conn.execute("COMMIT")


def engine_input(samples: SessionSamples, source: str, speed_mps: float | None = None):
    """Samples as the engine's input (``engine.inputs.ImuData``), ``speed_mps`` a known
    constant treadmill speed."""
    from ..engine.inputs import ImuData, check_speed  # the engine (Numba) loads only when asked

    if len(samples) < 10:
        raise StoreError(f"{source} has {len(samples)} samples: nothing to analyse yet")
    rate_hz = float(1.0 / np.median(np.diff(samples.time_s)))
    speed = None
    if speed_mps is not None:
        speed = check_speed(np.full(len(samples), float(speed_mps)), "treadmill speed")
    missing = sum(end - start for _, start, end in samples.gaps)
    gaps = (f"{missing} samples missing in {len(samples.gaps)} gap(s)",) if missing else ()
    return ImuData(
        samples.time_s, samples.acc_ms2, samples.gyr_dps, rate_hz, speed, source,
        samples.notes + gaps,
    )  # fmt: skip
