"""``hipdrop export``: a session's samples, steps and minutes as files for pandas, R or Excel.

Samples go to PATH in the CSV interchange format (``time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z``:
s on the session clock, m/s², deg/s, the sensor's axes as worn, never re-aligned); the steps and
the per-minute aggregates go beside it, ``run.csv`` → ``run.steps.csv``, ``run.minutes.csv``.
Parquet writes the same three tables (needs the ``parquet`` extra: pyarrow).
"""

import csv
from pathlib import Path

import numpy as np

from ..errors import HipdropError
from ._csvwrite import format_rows
from .schema import STEP_COLUMNS

FORMATS = ("csv", "parquet")
SAMPLE_COLUMNS = ("time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
DECIMALS = (6, 5, 5, 5, 5, 5, 5)
"""Written precision: µs for time; 1e-5 m/s² and deg/s, below one count of any range."""
_CHUNK_ROWS = 100_000


def sibling(path, part) -> Path:
    """``run.csv`` → ``run.<part>.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.{part}{path.suffix}")


def export(samples, results: dict, path, fmt="csv", progress=None) -> list[Path]:
    """Write the samples to ``path`` and the steps and minutes beside it; returns the paths.

    ``progress(done, total)`` is called as sample rows are written.
    """
    if fmt not in FORMATS:
        raise HipdropError(f"unknown export format {fmt!r}; choose {' or '.join(FORMATS)}")
    path = Path(path)
    table = np.column_stack([samples.time_s, samples.acc_ms2, samples.gyr_dps])
    steps, minutes = results["steps"], results["minutes"]
    minute_columns = list(minutes[0]) if minutes else []
    paths = [path, sibling(path, "steps"), sibling(path, "minutes")]
    if fmt == "parquet":
        _write_parquet(paths, table, steps, minutes, minute_columns)
    else:
        _write_samples_csv(paths[0], table, progress)
        _write_dicts_csv(paths[1], steps, STEP_COLUMNS)
        _write_dicts_csv(paths[2], minutes, minute_columns)
    return paths


def _write_samples_csv(path, table, progress):
    with open(path, "wb") as out:
        out.write((",".join(SAMPLE_COLUMNS) + "\n").encode())
        for start in range(0, len(table), _CHUNK_ROWS):
            out.write(format_rows(table[start : start + _CHUNK_ROWS], DECIMALS))
            if progress:
                progress(min(start + _CHUNK_ROWS, len(table)), len(table))


def _write_dicts_csv(path, rows, columns):
    """One row per dict; an empty cell for None."""
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([["" if r[c] is None else r[c] for c in columns] for r in rows])


def _write_parquet(paths, table, steps, minutes, minute_columns):
    pa, pq = _pyarrow()
    samples = {name: table[:, j] for j, name in enumerate(SAMPLE_COLUMNS)}
    pq.write_table(pa.table(samples), paths[0])
    for path, rows, columns in (
        (paths[1], steps, STEP_COLUMNS),
        (paths[2], minutes, minute_columns),
    ):
        pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}), path)


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise HipdropError(
            "Parquet export needs pyarrow, which is not installed: "
            "pip install 'hipdrop[parquet]' (or export with --format csv)"
        ) from None
    return pyarrow, pyarrow.parquet
