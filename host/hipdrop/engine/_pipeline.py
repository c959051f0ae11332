"""The per-sample engine loop (Numba): still → orientation → pelvis axes → contacts → steps.

Every stage is causal and keeps its state in plain float arrays, so feeding a recording in
one piece or in any chunks gives the same steps to the last bit (``stream.GaitStream``).
"""

import math

import numpy as np

from . import _bridge as bridge
from ._jit import kernel
from ._vec import cross, get3, level_forces, put
from .calibration import _mounting as mount
from .calibration import _still as still_mod
from .contacts import _detector as contacts
from .contacts import _walking as walking
from .orientation import _filter as orientation
from .steps import _measure as measure_mod
from .steps import _side as side_mod

GAP_S = 0.25
BRIDGE_GAP_S = 2.5
"""A gap up to this long while the gait goes on is bridged: the tilt after it is read from the
strides before (``_bridge.bridged_up``). In simulated runs with gaps of 0.3–1 / 1–2 s, the
drops over the 6 s after each read 0.26 / 0.36° RMS off instead of 1.07 / 1.02°; 2.5–4-s gaps,
bridged with a limit of 4 s, 0.33° instead of 0.98°. The limit is the longest gap the real
treadmill run (30 s) could check: gaps of 1–2.5 s there, bridged, left the drops from contact
0.36° off instead of 0.40°. The simulator's strides are more regular than a runner's, and the
longer the gap, the more a phase error adds up (the match's last check is the one sample
after the gap)."""
HOLE_SAMPLES = 1.5
"""An interval this many typical ones long (but under ``GAP_S``) is a hole: samples were lost
(a BLE packet), and the rotation over it is bridged from the stride before (``_bridge``); after
it, as after a gap, the tilt is corrected as at the start (``orientation.after_lost_samples``)."""
MAX_STEP_S = 2.0
OVERDUE_STEPS = 2.0
"""A walking step whose next contact has not come within this many usual step times (and
``MAX_STEP_S``) is closed without it: the last step before a stop, or before a contact the
detector missed. Its measures then span one usual step time and its step time is nan."""
RING_SAMPLES = 4096
"""Samples the step buffer holds: 4 s at 1000 Hz (``plausible.MAX_RATE_HZ``), enough for the
longest step (``MAX_STEP_S``), the 200 ms before its contact and the verdict's latency; at
1024, walking at 80 steps/min gave no step at all at 1000 Hz. A step reads back only over its
own samples, so the size costs no time."""

# step record columns
(
    T_IC,
    SIDE,
    CONFIDENCE,
    ACTIVITY,
    PELVIC_DROP,
    DROP_FROM_CONTACT,
    CONTACT_TIME,
    STEP_TIME,
    ROLL_AT_IC,
    OBLIQUITY_RANGE,
    IMPACT_G,
    TURN_DPS,
    T_VERDICT,
) = range(13)
STEP_FIELDS = 13

# event record columns and codes
EVENT_T, EVENT_CODE = 0, 1
EV_NEUTRAL, EV_GAP, EV_CLIP_MOVED, EV_FORWARD_TURNED, EV_GAP_BRIDGED = 1, 2, 3, 4, 5
"""``EV_GAP_BRIDGED``: a gap bridged from the strides before it (``BRIDGE_GAP_S``)."""

STEPS_PER_SAMPLE = 2
"""At most this many steps end at one sample (the step a gap closes, and one at a contact)."""
EVENTS_PER_SAMPLE = 4
"""At most one event of each code at one sample."""

# loop state slots
_HEAD, _PENDING_T, _PENDING_KIND, _PREV_T, _STARTED, _DT, _DUE_T = 0, 1, 2, 3, 4, 5, 6
FIRST_GYRO_BIAS = 7
"""3 slots: the orientation filter's gyro bias (rad/s) as the first neutral was taken, the one
it keeps when that rest ends (``orientation.bias_after_rest``; zeros before): with the first
neutral, what a second reading of the recording starts from."""
LOOP_SIZE = 10
"""``_DUE_T``: when the pending step is overdue (inf for a running step, or once closed);
``_PENDING_KIND`` 0: no step pending (its contact time kept for the side filter's gap check).
``_STARTED``: 0 before the first sample, 1 after it, 2 once the first interval has set ``_DT``."""


def new_state():
    """All the engine's state arrays, fresh."""
    ring = np.zeros((RING_SAMPLES, measure_mod.CHANNELS))
    ring[:, measure_mod.T] = -np.inf
    return (
        np.zeros(still_mod.STATE_SIZE),
        np.zeros(orientation.STATE_SIZE),
        np.zeros(mount.STATE_SIZE),
        np.zeros(contacts.STATE_SIZE),
        np.zeros(side_mod.STATE_SIZE),
        np.zeros(LOOP_SIZE),
        ring,
    )


@kernel
def process(
    still_st,
    ori_st,
    mount_st,
    con_st,
    side_st,
    loop,
    ring,
    t,
    acc,
    gyr,
    out_angles,
    out_steps,
    out_events,
):
    """Run the samples ``t`` (s), ``acc`` (m/s²), ``gyr`` (deg/s) through the engine.

    Writes per-sample pelvis (roll, pitch) in degrees to ``out_angles`` unless it has no rows
    (the pitch is then not computed), and appends finished steps and events to ``out_steps`` /
    ``out_events``. Stops early, before a sample that could overfill either, and returns
    (n_steps, n_events, samples taken): the caller feeds the rest with fresh outputs.
    """
    meas = np.zeros((2, measure_mod.N_MEASURES))  # the step closing, and the next one's
    keep_angles = out_angles.shape[0] > 0
    filt = orientation.load(ori_st)
    n_steps, n_events, taken = 0, 0, len(t)
    for k in range(len(t)):
        if n_steps + STEPS_PER_SAMPLE > len(out_steps) or n_events + EVENTS_PER_SAMPLE > len(
            out_events
        ):
            taken = k
            break
        t_before = loop[_PREV_T]
        dt = _dt(loop, t[k])
        if dt < 0:  # a gap (or a device clock restarted): contacts start over
            stride_s = _stride_s(mount_st, con_st, t_before)
            running = contacts.running(con_st, t_before)
            row = out_steps[n_steps]  # the pending step, if its stance is in the data
            n_steps += _close_pending(
                mount_st, con_st, side_st, loop, ring, t_before, t[k], meas, row
            )
            loop[_PENDING_T], loop[_DUE_T] = math.nan, math.inf
            con_st[:] = 0.0
            dt = loop[_DT]
            up_then, lag_s = _gap_bridge(ring, loop, t[k] - t_before, gyr[k], stride_s)
            filt = _after_gap(filt, side_st, con_st, up_then, lag_s, stride_s, running, t[k])
            code = EV_GAP if math.isnan(lag_s) else EV_GAP_BRIDGED
            n_events = _event(out_events, n_events, t[k], code)
        a = (acc[k, 0], acc[k, 1], acc[k, 2])  # tuples, not views: no reference counting
        g = (gyr[k, 0], gyr[k, 1], gyr[k, 2])
        is_still = still_mod.still_step(still_st, a, g, dt)
        if is_still or orientation.resting(filt):
            filt = orientation.at_rest(filt, a, g, dt, is_still, ori_st)
        hole = dt > HOLE_SAMPLES * loop[_DT]
        turn = g
        if hole:
            stride_s = _stride_s(mount_st, con_st, t[k])
            turn = bridge.bridged_rate(ring, int(loop[_HEAD]), g, dt, stride_s)
            filt = orientation.after_lost_samples(filt)
        filt = orientation.advance(filt, a, turn, dt, is_still)
        up = orientation.up(filt)
        is_running = contacts.running(con_st, t[k])
        turning = orientation.turning(filt)
        mount.mounting_step(mount_st, up, a, turn, t[k], dt, is_still, is_running, turning)
        if mount_st[mount.NEUTRAL_SET] > 0.5:
            n_events = _event(out_events, n_events, t[k], EV_NEUTRAL)
        if mount.taking_first_neutral(mount_st, is_still):
            put(loop, FIRST_GYRO_BIAS, orientation.bias_after_rest(ori_st))
        if not math.isnan(mount_st[mount.CLIP_MOVED_AT]):
            n_events = _event(out_events, n_events, mount_st[mount.CLIP_MOVED_AT], EV_CLIP_MOVED)
        fv = a[0] * up[0] + a[1] * up[1] + a[2] * up[2]
        forward, left_force = _level_forces(mount_st, up, a, fv)
        if keep_angles:
            left, level = measure_mod.legs(up, _pelvis_axes(mount_st))
            out_angles[k, 0] = measure_mod.roll_deg(left, level)
            out_angles[k, 1] = _pelvis_pitch(mount_st, up)
        loop[_HEAD] = measure_mod.push(ring, int(loop[_HEAD]), t[k], up, g, a, fv)
        t_ic, kind = contacts.contact_step(con_st, t[k], fv, forward, left_force, not is_still)
        if kind == contacts.WALK and _walking_turned(mount_st, con_st):
            side_mod.forget_axes(side_st)
            n_events = _event(out_events, n_events, t[k], EV_FORWARD_TURNED)
        if kind:
            if kind == contacts.RUN:
                mount.note_step(mount_st, t_ic - loop[_PENDING_T])
            if _finish_step(
                loop, con_st, mount_st, side_st, ring, t_ic, kind, t[k], meas, out_steps[n_steps]
            ):
                n_steps += 1
            _pend(loop, con_st, t_ic, kind)
        elif t[k] > loop[_DUE_T]:  # overdue: no next contact in time
            row = out_steps[n_steps]
            n_steps += _close_pending(mount_st, con_st, side_st, loop, ring, t[k], t[k], meas, row)
    orientation.store(ori_st, filt)
    return n_steps, n_events, taken


@kernel
def _gap_bridge(ring, loop, span, gyr, stride_s):
    """(up, lag) across a gap ``span`` s long before the sample with rate ``gyr``, from the
    strides before it where they match (``_bridge.bridged_up``); nans past ``BRIDGE_GAP_S``."""
    if 0.0 < span <= BRIDGE_GAP_S:
        return bridge.bridged_up(ring, int(loop[_HEAD]), (gyr[0], gyr[1], gyr[2]), span, stride_s)
    return (math.nan, math.nan, math.nan), math.nan


@kernel
def _after_gap(filt, side_st, con_st, up_then, lag_s, stride_s, running, t_after):
    """The orientation's state tuple after a gap, and the side filter set for the steps after
    it. Bridged (``lag_s`` known), the tilt is the one the strides before had at the same
    phase, and the alternation carries over (``side_mod.carry_over``); walking, so does its
    usual step time (the contacts, ``con_st``, have started over; ``stride_s`` is two steps).
    Started over, the first step's side rested on its own evidence alone: on the real
    treadmill run with gaps cut every 4 s, one step took the wrong side after 4 of 60 gaps (its
    drop 7° off), and on simulated walks with gaps the first step after 8 of them. Otherwise
    the tilt is corrected afresh and the alternation starts over. Not inlined (nor
    ``_gap_bridge``): gaps are rare, and inlined in the loop their code made the feed ≈ 1 %
    slower (0.0957–0.0960 against 0.0946–0.0952 s, alternating)."""
    if math.isnan(lag_s):
        side_mod.reset(side_st)
        return orientation.after_gap(filt)
    side_mod.carry_over(side_st, lag_s, stride_s, t_after)
    if not running:
        con_st[contacts.STEP_S] = 0.5 * stride_s
    return orientation.after_bridged_gap(filt, up_then)


@kernel(inline="always")
def _dt(loop, t):
    """Sample interval; −1 after a gap or a jump back in time (a restarted device clock).

    Device timestamps jitter by up to a sample period (a packet's first sample is stamped when
    the FIFO is read), so an interval at or below zero but within ``GAP_S`` is jitter: the
    typical interval (``_DT``) stands in for it.
    """
    if loop[_STARTED] < 0.5:
        loop[_STARTED], loop[_PREV_T], loop[_DT] = 1.0, t, 0.005
        loop[_PENDING_T], loop[_DUE_T] = math.nan, math.inf
        return 0.005
    dt = t - loop[_PREV_T]
    loop[_PREV_T] = t
    if dt > GAP_S or dt < -GAP_S:
        return -1.0
    if dt <= 0:
        return loop[_DT]
    if loop[_STARTED] < 1.5:  # the first interval is the typical one so far (not 200 Hz's)
        loop[_STARTED], loop[_DT] = 2.0, dt
    else:
        loop[_DT] += 0.01 * (dt - loop[_DT])
    return dt


@kernel(inline="always")
def _stride_s(mount_st, con_st, t):
    """The stride time (two steps, s) of the running or walking under way; 0 when unknown."""
    if contacts.running(con_st, t):
        return 2.0 * mount.step_time(mount_st)
    return 2.0 * con_st[contacts.STEP_S]


@kernel(inline="always")
def _event(out, n, t, code):
    out[n, EVENT_T], out[n, EVENT_CODE] = t, code
    return n + 1


@kernel(inline="always")
def _pelvis_axes(m):
    """The pelvis forward, left and up axes in sensor axes (3-tuples): left = up × forward."""
    forward, up = get3(m, mount.FORWARD), get3(m, mount.UP)
    return forward, cross(up, forward), up


@kernel(inline="always")
def _pelvis_pitch(m, up):
    """Pelvis pitch (deg), anterior tilt positive."""
    r0 = up[0] * m[mount.FORWARD] + up[1] * m[mount.FORWARD + 1] + up[2] * m[mount.FORWARD + 2]
    return math.degrees(math.asin(max(min(-r0, 1.0), -1.0)))


@kernel(inline="always")
def _level_forces(m, up, acc, fv):
    """Specific force along the pelvis forward axis made level, and along the level left axis
    (up × that forward), m/s²; ``fv`` = acc · up."""
    return level_forces(up, (m[mount.FORWARD], m[mount.FORWARD + 1], m[mount.FORWARD + 2]), acc, fv)


@kernel
def _walking_turned(mount_st, con_st):
    """Let the walking detector's mean braking vector turn a forward axis that is far off; the
    vector then reads in the turned axes."""
    walk = con_st[contacts.WALK_STATE :]
    along, across = walk[walking.BRAKE_VEC], walk[walking.BRAKE_VEC + 1]
    angle = mount.walking_direction(mount_st, along, across, walk[walking.JUDGED])
    if angle == 0.0:
        return False
    c, s = math.cos(angle), math.sin(angle)
    walk[walking.BRAKE_VEC] = c * along + s * across
    walk[walking.BRAKE_VEC + 1] = c * across - s * along
    return True


@kernel
def _pend(loop, con_st, t_ic, kind):
    """Hold the step that starts at ``t_ic`` until the next contact (or until overdue)."""
    loop[_PENDING_T], loop[_PENDING_KIND], loop[_DUE_T] = t_ic, kind, math.inf
    usual = con_st[contacts.STEP_S]
    if kind == contacts.WALK and usual > 0:
        loop[_DUE_T] = t_ic + min(OVERDUE_STEPS * usual, MAX_STEP_S)


@kernel
def finish(mount_st, con_st, side_st, loop, ring, out_steps):
    """Close the step pending when the recording ends (see ``_close_pending``). Returns the
    steps written to ``out_steps`` (0 or 1); either way no step is pending afterwards."""
    t_last, meas = loop[_PREV_T], np.zeros((2, measure_mod.N_MEASURES))
    row = out_steps[0]
    return _close_pending(mount_st, con_st, side_st, loop, ring, t_last, t_last, meas, row)


@kernel
def _close_pending(mount_st, con_st, side_st, loop, ring, t_last, t_now, buffers, row):
    """Close the pending step without its next contact — overdue, or the data end at ``t_last``
    (the recording's end, or a gap noticed at ``t_now``) — if its stance is in the data: a
    running step once its flight has begun (it is measured to its stance end), a walking step
    once one usual step time has passed (measured over it). Its contact still dates the next
    step. Returns 1 if it wrote ``row``, else 0."""
    t_ic, kind = loop[_PENDING_T], int(loop[_PENDING_KIND])
    end = con_st[contacts.STANCE_END_T] if kind == contacts.RUN else t_ic + con_st[contacts.STEP_S]
    closed = False
    if kind != 0 and not math.isnan(end) and t_ic < end <= t_last:
        no_next = np.int64(0)  # typed as the loop's kinds: a literal 0 compiled a second copy
        closed = _finish_step(
            loop, con_st, mount_st, side_st, ring, end, no_next, t_now, buffers, row
        )
    loop[_PENDING_KIND], loop[_DUE_T] = 0.0, math.inf
    return int(closed)


@kernel
def _finish_step(loop, con_st, mount_st, side_st, ring, t_next, next_kind, t_now, buffers, row):
    """Measure the pending step now that the next contact (``t_next``, of kind ``next_kind``)
    is known; ``next_kind`` 0: no next contact, ``t_next`` only ends the measured span (and a
    running step's stance)."""
    meas = buffers[0]
    t_ic, kind = loop[_PENDING_T], int(loop[_PENDING_KIND])
    if math.isnan(t_ic):  # none pending: the start, or after a gap (the side filter is set)
        return False
    if t_next - t_ic > MAX_STEP_S:
        side_mod.reset(side_st)
        return False
    if kind == 0:  # closed already, as overdue
        return False
    running_on = kind == contacts.RUN and next_kind != 0
    stance_end = con_st[contacts.PREV_STANCE_END_T] if running_on else t_next
    if math.isnan(stance_end) or stance_end <= t_ic:
        stance_end = t_next
    head, axes = int(loop[_HEAD]), _pelvis_axes(mount_st)  # one set of axes for the whole step
    walking = kind == contacts.WALK
    if not measure_mod.measure(ring, head, axes, t_ic, stance_end, t_next, walking, meas):
        return False
    step_end = t_next if next_kind else math.nan
    turn = side_mod.stride_turn(side_st, t_ic, step_end, meas, measure_mod.STEP_YAW)
    if kind == contacts.RUN or _restart(side_st, next_kind):
        usual = mount.step_time(mount_st)
        p_left = _running_side(side_st, meas, t_ic, kind, next_kind, turn, usual)
    else:
        p_left = _walking_side(
            side_st, ring, head, axes, t_ic, t_next, next_kind, t_now, con_st, buffers
        )
    s = 1.0 if p_left >= 0.5 else -1.0
    peak = meas[measure_mod.ROLL_MAX] if s > 0 else -meas[measure_mod.ROLL_MIN]
    row[T_IC], row[SIDE], row[CONFIDENCE] = t_ic, s, max(p_left, 1 - p_left)
    # a walking contact whose next contact is a running one is the first step of a run, found
    # before its flight: neither gait's measures fit it, so its activity is 0 (other)
    row[ACTIVITY] = 0 if kind == contacts.WALK and next_kind == contacts.RUN else kind
    has_neutral = mount_st[mount.HAS_NEUTRAL] > 0.5
    row[PELVIC_DROP] = peak if has_neutral else math.nan
    row[DROP_FROM_CONTACT] = peak - s * meas[measure_mod.ROLL_IC]
    row[CONTACT_TIME] = stance_end - t_ic if kind == contacts.RUN else math.nan
    row[STEP_TIME] = t_next - t_ic if next_kind else math.nan
    row[ROLL_AT_IC] = meas[measure_mod.ROLL_IC]
    row[OBLIQUITY_RANGE] = meas[measure_mod.ROLL_RANGE]
    row[IMPACT_G] = meas[measure_mod.IMPACT_G]
    row[TURN_DPS] = turn
    row[T_VERDICT] = t_now
    return True


@kernel(inline="always")
def _restart(side_st, next_kind):
    """A walking contact followed by a running one starts a run restarted after a stop (no
    flight before it). Its swing came out of the stand, and judged on that its side was a coin
    toss (wrong in 8 of 12 restarts of simulated runs, its drop then read ≈ 3.5° off); it is
    judged on its early stance instead, as running steps are, once earlier steps have shown
    those rates. A recording's first step has none to be judged against, and its walking rates
    (little more than the gyro's bias, out of a stand) start the statistics."""
    return next_kind == contacts.RUN and side_mod.has_evidence(side_st)


@kernel
def _running_side(side_st, meas, t_ic, kind, next_kind, turn, usual):
    """Probability of a left stance for a running step (or a run's restart, ``_restart``)
    measured in ``meas``, from its early-stance roll and yaw rates; ``turn``: the step's
    ``_side.stride_turn``, ``usual`` the running step time (0 while unknown: every step is
    taken to be the next one; known, the steps since the last one count, as across a gap).

    Before the motion has shown the forward axis (about half a second of running) the roll
    rate is read about the board's x. Left out until then, it cost the clips worn as meant
    their second step of running: in 16 simulated runs from a stand, 0 → 16 wrong, since the
    pelvis's yaw rate does not yet alternate in the first two steps (−4.5 and −1.2 °/s for a
    left and a right stance); with the clip turned at random (20 runs), 16 → 20 wrong."""
    r = measure_mod.RUN_RATES
    running_on = kind == contacts.RUN and next_kind == contacts.RUN
    turned = side_mod.turn_beyond_dead_band(turn) if running_on else 0.0
    features = (meas[r], meas[r + 1] - turned, math.nan)  # no force feature when running
    return side_mod.side_step(side_st, t_ic, usual, features, 1.0, math.nan, features)


@kernel
def _walking_side(side_st, ring, head, axes, t_ic, t_next, next_kind, t_now, con_st, buffers):
    """Probability of a left stance for the walking step measured in ``buffers[0]``, weighing
    the next walking step's evidence too (measured into ``buffers[1]``: its window, the swing
    before its contact, is complete by now)."""
    this, ahead = buffers[0], buffers[1]
    walking_next = next_kind == contacts.WALK  # a variable: a literal True compiled a second copy
    known = walking_next and measure_mod.measure(
        ring, head, axes, t_next, t_next, t_now, walking_next, ahead
    )
    usual, next_t = con_st[contacts.STEP_S], t_next if known else math.nan
    forward = walking.walks_forward(con_st[contacts.WALK_STATE :])
    return side_mod.side_step(
        side_st,
        t_ic,
        usual,
        _walk_features(this, forward),
        -1.0,
        next_t,
        _walk_features(ahead, forward),
    )


@kernel(inline="always")
def _walk_features(meas, forward):
    """Roll and yaw rate, and the level force toward the right (the left force negated, so that
    all three are negative for a left stance); the force only while walking forward (sideways
    steps move the trunk sideways for their own reasons)."""
    r = measure_mod.WALK_RATES
    return meas[r], meas[r + 1], -meas[r + 2] if forward else math.nan
