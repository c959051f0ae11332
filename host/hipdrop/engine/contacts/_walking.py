"""Walking contacts from the world-vertical and the forward specific force (Numba kernel).

1. **Rise.** Each heel strike drives a rise of the vertical force from its trough in late single
   support to a peak some 40–80 ms after the contact. The force is smoothed (two cascaded
   first-order stages of time constant ``SMOOTH_S``, discretised exactly, so that the smoothing
   is the same at any sample rate) and its swing measured as a running mean absolute deviation;
   extremes are confirmed with a hysteresis of ``HYSTERESIS`` swings, so the thresholds follow a
   soft or a heavy walker alike. A rise of at least ``RISE_MIN`` swings is a candidate; its
   contact is the steepest point of the rise, less ``DELAY_S``.
2. **Braking.** A heel strike also brakes the trunk: the forward specific force peaks around the
   contact and then falls (Zijlstra & Hof 2003). A candidate is a step only if the forward force,
   from its highest point in [contact − ``BRAKE_BEFORE_S``, contact + ``BRAKE_PEAK_AFTER_S``],
   falls by at least ``BRAKE_G`` by contact + ``BRAKE_WINDOW_S``. Rises without braking are the
   trunk's other bumps: the push-off, a turn's pivot, a shuffle. The check applies only while
   the walker walks forward — while the mean braking of the recent candidates (over
   ``BRAKE_TAU_STEPS``) is at least ``FORWARD_G``: sideways steps (a band walk) and step-ups brake
   little along the forward axis, and for them every rise stands. So does a candidate confirmed
   so late that the kept forward force no longer reaches back to it. Once the recent
   candidates' mean braking vector (below) points clearly elsewhere than forward, the fall is
   read along it (``BRAKE_AXIS_DEG``).

**Which way is forward.** Each judged candidate also measures its braking as a level vector:
the mean horizontal force in [contact − ``BRAKE_BEFORE_S``, contact + ``BRAKE_PEAK_AFTER_S``]
less its mean from then to contact + ``BRAKE_WINDOW_S``, along the pelvis forward and left axes.
``BRAKE_VEC`` keeps its mean over the last ``BRAKE_TAU_STEPS`` candidates. The trunk brakes along
the way it walks, and the side-to-side part alternates with the legs and averages out, so the
mean points the way the walker walks, seen from the current axes: along forward when they are
right, against it when the sensor is worn back to front, to the side when it is turned on the
waistband. The pelvis axes turn to it (``_mounting.walking_direction``).

**Start.** The detector starts afresh with each recording, after a gap and after a run. Its
mean and swing are then plain means of the samples so far until they weigh less than
dt / ``SWING_TAU_S`` each, so the first steps are judged against the walker's own swing as it
builds up. (It used to report nothing in its first 2 s, the swing's settling time: a recording
that starts mid-walk lost its first three steps.) Only a rise that is steepest within
``CLIMBING_AT_START_S`` of the start is no candidate: it was under way before the data began.

Latency: a step is known when its peak is confirmed and the braking window has passed, about
100–120 ms after the contact.

Deviations from Zijlstra & Hof: the contact is timed on the vertical rise (tighter against the
shared lab reference than the forward peak), and the forward peak only confirms it.
"""

import math

from .._jit import kernel
from ..calibration import _mounting as mount

G_MS2 = 9.80665
SMOOTH_S = 0.0091
"""The smoothing the detector was tuned with on the 100 Hz lab recordings (a weight of
dt / 15 ms per sample there); with that weight at 200 Hz it smoothed a third more, and walking
left/right on the same walks resampled to 200 Hz fell from 1.000 to 0.936 (now 0.993)."""
SWING_TAU_S = 2.0
HYSTERESIS = 0.8
RISE_MIN = 2.5
SWING_FLOOR_G = 0.01
DELAY_S = 0.03
"""From the steepest point of the smoothed rise back to the contact (the smoothing's delay and
the rise's own lead, matched to the lab reference's contacts: timing bias +3 ms)."""
CLIMBING_AT_START_S = 0.1
"""A rise steepest this soon after the start was already under way when the data began (a
recording that starts at a contact): its trough is not in the data, and it is no candidate."""
BRAKE_BEFORE_S = 0.05
BRAKE_PEAK_AFTER_S = 0.03
BRAKE_WINDOW_S = 0.12
BRAKE_G = 0.07
FORWARD_G = 0.05
BRAKE_TAU_STEPS = 20.0
BRAKE_AXIS_DEG = 35.0
"""Once the mean braking vector is clear (as clear as walking's turn of forward needs:
``_mounting.WALK_TURN_STEPS`` candidates, ``WALK_BRAKE_MS2`` long) and points more than this
far from forward, the fall is read along it: with the clip turned 40–60° on the
waistband (too little for walking to turn forward, ``_mounting.WALK_TURN_DEG``) the forward axis
mixed in the trunk's sideways force, which turns with the legs, and one leg's contacts fell
short of ``BRAKE_G`` (half the steps lost, F1 0.66–0.82 on simulated walks; 0.97–0.98 now).
Nearer forward the forward axis stands: on the shared walks the mean vector lies 16–33° off
it, and read along it there they gained two false steps."""
_COS_BRAKE_AXIS = math.cos(math.radians(BRAKE_AXIS_DEG))
RING = 1024
"""Samples of forward force kept for the braking check: a slow rise (a step-up) is confirmed
as late as 0.7 s after its contact, so the ring must reach back 0.75 s at the highest rate the
engine takes (1000 Hz; at 256 samples the check went blind there: real walks resampled to
1000 Hz, F1 0.618 against 0.635 now). The checks read only the samples from their window on."""

# state slots (a view of the contact detector's state)
_S1, _S2, _MEAN, _SWING, _RISING, _EXT, _TROUGH, _STEEP, _STEEP_T, STARTED, _COUNT = range(11)
"""``STARTED`` 0: the next sample starts the detector afresh."""
_CANDIDATE = 11
"""Contact time of the candidate awaiting its braking check (nan if none)."""
_BRAKE, JUDGED, _HEAD = 12, 13, 14
"""``JUDGED``: candidates judged with braking evidence so far."""
BRAKE_VEC = 15
"""2 slots: the mean braking vector of the recent candidates along forward and left (m/s²;
see above)."""
_START_T = 17
_RING_T = 18
_RING_F = _RING_T + RING
_RING_L = _RING_F + RING
STATE_SIZE = _RING_L + RING


@kernel(inline="always")
def walking_step(state, t, dt, fv, forward, left):
    """Feed one sample (vertical, and level forward and left specific force, m/s²); return the
    contact time of a step confirmed now, else nan."""
    if state[STARTED] < 0.5:
        _start(state, t, fv)
    _remember(state, t, forward, left)
    previous = state[_S2]
    state[_COUNT] += 1.0
    a = _smoothing_weight(dt * (1.0 / SMOOTH_S))
    state[_S1] += a * (fv - state[_S1])
    state[_S2] += a * (state[_S1] - state[_S2])
    f = state[_S2]
    b = max(dt * (1.0 / SWING_TAU_S), 1.0 / state[_COUNT])  # a plain mean at first
    state[_MEAN] += b * (f - state[_MEAN])
    state[_SWING] += b * (abs(f - state[_MEAN]) - state[_SWING])
    hysteresis = HYSTERESIS * max(state[_SWING], SWING_FLOOR_G * G_MS2)
    found = math.nan
    if state[_RISING] > 0.5:
        risen = _rising(state, t, dt, f, (f - previous) / dt, hysteresis)
        if not math.isnan(risen):
            found = _check(state, t, True)  # a candidate still waiting is judged now
            state[_CANDIDATE] = risen
    elif f < state[_EXT]:
        state[_EXT] = f
    elif f > state[_EXT] + hysteresis:  # the trough is behind us: a rise begins
        state[_RISING], state[_TROUGH], state[_EXT], state[_STEEP] = 1.0, state[_EXT], f, 0.0
    return found if not math.isnan(found) else _check(state, t, False)


@kernel(inline="always")
def _smoothing_weight(x):
    """1 − exp(−x), the exact weight of a sample x time constants long, by its (3, 3) Padé
    approximant: within 7e-6 at 100 Hz and 4e-4 at 50 Hz, and no call to ``exp`` (with it the
    whole engine fed a walk 1.5 times slower: ≈ 155 against 102 ns a sample)."""
    x2 = x * x
    return x * (1.0 + x2 * (1.0 / 60.0)) / (1.0 + 0.5 * x + 0.1 * x2 + x * x2 * (1.0 / 120.0))


@kernel
def _start(state, t, fv):
    """Everything forgotten; the smoothing and the extremes start at ``fv``, at time ``t``."""
    state[:] = 0.0
    state[_START_T] = t
    state[_S1] = state[_S2] = state[_MEAN] = state[_EXT] = state[_TROUGH] = fv
    state[_CANDIDATE] = math.nan
    state[_RING_T:_RING_F] = -math.inf
    state[STARTED] = 1.0


@kernel(inline="always")
def _rising(state, t, dt, f, slope, hysteresis):
    """Follow a rise to its peak; return the contact time of a large enough rise, else nan."""
    if slope > state[_STEEP]:
        state[_STEEP], state[_STEEP_T] = slope, t - 0.5 * dt
    if f > state[_EXT]:
        state[_EXT] = f
        return math.nan
    if f > state[_EXT] - hysteresis:
        return math.nan
    rise = state[_EXT] - state[_TROUGH]
    state[_RISING], state[_EXT] = 0.0, f  # the peak is behind us: now look for the trough
    if rise < RISE_MIN * max(state[_SWING], SWING_FLOOR_G * G_MS2):
        return math.nan
    if state[_STEEP_T] < state[_START_T] + CLIMBING_AT_START_S:
        return math.nan
    return state[_STEEP_T] - DELAY_S


@kernel(inline="always")
def _remember(state, t, forward, left):
    head = int(state[_HEAD])
    state[_RING_T + head], state[_RING_F + head], state[_RING_L + head] = t, forward, left
    state[_HEAD] = (head + 1) % RING


@kernel(inline="always")
def _check(state, t, now):
    """Judge the waiting candidate once its braking window has passed (or ``now``): its contact
    time if the trunk braked, else nan."""
    contact = state[_CANDIDATE]
    if math.isnan(contact) or (t < contact + BRAKE_WINDOW_S and not now):
        return math.nan
    state[_CANDIDATE] = math.nan
    brake, along, across = _braking(state, contact, _braking_direction(state))
    if math.isnan(brake):  # the kept samples no longer reach back: no evidence, no veto
        return contact
    forward_walk = walks_forward(state)
    state[JUDGED] += 1.0
    weight = 1.0 / min(state[JUDGED], BRAKE_TAU_STEPS)
    state[_BRAKE] += weight * (brake - state[_BRAKE])
    state[BRAKE_VEC] += weight * (along - state[BRAKE_VEC])
    state[BRAKE_VEC + 1] += weight * (across - state[BRAKE_VEC + 1])
    return math.nan if forward_walk and brake < BRAKE_G * G_MS2 else contact


@kernel(inline="always")
def _braking_direction(state):
    """(cos, sin) from forward toward left of the way the trunk brakes: the mean braking vector
    once it is clear and more than ``BRAKE_AXIS_DEG`` off forward, else forward."""
    along, across = state[BRAKE_VEC], state[BRAKE_VEC + 1]
    length = math.sqrt(along * along + across * across)
    clear = state[JUDGED] >= mount.WALK_TURN_STEPS and length >= mount.WALK_BRAKE_MS2
    if not clear or along >= _COS_BRAKE_AXIS * length:
        return 1.0, 0.0
    return along / length, across / length


@kernel(inline="always")
def walks_forward(state):
    """The recent candidates brake along forward: a walk, not sideways steps or step-ups (and
    not while the detector rests, during a run)."""
    return state[STARTED] > 0.5 and state[JUDGED] > 0 and state[_BRAKE] >= FORWARD_G * G_MS2


@kernel(inline="always")
def _kept_since(state, start):
    """How many of the newest kept samples are at or after time ``start``."""
    head = int(state[_HEAD])
    for back in range(1, RING + 1):
        if state[_RING_T + (head - back) % RING] < start:
            return back - 1
    return RING


@kernel
def _braking(state, contact, direction):
    """The trunk's braking at ``contact``, in one pass over the kept samples of its window: the
    fall of the level force along ``direction`` ((cos, sin) from forward toward left) from its
    peak near the contact to its lowest point after it (m/s²; nan when the kept samples do not
    reach back to the window), and the braking vector, the mean level force (forward, left)
    around the contact less its mean after it, up to the end of the window (m/s²; zeros when
    either part has no kept sample)."""
    c, s = direction
    head = int(state[_HEAD])
    if state[_RING_T + head] > contact - BRAKE_BEFORE_S:  # the oldest sample kept
        return math.nan, 0.0, 0.0
    peak, low = -math.inf, math.inf
    f0 = l0 = n0 = f1 = l1 = n1 = 0.0  # around the contact (0), then after it (1)
    for back in range(_kept_since(state, contact - BRAKE_BEFORE_S), 0, -1):  # oldest first
        i = (head - back) % RING
        t, f, left = state[_RING_T + i], state[_RING_F + i], state[_RING_L + i]
        if t > contact + BRAKE_WINDOW_S:
            continue
        along = c * f + s * left
        if t <= contact + BRAKE_PEAK_AFTER_S:
            if along > peak:
                peak, low = along, along
            f0, l0, n0 = f0 + f, l0 + left, n0 + 1.0
        else:
            f1, l1, n1 = f1 + f, l1 + left, n1 + 1.0
        low = min(low, along)
    fall = peak - low if peak > -math.inf else 0.0
    if n0 == 0.0 or n1 == 0.0:
        return fall, 0.0, 0.0
    return fall, f0 / n0 - f1 / n1, l0 / n0 - l1 / n1
