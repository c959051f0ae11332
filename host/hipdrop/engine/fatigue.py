"""Fatigue onset: a sustained rise of the runner's own pelvic drop, against their own baseline.

On per-minute means of running steps, per stance side (offline on a whole recording, or live
as each minute completes: see ``live.LiveFatigue``):

1. Baseline: the minutes from ``WARM_UP_MIN`` to ``WARM_UP_MIN + BASELINE_MIN`` of running
   (the warm-up is skipped; untrained hip stabilisers hold for the first ~45 minutes).
2. Pace: within the baseline, drop is regressed on the known speed (a treadmill's ``speed_mps``)
   or, without one, on cadence; later minutes are corrected to the baseline pace, so a faster or
   slower stretch is not read as fatigue.
3. A one-sided CUSUM (Page 1954) of the corrected minute means, in baseline standard deviations
   (floored at ``SD_FLOOR_DEG``), with allowance ``K_SD`` and threshold ``H_SD`` detects; the
   onset is then placed by fitting "flat at baseline, then a linear rise" to the minutes up to
   ``REFINE_AFTER_MIN`` after the crossing. A rise of less than ``MIN_RISE_DEG`` from onset on
   is not reported (a very steady baseline makes tiny drifts statistically clear). Stops and
   walking breaks are skipped because only running minutes count.

Detection delay versus false alarms: with K = 0.5 SD and H = 5 SD a rise of 1 SD is flagged
after about 10 minutes, while a steady runner's CUSUM crosses by chance about once in 500
minutes.
"""

from dataclasses import dataclass

import numpy as np

WARM_UP_MIN = 5
BASELINE_MIN = 20
MIN_STEPS_PER_MINUTE = 60
K_SD = 0.5
H_SD = 5.0
SD_FLOOR_DEG = 0.2
MIN_RISE_DEG = 0.75
"""A rise smaller than this is not reported, however steady the baseline was."""
REFINE_AFTER_MIN = 10


@dataclass(frozen=True)
class FatigueResult:
    onset_s: float | None
    side: str | None
    evidence: str

    def to_dict(self):
        return {"onset_s": self.onset_s, "side": self.side, "evidence": self.evidence}


def detect_fatigue(minutes: list[dict], drop_key: str) -> FatigueResult:
    """Find the onset from per-minute aggregates (see :func:`result.minute_table`)."""
    running = [m for m in minutes if m["activity"] == "run" and m["steps"] >= MIN_STEPS_PER_MINUTE]
    if len(running) < WARM_UP_MIN + BASELINE_MIN + 5:
        have = f"{len(running)} running minute{'' if len(running) == 1 else 's'}"
        return FatigueResult(
            None, None, f"not assessed: {have}, need {WARM_UP_MIN + BASELINE_MIN + 5}"
        )
    found = {}
    for side in ("L", "R"):
        onset = _side_onset(running, f"{drop_key}_{side}")
        if onset:
            found[side] = onset
    if not found:
        return FatigueResult(None, None, _steady_text(running, drop_key))
    first = min(v[0] for v in found.values())
    sides = [s for s, v in found.items() if v[0] - first <= 600]
    side = sides[0] if len(sides) == 1 else "both"
    return FatigueResult(first, side, "; ".join(v[1] for v in found.values()))


def _side_onset(running, key):
    drop = np.array([m[key] if m[key] is not None else np.nan for m in running], float)
    pace_key = "speed_mps" if running[0].get("speed_mps") is not None else "cadence_spm"
    pace = np.array([m.get(pace_key) or np.nan for m in running], float)
    base = slice(WARM_UP_MIN, WARM_UP_MIN + BASELINE_MIN)
    ok = ~np.isnan(drop[base]) & ~np.isnan(pace[base])
    if ok.sum() < BASELINE_MIN // 2:
        return None
    spread = np.nanmax(pace[base]) - np.nanmin(pace[base])
    varied = spread > (0.2 if pace_key == "speed_mps" else 1.0)
    slope = np.polyfit(pace[base][ok], drop[base][ok], 1)[0] if varied else 0.0
    corrected = drop - slope * (pace - np.nanmean(pace[base]))
    mean = np.nanmean(corrected[base])
    sd = max(np.nanstd(corrected[base]), SD_FLOOR_DEG)
    z = (corrected - mean) / sd
    cusum = 0.0
    for i in range(base.stop, len(z)):
        if np.isnan(z[i]):
            continue
        cusum = max(0.0, cusum + z[i] - K_SD)
        if cusum > H_SD:
            stop = min(i + REFINE_AFTER_MIN, len(z))
            onset = _refine_onset(z, base.stop, stop)
            late = np.nanmean(corrected[onset:stop])
            if late - mean < MIN_RISE_DEG:
                cusum = 0.0  # statistically clear but too small to matter: keep watching
                continue
            text = (
                f"{key[-1]}-stance drop rose from {mean:.1f}° (baseline, running minutes "
                f"{WARM_UP_MIN}-{base.stop}) to {late:.1f}° after "
                f"{running[onset]['minute']:.1f} min ({pace_key.split('_')[0]}-corrected; "
                f"CUSUM {H_SD:g} SD crossed at {running[i]['minute']:.1f} min)"
            )
            return running[onset]["start_s"], text
    return None


def _refine_onset(z, start, stop):
    """Onset of a ramp: the break of the best "flat, then linear rise" fit to z[start:stop]
    (the first best, all candidate breaks fitted at once)."""
    onsets = np.arange(start, max(stop - 2, start + 1))
    x = np.arange(start, stop)
    known = ~np.isnan(z[start:stop])
    x, zk = x[known], z[start:stop][known]
    ramps = np.clip(x[None, :] - onsets[:, None], 0, None).astype(float)
    slopes = (ramps @ zk) / np.maximum(np.einsum("ij,ij->i", ramps, ramps), 1e-9)
    sse = np.sum((zk[None, :] - slopes[:, None] * ramps) ** 2, axis=1)
    return int(onsets[np.argmin(sse)])


def _steady_text(running, drop_key):
    return (
        f"no sustained rise of {drop_key} against the runner's baseline over "
        f"{len(running)} running minutes"
    )
