"""Still detector (Numba kernel): is the sensor at rest, and what do gyro and gravity read then.

Per sample, exponential moving statistics (time constant ``WINDOW_S``) of the gyro and of the
specific-force magnitude; "still" once both have stayed quiet for ``HOLD_S``. While still, the
gyro reading is the gyro bias and the specific force is gravity.
"""

import math

from numba import njit

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
STILL_GYR_DPS = 10  # 3 slots: gyro mean over the current still period
STILL_ACC = 13  # 3 slots: specific-force mean over the current still period
STILL_SAMPLES = 16
_STARTED = 17
STATE_SIZE = 18


@njit(cache=True)
def still_step(state, acc, gyr_dps, dt):
    """Update the detector with one sample; return True while still."""
    a = min(dt / WINDOW_S, 1.0)
    norm = math.sqrt(acc[0] ** 2 + acc[1] ** 2 + acc[2] ** 2)
    if state[_STARTED] < 0.5:  # start the statistics at the first sample, not at zero
        for i in range(3):
            state[_GYR_MEAN + i], state[_GYR_SQ + i] = gyr_dps[i], gyr_dps[i] ** 2
        state[_ACC_NORM_MEAN], state[_ACC_NORM_SQ] = norm, norm * norm
        state[_STARTED] = 1.0
    gyr_var = 0.0
    for i in range(3):
        state[_GYR_MEAN + i] += a * (gyr_dps[i] - state[_GYR_MEAN + i])
        state[_GYR_SQ + i] += a * (gyr_dps[i] ** 2 - state[_GYR_SQ + i])
        gyr_var += max(state[_GYR_SQ + i] - state[_GYR_MEAN + i] ** 2, 0.0)
    state[_ACC_NORM_MEAN] += a * (norm - state[_ACC_NORM_MEAN])
    state[_ACC_NORM_SQ] += a * (norm * norm - state[_ACC_NORM_SQ])
    acc_var = max(state[_ACC_NORM_SQ] - state[_ACC_NORM_MEAN] ** 2, 0.0)
    quiet = (
        gyr_var < GYR_STD_MAX_DPS**2
        and acc_var < ACC_STD_MAX_MS2**2
        and abs(norm - G_MS2) < G_TOLERANCE * G_MS2
    )
    state[QUIET_S] = state[QUIET_S] + dt if quiet else 0.0
    was_still = state[STILL] > 0.5
    still = state[QUIET_S] >= HOLD_S
    state[STILL] = 1.0 if still else 0.0
    if still:
        _accumulate(state, acc, gyr_dps, was_still)
    return still


@njit(cache=True)
def _accumulate(state, acc, gyr_dps, continuing):
    """Running means of gyro and specific force over the current still period."""
    if not continuing:
        state[STILL_SAMPLES] = 0.0
    n = state[STILL_SAMPLES] + 1.0
    for i in range(3):
        state[STILL_GYR_DPS + i] += (gyr_dps[i] - state[STILL_GYR_DPS + i]) / n
        state[STILL_ACC + i] += (acc[i] - state[STILL_ACC + i]) / n
    state[STILL_SAMPLES] = n
