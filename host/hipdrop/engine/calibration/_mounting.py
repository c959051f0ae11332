"""Where the pelvis axes sit in the sensor frame (Numba kernel): neutral up and forward.

* **Up (neutral).** While the wearer stands still, the filter's up direction in the sensor frame
  is the neutral, level pelvis. Every still period of at least ``NEUTRAL_MIN_S`` re-anchors it
  (a stop at a crossing re-calibrates after a re-seated clip). Before any still period the
  long-run average up direction stands in, and no neutral is known.
* **Clip moves.** While moving, the up direction in the sensor frame is averaged fast
  (``FAST_TAU_S``) and slow (``SLOW_TAU_S``). When they part by more than ``CLIP_MOVE_DEG`` (the
  slow one then holds still) and stay apart for ``CLIP_CONFIRM_S``, the clip has moved: the
  pelvis axes are turned by the same rotation, so the runner's average posture — and the
  neutral — carry over to the new mounting. A turn's lean is not a move: the watch pauses in
  turns and for ``TURN_SETTLE_S`` after (so a slip that soon after a turn goes unnoticed).
* **Forward.** Running pushes the trunk back and forth along the direction of travel far more
  than sideways, so the principal axis of the horizontal specific force is the forward axis;
  its sign comes from braking-then-propulsion (forward force falls while vertical force rises
  early in stance, so their product averages negative). Until ``HEADING_MIN_S`` of running have
  been seen, the board's nominal x axis (projected level) is taken as forward.
"""

import math

from numba import njit

NEUTRAL_MIN_S = 2.0
AVERAGE_TAU_S = 30.0
HEADING_TAU_S = 20.0
HEADING_MIN_S = 4.0
HEADING_EVERY = 32
"""Samples between updates of the heading angle (it drifts over tens of seconds)."""
SIGN_EVIDENCE_MIN = 0.2
"""Normalised braking evidence needed to trust the sign over the nominal axis."""
FAST_TAU_S = 1.0
SLOW_TAU_S = 30.0
CLIP_MOVE_DEG = 4.0
CLIP_CONFIRM_S = 8.0
TURN_SETTLE_S = 8.0
"""A turn's lean, and the filter's recovery from it, are not a clip move: the watch pauses
during a turn and for this long after it."""
WATCH_AFTER_S = 10.0
"""Seconds of movement before the clip watch may flag (the averages start as plain means)."""

# state slots
UP = 0  # 3: pelvis up axis in the sensor frame
FORWARD = 3  # 3: pelvis forward axis in the sensor frame (unit, ⟂ UP)
HAS_NEUTRAL = 6
STILL_S = 7
_AVG_UP = 8  # 3: long-run average up (used until a neutral exists)
_COV = 11  # 3: EMA of h1², h1·h2, h2² (horizontal force in basis e1, e2)
_MEAN = 14  # 2: EMA of h1, h2
_EVID = 16  # 2: EMA of h·dfv/dt
_RUN_S = 18
_PREV_FV = 19
STARTED = 20
FLIPPED = 21
"""1.0 when forward is opposite to the board's nominal x (worn back to front)."""
NEUTRAL_SET = 22
"""1.0 on the sample where a neutral was (re-)anchored; 0 otherwise."""
_NEUTRAL_N = 23
_FAST_UP = 24  # 3
_SLOW_UP = 27  # 3
_APART_S = 30
_APART_SINCE = 31
CLIP_MOVED_AT = 32
"""Time the last confirmed clip move began (set on the sample it is confirmed, else nan)."""
_AGE_S = 33
_SINCE_TURN_S = 34
_HEADING_C = 35  # 2: cos, sin of the forward axis in the (e1, e2) basis
_COUNT = 37
STATE_SIZE = 38


@njit(cache=True)
def mounting_step(state, up, acc, t, dt, still, running, turning=False):
    """Update the axes with one sample; ``up`` is the filter's world-up in the sensor frame."""
    state[_SINCE_TURN_S] = 0.0 if turning else state[_SINCE_TURN_S] + dt
    if state[STARTED] < 0.5:
        for at in (UP, _AVG_UP, _FAST_UP, _SLOW_UP):
            state[at : at + 3] = up
        state[STARTED] = 1.0
    state[NEUTRAL_SET] = 0.0
    state[CLIP_MOVED_AT] = math.nan
    if still:
        _track_neutral(state, up, dt)
    else:
        state[STILL_S] = 0.0
        state[_NEUTRAL_N] = 0.0
        _average_up(state, up, dt)
        _watch_clip(state, up, t, dt)
    if running:
        _learn_heading(state, up, acc, dt)
    _set_forward(state)


@njit(cache=True)
def _track_neutral(state, up, dt):
    """Average up over the still period once it has lasted ``NEUTRAL_MIN_S``."""
    state[STILL_S] += dt
    if state[STILL_S] < NEUTRAL_MIN_S:
        return
    state[_NEUTRAL_N] += 1.0
    n = state[_NEUTRAL_N]
    if n == 1.0:
        state[NEUTRAL_SET] = 1.0
    for i in range(3):
        state[UP + i] += (up[i] - state[UP + i]) / n
    _normalise(state, UP)
    state[HAS_NEUTRAL] = 1.0


@njit(cache=True)
def _watch_clip(state, up, t, dt):
    """Detect a lasting jump of the mounting and carry the pelvis axes over it."""
    state[_AGE_S] += dt
    for at, tau in ((_FAST_UP, FAST_TAU_S), (_SLOW_UP, SLOW_TAU_S)):
        if at == _SLOW_UP and state[_APART_S] > 0.0:
            continue  # hold the posture from before a suspected move while it is confirmed
        a = min(dt / min(tau, state[_AGE_S]), 1.0)  # a plain mean until tau has passed
        for i in range(3):
            state[at + i] += a * (up[i] - state[at + i])
        _normalise(state, at)
    cos_apart = 0.0
    for i in range(3):
        cos_apart += state[_FAST_UP + i] * state[_SLOW_UP + i]
    settled = state[_AGE_S] >= WATCH_AFTER_S and state[_SINCE_TURN_S] >= TURN_SETTLE_S
    if cos_apart > math.cos(math.radians(CLIP_MOVE_DEG)) or not settled:
        state[_APART_S] = 0.0
        return
    if state[_APART_S] == 0.0:
        state[_APART_SINCE] = t
    state[_APART_S] += dt
    if state[_APART_S] >= CLIP_CONFIRM_S:
        _carry_axes(state)
        state[CLIP_MOVED_AT] = state[_APART_SINCE]
        state[_APART_S] = 0.0


@njit(cache=True)
def _carry_axes(state):
    """Turn UP, the average up and FORWARD by the rotation taking slow-up onto fast-up."""
    sx, sy, sz = state[_SLOW_UP], state[_SLOW_UP + 1], state[_SLOW_UP + 2]
    fx, fy, fz = state[_FAST_UP], state[_FAST_UP + 1], state[_FAST_UP + 2]
    kx, ky, kz = sy * fz - sz * fy, sz * fx - sx * fz, sx * fy - sy * fx
    s = math.sqrt(kx * kx + ky * ky + kz * kz)
    c = sx * fx + sy * fy + sz * fz
    kx, ky, kz = kx / s, ky / s, kz / s
    for at in (UP, _AVG_UP, FORWARD):
        vx, vy, vz = state[at], state[at + 1], state[at + 2]
        dot = kx * vx + ky * vy + kz * vz
        # Rodrigues: v c + (k × v) s + k (k·v)(1 − c)
        state[at] = vx * c + (ky * vz - kz * vy) * s + kx * dot * (1 - c)
        state[at + 1] = vy * c + (kz * vx - kx * vz) * s + ky * dot * (1 - c)
        state[at + 2] = vz * c + (kx * vy - ky * vx) * s + kz * dot * (1 - c)
    state[_SLOW_UP : _SLOW_UP + 3] = state[_FAST_UP : _FAST_UP + 3]


@njit(cache=True)
def _average_up(state, up, dt):
    a = min(dt / AVERAGE_TAU_S, 1.0)
    for i in range(3):
        state[_AVG_UP + i] += a * (up[i] - state[_AVG_UP + i])
    if state[HAS_NEUTRAL] < 0.5:
        state[UP : UP + 3] = state[_AVG_UP : _AVG_UP + 3]
        _normalise(state, UP)


@njit(cache=True)
def _basis(state):
    """e1 = nominal x made level (⟂ UP), e2 = UP × e1."""
    ux, uy, uz = state[UP], state[UP + 1], state[UP + 2]
    e1x, e1y, e1z = 1.0 - ux * ux, -ux * uy, -ux * uz
    n = math.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    if n < 1e-6:  # x points straight up: use y instead
        e1x, e1y, e1z = -uy * ux, 1.0 - uy * uy, -uy * uz
        n = math.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x, e1y, e1z = e1x / n, e1y / n, e1z / n
    return e1x, e1y, e1z, uy * e1z - uz * e1y, uz * e1x - ux * e1z, ux * e1y - uy * e1x


@njit(cache=True)
def _learn_heading(state, up, acc, dt):
    fv = acc[0] * up[0] + acc[1] * up[1] + acc[2] * up[2]
    hx, hy, hz = acc[0] - fv * up[0], acc[1] - fv * up[1], acc[2] - fv * up[2]
    e1x, e1y, e1z, e2x, e2y, e2z = _basis(state)
    h1 = hx * e1x + hy * e1y + hz * e1z
    h2 = hx * e2x + hy * e2y + hz * e2z
    dfv = (fv - state[_PREV_FV]) / dt if state[_RUN_S] > 0 else 0.0
    state[_PREV_FV] = fv
    state[_RUN_S] += dt
    a = min(dt / HEADING_TAU_S, 1.0)
    state[_COV] += a * (h1 * h1 - state[_COV])
    state[_COV + 1] += a * (h1 * h2 - state[_COV + 1])
    state[_COV + 2] += a * (h2 * h2 - state[_COV + 2])
    state[_MEAN] += a * (h1 - state[_MEAN])
    state[_MEAN + 1] += a * (h2 - state[_MEAN + 1])
    state[_EVID] += a * (h1 * dfv - state[_EVID])
    state[_EVID + 1] += a * (h2 * dfv - state[_EVID + 1])


@njit(cache=True)
def _set_forward(state):
    """Forward from the learned heading (or the nominal axis), made unit and ⟂ UP."""
    e1x, e1y, e1z, e2x, e2y, e2z = _basis(state)
    if state[_COUNT] % HEADING_EVERY == 0:
        _update_heading(state)
    state[_COUNT] += 1.0
    c1, c2 = state[_HEADING_C], state[_HEADING_C + 1]
    state[FORWARD] = c1 * e1x + c2 * e2x
    state[FORWARD + 1] = c1 * e1y + c2 * e2y
    state[FORWARD + 2] = c1 * e1z + c2 * e2z
    state[FLIPPED] = 1.0 if c1 < -0.5 else 0.0


@njit(cache=True)
def _update_heading(state):
    """The principal horizontal axis, signed by the braking evidence (else nominal x)."""
    c1, c2 = 1.0, 0.0
    if state[_RUN_S] >= HEADING_MIN_S:
        c11 = state[_COV] - state[_MEAN] ** 2
        c12 = state[_COV + 1] - state[_MEAN] * state[_MEAN + 1]
        c22 = state[_COV + 2] - state[_MEAN + 1] ** 2
        angle = 0.5 * math.atan2(2.0 * c12, c11 - c22)
        c1, c2 = math.cos(angle), math.sin(angle)
        evidence = -(c1 * state[_EVID] + c2 * state[_EVID + 1])
        ratio = evidence / (math.sqrt(state[_EVID] ** 2 + state[_EVID + 1] ** 2) + 1e-12)
        if ratio < -SIGN_EVIDENCE_MIN:  # else the axis nearer the nominal x (c1 ≥ 0) stands
            c1, c2 = -c1, -c2
    state[_HEADING_C], state[_HEADING_C + 1] = c1, c2


@njit(cache=True)
def _normalise(state, at):
    n = math.sqrt(state[at] ** 2 + state[at + 1] ** 2 + state[at + 2] ** 2)
    for i in range(3):
        state[at + i] /= n
