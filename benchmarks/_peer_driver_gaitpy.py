"""Peer driver, run by gait_peers.py in GaitPy's own venv (Python 3.6: keep it plain).

    python _peer_driver_gaitpy.py CSV OUT_JSON

GaitPy uses the vertical acceleration only, in m/s² with gravity at -9.8 (pointing down), and
timestamps in ms; we pass -acc_z and t*1000. The whole recording is one bout (no
classified_gait). It resamples to 50 Hz itself and has no left/right. Height only scales its
spatial outputs, so a nominal 170 cm is passed.
"""

import json
import sys
import time
import warnings

start = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from gaitpy.gait import Gaitpy  # noqa: E402

IMPORT_S = time.perf_counter() - start


def main(csv, out):
    raw = np.loadtxt(csv, delimiter=",", skiprows=1)
    rate_hz = float(round(1.0 / np.median(np.diff(raw[:, 0])), 3))
    frame = pd.DataFrame({"timestamps": raw[:, 0] * 1000.0, "y": -raw[:, 3]})
    begin = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gait = Gaitpy(frame, rate_hz, v_acc_col_name="y", ts_col_name="timestamps", ts_units="ms")
        features = gait.extract_features(170, subject_height_units="centimeters")
    t_ic = []
    if features is not None and not features.empty:
        t_ic = sorted(set(float(t) / 1000.0 for t in features["IC"]))
    method = {"t_ic": t_ic, "side": None, "compute_s": time.perf_counter() - begin}
    with open(out, "w") as f:
        json.dump({"import_s": IMPORT_S, "methods": {"GaitPy": method}}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
