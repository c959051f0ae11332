"""Vectorised unit-quaternion algebra (w, x, y, z; Hamilton product; active rotations).

A quaternion ``q`` maps vectors from its child frame into its parent frame:
``v_parent = rotate(q, v_child)``.
"""

import numpy as np


def from_euler_zyx_deg(yaw_deg, pitch_deg, roll_deg):
    """Quaternions of ZYX Euler angles (yaw about z, then pitch about y, then roll about x)."""
    half = np.radians(np.stack(np.broadcast_arrays(yaw_deg, pitch_deg, roll_deg), axis=-1)) / 2
    cy, cp, cr = np.cos(half).T
    sy, sp, sr = np.sin(half).T
    q = np.stack(
        [
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        ],
        axis=-1,
    )
    return q


def to_euler_zyx_deg(q):
    """Inverse of :func:`from_euler_zyx_deg`: columns yaw, pitch, roll in degrees."""
    w, x, y, z = np.moveaxis(np.asarray(q), -1, 0)
    roll = np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0))
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return np.degrees(np.stack([yaw, pitch, roll], axis=-1))


def multiply(a, b):
    """Hamilton product ``a ⊗ b`` (apply ``b`` first, then ``a``)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def conjugate(q):
    return np.asarray(q) * np.array([1.0, -1.0, -1.0, -1.0])


def rotate(q, v):
    """Rotate vectors ``v`` (..., 3) by quaternions ``q`` (..., 4)."""
    q = np.asarray(q)
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + q[..., :1] * t + np.cross(u, t)


def from_rotvec(rotvec):
    """Quaternions of rotation vectors (axis × angle, radians)."""
    rotvec = np.asarray(rotvec, dtype=float)
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    half = angle / 2
    scale = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.concatenate([np.cos(half), rotvec * scale], axis=-1)


def to_rotvec(q):
    """Rotation vectors (radians) of quaternions, choosing the short way round."""
    q = np.asarray(q)
    q = np.where(q[..., :1] < 0, -q, q)
    sin_half = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2 * np.arctan2(sin_half, q[..., :1])
    scale = np.where(sin_half > 1e-12, angle / np.where(sin_half > 1e-12, sin_half, 1.0), 2.0)
    return q[..., 1:] * scale


def body_rates(q, dt_s):
    """Constant body-frame angular rate (rad/s) that carries each ``q[k]`` exactly to ``q[k+1]``.

    The last sample repeats the previous rate, so the output has the input's length.
    """
    delta = multiply(conjugate(q[:-1]), q[1:])
    rates = to_rotvec(delta) / dt_s
    return np.concatenate([rates, rates[-1:]], axis=0)


def integrate_body_rates(q0, rates, dt_s):
    """Exact integration of piecewise-constant body rates (inverse of :func:`body_rates`)."""
    steps = from_rotvec(rates[:-1] * dt_s)
    out = np.empty((len(rates), 4))
    out[0] = q0
    for k, step in enumerate(steps):
        out[k + 1] = multiply(out[k], step)
    return out
