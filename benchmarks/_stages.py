"""The engine's first three per-sample kernels alone, each in its own loop (``engine.py``, a).

Each loop feeds its kernel the same samples, as tuples, as ``_pipeline.process`` does; the
mounting kernel gets the orientation filter's up vectors and turn flags from the loop before
it, and counts every sample that is not still as running. What is left of the whole feed
(contacts, step measures, pelvis angles, the loop itself) is the feed's time minus these.
"""

import time

import numpy as np

from hipdrop.engine._jit import kernel
from hipdrop.engine.calibration import _mounting as mount
from hipdrop.engine.calibration import _still as still_mod
from hipdrop.engine.orientation import _filter as ori_mod


@kernel(cache=False)  # the engine's flags, uncached
def _still_loop(dt, acc, gyr, still):
    state = np.zeros(still_mod.STATE_SIZE)
    for k in range(len(dt)):
        a, g = (acc[k, 0], acc[k, 1], acc[k, 2]), (gyr[k, 0], gyr[k, 1], gyr[k, 2])
        still[k] = still_mod.still_step(state, a, g, dt[k])


@kernel(cache=False)  # the engine's flags, uncached
def _orientation_loop(dt, acc, gyr, still, up, turning):
    state = np.zeros(ori_mod.STATE_SIZE)
    for k in range(len(dt)):
        a, g = (acc[k, 0], acc[k, 1], acc[k, 2]), (gyr[k, 0], gyr[k, 1], gyr[k, 2])
        ori_mod.orientation_step(state, a, g, dt[k], still[k])
        up[k, 0], up[k, 1], up[k, 2] = ori_mod.up_in_sensor(state)
        turning[k] = abs(state[ori_mod.YAW_RATE_DPS]) > ori_mod.TURN_DPS


@kernel(cache=False)  # the engine's flags, uncached
def _mounting_loop(t, dt, acc, gyr, still, up, turning):
    state = np.zeros(mount.STATE_SIZE)
    mount.note_step(state, 0.34)  # as at the first running contact
    for k in range(len(dt)):
        a, u = (acc[k, 0], acc[k, 1], acc[k, 2]), (up[k, 0], up[k, 1], up[k, 2])
        g = (gyr[k, 0], gyr[k, 1], gyr[k, 2])
        mount.mounting_step(state, u, a, g, t[k], dt[k], still[k], not still[k], turning[k])


def _best(repeat, work, *args):
    work(*args)  # compile
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work(*args)
        best = min(best, time.perf_counter() - start)
    return best


def stage_times(rec, repeat):
    """Best-of-``repeat`` seconds of each kernel alone over the recording, in pipeline order."""
    t = np.ascontiguousarray(rec.time_s, dtype=float)
    acc = np.ascontiguousarray(rec.acc_ms2, dtype=float)
    gyr = np.ascontiguousarray(rec.gyr_dps, dtype=float)
    dt = np.diff(t, prepend=t[0] - np.median(np.diff(t)))
    still = np.zeros(len(t), dtype=np.bool_)
    up, turning = np.zeros((len(t), 3)), np.zeros(len(t), dtype=np.bool_)
    return {
        "still detector": _best(repeat, _still_loop, dt, acc, gyr, still),
        "orientation filter (+ up)": _best(
            repeat, _orientation_loop, dt, acc, gyr, still, up, turning
        ),
        "pelvis axes (mounting)": _best(
            repeat, _mounting_loop, t, dt, acc, gyr, still, up, turning
        ),
    }
