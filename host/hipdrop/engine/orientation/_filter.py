"""Sacral orientation filter for running (Numba kernel).

Gyro-driven tilt with a gravity reference that survives running: the accelerometer is never
trusted sample by sample (≈0 g in flight, 2–3 g plus impacts in stance). Instead each sample's
specific force is rotated into the world frame with the current estimate and averaged there
over ``FORCE_TAU_S`` (about two strides): the trunk's own acceleration averages out over whole
strides, the average points along gravity, and the estimate is turned slowly (``TILT_GAIN``)
until it does. Because the average is taken in the world frame, the pelvis's oscillation within
the stride does not leak into it. The same world-frame error, seen in the sensor frame, drives a
slow integral estimate of the gyro bias; while the still detector reports rest, the bias is read
directly and the tilt is corrected quickly. While the runner turns (mean rate about the vertical
above ``TURN_DPS``) the average force holds the centripetal force too, so neither tilt nor bias
is corrected until the turn is over.

Data requirements: sensor-frame specific force in m/s², angular rate in deg/s, any rate
50–400 Hz. Heading is free (arbitrary, drifting): only tilt is estimated.
"""

import math

from numba import njit

from .._vec import level_from_gravity, rotate, turn, up_in_sensor

FORCE_TAU_S = 1.5
TILT_GAIN = 0.3
"""1/s: tilt correction rate while moving."""
STILL_TILT_GAIN = 2.0
START_S = 3.0
"""For the first seconds the tilt gain is the still gain: converge from any start."""
BIAS_GAIN = 0.02
"""1/s²: integral gain of the gyro-bias estimate from the tilt error (with ``TILT_GAIN`` a
critically damped loop, time constant ≈ 7 s)."""
STILL_BIAS_TAU_S = 1.0
TURN_DPS = 30.0
TURN_TAU_S = 1.0
G_MS2 = 9.80665

# state slots
Q = 0  # 4 slots: sensor → world
BIAS = 4  # 3 slots, rad/s
FORCE = 7  # 3 slots: world-frame average specific force, m/s²
STARTED = 10
AGE_S = 11
YAW_RATE_DPS = 12
"""Mean rate about the world vertical over ``TURN_TAU_S``."""
STATE_SIZE = 13


@njit(cache=True)
def orientation_step(state, acc, gyr_dps, dt, still, scratch):
    """Advance the estimate by one sample. ``scratch``: a float array of 13 for temporaries."""
    if state[STARTED] < 0.5:
        _start(state, acc)
    state[AGE_S] += dt
    if still:
        _read_bias(state, gyr_dps, dt)
    k = math.pi / 180.0
    rx = gyr_dps[0] * k - state[BIAS]
    ry = gyr_dps[1] * k - state[BIAS + 1]
    rz = gyr_dps[2] * k - state[BIAS + 2]
    turn(state[Q : Q + 4], rx * dt, ry * dt, rz * dt, True)
    f_world = scratch[0:3]
    rotate(state[Q : Q + 4], acc, f_world)
    a = min(dt / FORCE_TAU_S, 1.0)
    for i in range(3):
        state[FORCE + i] += a * (f_world[i] - state[FORCE + i])
    up = scratch[3:6]
    up_in_sensor(state[Q : Q + 4], up)
    yaw_rate = gyr_dps[0] * up[0] + gyr_dps[1] * up[1] + gyr_dps[2] * up[2]
    state[YAW_RATE_DPS] += min(dt / TURN_TAU_S, 1.0) * (yaw_rate - state[YAW_RATE_DPS])
    if abs(state[YAW_RATE_DPS]) > TURN_DPS and not still:
        return
    gain = STILL_TILT_GAIN if (still or state[AGE_S] < START_S) else TILT_GAIN
    _correct_tilt(state, gain * dt, scratch[3:13], not still)


@njit(cache=True)
def _start(state, acc):
    level_from_gravity(acc, state[Q : Q + 4])
    state[FORCE], state[FORCE + 1], state[FORCE + 2] = 0.0, 0.0, G_MS2
    state[STARTED] = 1.0


@njit(cache=True)
def _read_bias(state, gyr_dps, dt):
    a = min(dt / STILL_BIAS_TAU_S, 1.0)
    for i in range(3):
        state[BIAS + i] += a * (gyr_dps[i] * math.pi / 180.0 - state[BIAS + i])


@njit(cache=True)
def _correct_tilt(state, step, scratch, learn_bias):
    """Turn the estimate (and the force average with it) so the average force points up.

    The world-frame error is ``F̂ × z`` (its size is the sine of the tilt error); seen in the
    sensor frame it is what a gyro bias would have caused, so it feeds the bias integral.
    """
    fx, fy, fz = state[FORCE], state[FORCE + 1], state[FORCE + 2]
    n = math.sqrt(fx * fx + fy * fy + fz * fz)
    if n < 0.5 * G_MS2:
        return  # no usable reference (e.g. a long free fall)
    ex, ey = fy / n, -fx / n
    rx, ry = ex * step, ey * step
    turn(state[Q : Q + 4], rx, ry, 0.0, False)
    state[FORCE] += ry * fz  # the average turns with the estimate: F += r × F
    state[FORCE + 1] -= rx * fz
    state[FORCE + 2] += rx * fy - ry * fx
    if learn_bias:
        _learn_bias(state, ex, ey, step, scratch)


@njit(cache=True)
def _learn_bias(state, ex, ey, step, scratch):
    q = state[Q : Q + 4]
    inverse = scratch[0:4]
    inverse[0], inverse[1], inverse[2], inverse[3] = q[0], -q[1], -q[2], -q[3]
    world_err = scratch[4:7]
    world_err[0], world_err[1], world_err[2] = ex, ey, 0.0
    sensor_err = scratch[7:10]
    rotate(inverse, world_err, sensor_err)
    for i in range(3):
        state[BIAS + i] -= BIAS_GAIN / TILT_GAIN * step * sensor_err[i]
