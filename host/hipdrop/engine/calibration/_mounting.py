"""Where the pelvis axes sit in the sensor frame (Numba kernel): neutral up and forward.

* **Up (neutral).** While the wearer stands still, up in the sensor frame is the neutral, level
  pelvis. The first neutral is the force's direction (gravity's alone at rest): before it the
  gyro's bias is unknown, and the filter's up lags gravity by the bias over the tilt gain until
  the rest has read it (a 3 °/s roll bias and a 5-s stand left the neutral 1.0° off in roll,
  read from the filter; 0.06° now). Later neutrals are the filter's up: by then the bias is
  known, and the force's direction also carries the trunk's sway in translation, which the
  gyro does not see (standing 10 s after 60 s of running, 0.063° RMS off, the filter's up
  0.013°). Every still period of at least ``NEUTRAL_MIN_S`` re-anchors it
  (a stop at a crossing re-calibrates after a re-seated clip) — unless its up is more than
  ``NEUTRAL_MAX_DEG`` from both the last neutral and the recent moving posture: that stillness
  is no standing (a plank, lying down). Before any still period the
  long-run average up direction stands in, and no neutral is known.
* **Clip moves.** While running, the up direction in the sensor frame is averaged fast
  (``FAST_TAU_S``) and slow (``SLOW_TAU_S``). When they part (the slow one then holds still) by
  more than ``CLIP_ROLL_DEG`` about the pelvis's forward axis, or by more than ``CLIP_TILT_DEG``
  in all, and stay apart for ``CLIP_CONFIRM_S`` of running, the clip has moved: the pelvis axes
  are turned by the same rotation, so the runner's average posture — and the neutral — carry
  over to the new mounting. A lasting change of running posture is no move: a climb or a faster
  pace tilts the pelvis forward or back (about its left axis) by less than ``CLIP_TILT_DEG``,
  and such a pitch leaves the roll, and the drops, as they were. Only running is watched,
  because only running holds one posture: walking, standing about and sitting tilt the pelvis
  by 5–15° from it and from each other (a walk break in a run, a walker stopping to stand), and
  compared with each other every change of activity read as a clip move. A turn's lean is not
  a move either: the watch pauses in turns and for ``TURN_SETTLE_S`` after (so a slip that soon
  after a turn goes unnoticed).
* **A neutral starts the watches again.** A neutral taken while standing describes the mounting
  as it is now, so the postures and headings from before the stop no longer count: the tilt
  watch's averages start afresh, and the twist watch (below) waits until the heading has
  settled again, ``HEADING_SETTLED_S`` of running. A clip re-seated during the stop is then
  already in the neutral; compared with the running before the stop it was carried a second
  time (a left-against-right bias of 2.6–6.9° for the rest of the run).
* **Clip twists and re-anchoring.** A clip turned on the waistband barely tilts the sensor's
  view of up, but it turns the running heading in the sensor frame, which otherwise holds
  within a degree. Once the heading has settled (``HEADING_SETTLED_S`` of running, since the
  start or the last neutral), snapshots
  of forward and posture (the slow average of up) are taken every ``SNAPSHOT_S``; a forward more
  than ``TWIST_DEG`` from the older snapshot's is a clip move (one that jumped by more than
  ``TWIST_JUMP_DEG`` is not: see there). The carry above turns the neutral
  by the tilt alone, so after a move found either way, ``REANCHOR_S`` of running later (the
  heading has then followed the new mounting), the neutral is carried again, from before the
  move, by the rotation that takes (posture, forward) of the older snapshot onto (mean posture
  since the move, forward now): the TRIAD construction, exact in posture and as near as that
  allows in forward.
* **Forward.** Running drops the pelvis toward one side and then the other about its forward
  axis, a stride's period, while its tilt about the left axis repeats every step: the horizontal
  rate less its value one running step before (``note_step`` gives the step time; both averaged
  over ``SMOOTH_SAMPLES``) keeps the first and cancels the second, and the principal axis of
  that difference is the forward axis. (The principal axis of the horizontal force, used before,
  is the direction of travel only where the trunk's sideways accelerations are small: on the
  real treadmill run it lay 14° off.) Its sign comes from braking-then-propulsion (forward force
  falls while vertical force rises early in stance, so their product averages negative). Until
  the moments hold ``HEADING_MIN_S`` of step-to-step differences (about half a second of
  running; longer in a second reading, ``SEEDED_HEADING_MIN_S``), the board's nominal x axis
  (projected level) is taken as forward (turned round after ``EARLY_SIGN_S`` when the braking
  evidence is decisively against it) — turned to the way the walker walks when walking shows it
  is far off (``walking_direction``: each heel strike brakes the trunk along the way of walking;
  worn back to front or turned on the waistband, the mean braking points elsewhere than
  forward).

The helpers are inlined by LLVM (``forceinline``), not by Numba (``inline="always"``, as in the
other kernels): Numba's inliner copies and re-types a helper at every call site, and with
helpers calling helpers this kernel took ≈ 8 s of the engine's first compile (≈ 4 s now). The
feed is as fast either way; in the other kernels the change saved no measurable compile time
and cost ≈ 1.5 % of the feed.
"""

import math

from .._jit import kernel
from .._vec import cross, dot, get3, plus_scaled, put, toward, turn_about, unit, weight

NEUTRAL_MIN_S = 2.0
NEUTRAL_MAX_DEG = 30.0
"""A still period whose up is further than this from both the last neutral and the recent
moving posture is no standing (a side plank, lying down, sitting back): it gives no neutral."""
_COS_NEUTRAL_MAX = math.cos(math.radians(NEUTRAL_MAX_DEG))
AVERAGE_TAU_S = 30.0
HEADING_TAU_S = 20.0
HEADING_MIN_S = 0.15
"""Step-to-step differences the rotation's moments must hold (they start one running step in)
before its axis replaces the board's x: about half a second of running. Taking over after
1.5 s instead, the first five steps of a clip worn turned were read about the wrong axis."""
SEEDED_HEADING_MIN_S = 1.2
"""The same before it replaces a forward that a first reading learned (``seed``): that one is
right already, and so early the rotation's axis scatters by a few degrees (the third step of
a second reading 0.6–0.8° off at 0.15 s)."""
HEADING_SETTLED_S = 60.0
"""Running time after which the learned heading has settled (3 × ``HEADING_TAU_S``): from
then on it watches the clip too."""
TWIST_DEG = 10.0
_COS_TWIST = math.cos(math.radians(TWIST_DEG))
TWIST_JUMP_DEG = 60.0
"""A forward that has jumped this far from the older snapshot is the heading's own ambiguity
(its sign re-decided, or two axes of near-equal swing trading places), not a clip: a twisted
clip turns the learned forward gradually (τ 20 s), so it crosses ``TWIST_DEG`` long before."""
_COS_TWIST_JUMP = math.cos(math.radians(TWIST_JUMP_DEG))
SNAPSHOT_S = 20.0
"""Running time between snapshots of forward and posture: the older of the last two, taken
20–40 s ago, is the mounting before a move found now."""
REANCHOR_S = 60.0
"""Running time after a clip move before the neutral is re-anchored (the heading has then
followed the new mounting to within 5 %)."""
HEADING_EVERY = 32
"""Samples between updates of the heading angle (it drifts over tens of seconds)."""
AVERAGE_EVERY = 8
"""Samples between updates of the moving averages of up and the clip watch (a divisor of
``HEADING_EVERY``): each update weighs the time moved since the last, so the averages (τ ≥ 1 s)
are the same at low frequency, sampled at 25 Hz instead of 200 Hz."""
HEADING_SAMPLE_S = 0.02
"""Running time between updates of the heading's moments (every 4th sample at 200 Hz, every
2nd at 100 Hz: the trunk's rotation and force swing at 1–3 Hz); each update weighs the running
time since the last, with the vertical force's slope over that time."""
SIGN_EVIDENCE_MIN = 0.2
"""Normalised braking evidence needed to trust the sign over the nominal axis."""
EARLY_SIGN_S = 0.5
EARLY_SIGN_MIN = 0.7
"""Before the heading is learnt, from ``EARLY_SIGN_S`` of running on, braking evidence this
decisively against the nominal axis (pointing within ≈ 45° of its opposite) turns it round: a
sensor worn back to front. The axis itself needs the ``HEADING_MIN_S``; its sign does not (the
real run worn back to front: the first 4 s had 7 of its 77 sides wrong, and their drops were
read about the reversed axis)."""
WALK_TURN_STEPS = 12
WALK_TURN_DEG = 60.0
WALK_BRAKE_MS2 = 0.5
"""Walking turns the nominal forward to its mean braking vector once ``WALK_TURN_STEPS``
walking contacts have made it at least ``WALK_BRAKE_MS2`` long and it lies more than
``WALK_TURN_DEG`` off (on the shared recordings, worn as meant, it is 1.0–1.6 m/s² long and
within 32° of the board's x after twelve contacts: one contact's vector scatters by 50–80°)."""
_WALK_TURN_RAD = math.radians(WALK_TURN_DEG)
FAST_TAU_S = 1.0
SLOW_TAU_S = 30.0
CLIP_ROLL_DEG = 3.0
"""A lasting change of the sensor's view of up about the pelvis's forward axis this large is a
clip move: it would bias left against right by as much."""
_SIN_CLIP_ROLL = math.sin(math.radians(CLIP_ROLL_DEG))
CLIP_TILT_DEG = 10.0
"""A lasting change this large in all is a clip move whatever its axis: a change of running
posture (a climb: 3–8° of pelvic tilt) stays below it."""
_COS_CLIP_TILT = math.cos(math.radians(CLIP_TILT_DEG))
CLIP_CONFIRM_S = 8.0
TURN_SETTLE_S = 8.0
"""A turn's lean, and the filter's recovery from it, are not a clip move: the watch pauses
during a turn and for this long after it."""
WATCH_AFTER_S = 10.0
"""Seconds of running before the clip watch may flag (the averages start as plain means), from
the start and from each neutral."""

# state slots
UP = 0  # 3: pelvis up axis in the sensor frame
FORWARD = 3  # 3: pelvis forward axis in the sensor frame (unit, ⟂ UP)
HAS_NEUTRAL = 6
STILL_S = 7
_AVG_UP = 8  # 3: long-run average up (used until a neutral exists)
_COV = 11  # 3: EMA of d1², d1·d2, d2² (d: the step-alternating horizontal rotation, e1, e2)
_RING_AT = 14  # where the next horizontal rate goes in ``_RING``
_STEP_S = 15  # the running step time (moving average of the contact intervals)
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
_COUNT = 37  # samples since the heading was last updated, 0 … HEADING_EVERY − 1
_BASIS = 38  # 9: the UP that the level basis was made for, then its e1 and e2
_NOMINAL = 47
"""2 slots: cos, sin of the nominal forward in the (e1, e2) basis: the board's x (1, 0) until
walking turns it (``walking_direction``)."""
_UNAVERAGED_S = 49
"""Time moved since the last update of the averages."""
_UNSAMPLED_S = 50
"""Running time since the last update of the heading's moments."""
_F_SNAP = 51  # 6: FORWARD at the last two snapshots, the older first
_P_SNAP = 57  # 6: the slow average of up at the same moments
_SNAP_T = 63
"""Time of the newer snapshot (nan: none yet, or none since the last neutral or move)."""
_WATCH_T = 64
_REANCHOR = 65
"""1.0 while a clip move waits for the axes to settle before the neutral is re-anchored."""
_UP_BEFORE = 66  # 3: UP before the move
_P_AFTER = 69  # 3: the fast average of up summed over the running time since the move
_AFTER_S = 72
_TWIST_WATCH_FROM_S = 73
"""Running time (``_RUN_S``) from which the heading watches the clip: ``HEADING_SETTLED_S``
after the start or the last neutral."""
LEARNED_FORWARD = 74
"""2 slots: cos, sin (in the (e1, e2) basis) of the forward learned from the motion, as it
stood when the heading settled (``HEADING_SETTLED_S`` of running; the last one before that, or
walking's turn); (0, 0) until one is learned. A whole-file analysis reads the recording again
with it from the start (``analyze.py``)."""
FIRST_NEUTRAL = 76
"""3 slots: the first neutral (UP as the first standing-still period that gave one left it);
zeros until then. A whole-file analysis reads the steps before it again with it."""
_NEUTRALS = 79
"""How many still periods have given a neutral."""
RING_N = 64
"""Horizontal rates kept, one per ``HEADING_SAMPLE_S`` of running: 1.28 s, more than a step."""
SMOOTH_SAMPLES = 2
"""The step-to-step difference compares the mean rate over this many heading samples (40 ms),
now and a step before: a clip that rings after each impact (about its own pitch axis, tens of
hertz) adds a rotation that is not the pelvis's, and with a small roll alternation it turned
the learned forward toward the ringing's axis (9° with 2° of drop and 1.5° of ringing per g;
1.4° now). Three samples did a little better there, but early in a run their average lags:
the first steps of a clip worn turned read up to 1.03° off (0.91° with two, 0.79° with one)."""
_TURNED = 80  # 3: the gyro's integral since the last heading sample (deg)
_AXIS_WAIT_S = 83  # the step-to-step differences the rotation's axis waits for (s)
_RING = 84  # 2 × RING_N: the horizontal rate at each heading sample
STATE_SIZE = _RING + 2 * RING_N


@kernel(error_model="numpy")
def mounting_step(state, up, acc, gyr, t, dt, still, running, turning=False):
    """Update the axes with one sample; ``up`` is the filter's world-up in the sensor frame,
    ``acc`` the specific force (m/s²) and ``gyr`` the angular rate (deg/s), all 3-tuples or
    arrays. The pipeline also gives ``note_step`` each running contact's interval.

    The divisions here are by dt, by the time moved so far (≥ dt), by sample counts and by the
    lengths of the force at rest, of averaged unit vectors and of their level parts, none of
    them zero in use:
    Numba's NumPy error model drops the zero checks (and the reference counting of ``state``,
    see ``_vec``).
    """
    state[_SINCE_TURN_S] = 0.0 if turning else state[_SINCE_TURN_S] + dt
    if state[STARTED] < 0.5:
        _start(state, up)
    state[NEUTRAL_SET] = 0.0
    state[CLIP_MOVED_AT] = math.nan
    if still:
        _track_neutral(state, up, unit(acc), dt)
    else:
        state[STILL_S] = 0.0
        state[_NEUTRAL_N] = 0.0
        _moving(state, up, t, dt, running)
    e1, e2 = _level_basis(state)
    if running:
        _learn_heading(state, up, acc, gyr, dt, e1, e2)
    _set_forward(state, e1, e2)
    if running and state[_COUNT] == 1.0 and state[_RUN_S] >= state[_TWIST_WATCH_FROM_S]:
        _watch_heading(state, t)  # just after each update of the heading


@kernel(forceinline=True)
def _start(state, up):
    """The first sample: every average of up starts at it, and so do the neutral and the
    nominal forward unless a second reading seeded them (``seed``)."""
    for at in (_AVG_UP, _FAST_UP, _SLOW_UP):
        put(state, at, up)
    if state[HAS_NEUTRAL] < 0.5:
        put(state, UP, up)
    if state[_NOMINAL] == 0.0 and state[_NOMINAL + 1] == 0.0:
        state[_NOMINAL] = 1.0
    if state[_AXIS_WAIT_S] == 0.0:
        state[_AXIS_WAIT_S] = HEADING_MIN_S
    state[_SNAP_T] = math.nan
    state[_TWIST_WATCH_FROM_S] = HEADING_SETTLED_S
    state[STARTED] = 1.0


@kernel(forceinline=True)
def _track_neutral(state, up, force_up, dt):
    """Average up over the still period once it has lasted ``NEUTRAL_MIN_S`` (unless it is no
    standing: ``_NEUTRAL_N`` −1): the force's direction for the first neutral, the filter's
    ``up`` for later ones."""
    state[STILL_S] += dt
    if state[STILL_S] < NEUTRAL_MIN_S or state[_NEUTRAL_N] < 0.0:
        return
    n = state[_NEUTRAL_N] + 1.0
    if n == 1.0:
        if not _standing(state, up):
            state[_NEUTRAL_N] = -1.0
            return
        state[NEUTRAL_SET] = 1.0
        state[_NEUTRALS] += 1.0
        _restart_watches(state)
    state[_NEUTRAL_N] = n
    sample = force_up if state[_NEUTRALS] == 1.0 else (up[0], up[1], up[2])
    put(state, UP, unit(toward(get3(state, UP), sample, 1.0 / n)))
    state[HAS_NEUTRAL] = 1.0
    if state[_NEUTRALS] == 1.0:
        put(state, FIRST_NEUTRAL, get3(state, UP))


@kernel(forceinline=True)
def taking_first_neutral(state, still):
    """The sample just fed was averaged into the first neutral (the pipeline keeps the gyro bias
    of those samples with it)."""
    return still and state[_NEUTRALS] == 1.0 and state[_NEUTRAL_N] > 0.0


@kernel(forceinline=True)
def _restart_watches(state):
    """A new neutral re-anchors by itself: no re-anchoring waits, the tilt watch's averages
    start afresh, and the twist watch waits for the heading to settle again."""
    state[_REANCHOR], state[_SNAP_T] = 0.0, math.nan
    state[_AGE_S], state[_APART_S] = 0.0, 0.0
    state[_TWIST_WATCH_FROM_S] = state[_RUN_S] + HEADING_SETTLED_S


@kernel(forceinline=True)
def _standing(state, up):
    """A still period is standing if it is the first, or if its up lies within
    ``NEUTRAL_MAX_DEG`` of the last neutral or of the recent moving posture."""
    if state[HAS_NEUTRAL] < 0.5:
        return True
    near_neutral = dot(up, get3(state, UP)) > _COS_NEUTRAL_MAX
    return near_neutral or dot(up, unit(get3(state, _AVG_UP))) > _COS_NEUTRAL_MAX


@kernel(forceinline=True)
def _moving(state, up, t, dt, running):
    """Every ``AVERAGE_EVERY`` samples, the average of up and, while running, the clip watch
    take the time moved since their last update."""
    span = state[_UNAVERAGED_S] + dt
    if state[_COUNT] % AVERAGE_EVERY == 0.0:
        _average_up(state, up, span)
        if running:
            _watch_clip(state, up, t, span)
        span = 0.0
    state[_UNAVERAGED_S] = span


@kernel(forceinline=True)
def _watch_clip(state, up, t, dt):
    """Detect a lasting jump of the mounting and carry the pelvis axes over it."""
    state[_AGE_S] += dt
    fast = _mean_up(state, _FAST_UP, up, dt, FAST_TAU_S)
    slow = get3(state, _SLOW_UP)
    if state[_APART_S] == 0.0:  # hold the posture from before a suspected move while confirming
        slow = _mean_up(state, _SLOW_UP, up, dt, SLOW_TAU_S)
    settled = state[_AGE_S] >= WATCH_AFTER_S and state[_SINCE_TURN_S] >= TURN_SETTLE_S
    if settled and _parted(state, fast, slow):
        _confirm_move(state, t, dt)
    else:
        state[_APART_S] = 0.0


@kernel(forceinline=True)
def _parted(state, fast, slow):
    """The fast and slow averages of up lie ``CLIP_ROLL_DEG`` apart about the pelvis's forward
    axis (the difference of their components along its left axis) or ``CLIP_TILT_DEG`` in all."""
    left = cross(get3(state, UP), get3(state, FORWARD))
    rolled = abs(dot(fast, left) - dot(slow, left)) > _SIN_CLIP_ROLL
    return rolled or dot(fast, slow) < _COS_CLIP_TILT


@kernel(forceinline=True)
def _mean_up(state, at, up, dt, tau):
    """Move the unit average at ``at`` toward ``up`` (a plain mean until ``tau`` has passed)."""
    age_s = state[_AGE_S]
    a = weight(dt, tau) if age_s >= tau else min(dt / age_s, 1.0)
    mean = unit(toward(get3(state, at), up, a))
    put(state, at, mean)
    return mean


@kernel(forceinline=True)
def _confirm_move(state, t, dt):
    if state[_APART_S] == 0.0:
        state[_APART_SINCE] = t
    state[_APART_S] += dt
    if state[_APART_S] >= CLIP_CONFIRM_S:
        if state[_REANCHOR] < 0.5:  # else the heading found this move already
            state[CLIP_MOVED_AT] = state[_APART_SINCE]
        _begin_reanchor(state, get3(state, UP))
        _carry_axes(state)
        state[_APART_S] = 0.0


@kernel(forceinline=True)
def _carry_axes(state):
    """Turn UP, the average up and FORWARD by the rotation taking slow-up onto fast-up."""
    slow, fast = get3(state, _SLOW_UP), get3(state, _FAST_UP)
    axis = cross(slow, fast)
    s = math.sqrt(dot(axis, axis))
    k = (axis[0] / s, axis[1] / s, axis[2] / s)
    for at in (UP, _AVG_UP, FORWARD):
        put(state, at, turn_about(get3(state, at), k, dot(slow, fast), s))
    put(state, _SLOW_UP, fast)


@kernel(forceinline=True)
def _watch_heading(state, t):
    """Snapshots of forward and posture while running; a twist of forward away from the older
    snapshot is a clip move; after a move (found here or by the tilt), the neutral is
    re-anchored once the axes have settled."""
    span = min(t - state[_WATCH_T], 1.0)
    state[_WATCH_T] = t
    f = get3(state, FORWARD)
    kept = dot(f, get3(state, _F_SNAP))  # cosine of the turn since the older snapshot
    if math.isnan(state[_SNAP_T]):
        _snapshot(state, t, True)
    elif state[_REANCHOR] > 0.5:
        _settle(state, t, span, f)
    elif kept < _COS_TWIST_JUMP:
        _snapshot(state, t, True)
    elif kept < _COS_TWIST:
        state[CLIP_MOVED_AT] = t
        if not _begin_reanchor(state, get3(state, UP)):
            _snapshot(state, t, True)
    elif t - state[_SNAP_T] >= SNAPSHOT_S:
        _snapshot(state, t, False)


@kernel(forceinline=True)
def _snapshot(state, t, both):
    """The newer snapshot becomes the older (or ``both`` are taken now); the newer is now."""
    f, p = get3(state, FORWARD), get3(state, _SLOW_UP)
    put(state, _F_SNAP, f if both else get3(state, _F_SNAP + 3))
    put(state, _P_SNAP, p if both else get3(state, _P_SNAP + 3))
    put(state, _F_SNAP + 3, f)
    put(state, _P_SNAP + 3, p)
    state[_SNAP_T] = t


@kernel(forceinline=True)
def _begin_reanchor(state, up_before):
    """Wait for the axes to settle after a clip move (with a neutral and a snapshot from
    before it, and no move pending); False if there is nothing to re-anchor."""
    if state[_REANCHOR] > 0.5 or math.isnan(state[_SNAP_T]) or state[HAS_NEUTRAL] < 0.5:
        return False
    put(state, _UP_BEFORE, up_before)
    put(state, _P_AFTER, (0.0, 0.0, 0.0))
    state[_AFTER_S], state[_REANCHOR] = 0.0, 1.0
    return True


@kernel(forceinline=True)
def _settle(state, t, span, f):
    """Average the posture after the move; after ``REANCHOR_S`` of running, carry the neutral
    over by the rotation that takes the older snapshot's (posture, forward) onto now's."""
    for i in range(3):
        state[_P_AFTER + i] += span * state[_FAST_UP + i]
    state[_AFTER_S] += span
    if state[_AFTER_S] < REANCHOR_S:
        return
    before = get3(state, _UP_BEFORE)
    p0, f0, p1 = get3(state, _P_SNAP), get3(state, _F_SNAP), unit(get3(state, _P_AFTER))
    put(state, UP, _carried(before, p0, f0, p1, f))
    state[_REANCHOR] = 0.0
    _snapshot(state, t, True)


@kernel(forceinline=True)
def _carried(v, p0, f0, p1, f1):
    """``v`` moved with the rotation taking the frame (p0, f0) onto (p1, f1): p exactly, f as
    near as p allows (the TRIAD construction)."""
    b0, b1 = unit(cross(p0, f0)), unit(cross(p1, f1))
    c0, c1 = cross(p0, b0), cross(p1, b1)
    x, y, z = dot(v, p0), dot(v, b0), dot(v, c0)
    return unit(
        (
            x * p1[0] + y * b1[0] + z * c1[0],
            x * p1[1] + y * b1[1] + z * c1[1],
            x * p1[2] + y * b1[2] + z * c1[2],
        )
    )


@kernel(forceinline=True)
def _average_up(state, up, dt):
    mean = toward(get3(state, _AVG_UP), up, weight(dt, AVERAGE_TAU_S))
    put(state, _AVG_UP, mean)
    if state[HAS_NEUTRAL] < 0.5:
        put(state, UP, unit(mean))


@kernel(forceinline=True)
def _level_basis(state):
    """The basis (e1, e2) of the level plane for the current UP, made again only when UP has
    changed: while a neutral is known, UP holds still except in still periods and clip moves."""
    u = get3(state, UP)
    if u != get3(state, _BASIS):
        e1, e2 = _basis(u)
        put(state, _BASIS, u)
        put(state, _BASIS + 3, e1)
        put(state, _BASIS + 6, e2)
    return get3(state, _BASIS + 3), get3(state, _BASIS + 6)


@kernel(forceinline=True)
def _basis(u):
    """e1 = nominal x made level (⟂ u), e2 = u × e1."""
    e1 = (1.0 - u[0] * u[0], -u[0] * u[1], -u[0] * u[2])
    if dot(e1, e1) < 1e-12:  # x points straight up: use y instead
        e1 = (-u[1] * u[0], 1.0 - u[1] * u[1], -u[1] * u[2])
    e1 = unit(e1)
    return e1, cross(u, e1)


@kernel(forceinline=True)
def _learn_heading(state, up, acc, gyr, dt, e1, e2):
    """Every ``HEADING_SAMPLE_S``: the moments of the step-alternating horizontal rotation (the
    horizontal rate, averaged over the heading sample, less its value one step before) and the
    braking evidence (the horizontal force times the rate of change of the vertical force). The
    average keeps a clip's ringing after each impact (28 Hz on the simulator) from aliasing into
    the heading samples; the sample's own rate did (steady CPD 0.13 → 0.35° on one simulated
    run)."""
    turned = plus_scaled(get3(state, _TURNED), gyr, dt)
    span = state[_UNSAMPLED_S] + dt
    if span < HEADING_SAMPLE_S - 0.5 * dt:
        state[_UNSAMPLED_S] = span
        put(state, _TURNED, turned)
        return
    state[_UNSAMPLED_S] = 0.0
    put(state, _TURNED, (0.0, 0.0, 0.0))
    w1, w2 = dot(turned, e1) / span, dot(turned, e2) / span
    fv = dot(acc, up)
    h = (acc[0] - fv * up[0], acc[1] - fv * up[1], acc[2] - fv * up[2])
    h1, h2 = dot(h, e1), dot(h, e2)
    dfv = (fv - state[_PREV_FV]) / span if state[_RUN_S] > 0 else 0.0
    state[_PREV_FV] = fv
    state[_RUN_S] += span
    a = weight(span, HEADING_TAU_S)
    state[_EVID] += a * (h1 * dfv - state[_EVID])
    state[_EVID + 1] += a * (h2 * dfv - state[_EVID + 1])
    _learn_axis(state, w1, w2, span, a)


@kernel(forceinline=True)
def _learn_axis(state, w1, w2, span, a):
    """The roll axis is the horizontal axis of the rotation that alternates from step to step:
    the pelvis drops toward one side, then the other, about its forward axis, while its tilt
    (about the left axis) repeats every step. The rate less its value one running step before
    (both averaged over ``SMOOTH_SAMPLES``) keeps the first and cancels the second; the principal
    axis of that difference is forward."""
    at = int(state[_RING_AT])
    state[_RING + 2 * at], state[_RING + 2 * at + 1] = w1, w2
    state[_RING_AT] = (at + 1) % RING_N
    lag = int(state[_STEP_S] / span + 0.5)
    if 0 < lag <= RING_N - SMOOTH_SAMPLES and state[_RUN_S] > state[_STEP_S]:
        now1, now2 = _ring_mean(state, at)
        then1, then2 = _ring_mean(state, at - lag)
        d1, d2 = now1 - then1, now2 - then2
        state[_COV] += a * (d1 * d1 - state[_COV])
        state[_COV + 1] += a * (d1 * d2 - state[_COV + 1])
        state[_COV + 2] += a * (d2 * d2 - state[_COV + 2])


@kernel(forceinline=True)
def _ring_mean(state, last):
    """The mean horizontal rate of the ``SMOOTH_SAMPLES`` heading samples up to ``last``."""
    sum1, sum2 = 0.0, 0.0
    for back in range(SMOOTH_SAMPLES):
        i = _RING + 2 * ((last - back) % RING_N)
        sum1 += state[i]
        sum2 += state[i + 1]
    return sum1 / SMOOTH_SAMPLES, sum2 / SMOOTH_SAMPLES


@kernel(inline="always")
def step_time(state):
    """The running step time (s; 0 before the first interval)."""
    return state[_STEP_S]


@kernel
def note_step(state, interval):
    """A running contact ``interval`` s after the one before: the step time the heading's
    rotation moments look back by (intervals of 0.2–1 s; the first one sets it)."""
    if 0.2 <= interval <= 1.0:
        known = state[_STEP_S] > 0.0
        state[_STEP_S] = state[_STEP_S] + 0.2 * (interval - state[_STEP_S]) if known else interval


@kernel(forceinline=True)
def _set_forward(state, e1, e2):
    """Forward from the learned heading (or the nominal axis): unit and ⟂ UP."""
    if state[_COUNT] == 0.0:
        _update_heading(state)
    state[_COUNT] = 0.0 if state[_COUNT] >= HEADING_EVERY - 1 else state[_COUNT] + 1.0
    c1, c2 = state[_HEADING_C], state[_HEADING_C + 1]
    put(state, FORWARD, (c1 * e1[0] + c2 * e2[0], c1 * e1[1] + c2 * e2[1], c1 * e1[2] + c2 * e2[2]))
    state[FLIPPED] = 1.0 if c1 < -0.5 else 0.0


@kernel
def walking_direction(state, along, across, contacts):
    """Turn the nominal forward to the way walking brakes: (``along``, ``across``) is the mean
    braking vector of the last walking contacts along the current forward and left axes (m/s²),
    ``contacts`` how many there were. It turns only when the vector is clear (at least
    ``WALK_BRAKE_MS2`` after ``WALK_TURN_STEPS`` contacts) and more than ``WALK_TURN_DEG`` off;
    running's own heading outranks it. Returns the angle turned (rad, toward left; 0.0 if none):
    the caller's evidence then reads in the turned axes."""
    angle = math.atan2(across, along)
    if contacts < WALK_TURN_STEPS or _axis_shown(state) or abs(angle) < _WALK_TURN_RAD:
        return 0.0
    if along * along + across * across < WALK_BRAKE_MS2 * WALK_BRAKE_MS2:
        return 0.0
    c, s = math.cos(angle), math.sin(angle)
    n1, n2 = state[_NOMINAL], state[_NOMINAL + 1]
    state[_NOMINAL], state[_NOMINAL + 1] = c * n1 - s * n2, s * n1 + c * n2
    _learned(state, state[_NOMINAL], state[_NOMINAL + 1])
    state[_COUNT] = 0.0  # the heading is made again at the next sample
    return angle


@kernel(forceinline=True)
def _update_heading(state):
    """The step-alternating rotation's principal axis, signed by the braking evidence (else the
    nominal axis, turned round early by decisive evidence)."""
    c1, c2 = state[_NOMINAL], state[_NOMINAL + 1]
    if _axis_shown(state):
        c11, c12, c22 = state[_COV], state[_COV + 1], state[_COV + 2]
        angle = 0.5 * math.atan2(2.0 * c12, c11 - c22)
        c1, c2 = math.cos(angle), math.sin(angle)
        if _braking_along(state, c1, c2) < -SIGN_EVIDENCE_MIN:  # else the axis nearer x stands
            c1, c2 = -c1, -c2
        _learned(state, c1, c2)
    elif state[_RUN_S] >= EARLY_SIGN_S and _braking_along(state, c1, c2) < -EARLY_SIGN_MIN:
        c1, c2 = -c1, -c2
    state[_HEADING_C], state[_HEADING_C + 1] = c1, c2


@kernel(forceinline=True)
def _axis_shown(state):
    """The rotation's moments hold enough step-to-step differences (``HEADING_MIN_S``, or
    ``SEEDED_HEADING_MIN_S``: ``_AXIS_WAIT_S``) for its axis to stand."""
    return state[_STEP_S] > 0.0 and state[_RUN_S] >= state[_STEP_S] + state[_AXIS_WAIT_S]


@kernel(forceinline=True)
def _learned(state, c1, c2):
    """Keep (c1, c2) as ``LEARNED_FORWARD`` until the heading has settled: after that a turn of
    the heading may be a twisted clip, which must not reach back to the recording's start."""
    if state[_RUN_S] <= HEADING_SETTLED_S:
        state[LEARNED_FORWARD], state[LEARNED_FORWARD + 1] = c1, c2


def seed(state, nominal=None, neutral=None):
    """Start a fresh state with what a first reading of the same recording learned: the nominal
    forward at ``nominal`` = (c1, c2) in the (e1, e2) basis instead of the board's x, and the
    neutral (up in sensor axes) known from the start."""
    if nominal is not None:
        state[_NOMINAL], state[_NOMINAL + 1] = nominal
        state[_AXIS_WAIT_S] = SEEDED_HEADING_MIN_S
    if neutral is not None:
        state[UP : UP + 3] = neutral
        state[HAS_NEUTRAL] = 1.0


@kernel(forceinline=True)
def _braking_along(state, c1, c2):
    """The braking evidence along the axis (c1, c2) over its whole length: +1 when braking then
    propulsion point exactly along it, −1 exactly against it."""
    evidence = -(c1 * state[_EVID] + c2 * state[_EVID + 1])
    return evidence / (math.sqrt(state[_EVID] ** 2 + state[_EVID + 1] ** 2) + 1e-12)
