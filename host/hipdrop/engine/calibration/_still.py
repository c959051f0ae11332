"""Still detector (Numba kernel): is the sensor at rest.

Per sample, exponential moving statistics (time constant ``WINDOW_S``) of the gyro and of the
specific-force magnitude; "still" once both have stayed quiet for ``HOLD_S``. While still, the
orientation filter trusts gravity fully and learns the gyro bias, and the pelvis axes take the
neutral.
"""

import math

from .._jit import kernel
from .._vec import weight

WINDOW_S = 0.4
HOLD_S = 0.6
GYR_STD_MAX_DPS = 2.0
ACC_STD_MAX_MS2 = 0.12
G_TOLERANCE = 0.12
"""|f| must be within 12 % of g."""
G_MS2 = 9.80665

# state slots
_GYR_MEAN = 0  # 3 slots, deg/s
_GYR_SQ = 3  # 3 slots
_ACC_NORM_MEAN = 6
_ACC_NORM_SQ = 7
QUIET_S = 8
"""Seconds the signals have been quiet (0 while moving)."""
STILL = 9
"""1.0 while still."""
_STARTED = 10
STATE_SIZE = 11


@kernel(error_model="numpy")
def still_step(state, acc, gyr_dps, dt):
    """Update the detector with one sample (3-tuples or arrays); return True while still.

    No division here can be by zero: Numba's NumPy error model drops the checks (and with them
    the reference counting of ``state``, see ``_vec``) without changing a result.
    """
    norm = math.sqrt(acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2])
    if state[_STARTED] < 0.5:  # start the statistics at the first sample, not at zero
        _start(state, gyr_dps, norm)
    a = weight(dt, WINDOW_S)
    gyr_var = 0.0
    for i in range(3):
        gyr_var += _moving_variance(state, _GYR_MEAN + i, _GYR_SQ + i, gyr_dps[i], a)
    acc_var = _moving_variance(state, _ACC_NORM_MEAN, _ACC_NORM_SQ, norm, a)
    quiet = (
        gyr_var < GYR_STD_MAX_DPS**2
        and acc_var < ACC_STD_MAX_MS2**2
        and abs(norm - G_MS2) < G_TOLERANCE * G_MS2
    )
    state[QUIET_S] = state[QUIET_S] + dt if quiet else 0.0
    still = state[QUIET_S] >= HOLD_S
    state[STILL] = 1.0 if still else 0.0  # last: one exit for ``state`` (no reference count)
    return still


@kernel(inline="always")
def _start(state, gyr_dps, norm):
    for i in range(3):
        state[_GYR_MEAN + i], state[_GYR_SQ + i] = gyr_dps[i], gyr_dps[i] * gyr_dps[i]
    state[_ACC_NORM_MEAN], state[_ACC_NORM_SQ] = norm, norm * norm
    state[_STARTED] = 1.0


@kernel(inline="always")
def _moving_variance(state, mean_at, square_at, x, a):
    """Update the moving mean of x and of x² (weight ``a``); return the variance (≥ 0)."""
    mean = state[mean_at] + a * (x - state[mean_at])
    square = state[square_at] + a * (x * x - state[square_at])
    state[mean_at], state[square_at] = mean, square
    return max(square - mean * mean, 0.0)
