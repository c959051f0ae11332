"""Small Numba helpers for 3-vectors, unit quaternions (w, x, y, z) and state slots.

Quaternions map sensor-frame vectors into the world frame: ``v_world = rotate(q, v_sensor)``.
Every helper takes tuples (or 1-D arrays), returns a new tuple, and is inlined into the kernel
that calls it.

Notes
-----
How the per-sample kernels stay fast (≈ 1.2 M samples in a 100-minute run): Numba counts
references to an array (an atomic operation, and a call) whenever a kernel makes a view of it
(``acc[k]``, ``state[0:4]``), and, for the kernel's own array arguments, whenever the kernel
calls a function that is not inlined or may raise. So the kernels take per-sample vectors as
tuples, call only inlined helpers, use the NumPy error model where no division can be by zero
(no ``ZeroDivisionError`` checks, same results), and keep their last use of ``state`` after
their branches meet. A kernel's values then stay in registers, and its state array is read and
written in place."""

import math

from ._jit import kernel

SERIES_MAX_RAD = 0.2
"""Below this angle ``from_rotvec`` uses truncated series for cos(θ/2) and sin(θ/2)/θ: the
first omitted terms, (θ/2)¹⁰/10! and (θ/2)¹⁰/(2·11!), are under 3e-17 there, below half an ulp
of either result, so the series is as exact as the trigonometric functions (and several times
cheaper). A sample's rotation stays below it up to 2,000 °/s at 200 Hz."""


@kernel(inline="always")
def get3(state, at):
    """Three consecutive state slots as a tuple."""
    return state[at], state[at + 1], state[at + 2]


@kernel(inline="always")
def put(state, at, values):
    """Write a tuple to consecutive state slots from ``at``."""
    for i, value in enumerate(values):
        state[at + i] = value


@kernel(inline="always")
def weight(dt, tau):
    """The weight of a sample ``dt`` long in a moving average over ``tau``: min(dt / tau, 1).

    Computed as dt × (1 / tau): with ``tau`` a constant, its reciprocal is folded at compile
    time and no division is left (the weight differs from dt / tau in the last bit at most).
    """
    return min(dt * (1.0 / tau), 1.0)


@kernel(inline="always")
def dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


@kernel(inline="always")
def cross(a, b):
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


@kernel(inline="always")
def unit(v):
    """v / |v| (one division)."""
    k = 1.0 / math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return v[0] * k, v[1] * k, v[2] * k


@kernel(inline="always")
def level_forces(up, forward, acc, fv):
    """Specific force ``acc`` along ``forward`` made level, and along the level left axis (up ×
    that forward); ``up`` and ``forward`` unit, ``fv`` = acc · up."""
    tilt = dot(forward, up)
    scale = 1.0 / math.sqrt(max(1.0 - tilt * tilt, 1e-6))
    return (dot(acc, forward) - tilt * fv) * scale, dot(acc, cross(up, forward)) * scale


@kernel(inline="always")
def plus_scaled(a, b, scale):
    """a + scale · b for 3-vectors."""
    return a[0] + b[0] * scale, a[1] + b[1] * scale, a[2] + b[2] * scale


@kernel(inline="always")
def toward(mean, value, a):
    """One step of a moving average of 3-vectors: ``mean + a (value − mean)``."""
    return (
        mean[0] + a * (value[0] - mean[0]),
        mean[1] + a * (value[1] - mean[1]),
        mean[2] + a * (value[2] - mean[2]),
    )


@kernel(inline="always")
def turn_about(v, k, c, s):
    """``v`` turned about the unit axis ``k`` by the angle whose cosine and sine are ``c``, ``s``
    (Rodrigues: v c + (k × v) s + k (k·v)(1 − c))."""
    kv = (1.0 - c) * (k[0] * v[0] + k[1] * v[1] + k[2] * v[2])
    return (
        v[0] * c + (k[1] * v[2] - k[2] * v[1]) * s + k[0] * kv,
        v[1] * c + (k[2] * v[0] - k[0] * v[2]) * s + k[1] * kv,
        v[2] * c + (k[0] * v[1] - k[1] * v[0]) * s + k[2] * kv,
    )


@kernel(inline="always")
def multiply(a, b):
    """The Hamilton product a ⊗ b."""
    return (
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    )


@kernel(inline="always")
def rotate(q, v):
    """q ⊗ v ⊗ q*: a sensor-frame vector in the world frame."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    tx = 2.0 * (y * v[2] - z * v[1])
    ty = 2.0 * (z * v[0] - x * v[2])
    tz = 2.0 * (x * v[1] - y * v[0])
    return (
        v[0] + w * tx + (y * tz - z * ty),
        v[1] + w * ty + (z * tx - x * tz),
        v[2] + w * tz + (x * ty - y * tx),
    )


@kernel(inline="always")
def rotate_back(q, v):
    """q* ⊗ v ⊗ q: a world-frame vector in the sensor frame."""
    return rotate((q[0], -q[1], -q[2], -q[3]), v)


@kernel(inline="always")
def up_in_sensor(q):
    """World up (0, 0, 1) expressed in the sensor frame: the third row of R(q)."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    return 2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)


@kernel(inline="always")
def from_rotvec(rx, ry, rz):
    """The unit quaternion of the rotation vector (rx, ry, rz) [rad]."""
    angle2 = rx * rx + ry * ry + rz * rz
    if angle2 < SERIES_MAX_RAD * SERIES_MAX_RAD:
        h2 = 0.25 * angle2  # (θ/2)²; Estrin's scheme: a shorter chain of dependent steps
        h4 = h2 * h2
        c = (1 - h2 * (1 / 2)) + h4 * ((1 / 24 - h2 * (1 / 720)) + h4 * (1 / 40320))
        s = (1 / 2 - h2 * (1 / 12)) + h4 * ((1 / 240 - h2 * (1 / 10080)) + h4 * (1 / 725760))
        return c, rx * s, ry * s, rz * s
    angle = math.sqrt(angle2)
    s = math.sin(0.5 * angle) / angle
    return math.cos(0.5 * angle), rx * s, ry * s, rz * s


@kernel(inline="always")
def renormalise(q):
    """q, whose squared length is within 1e-8 of 1, scaled back to unit length.

    One Newton step for 1/|q|: for |q|² = 1 + ε it leaves an error of 3ε²/8, so it is exact to
    rounding wherever |ε| < 1e-8 — far more than the few ulp by which the product of two unit
    quaternions strays — and needs no square root or division.
    """
    k = 1.5 - 0.5 * (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    return q[0] * k, q[1] * k, q[2] * k, q[3] * k


@kernel(inline="always")
def level_from_gravity(f):
    """q that rotates the measured specific force ``f`` onto world up (zero heading); the
    identity when ``f`` is zero (no reference: any start will do)."""
    n = math.sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2])
    if n == 0.0:
        return 1.0, 0.0, 0.0, 0.0
    ux, uy, uz = f[0] / n, f[1] / n, f[2] / n
    # rotation taking u to z: axis u × z = (uy, -ux, 0), angle atan2(|u × z|, uz)
    s = math.sqrt(ux * ux + uy * uy)
    if s < 1e-12:
        return (1.0, 0.0, 0.0, 0.0) if uz >= 0 else (0.0, 1.0, 0.0, 0.0)
    angle = math.atan2(s, uz)
    return from_rotvec(uy / s * angle, -ux / s * angle, 0.0)
