"""A short human summary of an analysis document (``hipdrop analyze`` without ``--json``)."""

import numpy as np


def summary_text(doc: dict) -> str:
    steps = doc["steps"]
    key = doc["drop_metric"]
    lines = [
        f"{doc['source']}: {doc['duration_s']:.0f} s at {doc['sample_rate_hz']:g} Hz, "
        f"{len(steps)} steps"
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
            f"fatigue: onset at {fatigue['onset_s'] / 60:.1f} min ({fatigue['side']}): "
            f"{fatigue['evidence']}"
        )
    else:
        lines.append(f"fatigue: none found ({fatigue['evidence']})")
    lines.extend(f"note: {note}" for note in doc["notes"])
    return "\n".join(lines)


def _activity_line(activity, steps, key):
    parts = [f"{activity}: {len(steps)} steps"]
    cadence = [s["cadence_spm"] for s in steps if s["cadence_spm"] is not None]
    if cadence:
        parts[0] += f", cadence {np.median(cadence):.0f}/min"
    for side, name in (("L", "left"), ("R", "right")):
        drops = [s[key] for s in steps if s["side"] == side and s[key] is not None]
        if drops:
            parts.append(
                f"{name}-stance drop {np.median(drops):.1f}° "
                f"(IQR {np.percentile(drops, 25):.1f}–{np.percentile(drops, 75):.1f})"
            )
    contact = [s["contact_time_s"] for s in steps if s["contact_time_s"] is not None]
    if contact:
        parts.append(f"contact {np.median(contact) * 1000:.0f} ms")
    return ", ".join(parts)
