"""The analysis document (``hipdrop analyze --json``; schema in docs/analysis.md)."""

import numpy as np

from . import _pipeline as pipeline
from .fatigue import detect_fatigue

SCHEMA = "hipdrop.analysis/1"
ACTIVITY_NAMES = {1: "run", 2: "walk"}
STOP_MIN_S = 3.0
EVENT_NAMES = {
    pipeline.EV_NEUTRAL: "calibration",
    pipeline.EV_GAP: "gap",
    pipeline.EV_CLIP_MOVED: "clip_moved",
}


def _num(value, digits=3):
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def step_dicts(records):
    """Step records (``stream.STEP_COLUMNS``) as the document's step objects."""
    p = pipeline
    return [
        {
            "t_ic": _num(r[p.T_IC], 4),
            "side": "L" if r[p.SIDE] > 0 else "R",
            "side_confidence": _num(r[p.CONFIDENCE]),
            "activity": ACTIVITY_NAMES.get(int(r[p.ACTIVITY]), "other"),
            "pelvic_drop_deg": _num(r[p.PELVIC_DROP], 2),
            "drop_from_contact_deg": _num(r[p.DROP_FROM_CONTACT], 2),
            "contact_time_s": _num(r[p.CONTACT_TIME]),
            "step_time_s": _num(r[p.STEP_TIME]),
            "cadence_spm": _num(60.0 / r[p.STEP_TIME], 1),
            "roll_at_ic_deg": _num(r[p.ROLL_AT_IC], 2),
            "obliquity_range_deg": _num(r[p.OBLIQUITY_RANGE], 2),
            "impact_g": _num(r[p.IMPACT_G], 2),
            "verdict_latency_s": _num(r[p.T_VERDICT] - r[p.T_IC] - r[p.STEP_TIME], 3),
        }
        for r in records
    ]


def minute_table(steps, drop_key):
    """Per-minute aggregates of the steps (minute 0 starts at the first sample)."""
    by_minute = {}
    for s in steps:
        by_minute.setdefault(int(s["t_ic"] // 60), []).append(s)
    return [_minute(m, group, drop_key) for m, group in sorted(by_minute.items())]


def _minute(minute, steps, drop_key):
    activities = [s["activity"] for s in steps]
    row = {
        "minute": minute,
        "start_s": minute * 60.0,
        "steps": len(steps),
        "activity": max(set(activities), key=activities.count),
        "cadence_spm": _num(np.median([s["cadence_spm"] for s in steps]), 1),
        "contact_time_s": _median(steps, "contact_time_s"),
    }
    for side in ("L", "R"):
        same = [s for s in steps if s["side"] == side]
        row[f"{drop_key}_{side}"] = _median(same, drop_key)
    return row


def _median(steps, key):
    values = [s[key] for s in steps if s[key] is not None]
    return _num(np.median(values)) if values else None


def event_list(raw_events, steps):
    events = [{"t_s": _num(t, 3), "type": EVENT_NAMES[code]} for t, code in raw_events]
    for before, after in zip(steps, steps[1:]):
        pause = after["t_ic"] - before["t_ic"]
        if pause > STOP_MIN_S:
            events.append(
                {
                    "t_s": before["t_ic"] + before["step_time_s"],
                    "type": "stop",
                    "duration_s": _num(pause - before["step_time_s"], 1),
                }
            )
    return sorted(events, key=lambda e: e["t_s"])


def build_document(data, records, raw_events, mounting):
    """The whole analysis of ``data`` (an ``inputs.ImuData``) as a JSON-ready dict."""
    steps = step_dicts(records)
    drop_key = "pelvic_drop_deg" if mounting.has_neutral else "drop_from_contact_deg"
    minutes = minute_table(steps, drop_key)
    notes = list(data.notes) + _mounting_notes(mounting)
    return {
        "schema": SCHEMA,
        "source": data.source,
        "sample_rate_hz": round(float(data.sample_rate_hz), 3),
        "duration_s": _num(data.time_s[-1] - data.time_s[0], 2),
        "notes": notes,
        "drop_metric": drop_key,
        "steps": steps,
        "fatigue": detect_fatigue(minutes, drop_key).to_dict(),
        "minutes": minutes,
        "events": event_list(raw_events, steps),
    }


def _mounting_notes(mounting):
    notes = []
    if not mounting.has_neutral:
        notes.append(
            "no standing-still period found: no neutral, pelvic_drop_deg is null; "
            "drops are reported from contact (drop_from_contact_deg)"
        )
    if mounting.upside_down:
        notes.append("sensor worn upside down (its z axis points down): handled")
    if mounting.back_to_front:
        notes.append("sensor worn back to front (forward is its -x axis): handled")
    return notes
