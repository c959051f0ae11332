"""Peer driver, run by gait_peers.py in scikit-digital-health's own venv.

    python _peer_driver_skdh.py CSV OUT_JSON

``skdh.gait.GaitLumbar().predict`` wants acc in g and gyr in rad/s; we convert. The whole
recording is declared gait (``gait_pred=True``, its default) and the vertical and forward axes
are named (v_axis=2, ap_axis=0: our z and x); its own orientation correction stays on.
GaitLumbar reports one row per gait cycle with its initial contact; it has no left/right.
"""

import json
import sys
import time
import warnings

start = time.perf_counter()
import numpy as np  # noqa: E402
from skdh.gait import GaitLumbar  # noqa: E402

IMPORT_S = time.perf_counter() - start
G_MS2 = 9.80665


def main(csv, out):
    raw = np.loadtxt(csv, delimiter=",", skiprows=1)
    time_s = raw[:, 0]
    rate_hz = float(round(1.0 / np.median(np.diff(time_s)), 3))
    begin = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = GaitLumbar().predict(
            time=time_s,
            accel=raw[:, 1:4] / G_MS2,
            gyro=np.radians(raw[:, 4:7]),
            fs=rate_hz,
            v_axis=2,
            ap_axis=0,
        )
    t_ic = sorted(set(float(t) for t in np.asarray(res["IC Timestamp"]).ravel()))
    method = {"t_ic": t_ic, "side": None, "compute_s": time.perf_counter() - begin}
    with open(out, "w") as f:
        json.dump({"import_s": IMPORT_S, "methods": {"skdh GaitLumbar": method}}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
