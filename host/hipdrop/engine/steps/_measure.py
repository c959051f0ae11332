"""Per-step measurements from a ring buffer of recent pelvis signals (Numba kernel).

The buffer holds, per sample: time (s), the pelvis roll as the two legs of its angle (world up
along the pelvis left and up axes: roll = atan2(left, up)), roll rate and yaw rate (deg/s,
pelvis frame) and world-vertical specific force (m/s²). The roll's arctangent is taken only
for the few samples a step's measures need — at its contact and its extremes, found by the
ratio left / up, which orders the angles as the arctangent does while the pelvis is rolled by
less than 90° — not for every sample.
"""

import math

from numba import njit

WALK_BEFORE_S = 0.2
T, ROLL_LEFT, ROLL_UP, ROLL_RATE, YAW_RATE, FV = 0, 1, 2, 3, 4, 5
CHANNELS = 6

# measurement indices
ROLL_IC, ROLL_MAX, ROLL_MIN, ROLL_RANGE, RUN_RATES, WALK_RATES, IMPACT_G = 0, 1, 2, 3, 4, 6, 8
N_MEASURES = 9


@njit(cache=True, inline="always")
def push(ring, head, t, roll_left, roll_up, roll_rate, yaw_rate, fv):
    """Write one sample at ``head``; return the next head."""
    ring[head, T], ring[head, ROLL_LEFT], ring[head, ROLL_UP] = t, roll_left, roll_up
    ring[head, ROLL_RATE], ring[head, YAW_RATE], ring[head, FV] = roll_rate, yaw_rate, fv
    return head + 1 if head + 1 < ring.shape[0] else 0


@njit(cache=True, inline="always")
def roll_deg(left, up):
    """The pelvis roll (deg) from its two legs."""
    return math.degrees(math.atan2(left, up))


@njit(cache=True, error_model="numpy")
def measure(ring, head, t_ic, t_stance_end, t_next, out):
    """Fill ``out`` (N_MEASURES) for the step from ``t_ic`` to ``t_next``.

    Roll extremes over the stance [t_ic, t_stance_end], roll range over the step, peak vertical
    force in the first 100 ms, side rates averaged over [t_ic, t_ic + 80 ms] (running) and
    [t_ic − WALK_BEFORE_S, t_ic] (walking: the late swing of the leg that lands). Returns False
    when the buffer (whose unwritten rows have time −inf) no longer reaches back to the step.

    Rows are read by index, never as views (a view costs a reference count per row), and a roll
    of exactly 90° (a zero up leg) gives an infinite key, not an error (NumPy's error model).
    """
    size = ring.shape[0]
    out[:] = 0.0
    at_ic, top, bottom, high, low = -1, -1, -1, -1, -1  # rows of the roll's contact and extremes
    top_key, bottom_key, high_key, low_key = -math.inf, math.inf, -math.inf, math.inf
    n_run, n_walk = 0, 0
    for back in range(1, size + 1):
        i = (head - back) % size
        t = ring[i, T]
        if t > t_next:
            continue
        if t < t_ic - WALK_BEFORE_S:
            break
        if t >= t_ic:
            at_ic = i  # ends at the first sample at or after the contact
            # the tangent orders the rows as their rolls do (within ±90°)
            key = ring[i, ROLL_LEFT] / ring[i, ROLL_UP]
            if key > high_key:
                high, high_key = i, key
            if key < low_key:
                low, low_key = i, key
            if t <= t_stance_end and key > top_key:
                top, top_key = i, key
            if t <= t_stance_end and key < bottom_key:
                bottom, bottom_key = i, key
            if t <= t_ic + 0.1:
                out[IMPACT_G] = max(out[IMPACT_G], ring[i, FV] / 9.80665)
            if t <= t_ic + 0.08:
                out[RUN_RATES] += ring[i, ROLL_RATE]
                out[RUN_RATES + 1] += ring[i, YAW_RATE]
                n_run += 1
        if t <= t_ic:
            out[WALK_RATES] += ring[i, ROLL_RATE]
            out[WALK_RATES + 1] += ring[i, YAW_RATE]
            n_walk += 1
    else:
        return False
    if n_run == 0 or n_walk == 0:
        return False
    out[ROLL_IC] = _roll(ring, at_ic, math.nan)
    out[ROLL_MAX], out[ROLL_MIN] = _roll(ring, top, -math.inf), _roll(ring, bottom, math.inf)
    out[ROLL_RANGE] = _roll(ring, high, math.nan) - _roll(ring, low, math.nan)
    for i in range(2):
        out[RUN_RATES + i] /= n_run
        out[WALK_RATES + i] /= n_walk
    return True


@njit(cache=True, inline="always")
def _roll(ring, i, missing):
    """Roll (deg) of row ``i``, or ``missing`` when there is no such row (−1)."""
    return roll_deg(ring[i, ROLL_LEFT], ring[i, ROLL_UP]) if i >= 0 else missing
