"""Export: samples in the interchange CSV, steps and minutes beside them; Parquet optional."""

import csv
import sys

import numpy as np
import pytest

from hipdrop.engine.inputs import read_csv
from hipdrop.errors import HipdropError
from hipdrop.store import Store
from hipdrop.store._csvwrite import format_rows
from hipdrop.store.export import DECIMALS, export, sibling


@pytest.fixture
def stored(recorded, treadmill_doc):
    """(samples, results) of the recorded, analysed treadmill session."""
    db, sid = recorded
    with Store.open(db) as store:
        store.replace_results(sid, treadmill_doc)
        return store.samples(sid), store.results(sid)


def test_sibling_names_put_the_part_before_the_extension(tmp_path):
    assert sibling(tmp_path / "run.csv", "steps") == tmp_path / "run.steps.csv"
    assert sibling("a.b/run.v2.parquet", "minutes").name == "run.v2.minutes.parquet"


def test_the_exported_csv_reads_back_as_the_stored_samples(tmp_path, stored):
    samples, results = stored
    paths = export(samples, results, tmp_path / "run.csv")
    assert [p.name for p in paths] == ["run.csv", "run.steps.csv", "run.minutes.csv"]
    assert paths[0].read_text().partition("\n")[0] == "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
    back = read_csv(paths[0])
    assert len(back.time_s) == len(samples)
    np.testing.assert_allclose(back.time_s, samples.time_s, rtol=0, atol=0.5e-6 + 1e-12)
    np.testing.assert_allclose(back.acc_ms2, samples.acc_ms2, rtol=0, atol=0.5e-5 + 1e-12)
    np.testing.assert_allclose(back.gyr_dps, samples.gyr_dps, rtol=0, atol=0.5e-5 + 1e-12)


def test_steps_and_minutes_files_hold_the_results(tmp_path, stored):
    samples, results = stored
    _, steps_csv, minutes_csv = export(samples, results, tmp_path / "run.csv")
    steps = list(csv.DictReader(steps_csv.open()))
    assert len(steps) == len(results["steps"]) > 100
    for row, step in zip(steps, results["steps"]):
        assert row.keys() == step.keys()
        assert all(row[k] == ("" if v is None else str(v)) for k, v in step.items())
    minutes = list(csv.DictReader(minutes_csv.open()))
    metric = results["drop_metric"]
    assert [int(m["minute"]) for m in minutes] == [m["minute"] for m in results["minutes"]]
    assert [float(m[f"{metric}_L"]) for m in minutes] == [
        m[f"{metric}_L"] for m in results["minutes"]
    ]


def test_fixed_point_text_matches_printf_digits():
    rng = np.random.default_rng(7)
    table = np.column_stack([np.sort(rng.uniform(0, 6000, 5000)), rng.normal(0, 300, (5000, 6))])
    table[:4, 1:] = [[0, -0.0, -0.000004, 0.000004, 12345.678901, -9.99999]] * 4
    text = format_rows(table, DECIMALS).decode()
    fmt = ",".join(f"%.{d}f" for d in DECIMALS) + "\n"
    expected = "".join(fmt % tuple(row) for row in table.tolist())
    assert text == expected.replace("-0.00000,", "0.00000,").replace("-0.00000\n", "0.00000\n")


def test_format_rows_refuses_non_finite_values():
    with pytest.raises(ValueError, match="finite"):
        format_rows(np.array([[1.0, np.nan]]), (1, 1))


def test_parquet_without_pyarrow_names_the_extra(tmp_path, stored, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(HipdropError, match=r"pip install 'hipdrop\[parquet\]'"):
        export(*stored, tmp_path / "run.parquet", "parquet")
    assert not (tmp_path / "run.parquet").exists()


def test_parquet_holds_the_same_tables(tmp_path, stored):
    pq = pytest.importorskip("pyarrow.parquet")
    samples, results = stored
    paths = export(samples, results, tmp_path / "run.parquet", "parquet")
    table = pq.read_table(paths[0])
    np.testing.assert_array_equal(table.column("acc_y").to_numpy(), samples.acc_ms2[:, 1])
    assert pq.read_table(paths[1]).to_pylist() == results["steps"]
    assert pq.read_table(paths[2]).num_rows == len(results["minutes"])


def test_an_unknown_format_is_refused(tmp_path, stored):
    with pytest.raises(HipdropError, match="csv or parquet"):
        export(*stored, tmp_path / "run.xlsx", "xlsx")
