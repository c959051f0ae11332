"""Sacral orientation filter for running (Numba kernel).

Gyro-driven tilt with a gravity reference that survives running: the accelerometer is never
trusted sample by sample (≈0 g in flight, 2–3 g plus impacts in stance). Instead each sample's
specific force is rotated into the world frame with the current estimate and averaged there
over ``FORCE_TAU_S`` (about two strides): the trunk's own acceleration averages out over whole
strides, the average points along gravity, and the estimate is turned slowly (``TILT_GAIN``)
until it does. Because the average is taken in the world frame, the pelvis's oscillation within
the stride does not leak into it. The same world-frame error, seen in the sensor frame, drives a
slow integral estimate of the gyro bias; while the still detector reports rest, the bias is read
directly (``_rest_bias``) and the tilt is corrected quickly. While the runner turns (mean rate
about the vertical above ``TURN_DPS``) the average force holds the centripetal force too, so
neither tilt nor bias is corrected until the turn is over; and as it ends the average starts
again from the vertical, forgetting the centripetal force it took in before the pause and
through it. The gyro alone keeps the tilt through a turn of a few seconds. After a gap in the
data the average starts afresh too, as at the start: a plain mean of what came after the gap.

Each sample turns the estimate once: the gyro's rotation and the tilt correction (computed at
the previous sample, from the estimate and the average as they stood then) are added as one
sensor-frame rotation vector, as complementary filters do, and the force average then takes the
sample with the new estimate.

Data requirements: sensor-frame specific force in m/s², angular rate in deg/s, any rate
20–1000 Hz (``plausible.MIN_RATE_HZ``, ``MAX_RATE_HZ``). Heading is free (arbitrary, drifting):
only tilt is estimated.
"""

import math

from .._jit import kernel
from .._vec import (
    cross,
    dot,
    from_rotvec,
    get3,
    level_from_gravity,
    multiply,
    put,
    renormalise,
    rotate,
    rotate_back,
    toward,
    weight,
)
from .._vec import up_in_sensor as _up_in_sensor
from . import _rest_bias as rest_bias

FORCE_TAU_S = 1.5
TILT_GAIN = 0.3
"""1/s: tilt correction rate while moving."""
STILL_TILT_GAIN = 2.0
START_S = 3.0
"""For the first seconds, and again after samples were lost (a gap, or a hole: a BLE packet),
the tilt gain is the still gain: converge from any start. The gyro bias is not learnt from the
tilt error meanwhile (that error is the start's, or what the pelvis turned through unseen).
After gaps of 0.3–1 s every 15 s in simulated runs, the drops read 2.9° RMS off over the 6 s
after each and 0.75° elsewhere (the bias integral taking up each gap's error); then 1.9° and
0.24°, and 1.14° and 0.12° with the average force started afresh (``after_gap``). With 5 %
of 14-sample packets lost, 1.2–1.6° → 0.7–1.0° (none lost: 0.2–0.5°); on clean data a gain
this fast throughout read the drops a little worse (0.26° → 0.29° RMS on table c)."""
FRESH_FLOOR_S = 0.2
"""After a gap (and at the start) the average force starts afresh: for its first ``FORCE_TAU_S``
it is the plain mean of the samples since, over at least this long, so that it holds only what
the estimate saw after the gap (``after_gap``)."""
BIAS_GAIN = 0.02
"""1/s²: integral gain of the gyro-bias estimate from the tilt error (with ``TILT_GAIN`` a
critically damped loop, time constant ≈ 7 s)."""
STILL_BIAS_TAU_S = 1.0
"""While still the bias follows the gyro over this; what it keeps when the rest ends is read
differently (``_rest_bias``)."""
TURN_DPS = 20.0
"""Straight running's own rotation leaves ≤ 12 °/s in the mean over ``TURN_TAU_S``; at 30 °/s
(and over 1 s) a 90° turn in 3 s, a mean of 30 °/s, hardly paused the correction."""
TURN_TAU_S = 0.5
"""Over 1 s the pause began later in each turn, and the correction took in more of the turn's
start: after turns the drops read 0.55° RMS off instead of 0.48°."""
G_MS2 = 9.80665
RAD_PER_DEG = math.pi / 180.0

# state slots
Q = 0  # 4 slots: sensor → world
BIAS = 4  # 3 slots, rad/s
FORCE = 7  # 3 slots: world-frame average specific force, m/s²
STARTED = 10
AGE_S = 11
YAW_RATE_DPS = 12
"""Mean rate about the world vertical over ``TURN_TAU_S``."""
CORRECTION = 13  # 3 slots: the tilt correction for the next sample (sensor-frame rad)
RESTING = 16
"""1.0 while still."""
FRESH_S = 17
"""Time since the average force started afresh (at the start, after a gap)."""
REST = 18  # ``_rest_bias.SLOTS`` slots: the rest under way
STATE_SIZE = REST + rest_bias.SLOTS


@kernel(error_model="numpy")
def orientation_step(state, acc, gyr_dps, dt, still):
    """Advance the estimate in ``state`` by one sample (``acc`` m/s², ``gyr_dps`` deg/s: 3-tuples
    or arrays). ``_pipeline.process`` uses ``load`` / ``advance`` / ``store`` instead."""
    filt = load(state)
    if still or resting(filt):
        filt = at_rest(filt, acc, gyr_dps, dt, still, state)
    store(state, advance(filt, acc, gyr_dps, dt, still))


@kernel(inline="always")
def load(state):
    """The filter's state as a tuple (q, bias, force, age_s, yaw_rate_dps, started, up,
    correction, resting, fresh_s): a loop can carry it in registers, with no array loads and
    stores per sample. ``up`` (world up in the sensor frame) follows from ``q``; the tuple keeps
    it for the next sample's turn rate. ``resting``: the last sample was still (the rest's data
    stay in ``state``: ``at_rest``)."""
    q = _quaternion(state)
    return (
        q,
        get3(state, BIAS),
        get3(state, FORCE),
        state[AGE_S],
        state[YAW_RATE_DPS],
        state[STARTED],
        _up_in_sensor(q),
        get3(state, CORRECTION),
        state[RESTING] > 0.5,
        state[FRESH_S],
    )


@kernel(inline="always")
def store(state, filt):
    """Write a tuple from ``load`` / ``advance`` back to the state array."""
    q, bias, force, age_s, yaw_rate_dps, started, _, correction, resting, fresh_s = filt
    put(state, Q, q)
    put(state, CORRECTION, correction)
    put(state, BIAS, bias)
    put(state, FORCE, force)
    state[AGE_S], state[YAW_RATE_DPS], state[STARTED] = age_s, yaw_rate_dps, started
    state[RESTING] = 1.0 if resting else 0.0
    state[FRESH_S] = fresh_s


@kernel(inline="always")
def advance(filt, acc, gyr_dps, dt, still):
    """The state tuple after one more sample.

    Two things are taken a sample early, to keep them off the chain of dependent operations
    from one estimate to the next (a sample's turn is well under a degree, and the correction
    acts over seconds): the rate about the vertical is taken about the vertical as it stood
    before this sample's turn (the loop 6 % faster), and the tilt correction this sample
    computes is applied with the next sample's turn (the filter 40 → 35 ns a sample; the
    orientation benchmark's figures unchanged to their second decimal). While still, and as a
    rest ends, ``at_rest`` comes first."""
    q, bias, force, age_s, yaw_rate_dps, started, up_before, corr, resting, fresh_s = filt
    if started < 0.5:
        q, force, started = level_from_gravity(acc), (0.0, 0.0, G_MS2), 1.0
        up_before, corr, fresh_s = _up_in_sensor(q), (0.0, 0.0, 0.0), 0.0
    age_s += dt
    fresh_s += dt
    rx = (gyr_dps[0] * RAD_PER_DEG - bias[0]) * dt + corr[0]
    ry = (gyr_dps[1] * RAD_PER_DEG - bias[1]) * dt + corr[1]
    rz = (gyr_dps[2] * RAD_PER_DEG - bias[2]) * dt + corr[2]
    step = _tilt_step(yaw_rate_dps, age_s, force, dt, still)
    corr = (0.0, 0.0, 0.0)
    if step > 0.0:
        error, force = _tilt_error(force, step)
        sx, sy, sz = rotate_back(q, error)  # the same error in the sensor frame
        corr = (sx * step, sy * step, sz * step)
        if not still and age_s >= START_S:  # in the sensor frame, what a gyro bias would cause
            k = BIAS_GAIN / TILT_GAIN * step
            bias = (bias[0] - k * sx, bias[1] - k * sy, bias[2] - k * sz)
    was_turning = _turn(yaw_rate_dps)
    yaw_rate_dps += weight(dt, TURN_TAU_S) * (dot(gyr_dps, up_before) - yaw_rate_dps)
    if was_turning and not _turn(yaw_rate_dps):
        force = (0.0, 0.0, G_MS2)
    q = renormalise(multiply(q, from_rotvec(rx, ry, rz)))
    force = toward(force, rotate(q, acc), _force_weight(dt, fresh_s))
    return q, bias, force, age_s, yaw_rate_dps, started, _up_in_sensor(q), corr, resting, fresh_s


@kernel(inline="always")
def _force_weight(dt, fresh_s):
    """The weight of a sample in the average force: over ``FORCE_TAU_S``, or as a plain mean
    while the average is fresh (``FRESH_FLOOR_S``)."""
    w = weight(dt, FORCE_TAU_S)
    if fresh_s < FORCE_TAU_S:
        w = max(w, dt / max(fresh_s, FRESH_FLOOR_S))
    return w


@kernel(inline="always")
def after_lost_samples(filt):
    """The state tuple after samples were lost (a gap, or a hole bridged): the pelvis turned
    through them unseen, and the tilt is corrected as at the start (``START_S``)."""
    q, bias, force, _, yaw_rate_dps, started, up_before, corr, resting, fresh_s = filt
    return q, bias, force, 0.0, yaw_rate_dps, started, up_before, corr, resting, fresh_s


@kernel(inline="always")
def after_gap(filt):
    """The state tuple after a gap: as ``after_lost_samples``, and the average force starts
    afresh. The estimate has turned by what the pelvis turned unseen, and the samples after
    the gap, averaged with the ones before it over ``FORCE_TAU_S``, showed that error only
    slowly: read afresh, the drops over the 6 s after gaps came out 1.88° → 1.14° RMS off. Not
    after a hole, whose bridge leaves less error, and which recur: restarted at each hole, the
    average was too short (with 5 % of packets lost, 0.7–1.0° → 0.8–1.1°)."""
    q, bias, force, _, yaw_rate_dps, started, up_before, corr, resting, _ = filt
    return q, bias, force, 0.0, yaw_rate_dps, started, up_before, corr, resting, 0.0


@kernel(inline="always")
def after_bridged_gap(filt, up_then):
    """The state tuple after a gap bridged from the strides before it (``_bridge.bridged_up``):
    turned by the least rotation that makes world up read ``up_then`` in the sensor frame (the
    tilt the pelvis had at the same phase of the matched stride; the heading is kept), then
    corrected as after any lost samples. The average force is kept: it is in the world frame,
    and the tilt it is compared with is right again. After gaps of 0.3–1 s in ten simulated
    runs, the drops over the first second read 0.45° RMS off instead of 2.55°; with the
    average force started afresh as well, 0.77°."""
    q = filt[0]
    now = _up_in_sensor(q)
    ax, ay, az = cross(up_then, now)  # turning the sensor by this takes up from now to then
    sine = math.sqrt(ax * ax + ay * ay + az * az)
    if sine > 1e-12:
        k = math.atan2(sine, dot(up_then, now)) / sine
        q = renormalise(multiply(q, from_rotvec(ax * k, ay * k, az * k)))
    _, bias, force, _, yaw_rate_dps, started, _, corr, resting, fresh_s = filt
    return q, bias, force, 0.0, yaw_rate_dps, started, _up_in_sensor(q), corr, resting, fresh_s


@kernel(inline="always")
def resting(filt):
    """A rest was under way at the last sample."""
    return filt[8]


@kernel
def at_rest(filt, acc, gyr_dps, dt, still, state):
    """The state tuple with the gyro bias read at rest, before ``advance`` takes the sample:
    while ``still``, and once as a rest ends (``_rest_bias``: its data stay in ``state``, the
    array the tuple came from). Not inlined: most samples do not call it, and the loop that
    does not carry its code runs ≈ 3 % faster (the feed, alternating with and without)."""
    q, bias, force, age_s, yaw_rate_dps, started, up_before, corr, was_resting, fresh_s = filt
    if still:
        gyr = _radians(gyr_dps)
        rest_bias.step(state, REST, bias, gyr, acc, dt, not was_resting)
        bias = toward(bias, gyr, weight(dt, STILL_BIAS_TAU_S))
    else:
        bias = rest_bias.bias_after(state, REST)
    return q, bias, force, age_s, yaw_rate_dps, started, up_before, corr, still, fresh_s


@kernel(inline="always")
def up_in_sensor(state):
    """World up (0, 0, 1) in the sensor frame, from the filter's state: a 3-tuple."""
    return _up_in_sensor(_quaternion(state))


@kernel(inline="always")
def up(filt):
    """World up in the sensor frame from a state tuple."""
    return filt[6]


@kernel(inline="always")
def bias_after_rest(state):
    """The bias (rad/s, sensor axes) the estimate keeps if the present rest ends now."""
    return rest_bias.bias_after(state, REST)


@kernel(inline="always")
def turning(filt):
    """The mean rate about the vertical is above ``TURN_DPS``."""
    return _turn(filt[4])


@kernel(inline="always")
def _turn(yaw_rate_dps):
    """A mean rate about the vertical (deg/s) this high is a turn."""
    return abs(yaw_rate_dps) > TURN_DPS


@kernel(inline="always")
def _radians(gyr_dps):
    return gyr_dps[0] * RAD_PER_DEG, gyr_dps[1] * RAD_PER_DEG, gyr_dps[2] * RAD_PER_DEG


@kernel(inline="always")
def _tilt_step(yaw_rate_dps, age_s, force, dt, still):
    """This sample's correction gain × dt; 0 while turning (and moving), and without a usable
    reference (the average force below g/2, e.g. after a long free fall)."""
    if _turn(yaw_rate_dps) and not still:
        return 0.0
    if force[0] * force[0] + force[1] * force[1] + force[2] * force[2] < (0.5 * G_MS2) ** 2:
        return 0.0
    return (STILL_TILT_GAIN if (still or age_s < START_S) else TILT_GAIN) * dt


@kernel(inline="always")
def _tilt_error(force, step):
    """The world-frame tilt error ``F × z / g`` of the average force ``F`` up to the previous
    sample, and ``F`` turned by ``step`` × the error, as the estimate is: ``F += r × F``.

    The average is about g (over whole strides, and at rest), so the error's size is the sine
    of the tilt error; dividing by g instead of by ``|F|`` keeps a square root and a division
    off the per-sample path, and changed no figure of the orientation benchmark.
    """
    fx, fy, fz = force
    ex, ey = fy * (1 / G_MS2), -fx * (1 / G_MS2)
    rx, ry = ex * step, ey * step
    return (ex, ey, 0.0), (fx + ry * fz, fy - rx * fz, fz + rx * fy - ry * fx)


@kernel(inline="always")
def _quaternion(state):
    return state[Q], state[Q + 1], state[Q + 2], state[Q + 3]
