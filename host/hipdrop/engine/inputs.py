"""The engine's input layer: read an interchange CSV, remap axes, convert units, sanity-check.

CSV header ``time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z`` (any order, extra columns ignored,
optional ``speed_mps``); specific force in m/s² (upright and still: +9.81 on z), deg/s, body
frame x forward, y left, z up. Every input problem is a :class:`~hipdrop.errors.HipdropError`.
"""

import itertools
import re
import warnings
from collections import deque
from dataclasses import dataclass, replace
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
MIN_RATE_HZ, MAX_RATE_HZ = 20.0, 1000.0
"""Sample rates the engine handles: on simulated walks and runs contacts stay within 50 ms
and left/right right down to 20 Hz (at 15 Hz F1 fell to 0.75–0.88), and its step buffer holds
4 s, a 2-s step with margin, up to 1000 Hz. A clock up to ``RATE_SLACK`` off either end
passes (a nominal 1000 Hz sensor may run at 1003 Hz)."""
RATE_SLACK = 0.05
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
        _check_finite(path, table, wanted)
        return table, notes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                path, delimiter=",", quotechar='"', skiprows=1, usecols=usecols, ndmin=2,
                max_rows=max_rows,
            )  # fmt: skip
    except ValueError as error:
        raise _locate_bad_value(path, names, wanted, error) from None
    if len(table) == 0:
        raise HipdropError(f"{path} has a header but no samples")
    _check_finite(path, table, wanted)
    return table, notes


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


def _locate_bad_value(path, names, wanted, error):
    """Find the first unreadable value (slow, only after a parse failure) for the message."""
    for line_no, line in _data_lines(path):
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
            value = fields[names.index(name)].strip()
            try:
                float(value)
            except ValueError:
                return HipdropError(
                    f"{path}, line {line_no}: {name} is {value!r}, not a number; "
                    "every sample needs plain decimal numbers"
                )
    return HipdropError(f"{path}: cannot read the samples ({error}); check the file is a CSV")


def _check_finite(path, table, wanted):
    bad = ~np.isfinite(table)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise HipdropError(
            f"{path}, line {_line_of_row(path, row)}: {wanted[col]} is {table[row, col]}; "
            "NaN and infinite values cannot be analysed: remove or repair those samples"
        )


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


def _stillest_window(data, window):
    """Start index of the ~``window``-sample stretch with the lowest summed acc + gyro variance.

    Windows are four blocks long and start at every block; a block's sums of x and x² are
    taken in place (no (n, k) temporaries), then summed over four consecutive blocks.
    """
    block = window // 4
    n_blocks = len(data.time_s) // block
    variance = 0.0
    for channel in (*data.acc_ms2.T, *data.gyr_dps.T):
        blocks = channel[: n_blocks * block].reshape(n_blocks, block)
        sums = np.vstack([blocks.sum(axis=1), np.einsum("ij,ij->i", blocks, blocks)])
        sums = np.cumsum(np.hstack([np.zeros((2, 1)), sums]), axis=1)
        mean, mean_sq = (sums[:, 4:] - sums[:, :-4]) / (4 * block)
        variance = variance + mean_sq - mean**2
    return int(np.argmin(variance)) * block


def check_plausible(data: ImuData) -> ImuData:
    """Check that the units look like m/s² and deg/s on a sacral IMU; return data with a note.

    The sample rate must lie in ``MIN_RATE_HZ``–``MAX_RATE_HZ`` (time in ms or µs is named).
    The stillest ~1 s (lowest summed acc and gyro variance) must read |acc| = 9.81 m/s² ± 15 %.
    A moving recording (std of |acc| > 1 m/s²) whose 99th percentile of |gyr| is below 3 is
    taken to be in rad/s. A still recording is never called rad/s.
    """
    _check_rate(data)
    _check_magnitudes(data)
    window = int(np.clip(round(data.sample_rate_hz), 4, len(data.time_s))) // 4 * 4
    start = _stillest_window(data, window)
    still_ms2 = float(np.linalg.norm(data.acc_ms2[start : start + window].mean(axis=0)))
    at_s = data.time_s[start]
    _check_gravity(data, still_ms2, at_s)
    _check_gyro_unit(data)
    note = f"stillest 1 s (from {at_s:.2f} s) reads |acc| {still_ms2:.2f} m/s²"
    return replace(data, notes=data.notes + (note,))


ABSURD = 1e6
"""No IMU reads this much in m/s² or deg/s, nor in any unit a file might use by mistake
(milli-g, mm/s²): such a value is corruption, and it would overflow the checks' arithmetic."""


def _check_magnitudes(data):
    for name, values in (("acc", data.acc_ms2), ("gyr", data.gyr_dps)):
        wild = np.flatnonzero((np.abs(values) > ABSURD).any(axis=1))
        if len(wild):
            raise HipdropError(
                f"{data.source}: at {data.time_s[wild[0]]:.3f} s {name} reads "
                f"{values[wild[0]].tolist()}, beyond any IMU's range ({len(wild)} samples "
                "like it): corrupt values; remove or repair those samples"
            )


def _check_rate(data):
    rate = data.sample_rate_hz
    if _rate_in_range(rate):
        return
    where = f"{data.source}: the samples are {1 / rate:.3g} s apart ({rate:.3g} Hz)"
    for scale, unit in ((1e3, "milliseconds"), (1e6, "microseconds")):
        if _rate_in_range(rate * scale):
            raise HipdropError(f"{where}; time_s looks like {unit}: give it in seconds")
    raise HipdropError(
        f"{where}; the analysis needs {MIN_RATE_HZ:.0f}–{MAX_RATE_HZ:.0f} Hz: resample the "
        "recording into that range"
    )


def _rate_in_range(rate_hz):
    return MIN_RATE_HZ * (1 - RATE_SLACK) <= rate_hz <= MAX_RATE_HZ * (1 + RATE_SLACK)


def _check_gravity(data, still_ms2, at_s):
    if abs(still_ms2 - G_MS2) <= 0.15 * G_MS2:
        return
    where = f"{data.source}: the stillest second (from {at_s:.2f} s) reads |acc| {still_ms2:.3g}"
    if abs(still_ms2 - 1.0) <= 0.15:
        raise HipdropError(f"{where}; the accelerometer looks like it is in g: use --acc-unit g")
    if still_ms2 < 0.15:  # ≈ 0 in m/s² and in g alike
        raise HipdropError(
            f"{where} m/s²: gravity has been taken out (a phone's 'linear' or 'user' "
            "acceleration); the analysis needs the accelerometer as measured, gravity included"
        )
    raise HipdropError(
        f"{where} m/s², but a sacral IMU at rest reads 9.81 m/s²: this is not accelerometer "
        "data in m/s² (check the columns and --acc-unit)"
    )


def _check_gyro_unit(data):
    moving = np.linalg.norm(data.acc_ms2, axis=1).std() > 1.0
    p99 = float(np.percentile(np.linalg.norm(data.gyr_dps, axis=1), 99))
    if moving and p99 < 3.0:
        raise HipdropError(
            f"{data.source}: the wearer moves but the angular rate stays below {p99:.2f} "
            "(99th percentile); the gyroscope looks like it is in rad/s: use --gyr-unit rad/s"
        )
