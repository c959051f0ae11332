"""Small Numba helpers for 3-vectors and unit quaternions (w, x, y, z), used by the kernels.

Quaternions map sensor-frame vectors into the world frame: ``v_world = rotate(q, v_sensor)``.
"""

import math

from numba import njit


@njit(cache=True)
def rotate(q, v, out):
    """out = q ⊗ v ⊗ q*."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    tx = 2.0 * (y * v[2] - z * v[1])
    ty = 2.0 * (z * v[0] - x * v[2])
    tz = 2.0 * (x * v[1] - y * v[0])
    out[0] = v[0] + w * tx + (y * tz - z * ty)
    out[1] = v[1] + w * ty + (z * tx - x * tz)
    out[2] = v[2] + w * tz + (x * ty - y * tx)


@njit(cache=True)
def up_in_sensor(q, out):
    """World up (0, 0, 1) expressed in the sensor frame: the third row of R(q)."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    out[0] = 2.0 * (x * z - w * y)
    out[1] = 2.0 * (y * z + w * x)
    out[2] = 1.0 - 2.0 * (x * x + y * y)


@njit(cache=True)
def turn(q, rx, ry, rz, right):
    """Compose q with the rotation vector (rx, ry, rz) [rad]: on the right (sensor frame,
    q ⊗ δ) when ``right``, else on the left (world frame, δ ⊗ q). Renormalises."""
    angle = math.sqrt(rx * rx + ry * ry + rz * rz)
    if angle < 1e-12:
        return
    s = math.sin(0.5 * angle) / angle
    dw, dx, dy, dz = math.cos(0.5 * angle), rx * s, ry * s, rz * s
    if right:
        aw, ax, ay, az, bw, bx, by, bz = q[0], q[1], q[2], q[3], dw, dx, dy, dz
    else:
        aw, ax, ay, az, bw, bx, by, bz = dw, dx, dy, dz, q[0], q[1], q[2], q[3]
    w = aw * bw - ax * bx - ay * by - az * bz
    x = aw * bx + ax * bw + ay * bz - az * by
    y = aw * by - ax * bz + ay * bw + az * bx
    z = aw * bz + ax * by - ay * bx + az * bw
    n = math.sqrt(w * w + x * x + y * y + z * z)
    q[0], q[1], q[2], q[3] = w / n, x / n, y / n, z / n


@njit(cache=True)
def level_from_gravity(f, q):
    """q that rotates the measured specific force ``f`` onto world up (zero heading)."""
    n = math.sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2])
    ux, uy, uz = f[0] / n, f[1] / n, f[2] / n
    # rotation taking u to z: axis u × z = (uy, -ux, 0), angle acos(uz)
    q[0], q[1], q[2], q[3] = 1.0, 0.0, 0.0, 0.0
    s = math.sqrt(ux * ux + uy * uy)
    if s < 1e-12:
        if uz < 0:
            q[0], q[1] = 0.0, 1.0
        return
    angle = math.atan2(s, uz)
    turn(q, uy / s * angle, -ux / s * angle, 0.0, False)
