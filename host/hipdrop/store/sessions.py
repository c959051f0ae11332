"""Session rows: create, describe, finish, list, and tell an interrupted recording.

A session's stored ``state`` is what its recorder last wrote. A session stored as
``recording`` whose writer (``writers`` row) is gone — the process was killed, or closed the
store without finishing — is reported as ``incomplete`` with ``interrupted`` set; opening the
database never changes it, :func:`recover_stale` or :func:`close` does.
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import StoreError
from . import liveness

SOURCES = ("live", "sync", "demo", "import")
EDITABLE = (
    "athlete",
    "device",
    "device_name",
    "firmware",
    "board",
    "protocol_version",
    "sample_rate_hz",
    "calibration",
    "notes",
    "tags",
    "stats",
    "started_at",
)
"""Fields ``update_session`` may change; ``calibration`` and ``stats`` are dicts, ``tags`` a
list of strings (all stored as JSON)."""
_JSON = ("calibration", "stats", "tags")


@dataclass(frozen=True)
class SessionInfo:
    """One session as ``hipdrop sessions`` lists it. Times are unix seconds (host clock)."""

    id: int
    started_at: float
    ended_at: float | None
    duration_s: float | None
    """End (or last packet received) − start; None when nothing arrived yet."""
    state: str
    """``recording``, ``complete`` or ``incomplete``."""
    interrupted: bool
    """Stored as recording, but its recorder is gone: reported as ``incomplete``."""
    source: str
    athlete: str | None
    device: str | None
    device_name: str | None
    firmware: str | None
    board: str | None
    sample_rate_hz: float | None
    notes: str | None
    tags: tuple[str, ...]
    samples: int
    """Samples stored (a re-sent range that overlaps counts twice)."""
    samples_expected: int
    """Samples the device numbered, first to last sequence number of every boot."""
    steps: int | None
    """None until the session is analysed."""
    drop_metric: str | None
    mean_drop_l_deg: float | None
    """Mean of ``drop_metric`` over left-stance steps, those in turns left out."""
    mean_drop_r_deg: float | None
    fatigue_onset_s: float | None
    analysed_at: float | None
    stats: dict | None = None
    """The recorder's numbers: packets, rejected, duplicates, samples, recovered, lost …"""

    @property
    def completeness(self) -> float | None:
        """Fraction of the expected samples present, 0–1 (None before any packet)."""
        if not self.samples_expected:
            return None
        return min(1.0, self.samples / self.samples_expected)

    @property
    def state_text(self) -> str:
        return "incomplete (interrupted)" if self.interrupted else self.state


_SELECT = """
SELECT s.id, s.started_at, s.ended_at, s.state, s.source, s.athlete, s.device, s.device_name,
       s.firmware, s.board, s.sample_rate_hz, s.notes, s.tags, s.steps, s.drop_metric,
       s.mean_drop_l_deg, s.mean_drop_r_deg, s.fatigue_onset_s, s.analysed_at, s.stats,
       coalesce(b.samples, 0), coalesce(b.expected, 0), b.last_rx_s,
       w.host, w.pid, w.process_start, w.seen_at
FROM sessions s
LEFT JOIN (SELECT session_id, sum(samples) AS samples, sum(end_seq - first_seq) AS expected,
                  max(last_rx_s) AS last_rx_s
           FROM boots GROUP BY session_id) b ON b.session_id = s.id
LEFT JOIN writers w ON w.session_id = s.id
"""


def create(conn, *, started_at, source, **fields) -> int:
    if source not in SOURCES:
        raise ValueError(f"source {source!r} is not one of {', '.join(SOURCES)}")
    values = _encoded(fields) | {"started_at": float(started_at), "source": source}
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cursor = conn.execute(f"INSERT INTO sessions ({names}) VALUES ({marks})", list(values.values()))
    claim_writer(conn, cursor.lastrowid)
    return cursor.lastrowid


def update(conn, sid, fields):
    values = _encoded(fields)
    if not values:
        return
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", [*values.values(), sid])


def _encoded(fields):
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown session field(s) {', '.join(sorted(unknown))}")
    if "tags" in fields:
        fields = fields | {"tags": _tag_list(fields["tags"])}
    return {k: json.dumps(v) if k in _JSON and v is not None else v for k, v in fields.items()}


def _tag_list(tags: Sequence[str] | None) -> list[str]:
    if isinstance(tags, str):
        raise TypeError("tags is a sequence of strings, not one string")
    return [str(tag) for tag in tags or ()]


def claim_writer(conn, sid):
    """Register this process as the session's recorder."""
    host, pid, start = liveness.this_process()
    conn.execute(
        "INSERT OR REPLACE INTO writers VALUES (?, ?, ?, ?, ?)",
        (sid, host, pid, start, time.time()),
    )


def heartbeat(conn):
    """Mark this process's writers as alive now (runs inside each commit)."""
    host, pid, _ = liveness.this_process()
    conn.execute(
        "UPDATE writers SET seen_at = ? WHERE host = ? AND pid = ?", (time.time(), host, pid)
    )


def release_writers(conn):
    """Forget this process's writers (closing the store: they record no longer)."""
    host, pid, _ = liveness.this_process()
    conn.execute("DELETE FROM writers WHERE host = ? AND pid = ?", (host, pid))


def finish(conn, sid, ended_at, complete):
    state = "complete" if complete else "incomplete"
    conn.execute("UPDATE sessions SET state = ?, ended_at = ? WHERE id = ?", (state, ended_at, sid))
    conn.execute("DELETE FROM writers WHERE session_id = ?", (sid,))


def close(conn, sid):
    """End an interrupted recording: ``incomplete``, ending at its last packet."""
    info = check_not_recorded_elsewhere(conn, sid)
    if info.state == "recording" or info.interrupted:
        finish(conn, sid, _last_seen(info), complete=False)


def reopen(conn, sid):
    """Set a session back to ``recording`` for this process to append to it."""
    check_not_recorded_elsewhere(conn, sid)
    conn.execute("UPDATE sessions SET state = 'recording', ended_at = NULL WHERE id = ?", (sid,))
    claim_writer(conn, sid)


def check_not_recorded_elsewhere(conn, sid) -> SessionInfo:
    """The session, unless another live process is recording it (then StoreError)."""
    info = get(conn, sid)
    if info.state == "recording" and not _ours(conn, sid):
        raise StoreError(
            f"session {sid} is still being recorded by another hipdrop process; stop it first"
        )
    return info


def _ours(conn, sid):
    host, pid, _ = liveness.this_process()
    row = conn.execute("SELECT host, pid FROM writers WHERE session_id = ?", (sid,)).fetchone()
    return row == (host, pid)


def recover_stale(conn, max_age_s=None) -> list[int]:
    """Close every interrupted recording; returns their ids. ``max_age_s`` overrides how long
    a writer on another host may stay silent (default ``liveness.STALE_AFTER_S``)."""
    stale = [info for info in listing(conn, stale_after_s=max_age_s) if info.interrupted]
    for info in stale:
        finish(conn, info.id, _last_seen(info), complete=False)
    return [info.id for info in stale]


def _last_seen(info):
    return info.started_at + info.duration_s if info.duration_s is not None else info.started_at


def get(conn, sid) -> SessionInfo:
    row = conn.execute(_SELECT + " WHERE s.id = ?", (sid,)).fetchone()
    if row is None:
        raise StoreError(f"no session {sid} in this database (`hipdrop sessions` lists them)")
    return _info(row, time.time(), None)


def listing(conn, athlete=None, stale_after_s=None) -> list[SessionInfo]:
    """Sessions, newest first; only ``athlete``'s when given."""
    where, args = (" WHERE s.athlete = ?", (athlete,)) if athlete is not None else ("", ())
    rows = conn.execute(_SELECT + where + " ORDER BY s.started_at DESC, s.id DESC", args)
    now = time.time()
    return [_info(row, now, stale_after_s) for row in rows]


def resolve(conn, ref) -> int:
    """A session id from ``ref``: an id (int or digits) or ``latest``."""
    text = str(ref).strip().lower()
    if text == "latest":
        row = conn.execute("SELECT id FROM sessions ORDER BY started_at DESC, id DESC").fetchone()
        if row is None:
            raise StoreError(
                "no sessions yet: record one with `hipdrop record --sim treadmill_quick`"
            )
        return row[0]
    if not text.isdigit():
        raise StoreError(f"{ref!r} is not a session: give its id (`hipdrop sessions`) or 'latest'")
    return get(conn, int(text)).id


def _info(row, now, stale_after_s) -> SessionInfo:
    (sid, started, ended, state, source, athlete, device, device_name, firmware, board, rate,
     notes, tags, steps, metric, drop_l, drop_r, onset, analysed_at, stats,
     samples, expected, last_rx, *writer) = row  # fmt: skip
    interrupted = state == "recording" and not _writer_alive(writer, now, stale_after_s)
    end = ended if ended is not None else last_rx
    return SessionInfo(
        sid, started, ended, None if end is None else end - started,
        "incomplete" if interrupted else state, interrupted, source, athlete, device,
        device_name, firmware, board, rate, notes, tuple(json.loads(tags)), samples, expected,
        steps, metric, drop_l, drop_r, onset, analysed_at,
        None if stats is None else json.loads(stats),
    )  # fmt: skip


def _writer_alive(writer, now, stale_after_s):
    host, pid, start, seen_at = writer
    if host is None:
        return False
    limit = liveness.STALE_AFTER_S if stale_after_s is None else stale_after_s
    return liveness.writer_alive(host, pid, start, seen_at, now, limit)
