"""Orientation filters for ``engine.py``'s comparison: hipdrop's kernel and the published peers.

Each runner takes a recording (sensor frame: m/s², deg/s) and returns world up expressed in the
sensor frame, (n, 3) unit vectors, so every filter is scored the same way whatever its
quaternion convention. The peers (``imufusion``, ``ahrs``) are benchmark-only: they are looked
for in ``.tools/peers`` (``pip install --target .tools/peers imufusion ahrs``) and never become
runtime dependencies of hipdrop.
"""

import sys
from pathlib import Path

import numpy as np

from hipdrop.engine._jit import kernel
from hipdrop.engine.calibration import _still as still_mod
from hipdrop.engine.orientation import _filter as ori_mod

G_MS2 = 9.80665
PEERS_DIR = Path(__file__).resolve().parents[1] / ".tools" / "peers"


def add_peers_path():
    """Make the benchmark-only peers importable (appended: the venv's numpy stays first)."""
    if PEERS_DIR.is_dir() and str(PEERS_DIR) not in sys.path:
        sys.path.append(str(PEERS_DIR))


def third_row(q):
    """World z in the frame that ``q`` (w, x, y, z) maps from: the third row of R(q)."""
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=float), -1, 0)
    return np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1)


def sample_rate_hz(rec):
    return 1.0 / float(np.median(np.diff(rec.time_s)))


@kernel(cache=False)  # the engine's flags, uncached
def _hipdrop_loop(t, acc, gyr, out_up):
    """Still detector → orientation filter per sample, with dt as ``_pipeline.process`` takes it."""
    still_st = np.zeros(still_mod.STATE_SIZE)
    ori_st = np.zeros(ori_mod.STATE_SIZE)
    prev = t[0] - 0.005
    for k in range(len(t)):
        dt = t[k] - prev
        prev = t[k]
        a = (acc[k, 0], acc[k, 1], acc[k, 2])  # tuples, as the pipeline passes them
        g = (gyr[k, 0], gyr[k, 1], gyr[k, 2])
        is_still = still_mod.still_step(still_st, a, g, dt)
        ori_mod.orientation_step(ori_st, a, g, dt, is_still)
        out_up[k, 0], out_up[k, 1], out_up[k, 2] = ori_mod.up_in_sensor(ori_st)


def run_hipdrop(rec):
    up = np.zeros((len(rec), 3))
    _hipdrop_loop(
        np.ascontiguousarray(rec.time_s),
        np.ascontiguousarray(rec.acc_ms2),
        np.ascontiguousarray(rec.gyr_dps),
        up,
    )
    return up


def _run_fusion(rec, settings):
    """imufusion: gyro deg/s, accelerometer g; quaternion (w, x, y, z) sensor → earth, NWU."""
    import imufusion

    ahrs = imufusion.Ahrs()
    ahrs.set_settings(settings)
    gyr = np.ascontiguousarray(rec.gyr_dps, dtype=np.float64)
    acc = np.ascontiguousarray(rec.acc_ms2 / G_MS2, dtype=np.float64)
    q = np.empty((len(rec), 4))
    for k in range(len(rec)):
        ahrs.update_no_magnetometer(gyr[k], acc[k])
        q[k] = ahrs.get_quaternion()
    return third_row(q)


def run_fusion_default(rec):
    import imufusion

    return _run_fusion(rec, imufusion.AhrsSettings(sample_rate=sample_rate_hz(rec)))


def run_fusion_running(rec):
    """x-io's recommended values: 10° rejection, 5 s recovery timeout, the gyro's range."""
    import imufusion

    settings = imufusion.AhrsSettings(
        sample_rate=sample_rate_hz(rec),
        gain=0.5,
        gyroscope_range=1000.0,
        acceleration_rejection=10.0,
        rejection_timeout=5.0,
    )
    return _run_fusion(rec, settings)


def _run_ahrs(name, rec):
    """ahrs: gyro rad/s, acc m/s²; Q (w, x, y, z) sensor → earth (EKF default frame NED, whose
    gravity reference [0, 0, 1] is matched to the measured specific force, i.e. to up)."""
    from ahrs import filters

    cls = getattr(filters, name)
    est = cls(
        gyr=np.radians(rec.gyr_dps), acc=np.asarray(rec.acc_ms2), frequency=sample_rate_hz(rec)
    )
    return third_row(est.Q)


def run_madgwick(rec):
    return _run_ahrs("Madgwick", rec)


def run_mahony(rec):
    return _run_ahrs("Mahony", rec)


def run_ekf(rec):
    return _run_ahrs("EKF", rec)


FILTERS = {
    "hipdrop": (run_hipdrop, None),
    "imufusion default": (run_fusion_default, "imufusion"),
    "imufusion running": (run_fusion_running, "imufusion"),
    "ahrs Madgwick": (run_madgwick, "ahrs"),
    "ahrs Mahony": (run_mahony, "ahrs"),
    "ahrs EKF": (run_ekf, "ahrs"),
}
"""name → (runner, module it needs or None)."""


def available(module):
    """None when importable, else the reason (for the table)."""
    if module is None:
        return None
    try:
        __import__(module)
    except ImportError as error:
        return f"not installed ({error.__class__.__name__})"
    return None
