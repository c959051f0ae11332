"""The engine's input layer: read an interchange CSV, remap axes, convert units.

CSV header ``time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z`` (any order, extra columns ignored,
optional ``speed_mps``); specific force in m/s² (upright and still: +9.81 on z), deg/s, body
frame x forward, y left, z up. Every input problem is a :class:`~hipdrop.errors.HipdropError`;
``plausible.check_plausible`` then checks that the data can be a sacral IMU in those units.
"""

import itertools
import math
import re
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import HipdropError
from ._csvparse import read_numbers

G_MS2 = 9.80665
TIME = "time_s"
IMU_COLUMNS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
SPEED = "speed_mps"
ACC_UNITS = {"m/s2": 1.0, "g": G_MS2, "-m/s2": -1.0, "-g": -G_MS2}
"""The negative units are acceleration with gravity reading −1 g upward (Apple's Core Motion
convention), negated here into specific force. Read as specific force such data looks like a
sensor worn upside down and back to front, with left and right swapped: the mirror image of a
runner, which nothing in the data can tell from a real one."""
GYR_UNITS = {"deg/s": 1.0, "rad/s": 180.0 / np.pi}
MIN_DURATION_S = 2.0
COLUMNS_LINE = f"{TIME},{','.join(IMU_COLUMNS)}"
HEADER_HINT = f"{COLUMNS_LINE} (+ optional {SPEED})"
_AXIS = {"x": 0, "y": 1, "z": 2}
_ASSIGNMENT = re.compile(r"^\s*([xyz])\s*=\s*([+-]?)\s*([xyz])\s*$")


@dataclass(frozen=True)
class ImuData:
    """One recording of the sacral IMU, in the body frame (x forward, y left, z up)."""

    time_s: np.ndarray
    """(n,) sample times in s, strictly increasing."""
    acc_ms2: np.ndarray
    """(n, 3) specific force in m/s², C-contiguous."""
    gyr_dps: np.ndarray
    """(n, 3) angular rate in deg/s, C-contiguous."""
    sample_rate_hz: float
    """1 / median sample interval, Hz."""
    speed_mps: np.ndarray | None
    """(n,) treadmill speed in m/s, or None when unknown."""
    source: str
    notes: tuple[str, ...] = ()
    """Human-readable remarks about the input (remapping, units, dropped lines)."""


def parse_axes(text) -> np.ndarray:
    """Parse an axis remap such as ``x=-z,y=y,z=x`` into a 3×3 rotation matrix.

    Returns M with ``new = M @ old`` for every sample; each new axis takes exactly one
    signed old axis. Only proper rotations (det +1) are accepted: a mirror would swap
    the wearer's left and right.
    """
    parts = str(text).lower().split(",")
    matrix = np.zeros((3, 3))
    for part in parts:
        match = _ASSIGNMENT.match(part)
        if match is None:
            raise HipdropError(
                f"cannot read the axis remap {text!r} at {part.strip()!r}: write one "
                "assignment per axis such as 'x=-z,y=y,z=x'"
            )
        new, sign, old = match.groups()
        matrix[_AXIS[new], _AXIS[old]] = -1.0 if sign == "-" else 1.0
    ones = np.abs(matrix)
    if len(parts) != 3 or (ones.sum(axis=0) != 1).any() or (ones.sum(axis=1) != 1).any():
        raise HipdropError(
            f"axis remap {text!r} must assign each of x, y, z once, from x, y, z used once each"
        )
    if np.linalg.det(matrix) < 0:
        raise HipdropError(
            f"axis remap {text!r} is a mirror image, not a rotation: it would swap the "
            "wearer's left and right; flip the sign of one more axis"
        )
    return matrix


def read_csv(path, axes=None, acc_unit="m/s2", gyr_unit="deg/s", speed_mps=None) -> ImuData:
    """Read an interchange CSV into :class:`ImuData` (m/s², deg/s, body frame).

    Parameters
    ----------
    path : path of the CSV file.
    axes : optional remap such as ``"x=-z,y=y,z=x"`` (see :func:`parse_axes`), applied to
        acc and gyro alike, after the units.
    acc_unit : ``"m/s2"`` or ``"g"`` (× 9.80665).
    gyr_unit : ``"deg/s"`` or ``"rad/s"``.
    speed_mps : a constant treadmill speed in m/s; overrides any ``speed_mps`` column.
    """
    acc_scale, acc_notes = _unit_scale("acc", acc_unit, ACC_UNITS)
    gyr_scale, gyr_notes = _unit_scale("gyr", gyr_unit, GYR_UNITS)
    matrix = None if axes is None else parse_axes(axes)
    if speed_mps is not None:
        check_speed(np.array([float(speed_mps)]), "treadmill speed")
    path = Path(path)
    names = _read_header(path)
    wanted = [TIME, *IMU_COLUMNS] + ([SPEED] if SPEED in names else [])
    table, notes = _read_table(path, names, wanted)
    time_s = np.ascontiguousarray(table[:, 0])
    _check_time(path, time_s)
    acc, gyr = table[:, 1:4] * acc_scale, table[:, 4:7] * gyr_scale  # new C-order arrays
    notes += acc_notes + gyr_notes
    if matrix is not None:
        acc, gyr = acc @ matrix.T, gyr @ matrix.T
        notes.append(f"axes remapped: {axes}")
    speed, speed_notes = _speed(table, wanted, speed_mps)
    rate_hz = float(1.0 / np.median(np.diff(time_s)))
    return ImuData(time_s, acc, gyr, rate_hz, speed, str(path), tuple(notes + speed_notes))


def _unit_scale(sensor, unit, choices):
    """(factor to the engine's unit, notes); the engine's unit is the first choice."""
    if unit not in choices:
        raise HipdropError(f"unknown {sensor} unit {unit!r}; choose one of {', '.join(choices)}")
    base = next(iter(choices))
    return choices[unit], ([] if unit == base else [f"{sensor} converted from {unit} to {base}"])


def _read_header(path):
    """Column names of the CSV, lower-case, without quotes or whitespace."""
    if not path.is_file():
        raise HipdropError(f"{path}: no such file; check the path")
    _refuse_non_text(path)
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    if not header.strip():
        raise HipdropError(f"{path} is empty; expected a CSV with the header {HEADER_HINT}")
    names = [name.strip().strip("\"'").lower() for name in header.split(",")]
    missing = [name for name in (TIME, *IMU_COLUMNS) if name not in names]
    if missing:
        raise HipdropError(
            f"{path}: the header has no column {', '.join(missing)}; "
            f"expected {HEADER_HINT} (any order){_header_hint(header, names)}"
        )
    return names


_NOT_TEXT = (
    (b"\x1f\x8b", "is gzip-compressed: decompress it first (gunzip)"),
    (b"PK\x03\x04", "is a zip archive: extract the CSV from it first"),
    (b"\xff\xfe", "is UTF-16 text: save it as UTF-8"),
    (b"\xfe\xff", "is UTF-16 text: save it as UTF-8"),
)


def _refuse_non_text(path):
    """A compressed, UTF-16 or binary file gets a message that says so."""
    with path.open("rb") as handle:
        start = handle.read(4096)
    for magic, what in _NOT_TEXT:
        if start.startswith(magic):
            raise HipdropError(f"{path} {what}")
    if b"\0" in start:
        raise HipdropError(f"{path} is not text (a binary file); expected a CSV")


def _header_hint(header, names):
    """Why a header lacks the columns, where a common export explains it (else '')."""
    for separator, what, why in (
        (";", "semicolons", " (a spreadsheet set to a comma-decimal language writes them)"),
        ("\t", "tabs", ""),
    ):
        if len(header.split(separator)) > len(names):
            return (
                f". Its fields are separated by {what}{why}: save it as comma-separated, "
                "with '.' for decimals"
            )
    if all(_is_number(name) for name in names):
        return f". Its first line is numbers, not a header: add the line {COLUMNS_LINE} first"
    return ""


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_table(path, names, wanted):
    """Parse the wanted columns (n, len(wanted)); drop a cut last line.

    Plain numeric files take the fast parser; anything else NumPy's, which also names the
    line of an unreadable value.
    """
    max_rows, notes = _truncated_last_line(path, len(names))
    usecols = [names.index(name) for name in wanted]
    fast = read_numbers(path, len(names), max_rows)
    if fast is not None:
        table = np.ascontiguousarray(fast[:, usecols])
    else:
        table = _loadtxt(path, names, wanted, usecols, max_rows)
    if len(table) == 0:
        raise HipdropError(f"{path} has a header but no samples")
    return _without_missing(path, table, wanted, notes)


def _loadtxt(path, names, wanted, usecols, max_rows):
    """NumPy's parser, for what the fast one declines; empty fields (pandas writes a missing
    value so) are read as NaN, on a second pass that only such files take."""
    try:
        return _numpy_table(path, usecols, max_rows, None)
    except ValueError as error:
        problem = _locate_bad_value(path, names, wanted, error, max_rows)
        if problem is not None:
            raise problem from None
    return _numpy_table(path, usecols, max_rows, _empty_as_nan)


def _numpy_table(path, usecols, max_rows, converters):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
        return np.loadtxt(
            path, delimiter=",", quotechar='"', skiprows=1, usecols=usecols, ndmin=2,
            max_rows=max_rows, converters=converters,
        )  # fmt: skip


def _empty_as_nan(field):
    return float(field) if field.strip() else math.nan


def _data_lines(path):
    """(file line number, text) of each non-blank line after the header, as NumPy reads them."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        handle.readline()
        for line_no, line in enumerate(handle, start=2):
            if line.strip():
                yield line_no, line.rstrip("\r\n")


def _truncated_last_line(path, n_columns):
    """(data rows to read, notes): all rows (None), or all but a last line that was cut short."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 65536))
        tail = handle.read()
    if tail.endswith(b"\n") or b"\n" not in tail:
        return None, []
    fields = [field for field in tail.rsplit(b"\n", 1)[1].split(b",") if field.strip()]
    if not fields or len(fields) >= n_columns:
        return None, []
    count, (line_no, _) = deque(enumerate(_data_lines(path), start=1), maxlen=1)[0]
    return count - 1, [f"dropped the incomplete last line {line_no} (recording cut mid-write)"]


def _locate_bad_value(path, names, wanted, error, max_rows):
    """The error for the first unreadable value among the first ``max_rows`` data lines (all if
    None; slow, only after a parse failure); None when the only ones are empty fields: missing
    values."""
    saw_empty = False
    for line_no, line in itertools.islice(_data_lines(path), max_rows):
        fields = line.split(",")
        if [field.strip().strip("\"'").lower() for field in fields] == names:
            return HipdropError(
                f"{path}, line {line_no} repeats the header: recordings joined into one file? "
                "Split them there, or delete that line if the recording simply goes on"
            )
        if len(fields) != len(names):
            return HipdropError(
                f"{path}, line {line_no}: {len(fields)} values but the header names "
                f"{len(names)} columns; fix or delete that line"
            )
        for name in wanted:
            value = fields[names.index(name)].strip().strip("\"'")
            saw_empty |= not value
            try:
                float(value or "nan")
            except ValueError:
                return HipdropError(
                    f"{path}, line {line_no}: {name} is {value!r}, not a number; "
                    "every sample needs plain decimal numbers"
                )
    if saw_empty:
        return None
    return HipdropError(f"{path}: cannot read the samples ({error}); check the file is a CSV")


MAX_MISSING_SHARE = 0.1
"""Samples without all their values (NaN, or an empty field) are dropped and analysed as lost
ones, up to this share of the recording: more are no dropouts but a file whose columns were
written at different times (an accelerometer and a gyroscope each on its own clock, merged)."""


def _without_missing(path, table, wanted, notes):
    """The table without samples that lack a time or an IMU value (NaN), with a note; infinite
    values are corruption and refused, as values beyond any IMU's range are."""
    imu = table[:, : 1 + len(IMU_COLUMNS)]
    if np.isinf(imu).any():
        row, col = np.argwhere(np.isinf(imu))[0]
        raise HipdropError(
            f"{path}, line {_line_of_row(path, row)}: {wanted[col]} is {imu[row, col]}; "
            "infinite values are corruption: remove or repair those samples"
        )
    missing = np.isnan(imu).any(axis=1)
    if not missing.any():
        return table, notes
    first = f"the first at line {_line_of_row(path, int(np.argmax(missing)))}"
    count = int(missing.sum())
    if count > MAX_MISSING_SHARE * len(table):
        raise HipdropError(
            f"{path}: {count} of {len(table)} samples lack a value ({first}): were columns "
            "sampled at different times written into one file? Every line needs all of "
            f"{COLUMNS_LINE}"
        )
    note = f"dropped {count} samples with missing values ({first}): analysed as lost samples"
    return np.ascontiguousarray(table[~missing]), notes + [note]


def _line_of_row(path, row):
    """File line number (1-based) of data row ``row`` (0-based)."""
    return next(itertools.islice(_data_lines(path), row, None))[0]


def _check_time(path, time_s):
    """Strictly increasing and at least :data:`MIN_DURATION_S` long."""
    steps = np.diff(time_s)
    if (steps <= 0).any():
        row = int(np.argmax(steps <= 0)) + 1
        why = "merged or re-ordered recording?"
        if steps[row - 1] == 0 and (steps == 0).mean() > 0.01:  # many repeats: a coarse clock
            why = "the times look rounded too coarsely for the sample rate: write more decimals"
        raise HipdropError(
            f"{path}, line {_line_of_row(path, row)}: time_s goes from {time_s[row - 1]} s to "
            f"{time_s[row]} s; time must strictly increase ({why})"
        )
    duration_s = float(time_s[-1] - time_s[0])
    if duration_s < MIN_DURATION_S or len(time_s) < 10:
        raise HipdropError(
            f"{path}: only {duration_s:.2f} s of data ({len(time_s)} samples); "
            f"at least {MIN_DURATION_S:.0f} s are needed"
        )


def _speed(table, wanted, speed_mps):
    """Treadmill speed per sample in m/s: the constant argument, else the column, else None."""
    column = SPEED in wanted  # always the last wanted column
    if speed_mps is None:
        if not column:
            return None, []
        return check_speed(np.ascontiguousarray(table[:, -1]), f"the {SPEED} column"), []
    note = f"constant treadmill speed {float(speed_mps)} m/s"
    note += f" overrides the {SPEED} column" if column else ""
    return np.full(len(table), float(speed_mps)), [note]


MAX_SPEED_MPS = 12.0
"""Faster than any runner (a sprinter's top speed, ≈ 12 m/s): a larger speed is in km/h."""


def check_speed(speed, what):
    """``speed`` (m/s), if every value is one a runner can go; else a message for ``what``."""
    if np.isnan(speed).any():
        raise HipdropError(
            f"{what} lacks a value for {int(np.isnan(speed).sum())} samples; give every sample "
            "its speed, or leave the column out (--speed gives one for the whole recording)"
        )
    if not np.all((speed >= 0) & np.isfinite(speed)):
        raise HipdropError(f"{what} {speed.min():g} m/s is not a speed; give 0 or more")
    fastest = float(speed.max())
    if fastest > MAX_SPEED_MPS:
        kmh = fastest / 3.6
        hint = f"if it is in km/h, that is {kmh:.2f} m/s: " if kmh <= MAX_SPEED_MPS else ""
        raise HipdropError(
            f"{what} reaches {fastest:g} m/s, faster than any runner; {hint}give speeds in m/s"
        )
    return speed
