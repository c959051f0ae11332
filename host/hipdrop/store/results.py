"""Derived results: a session's analysis document (``hipdrop.analysis/1``) as table rows.

``replace`` swaps steps, minutes, analysis events and the summary columns of ``sessions`` in
one change, so a reader sees either the old analysis or the new one, never a mix.
"""

import json
import time

from .. import __version__
from ..paths import engine_key
from .schema import MINUTE_COLUMNS, STEP_COLUMNS

_MINUTE_FIXED = MINUTE_COLUMNS[:6]
_EVENT_KEYS = ("t_s", "type")


def replace(conn, sid, doc):
    for table in ("steps", "minutes"):
        conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (sid,))
    conn.execute("DELETE FROM events WHERE session_id = ? AND origin = 'analysis'", (sid,))
    _insert_rows(conn, "steps", ("n", *STEP_COLUMNS), _step_rows(sid, doc["steps"]))
    metric = doc["drop_metric"]
    _insert_rows(conn, "minutes", MINUTE_COLUMNS, _minute_rows(sid, doc["minutes"], metric))
    conn.executemany(
        "INSERT INTO events (session_id, origin, kind, t_s, detail)"
        " VALUES (?, 'analysis', ?, ?, ?)",
        [(sid, e["type"], e.get("t_s"), _detail(e)) for e in doc["events"]],
    )
    _summarise(conn, sid, doc)


def _insert_rows(conn, table, columns, rows):
    names = ", ".join(("session_id", *columns))
    marks = ", ".join("?" * (len(columns) + 1))
    conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _step_rows(sid, steps):
    return [(sid, n, *(step.get(c) for c in STEP_COLUMNS)) for n, step in enumerate(steps)]


def _minute_rows(sid, minutes, metric):
    return [
        (
            sid,
            *(m.get(c) for c in _MINUTE_FIXED),
            m.get(f"{metric}_L"),
            m.get(f"{metric}_R"),
            m.get("speed_mps"),
        )
        for m in minutes
    ]


def _detail(event):
    extra = {k: v for k, v in event.items() if k not in _EVENT_KEYS}
    return json.dumps(extra) if extra else None


def _summarise(conn, sid, doc):
    metric, fatigue = doc["drop_metric"], doc["fatigue"]
    conn.execute(
        """UPDATE sessions SET analysis_schema = ?, analysed_by = ?, analysed_at = ?,
           analysis_notes = ?, drop_metric = ?, steps = ?, mean_drop_l_deg = ?,
           mean_drop_r_deg = ?, fatigue_onset_s = ?, fatigue_side = ?, fatigue_evidence = ?
           WHERE id = ?""",
        (
            doc["schema"],
            f"hipdrop {__version__} engine {engine_key()}",
            time.time(),
            json.dumps(doc.get("notes", [])),
            metric,
            len(doc["steps"]),
            _mean_drop(doc["steps"], metric, "L"),
            _mean_drop(doc["steps"], metric, "R"),
            fatigue.get("onset_s"),
            fatigue.get("side"),
            fatigue.get("evidence"),
            sid,
        ),
    )


def _mean_drop(steps, metric, side):
    values = [
        s[metric]
        for s in steps
        if s["side"] == side and s.get(metric) is not None and not s.get("turning")
    ]
    return round(sum(values) / len(values), 3) if values else None


def load(conn, sid) -> dict | None:
    """The stored analysis: steps, minutes, events, fatigue (document field names), plus
    schema, drop_metric, notes, analysed_at and analysed_by; None before any analysis."""
    head = conn.execute(
        """SELECT analysis_schema, drop_metric, analysis_notes, analysed_at, analysed_by,
           fatigue_onset_s, fatigue_side, fatigue_evidence FROM sessions WHERE id = ?""",
        (sid,),
    ).fetchone()
    if head is None or head[0] is None:
        return None
    schema_name, metric, notes, analysed_at, analysed_by, onset, side, evidence = head
    return {
        "schema": schema_name,
        "drop_metric": metric,
        "notes": json.loads(notes or "[]"),
        "analysed_at": analysed_at,
        "analysed_by": analysed_by,
        "steps": _steps(conn, sid),
        "minutes": _minutes(conn, sid, metric),
        "events": _events(conn, sid),
        "fatigue": {"onset_s": onset, "side": side, "evidence": evidence},
    }


def _steps(conn, sid):
    cursor = conn.execute(
        f"SELECT {', '.join(STEP_COLUMNS)} FROM steps WHERE session_id = ? ORDER BY n", (sid,)
    )
    steps = [dict(zip(STEP_COLUMNS, row)) for row in cursor]
    for step in steps:
        if step["turning"] is not None:
            step["turning"] = bool(step["turning"])
    return steps


def _minutes(conn, sid, metric):
    cursor = conn.execute(
        f"SELECT {', '.join(MINUTE_COLUMNS)} FROM minutes WHERE session_id = ? ORDER BY minute",
        (sid,),
    )
    names = (*_MINUTE_FIXED, f"{metric}_L", f"{metric}_R", "speed_mps")
    rows = [dict(zip(names, row)) for row in cursor]
    if all(row["speed_mps"] is None for row in rows):
        for row in rows:
            del row["speed_mps"]
    return rows


def _events(conn, sid):
    rows = _event_rows(conn, sid, "analysis")
    return [{"t_s": t_s, "type": kind, **json.loads(detail or "{}")} for kind, t_s, detail in rows]


def link_events(conn, sid) -> list[dict]:
    """The recorder's events (disconnect, gap, backfill, ...), in the order they were added."""
    rows = _event_rows(conn, sid, "link")
    return [{"kind": k, "t_s": t_s, "detail": json.loads(d or "null")} for k, t_s, d in rows]


def _event_rows(conn, sid, origin):
    return conn.execute(
        "SELECT kind, t_s, detail FROM events WHERE session_id = ? AND origin = ? ORDER BY id",
        (sid, origin),
    )


def add_link_event(conn, sid, kind, t_s, detail):
    conn.execute(
        "INSERT INTO events (session_id, origin, kind, t_s, detail) VALUES (?, 'link', ?, ?, ?)",
        (sid, kind, t_s, None if detail is None else json.dumps(detail)),
    )
