"""Write a recording in the CSV interchange format, with its ground truth as JSON beside it."""

import json
from pathlib import Path

import numpy as np

CSV_HEADER = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"


def truth_path(csv_path) -> Path:
    """``run.csv`` → ``run.truth.json``."""
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.stem + ".truth.json")


def write_csv(recording, csv_path):
    """Samples in the sensor's own axes (never re-aligned), m/s² and deg/s; truth beside them."""
    table = np.column_stack([recording.time_s, recording.acc_ms2, recording.gyr_dps])
    np.savetxt(
        csv_path, table, delimiter=",", header=CSV_HEADER, comments="", fmt=["%.6f"] + ["%.5f"] * 6
    )
    meta = {
        "scenario": recording.name,
        "seed": recording.seed,
        "sample_rate_hz": recording.spec.rate_hz,
        "mount_deg": list(recording.spec.mount_deg),
        **recording.truth.to_dict(),
    }
    truth_path(csv_path).write_text(json.dumps(meta, indent=1))
    return Path(csv_path), truth_path(csv_path)
