"""Per-step measurements from a ring buffer of recent samples (Numba kernel).

The buffer holds, per sample: time (s), world up in the sensor frame (the orientation filter's
estimate), the angular rate (deg/s) and the specific force (m/s²) in the sensor frame, and the
world-vertical specific force (m/s²).
The pelvis roll and rates are read from them with the pelvis axes at the time a step is
measured, so all of a step's measures share one set of axes even when the axes change during
the step (the learned heading replacing the board's nominal x, a re-anchored neutral, walking
turning forward): measured with the axes of each sample's own time, a step that straddled such
a change mixed two frames (a drop from contact 17° off in a real run worn turned by 90°).

The roll's arctangent is taken only for the few samples a step's measures need — at its contact
and its extremes, found by the ratio of its two legs (world up along the pelvis left and up
axes), which orders the angles as the arctangent does while the pelvis is rolled by less than
90° — not for every sample.
"""

import math

from .._jit import kernel
from .._vec import dot, level_forces

WALK_BEFORE_S = 0.2
T, UP, GYR, ACC, FV = 0, 1, 4, 7, 10
"""Ring columns: time; world up in sensor axes (3); angular rate, deg/s (3); specific force,
m/s² (3); vertical force."""
CHANNELS = 11

# measurement indices
ROLL_IC, ROLL_MAX, ROLL_MIN, ROLL_RANGE, RUN_RATES, WALK_RATES, IMPACT_G = 0, 1, 2, 3, 4, 6, 9
"""``RUN_RATES``: roll and yaw rate; ``WALK_RATES``: roll and yaw rate, and the level left force."""
STEP_YAW = 10
"""Mean yaw rate over the whole step, and the samples it averages."""
N_MEASURES = 12


@kernel(inline="always")
def push(ring, head, t, up, gyr, acc, fv):
    """Write one sample (``up``, ``gyr`` and ``acc`` 3-tuples) at ``head``; return the next
    head."""
    ring[head, T], ring[head, FV] = t, fv
    ring[head, UP], ring[head, UP + 1], ring[head, UP + 2] = up
    ring[head, GYR], ring[head, GYR + 1], ring[head, GYR + 2] = gyr
    ring[head, ACC], ring[head, ACC + 1], ring[head, ACC + 2] = acc
    return head + 1 if head + 1 < ring.shape[0] else 0


@kernel(inline="always")
def roll_deg(left, up):
    """The pelvis roll (deg) from its two legs."""
    return math.degrees(math.atan2(left, up))


@kernel(error_model="numpy")
def measure(ring, head, axes, t_ic, t_stance_end, t_next, walking, out):
    """Fill ``out`` (N_MEASURES) for the step from ``t_ic`` to ``t_next``, in the pelvis
    ``axes`` (forward, left, up: 3-tuples in sensor axes); the level left force only for a
    ``walking`` step (else 0).

    Roll extremes over the stance [t_ic, t_stance_end], roll range over the step, peak vertical
    force in the first 100 ms, side rates averaged over [t_ic, t_ic + 80 ms] (running) and
    [t_ic − WALK_BEFORE_S, t_ic] (walking: the late swing of the leg that lands; with the level
    left force, the trunk falling toward the side that lands), and the mean yaw rate over the
    whole step (two steps' make the turn, ``_side.stride_turn``).
    Returns False when the buffer (whose unwritten rows have time −inf) no longer reaches back
    to the step.

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
            left, level = legs(_up(ring, i), axes)
            key = left / level
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
            out[STEP_YAW] += _yaw_rate(ring, i)
            out[STEP_YAW + 1] += 1.0
            if t <= t_ic + 0.08:
                roll_rate, yaw_rate = _rates(ring, i, axes)
                out[RUN_RATES] += roll_rate
                out[RUN_RATES + 1] += yaw_rate
                n_run += 1
        if t <= t_ic:
            roll_rate, yaw_rate = _rates(ring, i, axes)
            out[WALK_RATES] += roll_rate
            out[WALK_RATES + 1] += yaw_rate
            if walking:  # the force only walking's side reads (a square root a row)
                out[WALK_RATES + 2] += _level_left_force(ring, i, axes)
            n_walk += 1
    else:
        return False
    if n_run == 0 or n_walk == 0:
        return False
    out[ROLL_IC] = _roll_at(ring, at_ic, axes, t_ic)
    top_roll, bottom_roll = _roll(ring, top, axes, -math.inf), _roll(ring, bottom, axes, math.inf)
    out[ROLL_MAX], out[ROLL_MIN] = top_roll, bottom_roll
    out[ROLL_RANGE] = _roll(ring, high, axes, math.nan) - _roll(ring, low, axes, math.nan)
    for i in range(2):
        out[RUN_RATES + i] /= n_run
    if out[STEP_YAW + 1] > 0:
        out[STEP_YAW] /= out[STEP_YAW + 1]
    for i in range(3):
        out[WALK_RATES + i] /= n_walk
    return True


@kernel(inline="always")
def legs(up, axes):
    """World ``up`` (sensor axes) along the pelvis left and up ``axes``: the roll's two legs."""
    return dot(up, axes[1]), dot(up, axes[2])


@kernel(inline="always")
def _up(ring, i):
    return ring[i, UP], ring[i, UP + 1], ring[i, UP + 2]


@kernel(inline="always")
def _rates(ring, i, axes):
    """Roll rate about the pelvis forward axis and yaw rate about world up (deg/s) of row ``i``."""
    gyr = (ring[i, GYR], ring[i, GYR + 1], ring[i, GYR + 2])
    return dot(gyr, axes[0]), _yaw_rate(ring, i)


@kernel(inline="always")
def _yaw_rate(ring, i):
    """Rate about world up (deg/s) of row ``i``."""
    return dot((ring[i, GYR], ring[i, GYR + 1], ring[i, GYR + 2]), _up(ring, i))


@kernel(inline="always")
def _level_left_force(ring, i, axes):
    """Specific force of row ``i`` along the level left axis, up × forward made level (m/s²)."""
    acc = (ring[i, ACC], ring[i, ACC + 1], ring[i, ACC + 2])
    return level_forces(_up(ring, i), axes[0], acc, ring[i, FV])[1]


@kernel(inline="always")
def _roll_at(ring, i, axes, t):
    """Roll (deg) at time ``t``, linearly between row ``i`` (the first at or after ``t``) and the
    row before it (row ``i``'s alone if there is none). A contact falls between samples: read
    at the sample after it, the roll at contact was up to a sample late, with the swing side
    already dropping, and the drops from contact read low (at 50 Hz by 0.9° on simulated runs,
    now 0.4°; at 100 Hz 0.36° → 0.22°)."""
    after = _roll(ring, i, axes, math.nan)
    before = (i - 1) % ring.shape[0]
    t0, t1 = ring[before, T], ring[i, T]
    if not t0 < t <= t1:
        return after
    roll0 = _roll(ring, before, axes, math.nan)
    return roll0 + (after - roll0) * (t - t0) / (t1 - t0)


@kernel(inline="always")
def _roll(ring, i, axes, missing):
    """Roll (deg) of row ``i``, or ``missing`` when there is no such row (−1)."""
    if i < 0:
        return missing
    left, level = legs(_up(ring, i), axes)
    return roll_deg(left, level)
