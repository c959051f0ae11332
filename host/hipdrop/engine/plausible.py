"""Can the data be a sacral IMU in m/s² and deg/s? Checks after reading, with messages.

The sample rate, values within any IMU's range, gravity in the stillest second (on the
accelerometer, not the gyroscope: swapped columns), and a gyroscope that moves with the wearer,
no faster than a pelvis turns. Every problem is a :class:`~hipdrop.errors.HipdropError` that names
the likely cause (time in ms, acc in g, gravity taken out, gyro in rad/s, and either read in the
other unit by mistake).
"""

from dataclasses import replace

import numpy as np

from ..errors import HipdropError
from .inputs import G_MS2, ImuData

RAD_DPS = 180.0 / np.pi
"""deg/s in one rad/s: a gyroscope given in deg/s but read as rad/s reads this much too fast."""
GYRO_MAX_P99_DPS = 600.0
"""No pelvis turns this fast for 1 % of a recording: walks and runs, real and simulated, reach
50–135 °/s at their 99th percentile (a turn on the spot 260 °/s at most). Read as rad/s, the
same data in deg/s reach 3,000–7,700 °/s, and the simulator's band walk and step-ups 800–900."""

MIN_RATE_HZ, MAX_RATE_HZ = 20.0, 1000.0
"""Sample rates the engine handles: on simulated walks and runs contacts stay within 50 ms
and left/right right down to 20 Hz (at 15 Hz F1 fell to 0.75–0.88), and its step buffer holds
4 s, a 2-s step with margin, up to 1000 Hz. A clock up to ``RATE_SLACK`` off either end
passes (a nominal 1000 Hz sensor may run at 1003 Hz)."""
RATE_SLACK = 0.05


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


def check_plausible(data: ImuData, acc_unit="m/s2", gyr_unit="deg/s") -> ImuData:
    """Check that the units look like m/s² and deg/s on a sacral IMU; return data with a note.
    ``acc_unit`` and ``gyr_unit`` are the units the file was read in (``read_csv``'s), for the
    messages: data read in the wrong one are named as such.

    The sample rate must lie in ``MIN_RATE_HZ``–``MAX_RATE_HZ`` (time in ms or µs is named).
    The stillest ~1 s (lowest summed acc and gyro variance) must read |acc| = 9.81 m/s² ± 15 %.
    A moving recording (std of |acc| > 1 m/s²) whose 99th percentile of |gyr| is below 3 is
    taken to be in rad/s. A still recording is never called rad/s. Any recording whose 99th
    percentile of |gyr| is above ``GYRO_MAX_P99_DPS`` is not in deg/s.
    """
    _check_rate(data)
    _check_magnitudes(data)
    window = int(np.clip(round(data.sample_rate_hz), 4, len(data.time_s))) // 4 * 4
    start = _stillest_window(data, window)
    still = slice(start, start + window)
    still_ms2 = float(np.linalg.norm(data.acc_ms2[still].mean(axis=0)))
    at_s = data.time_s[start]
    _check_swapped(data, still_ms2, float(np.linalg.norm(data.gyr_dps[still].mean(axis=0))), at_s)
    _check_gravity(data, still_ms2, at_s, acc_unit)
    _check_gyro_unit(data, gyr_unit)
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


def _check_swapped(data, still_ms2, still_dps, at_s):
    """The gyroscope reads gravity at rest and the accelerometer does not."""
    if _near_g(still_dps) and not _near_g(still_ms2):
        raise HipdropError(
            f"{data.source}: in the stillest second (from {at_s:.2f} s) the gyroscope reads "
            f"{still_dps:.3g} and the accelerometer {still_ms2:.3g}: the acc_* and gyr_* "
            "columns look swapped"
        )


def _near_g(magnitude):
    return abs(magnitude - G_MS2) <= 0.15 * G_MS2


def _check_gravity(data, still_ms2, at_s, acc_unit):
    if _near_g(still_ms2):
        return
    where = f"{data.source}: the stillest second (from {at_s:.2f} s) reads |acc| {still_ms2:.3g}"
    if abs(still_ms2 - 1.0) <= 0.15:
        raise HipdropError(f"{where}; the accelerometer looks like it is in g: use --acc-unit g")
    if acc_unit == "g" and abs(still_ms2 - G_MS2 * G_MS2) <= 0.15 * G_MS2 * G_MS2:
        raise HipdropError(
            f"{where} m/s², 9.81 times too much: the accelerometer is in m/s² already; leave "
            "out --acc-unit g"
        )
    if still_ms2 < 0.15:  # ≈ 0 in m/s² and in g alike
        raise HipdropError(
            f"{where} m/s²: gravity has been taken out (a phone's 'linear' or 'user' "
            "acceleration); the analysis needs the accelerometer as measured, gravity included"
        )
    raise HipdropError(
        f"{where} m/s², but a sacral IMU at rest reads 9.81 m/s²: this is not accelerometer "
        "data in m/s² (check the columns and --acc-unit)"
    )


def _check_gyro_unit(data, gyr_unit):
    moving = np.linalg.norm(data.acc_ms2, axis=1).std() > 1.0
    p99 = float(np.percentile(np.linalg.norm(data.gyr_dps, axis=1), 99))
    if p99 > GYRO_MAX_P99_DPS:
        raise HipdropError(
            f"{data.source}: the angular rate reads {p99:.0f} °/s at its 99th percentile, "
            "faster than a pelvis turns (walks and runs: 50–135 °/s): "
            + _gyro_too_fast(p99, gyr_unit)
        )
    if moving and p99 < 3.0:
        raise HipdropError(
            f"{data.source}: the wearer moves but the angular rate stays below {p99:.2f} "
            "(99th percentile); the gyroscope looks like it is in rad/s: use --gyr-unit rad/s"
        )


def _gyro_too_fast(p99, gyr_unit):
    """The likely cause of a gyroscope, read in ``gyr_unit``, at ``p99`` °/s."""
    if gyr_unit == "rad/s" and p99 / RAD_DPS <= GYRO_MAX_P99_DPS:
        return (
            f"{RAD_DPS:.1f} times too fast: the gyroscope is in deg/s already; leave out "
            "--gyr-unit rad/s"
        )
    return f"the gyroscope is not in {gyr_unit} (raw sensor counts?): convert it to deg/s"
