"""The store's commands: sessions, sessions delete, export, analyze SESSION (--db, HIPDROP_DB)."""

import json
import re
import sys
from datetime import datetime

import pytest
from store_testkit import STARTED_AT, packed_rows

from hipdrop.cli import main
from hipdrop.engine.inputs import read_csv
from hipdrop.store import Store


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_empty_or_missing_database_says_how_to_record(db, capsys):
    code, out, _ = _run(capsys, "sessions")
    assert code == 0 and "hipdrop record --sim treadmill_quick" in out
    assert not db.exists()  # listing creates nothing
    assert _run(capsys, "sessions", "--json")[1].strip() == "[]"
    Store.open(db).close()
    assert "hipdrop record --sim treadmill_quick" in _run(capsys, "sessions")[1]


def test_sessions_lists_what_is_stored(recorded, capsys):
    db, sid = recorded
    code, out, _ = _run(capsys, "sessions")
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["id", "athlete", "date"]
    local = datetime.fromtimestamp(STARTED_AT).strftime("%Y-%m-%d %H:%M")
    assert row.split()[:4] == [str(sid), "Ann", *local.split()]
    assert "2:15" in row and "100.0%" in row and row.endswith("complete")
    assert "not analysed yet" in out


def test_analyze_latest_prints_and_stores_the_results(recorded, capsys, tmp_path):
    db, sid = recorded
    code, out, _ = _run(capsys, "analyze", "latest")
    # 135 s of simulated IMU samples; the IMU's clock runs 0.4 % fast in this scenario
    assert code == 0 and re.match(rf"session {sid}: 13[45] s at 20[01]\.\d+ Hz", out)
    assert f"stored the results with session {sid}" in out
    with Store.open(db, readonly=True) as store:
        steps = store.session(sid).steps
    assert steps > 300
    row = _run(capsys, "sessions")[1].splitlines()[1]
    assert f"{steps:,}" in row and "CPD" in row and "° /" in row
    out_json = tmp_path / "a.json"
    assert _run(capsys, "analyze", str(sid), "--json", str(out_json))[0] == 0
    assert len(json.loads(out_json.read_text())["steps"]) == steps


def test_analyze_session_refuses_csv_options_and_unknown_ids(recorded, capsys):
    code, _, err = _run(capsys, "analyze", "latest", "--axes", "x=-x,y=-y,z=z")
    assert code == 2 and "are for CSV files" in err
    code, _, err = _run(capsys, "analyze", "42")
    assert code == 2 and "no session 42" in err


def test_export_says_where_it_cannot_write(recorded, capsys, tmp_path):
    code, _, err = _run(capsys, "export", "latest", "--out", str(tmp_path / "no" / "r.csv"))
    assert code == 2 and "there is no folder" in err


def test_analyze_session_refuses_a_speed_in_km_per_h(recorded, capsys):
    code, _, err = _run(capsys, "analyze", "latest", "--speed", "11.5")
    assert code == 0
    code, _, err = _run(capsys, "analyze", "latest", "--speed", "14")
    assert code == 2 and "if it is in km/h, that is 3.89 m/s" in err


def test_a_session_command_without_a_database_creates_none(db, capsys):
    for argv in (
        ["analyze", "latest"],
        ["export", "1", "--out", "x.csv"],
        ["sessions", "delete", "1"],
    ):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and "no session database" in err
    assert not db.exists()


def test_export_analyses_first_and_writes_three_files(recorded, capsys, tmp_path):
    db, sid = recorded
    out = tmp_path / "run.csv"
    code, text, _ = _run(capsys, "export", "latest", "--out", str(out))
    assert code == 0 and "run.steps.csv" in text and "run.minutes.csv" in text
    with Store.open(db, readonly=True) as store:
        n_steps, n_samples = store.session(sid).steps, len(store.samples(sid))
    assert n_steps > 300 and len(read_csv(out).time_s) == n_samples
    assert len((tmp_path / "run.steps.csv").read_text().splitlines()) == n_steps + 1
    assert (tmp_path / "run.minutes.csv").exists()


def test_export_parquet_without_pyarrow_names_the_extra(recorded, capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, err = _run(capsys, "export", "1", "--out", str(tmp_path / "run.parquet"))
    assert code == 2 and "pip install 'hipdrop[parquet]'" in err


def test_delete_needs_confirmation(recorded, capsys, monkeypatch):
    db, sid = recorded
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, _, err = _run(capsys, "sessions", "delete", str(sid))
    assert code == 2 and "add --yes" in err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert _run(capsys, "sessions", "delete", "latest")[1].strip() == f"kept session {sid}"
    with Store.open(db, readonly=True) as store:
        assert [info.id for info in store.sessions()] == [sid]
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert _run(capsys, "sessions", "delete", "latest")[1].strip() == f"deleted session {sid}"
    assert "hipdrop record" in _run(capsys, "sessions")[1]


def test_db_option_wins_over_the_environment_in_either_position(db, tmp_path, capsys):
    other = tmp_path / "other.db"
    with Store.open(other) as store:
        sid = store.create_session(started_at=STARTED_AT, source="import", athlete="Other")
        store.add_packets(sid, packed_rows(3))
        store.finish_session(sid, STARTED_AT + 1)
    assert "Other" in _run(capsys, "sessions", "--db", str(other))[1]
    assert "Other" not in _run(capsys, "sessions")[1]  # HIPDROP_DB: the empty default here
    code, out, _ = _run(capsys, "sessions", "delete", str(sid), "--yes", "--db", str(other))
    assert (code, out.strip()) == (0, f"deleted session {sid}")
    assert _run(capsys, "sessions", "--db", str(other), "delete", "1", "--yes")[0] == 2


def test_sessions_json_and_athlete_filter(db, capsys):
    with Store.open(db) as store:
        for who in ("Ann", "Bea"):
            store.finish_session(
                store.create_session(started_at=STARTED_AT, source="import", athlete=who),
                STARTED_AT,
            )
    rows = json.loads(_run(capsys, "sessions", "--athlete", "Bea", "--json")[1])
    assert [(r["athlete"], r["state"], r["completeness"]) for r in rows] == [
        ("Bea", "complete", None)
    ]


def test_a_file_that_is_not_a_database_is_a_message(db, capsys):
    db.write_bytes(b"time_s,acc_x\n1,2\n" * 100)
    for argv in (["sessions"], ["export", "latest", "--out", "x.csv"], ["analyze", "latest"]):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and "is not a hipdrop session database" in err


@pytest.mark.parametrize("ref", ["3", "latest"])
def test_an_existing_file_named_like_a_session_is_analysed_as_a_csv(
    tmp_path, monkeypatch, capsys, ref
):
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "simulate", "treadmill_quick", "--out", ref)[0] == 0
    code, out, _ = _run(capsys, "analyze", ref)
    assert code == 0 and out.startswith(f"{ref}: ")
