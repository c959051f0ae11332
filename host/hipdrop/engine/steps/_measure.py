"""Per-step measurements from a ring buffer of recent pelvis signals (Numba kernel).

The buffer holds, per sample: time (s), pelvis roll (deg, relative to the pelvis axes),
roll rate and yaw rate (deg/s, pelvis frame) and world-vertical specific force (m/s²).
"""

import math

from numba import njit

WALK_BEFORE_S = 0.2
T, ROLL, ROLL_RATE, YAW_RATE, FV = 0, 1, 2, 3, 4
CHANNELS = 5

# measurement indices
ROLL_IC, ROLL_MAX, ROLL_MIN, ROLL_RANGE, RUN_RATES, WALK_RATES, IMPACT_G = 0, 1, 2, 3, 4, 6, 8
N_MEASURES = 9


@njit(cache=True, inline="always")
def push(ring, head, t, roll, roll_rate, yaw_rate, fv):
    """Write one sample at ``head``; return the next head."""
    ring[head, T], ring[head, ROLL], ring[head, ROLL_RATE] = t, roll, roll_rate
    ring[head, YAW_RATE], ring[head, FV] = yaw_rate, fv
    return head + 1 if head + 1 < ring.shape[0] else 0


@njit(cache=True)
def measure(ring, head, t_ic, t_stance_end, t_next, out):
    """Fill ``out`` (N_MEASURES) for the step from ``t_ic`` to ``t_next``.

    Roll extremes over the stance [t_ic, t_stance_end], roll range over the step, peak vertical
    force in the first 100 ms, side rates averaged over [t_ic, t_ic + 80 ms] (running) and
    [t_ic − WALK_BEFORE_S, t_ic] (walking: the late swing of the leg that lands). Returns False
    when the buffer (whose unwritten rows have time −inf) no longer reaches back to the step.
    """
    size = ring.shape[0]
    out[:] = 0.0
    out[ROLL_MAX], out[ROLL_MIN], out[ROLL_IC] = -math.inf, math.inf, math.nan
    high, low = -math.inf, math.inf
    n_run, n_walk = 0, 0
    for back in range(1, size + 1):
        row = ring[(head - back) % size]
        t = row[T]
        if t > t_next:
            continue
        if t < t_ic - WALK_BEFORE_S:
            break
        if t >= t_ic:
            out[ROLL_IC] = row[ROLL]  # ends at the first sample at or after the contact
            high, low = max(high, row[ROLL]), min(low, row[ROLL])
            if t <= t_stance_end:
                out[ROLL_MAX] = max(out[ROLL_MAX], row[ROLL])
                out[ROLL_MIN] = min(out[ROLL_MIN], row[ROLL])
            if t <= t_ic + 0.1:
                out[IMPACT_G] = max(out[IMPACT_G], row[FV] / 9.80665)
            if t <= t_ic + 0.08:
                out[RUN_RATES] += row[ROLL_RATE]
                out[RUN_RATES + 1] += row[YAW_RATE]
                n_run += 1
        if t <= t_ic:
            out[WALK_RATES] += row[ROLL_RATE]
            out[WALK_RATES + 1] += row[YAW_RATE]
            n_walk += 1
    else:
        return False
    if n_run == 0 or n_walk == 0:
        return False
    out[ROLL_RANGE] = high - low
    for i in range(2):
        out[RUN_RATES + i] /= n_run
        out[WALK_RATES + i] /= n_walk
    return True
