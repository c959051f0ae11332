"""The engine's input layer, on simulated CSVs written by the simulator and on real recordings."""

import gzip
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipdrop.engine.inputs import G_MS2, ImuData, parse_axes, read_csv
from hipdrop.engine.plausible import check_plausible
from hipdrop.errors import HipdropError
from hipdrop.sim import REALISTIC, Bout, Session, scenario, simulate, write_csv

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
REAL = ["fukuchi_run/RBDS001_runT25.csv", "mobgap_lab/HA_001_Test5_Trial1.csv"]
IMU = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]


@pytest.fixture(scope="module")
def rec():
    return scenario("treadmill_quick", seed=2, rate_hz=100.0)


@pytest.fixture
def csv(rec, tmp_path):
    return write_csv(rec, tmp_path / "run.csv")[0]


def _write(path, columns, rows=None):
    """A CSV with the given header → array columns (optionally only the first ``rows``)."""
    table = np.column_stack(list(columns.values()))[:rows]
    np.savetxt(path, table, delimiter=",", header=",".join(columns), comments="", fmt="%.6f")
    return path


def _columns(rec, acc=None, gyr=None):
    acc = rec.acc_ms2 if acc is None else acc
    gyr = rec.gyr_dps if gyr is None else gyr
    return {"time_s": rec.time_s, **dict(zip(IMU, [*acc.T, *gyr.T]))}


def _raises(match, *args, **kwargs):
    units = {key: kwargs[key] for key in ("acc_unit", "gyr_unit") if key in kwargs}
    with pytest.raises(HipdropError, match=match) as info:
        check_plausible(read_csv(*args, **kwargs), **units)
    return str(info.value)


# --- the contract -----------------------------------------------------------------------


def test_round_trip_equals_the_simulator_to_the_printed_precision(rec, csv):
    data = read_csv(csv)
    np.testing.assert_allclose(data.time_s, rec.time_s, atol=5e-7)
    np.testing.assert_allclose(data.acc_ms2, rec.acc_ms2, atol=5e-6)
    np.testing.assert_allclose(data.gyr_dps, rec.gyr_dps, atol=5e-6)
    assert data.sample_rate_hz == pytest.approx(100.0, rel=0.01)
    assert data.speed_mps is None and data.notes == () and data.source == str(csv)
    for array in (data.time_s, data.acc_ms2, data.gyr_dps):
        assert array.dtype == np.float64 and array.flags.c_contiguous
    assert "reads |acc|" in check_plausible(data).notes[-1]


def test_columns_in_any_order_and_extra_columns_ignored(rec, tmp_path):
    columns = _columns(rec)
    shuffled = {name: columns[name] for name in reversed(list(columns))}
    path = _write(tmp_path / "r.csv", {"temp_c": np.zeros(len(rec)), **shuffled})
    data = read_csv(path)
    np.testing.assert_allclose(data.acc_ms2, rec.acc_ms2, atol=5e-6)
    np.testing.assert_allclose(data.gyr_dps, rec.gyr_dps, atol=5e-6)


def test_extra_column_with_text_is_not_parsed(tmp_path):
    lines = ["gyr_x,gyr_y,gyr_z,comment,time_s,acc_x,acc_y,acc_z"]
    lines += [f"0,0,0,still,{i / 100},0,0,9.81" for i in range(300)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    data = check_plausible(read_csv(tmp_path / "s.csv"))
    assert data.acc_ms2[:, 2] == pytest.approx(9.81)


def test_speed_column_and_constant_speed(rec, tmp_path):
    speed = np.linspace(2.0, 3.0, len(rec))
    path = _write(tmp_path / "r.csv", {**_columns(rec), "speed_mps": speed})
    np.testing.assert_allclose(read_csv(path).speed_mps, speed, atol=5e-7)
    override = read_csv(path, speed_mps=2.5)
    assert (override.speed_mps == 2.5).all() and "overrides" in override.notes[-1]
    without = read_csv(_write(tmp_path / "n.csv", _columns(rec)), speed_mps=3)
    assert without.speed_mps.shape == (len(rec),) and (without.speed_mps == 3.0).all()
    with pytest.raises(HipdropError, match="not a speed"):
        read_csv(path, speed_mps=-1)


def test_a_speed_column_with_gaps_is_named(rec, tmp_path):
    speed = np.full(len(rec), 2.5)
    speed[100:110] = np.nan
    path = _write(tmp_path / "r.csv", {**_columns(rec), "speed_mps": speed})
    with pytest.raises(HipdropError, match="speed_mps column lacks a value for 10 samples"):
        read_csv(path)
    assert (read_csv(path, speed_mps=2.5).speed_mps == 2.5).all()  # the way out it names


def test_a_speed_in_km_per_h_is_named(rec, tmp_path):
    with pytest.raises(HipdropError, match="if it is in km/h, that is 3.47 m/s"):
        read_csv(_write(tmp_path / "n.csv", _columns(rec)), speed_mps=12.5)
    in_kmh = np.full(len(rec), 12.6)
    path = _write(tmp_path / "k.csv", {**_columns(rec), "speed_mps": in_kmh})
    with pytest.raises(HipdropError, match="the speed_mps column reaches 12.6 m/s"):
        read_csv(path)


def test_data_is_frozen(csv):
    data = read_csv(csv)
    assert isinstance(data, ImuData)
    with pytest.raises(AttributeError):
        data.source = "other"


# --- errors -----------------------------------------------------------------------------


def test_missing_and_empty_files(tmp_path):
    _raises("no such file", tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    _raises("is empty", tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n")
    _raises("no samples", tmp_path / "header.csv")


def test_missing_columns_are_named(rec, tmp_path):
    columns = _columns(rec)
    del columns["gyr_y"], columns["acc_z"]
    message = _raises("no column", _write(tmp_path / "r.csv", columns))
    assert "acc_z, gyr_y" in message and "any order" in message


def test_a_spreadsheet_export_with_semicolons_is_named(csv):
    comma_decimal = [";".join(f.replace(".", ",") for f in line.split(",")) for line in _lines(csv)]
    csv.write_text("\n".join(comma_decimal) + "\n")
    assert "separated by semicolons (a spreadsheet" in _raises("no column", csv)


def test_tab_separated_is_named(csv):
    csv.write_text("\n".join(line.replace(",", "\t") for line in _lines(csv)) + "\n")
    assert "separated by tabs" in _raises("no column", csv)


def test_a_repeated_header_is_named_as_joined_recordings(csv):
    lines = _lines(csv)
    csv.write_text("\n".join(lines[:200] + lines[:1] + lines[200:]) + "\n")
    assert "joined into one file" in _raises("line 201 repeats the header", csv)


def test_quoted_numbers_read_as_numbers(csv):
    quoted = [",".join(f'"{f}"' for f in line.split(",")) for line in _lines(csv)[1:]]
    quoted_csv = csv.with_name("quoted.csv")
    quoted_csv.write_text("\n".join(_lines(csv)[:1] + quoted) + "\n")
    plain, data = read_csv(csv), read_csv(quoted_csv)
    assert np.array_equal(plain.time_s, data.time_s) and np.array_equal(plain.acc_ms2, data.acc_ms2)


def test_compressed_utf16_and_binary_files_are_named(csv, tmp_path):
    text = csv.read_bytes()
    cases = {
        "run.csv.gz": (gzip.compress(text), "gzip-compressed: decompress it first"),
        "run.zip": (_zipped(text), "zip archive: extract the CSV"),
        "utf16.csv": (text.decode().encode("utf-16"), "UTF-16 text: save it as UTF-8"),
        "blob.csv": (bytes(range(256)) * 4, "not text"),
    }
    for name, (content, said) in cases.items():
        (tmp_path / name).write_bytes(content)
        _raises(said, tmp_path / name)


def _zipped(content):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run.csv", content)
    return buffer.getvalue()


def test_absurd_values_are_named_as_corrupt(rec, tmp_path):
    columns = _columns(rec)
    columns["gyr_x"] = columns["gyr_x"].copy()
    columns["gyr_x"][500:510] = 1e300
    message = _raises("beyond any IMU's range", _write(tmp_path / "r.csv", columns))
    assert "gyr reads [1e+300" in message and "10 samples" in message


def test_a_missing_header_is_named(csv):
    csv.write_text("\n".join(_lines(csv)[1:]) + "\n")
    assert "first line is numbers, not a header" in _raises("no column", csv)


def _lines(csv):
    return csv.read_text().splitlines()


def _edit_line(csv, line_no, text):
    lines = _lines(csv)
    lines[line_no - 1] = text
    csv.write_text("\n".join(lines) + "\n")


def test_non_numeric_value_names_line_and_column(csv):
    _edit_line(csv, 57, "0.55,1.0,oops,9.8,0,0,0")
    message = _raises("line 57", csv)
    assert "acc_y is 'oops', not a number" in message


def test_short_line_in_the_middle_is_an_error(csv):
    _edit_line(csv, 30, "0.29,1.0,2.0")
    _raises("line 30: 3 values but the header names 7 columns", csv)


@pytest.mark.parametrize("value", ["inf", "-inf"])
def test_infinity_is_refused_with_its_line(csv, value):
    fields = _lines(csv)[99].split(",")
    fields[4] = value
    _edit_line(csv, 100, ",".join(fields))
    _raises("line 100: gyr_x is -?inf; infinite values are corruption", csv)


def _blank(csv, rows, column, value):
    """Write ``value`` into ``column`` (index) of the data ``rows`` (0-based)."""
    lines = _lines(csv)
    for row in rows:
        fields = lines[row + 1].split(",")
        fields[column] = value
        lines[row + 1] = ",".join(fields)
    csv.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(("value", "column"), [("nan", 4), ("", 2), ("NaN", 0), ("", 6)])
def test_samples_with_missing_values_are_dropped_and_said(rec, csv, value, column):
    """pandas writes a missing value as an empty field, NumPy as nan: such samples (a time or
    an IMU value missing) are analysed as lost ones, the rest kept to the bit."""
    rows = [99, 100, 101, 2000, 2500]
    _blank(csv, rows, column, value)
    data = read_csv(csv)
    kept = np.setdiff1d(np.arange(len(rec)), rows)
    np.testing.assert_allclose(data.time_s, rec.time_s[kept], atol=5e-7)
    np.testing.assert_allclose(data.gyr_dps, rec.gyr_dps[kept], atol=5e-6)
    assert "dropped 5 samples with missing values (the first at line 101)" in data.notes[-1]


def test_a_file_missing_many_values_is_refused(csv):
    """Every other gyro value missing: an accelerometer and a gyroscope on their own clocks,
    merged into one file. Dropping half the samples would analyse a different recording."""
    _blank(csv, range(1, 3000, 2), 5, "")
    _raises(r"1500 of \d+ samples lack a value \(the first at line 3\).*sampled at different", csv)


def test_a_text_value_is_found_past_quoted_numbers_and_empty_fields(csv):
    _blank(csv, [10], 1, '"0.5"')
    _blank(csv, [20], 3, "")
    _blank(csv, [30], 2, "n/a")
    _raises("line 32: acc_y is 'n/a', not a number", csv)
    _blank(csv, [30], 2, "0.25")
    data = read_csv(csv)  # the quoted number read, the sample with the empty field dropped
    assert data.acc_ms2[10, 0] == 0.5 and "(the first at line 22)" in data.notes[-1]


def test_missing_values_and_a_cut_last_line(rec, csv):
    _blank(csv, [40], 4, "")
    csv.write_text(csv.read_text() + "135.1,0.3,")
    data = read_csv(csv)
    assert len(data.time_s) == len(rec) - 1
    assert any("incomplete last line" in note for note in data.notes)


def test_time_must_strictly_increase(csv):
    fields = _lines(csv)[41].split(",")
    _edit_line(csv, 43, ",".join(fields))  # line 43 repeats line 42's time
    _raises(r"line 43: time_s goes from .* time must strictly increase", csv)


def test_times_rounded_too_coarsely_are_named(tmp_path):
    """200 Hz written with two decimals: every other time repeats. Said so, with the remedy."""
    fast = scenario("treadmill_quick", seed=2, rate_hz=200.0)
    columns = _columns(fast)
    columns["time_s"] = np.round(fast.time_s, 2)
    _raises(
        "rounded too coarsely for the sample rate: write more decimals",
        _write(tmp_path / "r.csv", columns),
    )


def test_too_short_a_recording(rec, tmp_path):
    path = _write(tmp_path / "r.csv", _columns(rec), rows=150)  # 1.5 s at 100 Hz
    _raises(r"only 1\.4\d s of data \(150 samples\)", path)


def test_unknown_units_list_the_choices(csv):
    _raises("unknown acc unit 'mg'; choose one of m/s2, g", csv, acc_unit="mg")
    _raises("unknown gyr unit 'rpm'; choose one of deg/s, rad/s", csv, gyr_unit="rpm")


def test_truncated_last_line_is_dropped_with_a_note(rec, csv):
    with csv.open("a") as handle:
        handle.write("135.01,0.1,-0.2")  # cut mid-write, no newline
    data = check_plausible(read_csv(csv))
    assert len(data.time_s) == len(rec)
    np.testing.assert_allclose(data.acc_ms2, rec.acc_ms2, atol=5e-6)
    assert "dropped the incomplete last line" in data.notes[0]


def test_last_line_without_newline_but_complete_is_kept(rec, csv):
    csv.write_text(csv.read_text().rstrip("\n"))
    assert len(read_csv(csv).time_s) == len(rec)


# --- axes -------------------------------------------------------------------------------


def test_parse_axes_builds_new_equals_m_at_old():
    matrix = parse_axes("x=-z,y=y,z=x")
    np.testing.assert_array_equal(matrix, [[0, 0, -1], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(parse_axes(" X = -z ,  y=+y, z = x "), matrix)
    np.testing.assert_array_equal(parse_axes("x=-z, y=y, z=x") @ [1.0, 2.0, 3.0], [-3, 2, 1])


def test_axes_remap_applies_the_matrix_and_keeps_gravity(rec, csv):
    plain = read_csv(csv)
    remapped = read_csv(csv, axes="x=y,y=z,z=x")
    matrix = parse_axes("x=y,y=z,z=x")
    np.testing.assert_allclose(remapped.acc_ms2, plain.acc_ms2 @ matrix.T)
    np.testing.assert_allclose(remapped.gyr_dps, plain.gyr_dps @ matrix.T)
    np.testing.assert_allclose(
        np.linalg.norm(remapped.acc_ms2, axis=1), np.linalg.norm(plain.acc_ms2, axis=1)
    )
    assert remapped.acc_ms2.flags.c_contiguous and "x=y,y=z,z=x" in remapped.notes[-1]
    check_plausible(remapped)


@pytest.mark.parametrize(
    "text, match",
    [
        ("x=-y,y=x,z=-z", "mirror image.*left and right"),
        ("x=y,y=y,z=z", "must assign each of x, y, z once"),
        ("x=x,x=y,z=z", "must assign each"),
        ("x=x,x=-x,z=z", "must assign each"),
        ("x=x,y=y", "must assign each"),
        ("x=x,y=y,z=z,x=x", "must assign each"),
        ("forward=x", "cannot read the axis remap"),
        ("x=-z;y=y;z=x", "cannot read"),
        ("", "cannot read"),
    ],
)
def test_bad_axes_are_refused(csv, text, match):
    with pytest.raises(HipdropError, match=match):
        read_csv(csv, axes=text)


@given(st.permutations("xyz"), st.tuples(*[st.sampled_from("+-")] * 3))
def test_any_signed_permutation_is_accepted_iff_it_is_a_rotation(sources, signs):
    text = ",".join(f"{new}={sign}{old}" for new, sign, old in zip("xyz", signs, sources))
    expected = np.zeros((3, 3))
    for row, (sign, old) in enumerate(zip(signs, sources)):
        expected[row, "xyz".index(old)] = -1.0 if sign == "-" else 1.0
    if np.linalg.det(expected) > 0:
        np.testing.assert_array_equal(parse_axes(text), expected)
    else:
        with pytest.raises(HipdropError, match="mirror"):
            parse_axes(text)


# --- units ------------------------------------------------------------------------------


def test_g_and_rad_s_are_converted(rec, tmp_path):
    columns = _columns(rec, acc=rec.acc_ms2 / G_MS2, gyr=np.radians(rec.gyr_dps))
    path = _write(tmp_path / "r.csv", columns)
    data = check_plausible(read_csv(path, acc_unit="g", gyr_unit="rad/s"))
    np.testing.assert_allclose(data.acc_ms2, rec.acc_ms2, atol=1e-5)
    np.testing.assert_allclose(data.gyr_dps, rec.gyr_dps, atol=1e-4)
    assert any("from g" in note for note in data.notes)
    assert any("from rad/s" in note for note in data.notes)


@pytest.mark.parametrize(("unit", "scale"), [("-g", -G_MS2), ("-m/s2", -1.0)])
def test_acceleration_reading_minus_g_is_negated_into_specific_force(rec, tmp_path, unit, scale):
    path = _write(tmp_path / "r.csv", _columns(rec, acc=rec.acc_ms2 / scale))
    data = check_plausible(read_csv(path, acc_unit=unit))
    np.testing.assert_allclose(data.acc_ms2, rec.acc_ms2, atol=1e-5)
    assert any(f"from {unit}" in note for note in data.notes)


def test_acc_in_g_is_detected(rec, tmp_path):
    path = _write(tmp_path / "r.csv", _columns(rec, acc=rec.acc_ms2 / G_MS2))
    _raises("looks like it is in g: use --acc-unit g", path)


def test_gyr_in_rad_s_is_detected(rec, tmp_path):
    path = _write(tmp_path / "r.csv", _columns(rec, gyr=np.radians(rec.gyr_dps)))
    _raises("looks like it is in rad/s: use --gyr-unit rad/s", path)


def test_acc_in_m_s2_read_as_g_is_named(rec, tmp_path):
    path = _write(tmp_path / "r.csv", _columns(rec))
    match = r"reads \|acc\| 9\d\.\d m/s², 9.81 times too much: .* leave out --acc-unit g"
    _raises(match, path, acc_unit="g")


def test_gyr_in_deg_s_read_as_rad_s_is_named(rec, tmp_path):
    """It used to pass: the orientation then turned 57 times too fast, and nothing was said."""
    path = _write(tmp_path / "r.csv", _columns(rec))
    _raises(r"reads \d+ °/s at its 99th .* leave out --gyr-unit rad/s", path, gyr_unit="rad/s")


def test_gyr_in_raw_counts_is_not_deg_s(rec, tmp_path):
    """16.4 counts per deg/s: an MPU-6886 at its ±2000 °/s range, exported unconverted."""
    path = _write(tmp_path / "r.csv", _columns(rec, gyr=rec.gyr_dps * 16.4))
    _raises(r"reads \d+ °/s .* the gyroscope is not in deg/s \(raw sensor counts\?\)", path)


@pytest.mark.parametrize("name", ["band_walk_set", "side_plank_hold", "steady_run"])
def test_gyro_check_passes_every_scenario(name, tmp_path):
    sim = scenario(name, seed=4, rate_hz=50.0)
    check_plausible(read_csv(write_csv(sim, tmp_path / "s.csv")[0]))


def test_acc_and_gyr_columns_swapped_are_named(rec, tmp_path):
    path = _write(tmp_path / "r.csv", _columns(rec, acc=rec.gyr_dps, gyr=rec.acc_ms2))
    _raises(r"the gyroscope reads 9\.\d+ and the accelerometer .* columns look swapped", path)


def test_acc_without_gravity_is_named(rec, tmp_path):
    """A phone's 'linear acceleration' export reads ≈ 0 at rest: said so, not 'not in m/s²'."""
    standing = rec.time_s < 9.0  # treadmill_quick stands for its first 10 s
    linear = rec.acc_ms2 - rec.acc_ms2[standing].mean(axis=0)
    _raises("gravity has been taken out", _write(tmp_path / "r.csv", _columns(rec, acc=linear)))


def test_acc_that_is_neither_is_not_a_sacral_imu(rec, tmp_path):
    path = _write(tmp_path / "r.csv", _columns(rec, acc=rec.acc_ms2 * 3))
    _raises("not accelerometer data in m/s²", path)


@pytest.mark.parametrize(
    ("time_scale", "match"),
    [
        (1e3, "time_s looks like milliseconds: give it in seconds"),
        (1e6, "time_s looks like microseconds: give it in seconds"),
        (10.0, r"\(10 Hz\); the analysis needs 20–1000 Hz: resample"),
        (0.05, r"\(2.01e\+03 Hz\); the analysis needs 20–1000 Hz: resample"),
    ],
)
def test_time_in_other_units_or_a_rate_out_of_range_is_named(rec, tmp_path, time_scale, match):
    """Time in ms used to pass as a 0.1-Hz recording and failed on gravity instead (its
    "stillest second" spanned minutes of running); a rate the engine cannot time steps at, or
    hold a step of in its buffer, is refused rather than analysed into nonsense."""
    columns = _columns(rec)
    columns["time_s"] = rec.time_s * time_scale
    _raises(match, _write(tmp_path / "r.csv", columns))


def test_still_recording_is_not_called_rad_s(tmp_path):
    still = simulate(Session((Bout("stand", 10),)), REALISTIC, seed=1)
    data = check_plausible(read_csv(write_csv(still, tmp_path / "still.csv")[0]))
    assert np.percentile(np.linalg.norm(data.gyr_dps, axis=1), 99) < 3.0


# --- real recordings --------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL)
def test_real_recordings_pass(name):
    path = DATA / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing (real data must be present in CI)")
        pytest.skip(f"{path} is missing: the shared real-data folder is not here")
    data = check_plausible(read_csv(path))
    assert data.sample_rate_hz == pytest.approx(100.0, rel=0.01)
    assert len(data.time_s) > 500 and data.speed_mps is None


def test_crlf_blank_lines_bom_and_quoted_header(rec, csv):
    lines = _lines(csv)
    lines[0] = "\ufeff" + ",".join(f' "{name}" ' for name in lines[0].split(","))
    lines.insert(10, "")
    csv.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    np.testing.assert_allclose(read_csv(csv).acc_ms2, rec.acc_ms2, atol=5e-6)
    fields = lines[20].split(",")
    fields[2] = "nan"
    lines[20] = ",".join(fields)
    csv.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    assert "(the first at line 21)" in read_csv(csv).notes[-1]
