"""Peer driver, run by gait_peers.py in mobgap's own venv: CSV in, initial contacts out.

    python _peer_driver_mobgap.py CSV OUT_JSON

Our axes (x forward, y left, z up as worn) become mobgap's body frame by renaming, the way
``mobgap.utils.conversions.to_body_frame`` renames a Mobilise-D sensor frame (x up, y right,
z forward): is = z, ml = -y, pa = x. That is a proper rotation, so gyr maps the same way.
Units need no change (m/s², deg/s). Each detector runs on the whole recording, at the
recording's rate; ``LrcMcCamley`` (default "combined" axis) labels each detector's contacts.
"""

import json
import sys
import time

start = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from mobgap.initial_contacts import IcdHKLeeImproved, IcdIonescu, IcdShinImproved  # noqa: E402
from mobgap.laterality import LrcMcCamley  # noqa: E402

IMPORT_S = time.perf_counter() - start
DETECTORS = {
    "mobgap IcdShinImproved": IcdShinImproved,
    "mobgap IcdIonescu": IcdIonescu,
    "mobgap IcdHKLeeImproved": IcdHKLeeImproved,
}


def body_frame(raw):
    frame = {}
    for kind, c in (("acc", 1), ("gyr", 4)):
        frame[f"{kind}_is"] = raw[:, c + 2]
        frame[f"{kind}_ml"] = -raw[:, c + 1]
        frame[f"{kind}_pa"] = raw[:, c]
    return pd.DataFrame(frame)


def run(detector, data, time_s, rate_hz):
    begin = time.perf_counter()
    ics = detector().detect(data, sampling_rate_hz=rate_hz).ic_list_
    lr = LrcMcCamley().predict(data, ics, sampling_rate_hz=rate_hz).ic_lr_list_
    idx = lr["ic"].to_numpy(dtype=int)
    sides = ["L" if s == "left" else "R" for s in lr["lr_label"]]
    return {
        "t_ic": time_s[idx].tolist(),
        "side": sides,
        "compute_s": time.perf_counter() - begin,
    }


def main(csv, out):
    raw = np.loadtxt(csv, delimiter=",", skiprows=1)
    time_s = raw[:, 0]
    rate_hz = float(round(1.0 / np.median(np.diff(time_s)), 3))
    data = body_frame(raw)
    methods = {name: run(cls, data, time_s, rate_hz) for name, cls in DETECTORS.items()}
    with open(out, "w") as f:
        json.dump({"import_s": IMPORT_S, "methods": methods}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
