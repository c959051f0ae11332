"""``hipdrop sessions``: the session list as a table for people or as JSON for programs."""

import dataclasses
import json
from datetime import datetime

from ..engine.summary import clock_text

EMPTY = (
    "no sessions yet: record one with `hipdrop record --sim treadmill_quick` "
    "(the simulated sensor; --device ID for a real one)"
)
METRIC_NAMES = {"pelvic_drop_deg": "CPD", "drop_from_contact_deg": "from contact"}
LEGEND = (
    "mean drop: left/right stance, degrees; CPD = contralateral pelvic drop below the standing "
    "neutral, 'from contact' = below the roll at contact (no standing-still period to calibrate)"
)
_COLUMNS = (  # (title, width, align)
    ("id", 5, ">"),
    ("athlete", 14, "<"),
    ("date", 16, "<"),
    ("duration", 8, ">"),
    ("steps", 7, ">"),
    ("mean drop L/R", 25, "<"),
    ("fatigue", 7, ">"),
    ("complete", 8, ">"),
    ("state", 24, "<"),
)


def sessions_table(infos) -> str:
    """A fixed-width table, newest first, with a legend; the EMPTY line for no sessions."""
    if not infos:
        return EMPTY
    lines = [_line([title for title, _, _ in _COLUMNS])]
    lines += [_line(_cells(info)) for info in infos]
    if any(info.steps is None for info in infos):
        lines.append("steps –: not analysed yet (`hipdrop analyze SESSION`)")
    return "\n".join([*lines, LEGEND])


def _line(cells):
    return "  ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, _COLUMNS)).rstrip()


def _cells(info):
    return [
        str(info.id),
        (info.athlete or "–")[:14],
        datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d %H:%M"),
        clock_text(info.duration_s),
        "–" if info.steps is None else f"{info.steps:,}",
        _drop_text(info),
        clock_text(info.fatigue_onset_s),
        "–" if info.completeness is None else f"{100 * info.completeness:.1f}%",
        info.state_text,
    ]


def _drop_text(info):
    if info.drop_metric is None:
        return "–"
    sides = [
        ("–" if v is None else f"{v:.1f}°") for v in (info.mean_drop_l_deg, info.mean_drop_r_deg)
    ]
    return f"{sides[0]} / {sides[1]} {METRIC_NAMES.get(info.drop_metric, info.drop_metric)}"


def sessions_json(infos) -> str:
    """Every field of each session, plus ``completeness`` and ``state_text``."""
    rows = [
        dataclasses.asdict(info)
        | {"completeness": info.completeness, "state_text": info.state_text}
        for info in infos
    ]
    return json.dumps(rows, indent=1)
