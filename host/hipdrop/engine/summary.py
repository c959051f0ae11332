"""A short human summary of an analysis document (``hipdrop analyze`` without ``--json``)."""

import numpy as np


def summary_text(doc: dict) -> str:
    steps = doc["steps"]
    key = doc["drop_metric"]
    start = doc["start_s"]  # times are shown from here; said when it is not about zero
    lines = [
        f"{doc['source']}: {doc['duration_s']:.0f} s at {doc['sample_rate_hz']:g} Hz, "
        f"{len(steps)} steps"
        + (f"; times from its start, {start:.3f} s on its clock" if abs(start) >= 1 else "")
    ]
    if key == "drop_from_contact_deg":
        lines.append("no neutral (no standing-still period): drops are measured from contact")
    for activity in ("run", "walk"):
        group = [s for s in steps if s["activity"] == activity]
        if group:
            lines.append(_activity_line(activity, group, key))
    fatigue = doc["fatigue"]
    if fatigue["onset_s"] is not None:
        lines.append(
            f"fatigue: onset at {(fatigue['onset_s'] - start) / 60:.1f} min ({fatigue['side']}): "
            f"{fatigue['evidence']}"
        )
    else:
        lines.append(f"fatigue: none found ({fatigue['evidence']})")
    if doc["events"]:
        lines.append("events: " + _events_text(doc["events"], start))
    lines.extend(f"note: {note}" for note in doc["notes"])
    return "\n".join(lines)


_EVENT_WORDS = {
    "calibration": "neutral taken",
    "clip_moved": "clip moved",
    "forward_turned": "forward turned",
    "stop": "stop",
    "gap": "gap",
}
SHOWN_PER_KIND = 3


def _events_text(events, start):
    """Each kind of event with its first few times from ``start`` (m:ss, h:mm:ss), in the order
    they first came."""
    times = {}
    for event in events:
        times.setdefault(event["type"], []).append(event["t_s"])
    parts = []
    for kind, at in times.items():
        shown = ", ".join(clock_text(t - start) for t in at[:SHOWN_PER_KIND])
        more = f" and {len(at) - SHOWN_PER_KIND} more" if len(at) > SHOWN_PER_KIND else ""
        parts.append(f"{_EVENT_WORDS.get(kind, kind)} at {shown}{more}")
    return "; ".join(parts)


def clock_text(seconds) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a time or duration in seconds, ``–`` for None."""
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _activity_line(activity, steps, key):
    parts = [f"{activity}: {len(steps)} steps"]
    cadence = [s["cadence_spm"] for s in steps if s["cadence_spm"] is not None]
    if cadence:
        parts[0] += f", cadence {np.median(cadence):.0f}/min"
    straight = [s for s in steps if not s["turning"]]
    for side, name in (("L", "left"), ("R", "right")):
        drops = [s[key] for s in straight if s["side"] == side and s[key] is not None]
        if drops:
            parts.append(
                f"{name}-stance drop {np.median(drops):.1f}° "
                f"(IQR {np.percentile(drops, 25):.1f} to {np.percentile(drops, 75):.1f})"
            )
    contact = [s["contact_time_s"] for s in steps if s["contact_time_s"] is not None]
    if contact:
        parts.append(f"contact {np.median(contact) * 1000:.0f} ms")
    if len(straight) < len(steps):
        parts.append(f"{len(steps) - len(straight)} steps in turns left out of the drops")
    return ", ".join(parts)
