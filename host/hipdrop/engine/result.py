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
    pipeline.EV_FORWARD_TURNED: "forward_turned",
}


def _num(value, digits=3):
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


_STEP_FIELDS = (  # (JSON name, record column, decimals)
    ("t_ic", pipeline.T_IC, 4),
    ("side_confidence", pipeline.CONFIDENCE, 3),
    ("pelvic_drop_deg", pipeline.PELVIC_DROP, 2),
    ("drop_from_contact_deg", pipeline.DROP_FROM_CONTACT, 2),
    ("contact_time_s", pipeline.CONTACT_TIME, 3),
    ("step_time_s", pipeline.STEP_TIME, 3),
    ("roll_at_ic_deg", pipeline.ROLL_AT_IC, 2),
    ("obliquity_range_deg", pipeline.OBLIQUITY_RANGE, 2),
    ("impact_g", pipeline.IMPACT_G, 2),
)


def step_dicts(records):
    """Step records (``stream.STEP_COLUMNS``) as the document's step objects (column-wise:
    a 100-minute run has ~17,000 steps)."""
    p = pipeline
    columns = {name: _column(records[:, col], digits) for name, col, digits in _STEP_FIELDS}
    columns["side"] = np.where(records[:, p.SIDE] > 0, "L", "R").tolist()
    columns["activity"] = [ACTIVITY_NAMES.get(int(a), "other") for a in records[:, p.ACTIVITY]]
    columns["cadence_spm"] = _column(60.0 / records[:, p.STEP_TIME], 1)
    latency = records[:, p.T_VERDICT] - records[:, p.T_IC] - records[:, p.STEP_TIME]
    columns["verdict_latency_s"] = _column(latency, 3)
    names = [name for name, _, _ in _STEP_FIELDS[:1]] + ["side", "side_confidence", "activity"]
    names += [name for name, _, _ in _STEP_FIELDS[2:]] + ["cadence_spm", "verdict_latency_s"]
    return [dict(zip(names, values)) for values in zip(*(columns[n] for n in names))]


def _column(values, digits):
    """Rounded floats, None where not finite."""
    rounded = np.round(values.astype(float), digits)
    return [None if v != v or v in (np.inf, -np.inf) else v for v in rounded.tolist()]


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
        "cadence_spm": _median(steps, "cadence_spm", 1),
        "contact_time_s": _median(steps, "contact_time_s"),
    }
    for side in ("L", "R"):
        same = [s for s in steps if s["side"] == side]
        row[f"{drop_key}_{side}"] = _median(same, drop_key)
    return row


def _median(steps, key, digits=3):
    values = [s[key] for s in steps if s[key] is not None]
    return _num(np.median(values), digits) if values else None


def _add_speed(minutes, data):
    """Median known speed (treadmill column or --speed) of each minute, m/s."""
    minute_of_sample = (data.time_s // 60).astype(int)
    for row in minutes:
        inside = data.speed_mps[minute_of_sample == row["minute"]]
        row["speed_mps"] = _num(np.median(inside), 2) if len(inside) else None


def event_list(raw_events, steps):
    events = [{"t_s": _num(t, 3), "type": EVENT_NAMES[code]} for t, code in raw_events]
    for before, after in zip(steps, steps[1:]):
        pause = after["t_ic"] - before["t_ic"]
        if pause > STOP_MIN_S:
            last_step_s = before["step_time_s"] or 0.0  # None: the step closed as overdue
            events.append(
                {
                    "t_s": before["t_ic"] + last_step_s,
                    "type": "stop",
                    "duration_s": _num(pause - last_step_s, 1),
                }
            )
    return sorted(events, key=lambda e: e["t_s"])


def build_document(data, records, raw_events, mounting):
    """The whole analysis of ``data`` (an ``inputs.ImuData``) as a JSON-ready dict."""
    steps = step_dicts(records)
    drop_key = "pelvic_drop_deg" if mounting.has_neutral else "drop_from_contact_deg"
    minutes = minute_table(steps, drop_key)
    if data.speed_mps is not None:
        _add_speed(minutes, data)
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
        notes.append(
            "sensor worn upside down (its z axis points down): handled; if it was worn upright, "
            "its accelerometer reads -1 g upward at rest (as Apple's Core Motion does), and "
            "left and right are swapped: analyse again with --acc-unit=-g or -m/s2"
        )
    if mounting.back_to_front:
        notes.append("sensor worn back to front (forward is its -x axis): handled")
    elif mounting.sideways:
        axis = "+y" if mounting.forward[1] > 0 else "-y"
        notes.append(f"sensor worn turned sideways (forward is near its {axis} axis): handled")
    return notes
