"""scan / record / sync / sessions / demo from the command line, on the virtual sensor."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from hipdrop.cli import main
from hipdrop.store import Store


def _json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_scan_lists_the_virtual_sensor(capsys):
    (found,) = _json(capsys, "scan", "--sim", "treadmill_quick", "--seconds", "1", "--json")
    assert found["name"] == "hipdrop-ABCD" and found["protocol_version"] == 1


def test_record_then_sessions_then_sync(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    assert main(["record", "--sim", "treadmill_quick", "--db", db, "--athlete", "Ann",
                 "--no-analysis"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "session 1:" in err and "nothing lost" in err
    (session,) = _json(capsys, "sessions", "--db", db, "--json")
    assert session["athlete"] == "Ann" and session["state"] == "complete"
    assert main(["sync", "--sim", "treadmill_quick", "--db", db, "--no-analysis"]) == 0
    sessions = _json(capsys, "sessions", "--db", db, "--json")
    assert len(sessions) == 2  # a second, untethered run of the same scenario


def test_demo_records_into_its_own_database(tmp_path, capsys):
    db = tmp_path / "demo.db"
    args = ["demo", "--db", str(db), "--every", "60", "--faults", "disconnect@40:20"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "backfill" in out and "stored as session 1" in out and "steps" in out
    with Store.open(db, readonly=True) as store:
        (info,) = store.sessions()
        assert info.steps > 300 and info.state == "complete"


def test_faults_a_ble_link_cannot_have_are_refused(capsys):
    assert main(["demo", "--faults", "reorder@3"]) == 2
    assert "cannot happen on a BLE link" in capsys.readouterr().err


def test_a_killed_recorder_loses_at_most_a_second_and_can_be_resumed(tmp_path):
    db = tmp_path / "s.db"
    cmd = [sys.executable, "-m", "hipdrop.cli", "record", "--sim", "steady_run", "--realtime",
           "--device", "hipdrop-ABCD", "--db", str(db), "--no-analysis"]  # fmt: skip
    recorder = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_packets(db, 300)
        time.sleep(1.5)
        killed_at = time.time()
        os.kill(recorder.pid, signal.SIGKILL)
    finally:
        recorder.wait(10)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        last_rx = conn.execute("SELECT max(host_rx_s) FROM packets").fetchone()[0]
    assert killed_at - last_rx < 1.3  # one commit a second, plus the link's latency
    with Store.open(db) as store:
        (info,) = store.sessions()
        assert info.state == "incomplete" and info.interrupted
        store.close_session(info.id)
        assert store.session(info.id).state == "incomplete"


def _wait_for_packets(db, n, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                if conn.execute("SELECT count(*) FROM packets").fetchone()[0] >= n:
                    return
        except sqlite3.OperationalError:
            pass  # not created yet
        time.sleep(0.2)
    raise AssertionError(f"the recorder stored fewer than {n} packets in {timeout_s} s")


def test_resume_refuses_a_session_of_another_sensor(tmp_path, capsys):
    db = tmp_path / "s.db"
    with Store.open(db) as store:
        sid = store.create_session(
            started_at=time.time(), source="live", device="AA:BB:CC:DD:EE:FF"
        )
        store.finish_session(sid, ended_at=time.time(), complete=False)
    assert main(["record", "--sim", "treadmill_quick", "--db", str(db), "--resume", str(sid)]) == 2
    assert "was recorded from AA:BB:CC:DD:EE:FF" in capsys.readouterr().err
