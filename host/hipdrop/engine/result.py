"""The analysis document (``hipdrop analyze --json``; schema in docs/analysis.md)."""

import math

import numpy as np

from . import _pipeline as pipeline
from .fatigue import detect_fatigue

SCHEMA = "hipdrop.analysis/1"
ACTIVITY_NAMES = {0: "other", 1: "run", 2: "walk"}
STOP_MIN_S = 3.0
TURNING_RUN_DPS, TURNING_WALK_DPS = 10.0, 20.0
"""A running step whose stride turned faster than the first, or another step faster than the
second, is ``turning``. Its drop then holds the lean into the turn, ≈ atan(speed × turn rate
/ g): 3.6° running at 3.5 m/s through 10 °/s, 2.9° walking at 1.4 m/s through 20 °/s. The
per-minute medians, the summary and fatigue leave it out. Straight, a stride's mean turn stays
within 4 °/s on the real treadmill run, and within 7.5 °/s in the real straight walks between
their first and last steps."""
EVENT_NAMES = {
    pipeline.EV_NEUTRAL: "calibration",
    pipeline.EV_GAP: "gap",
    pipeline.EV_CLIP_MOVED: "clip_moved",
    pipeline.EV_FORWARD_TURNED: "forward_turned",
    pipeline.EV_GAP_BRIDGED: "gap",
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
    ("turn_dps", pipeline.TURN_DPS, 1),
)
_STEP_ORDER = (  # the keys of a step object, in the document's order
    "t_ic",
    "side",
    "side_confidence",
    "activity",
    *(name for name, _, _ in _STEP_FIELDS[2:]),
    "turning",
    "cadence_spm",
    "verdict_latency_s",
)


def step_columns(records) -> dict:
    """Step records (``stream.STEP_COLUMNS``) as the document's step fields, column by column:
    floats rounded as written (NaN where unknown), ``side``, ``turning`` and ``activity`` as
    their codes."""
    p = pipeline
    columns = {name: np.round(records[:, col], digits) for name, col, digits in _STEP_FIELDS}
    columns["side"] = records[:, p.SIDE] > 0
    columns["activity"] = np.where(
        np.isin(records[:, p.ACTIVITY], list(ACTIVITY_NAMES)), records[:, p.ACTIVITY], 0
    )
    columns["turning"] = turning(records)
    columns["cadence_spm"] = np.round(60.0 / records[:, p.STEP_TIME], 1)
    latency = records[:, p.T_VERDICT] - records[:, p.T_IC] - records[:, p.STEP_TIME]
    columns["verdict_latency_s"] = np.round(latency, 3)
    return columns


def turning(records):
    """Which step records are ``turning`` (see ``TURNING_RUN_DPS``; False where the turn is not
    known)."""
    running = records[:, pipeline.ACTIVITY] == 1
    limit = np.where(running, TURNING_RUN_DPS, TURNING_WALK_DPS)
    return np.abs(records[:, pipeline.TURN_DPS]) > limit


def step_dicts(columns):
    """The document's step objects from ``step_columns`` (a 100-minute run has ~17,000; a
    dict display builds them in half the time ``dict(zip(keys, values))`` takes)."""
    c = {name: _json_floats(values) for name, values in columns.items()}
    c["side"] = np.where(columns["side"], "L", "R").tolist()
    c["turning"] = columns["turning"].tolist()
    c["activity"] = [ACTIVITY_NAMES[a] for a in columns["activity"].astype(int).tolist()]
    return [
        {
            "t_ic": t_ic,
            "side": side,
            "side_confidence": confidence,
            "activity": activity,
            "pelvic_drop_deg": drop,
            "drop_from_contact_deg": from_contact,
            "contact_time_s": contact,
            "step_time_s": step,
            "roll_at_ic_deg": roll,
            "obliquity_range_deg": obliquity,
            "impact_g": impact,
            "turn_dps": turn,
            "turning": turning,
            "cadence_spm": cadence,
            "verdict_latency_s": latency,
        }
        for (
            t_ic,
            side,
            confidence,
            activity,
            drop,
            from_contact,
            contact,
            step,
            roll,
            obliquity,
            impact,
            turn,
            turning,
            cadence,
            latency,
        ) in zip(*(c[name] for name in _STEP_ORDER))
    ]


def _json_floats(values):
    """Floats as a list, None where not finite."""
    finite = np.isfinite(values)
    listed = values.tolist()
    if not finite.all():
        for i in np.flatnonzero(~finite).tolist():
            listed[i] = None
    return listed


def minute_table(columns, drop_key, start_s=0.0):
    """Per-minute aggregates of the steps (``step_columns``), in the order of the minutes;
    minute 0 begins at ``start_s``, the recording's earliest time (a logger's clock may count
    from anything: a phone's from 1970)."""
    minutes, group = np.unique(_minute_of(columns["t_ic"], start_s), return_inverse=True)
    n = len(minutes)
    steps = np.bincount(group, minlength=n)
    activity = np.bincount(group * 3 + columns["activity"].astype(int), minlength=3 * n)
    commonest = np.argmax(activity.reshape(n, 3), axis=1).tolist()  # the first of equals
    left, right = _straight_sides(columns)
    medians = {
        "cadence_spm": (_medians(group, columns["cadence_spm"], n), 1),
        "contact_time_s": (_medians(group, columns["contact_time_s"], n), 3),
        f"{drop_key}_L": (_medians(group[left], columns[drop_key][left], n), 3),
        f"{drop_key}_R": (_medians(group[right], columns[drop_key][right], n), 3),
    }
    table = []
    for i, minute in enumerate(minutes.tolist()):
        row = {"minute": minute, "start_s": start_s + minute * 60.0, "steps": int(steps[i])}
        row["activity"] = ACTIVITY_NAMES[commonest[i]]
        row.update((key, _num(values[i], digits)) for key, (values, digits) in medians.items())
        table.append(row)
    return table


def _minute_of(time_s, start_s):
    return ((time_s - start_s) // 60).astype(int)


def _straight_sides(columns):
    """Masks of the left- and right-stance steps not ``turning``: the ones whose drops count."""
    straight = ~columns["turning"]
    return columns["side"] & straight, ~columns["side"] & straight


def _medians(group, values, n):
    """The median of the finite ``values`` of each group 0 … n−1 (nan for a group without),
    from one sort for all the groups: ``np.median`` per minute, side and column took 7.5 ms of
    a 100-minute run's document, this 5 ms for the whole table."""
    finite = np.isfinite(values)
    group, values = group[finite], values[finite]
    order = np.lexsort((values, group))
    ranked = values[order]
    counts = np.bincount(group, minlength=n)
    first = np.cumsum(counts) - counts
    have = counts > 0
    lower = ranked[(first + (counts - 1) // 2)[have]]
    upper = ranked[(first + counts // 2)[have]]
    medians = np.full(n, np.nan)
    medians[have] = 0.5 * (lower + upper)
    return medians


def _add_speed(minutes, data, start_s):
    """Median known speed (treadmill column or --speed) of each minute, m/s. The samples are
    grouped by minute with one sort (already in order unless the clock jumped back): a mask of
    every sample per minute took 0.1 s for 100 minutes."""
    minute_of_sample = _minute_of(data.time_s, start_s)
    order = np.argsort(minute_of_sample, kind="stable")
    in_order = minute_of_sample[order]
    for row in minutes:
        first, end = np.searchsorted(in_order, (row["minute"], row["minute"] + 1))
        inside = data.speed_mps[order[first:end]]
        row["speed_mps"] = _num(np.median(inside), 2) if len(inside) else None


def event_list(raw_events, columns, time_s):
    """The engine's events and the stops (pauses of more than ``STOP_MIN_S`` between
    contacts), in time order; a gap also says how long it was and whether it was bridged."""
    events = [{"t_s": _num(t, 3), "type": EVENT_NAMES[code]} for t, code in raw_events]
    for event, (t, code) in zip(events, raw_events):
        if code in (pipeline.EV_GAP, pipeline.EV_GAP_BRIDGED):
            event.update(_gap_details(t, code, time_s))
    t_ic, step_s = columns["t_ic"], np.nan_to_num(columns["step_time_s"])  # NaN: closed overdue
    for i in np.flatnonzero(np.diff(t_ic) > STOP_MIN_S).tolist():
        pause = t_ic[i + 1] - t_ic[i]
        events.append(
            {
                "t_s": float(t_ic[i] + step_s[i]),
                "type": "stop",
                "duration_s": _num(pause - step_s[i], 1),
            }
        )
    return sorted(events, key=lambda e: e["t_s"])


def _gap_details(t_after, code, time_s):
    """``duration_s``: from the last sample before the gap to the first after it (null where
    the clock stepped back: a restarted device); ``bridged``: the tilt and the sides' alternation
    were carried over it from the strides before (``_pipeline.BRIDGE_GAP_S``)."""
    after = int(np.searchsorted(time_s, t_after))
    span = t_after - time_s[after - 1] if 0 < after <= len(time_s) else math.nan
    return {
        "duration_s": _num(span if span > 0 else math.nan, 3),
        "bridged": code == pipeline.EV_GAP_BRIDGED,
    }


def build_document(data, records, raw_events, mounting):
    """The whole analysis of ``data`` (an ``inputs.ImuData``) as a JSON-ready dict."""
    columns = step_columns(records)
    drop_key = "pelvic_drop_deg" if mounting.has_neutral else "drop_from_contact_deg"
    start_s = float(data.time_s.min())
    minutes = minute_table(columns, drop_key, start_s)
    if data.speed_mps is not None:
        _add_speed(minutes, data, start_s)
    notes = list(data.notes) + _mounting_notes(mounting)
    return {
        "schema": SCHEMA,
        "source": data.source,
        "sample_rate_hz": round(float(data.sample_rate_hz), 3),
        "start_s": _num(start_s, 3),
        "duration_s": _num(data.time_s[-1] - data.time_s[0], 2),
        "notes": notes,
        "drop_metric": drop_key,
        "steps": step_dicts(columns),
        "fatigue": detect_fatigue(minutes, drop_key).to_dict(),
        "minutes": minutes,
        "events": event_list(raw_events, columns, data.time_s),
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
    if mounting.on_its_side:
        notes.append(
            f"sensor worn on its side (its {_nearest_axis(mounting.up)} axis points up, forward "
            f"is near its {_nearest_axis(mounting.forward)} axis): handled"
        )
    elif mounting.back_to_front:
        notes.append("sensor worn back to front (forward is its -x axis): handled")
    elif mounting.sideways:
        axis = "+y" if mounting.forward[1] > 0 else "-y"
        notes.append(f"sensor worn turned sideways (forward is near its {axis} axis): handled")
    return notes


def _nearest_axis(vector):
    """'+x', '-z', …: the board's axis nearest a unit vector."""
    i = int(np.argmax(np.abs(vector)))
    return ("+" if vector[i] > 0 else "-") + "xyz"[i]
