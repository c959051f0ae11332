"""A recorder killed with SIGKILL loses at most its open second; a reader reads beside a writer."""

import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from store_testkit import writer_command

from hipdrop.store import Store

BATCH = 15  # packets per commit in store_writer.py
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _kill_after(db, commits, delay_s):
    """Start a writer committing back to back, SIGKILL it ``delay_s`` after its ``commits``-th
    acknowledged commit; returns (session id, packets acknowledged as committed)."""
    writer = subprocess.Popen(writer_command(db, "forever", 0.0), stdout=subprocess.PIPE)
    for _ in range(commits):
        line = writer.stdout.readline()
    time.sleep(delay_s)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    lines = [line, *writer.stdout.read().splitlines()]  # acks already in the pipe count too
    sid, acked = map(int, lines[-1].split())
    return sid, acked


@pytest.mark.parametrize("commits, delay_s", [(5, 0.0), (40, 0.0), (20, 0.002), (30, 0.007)])
def test_kill_9_loses_nothing_committed(db, commits, delay_s):
    sid, acked = _kill_after(db, commits, delay_s)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(db) as store:
        stored = len(list(store.packets(sid)))
        assert acked <= stored <= acked + BATCH  # the commit after the last ack may be in
        assert stored % BATCH == 0  # whole transactions only
        info = store.session(sid)
        assert (info.state, info.interrupted) == ("incomplete", True)
        assert store._conn.execute("SELECT state FROM sessions").fetchone()[0] == "recording"
        samples = store.samples(sid)
        assert len(samples) == stored * 14 and samples.gaps == ()
        assert store.recover_stale() == [sid]
        store.reopen_session(sid)  # and it can be resumed
        assert store.session(sid).state == "recording"


def test_a_reader_follows_a_recording_in_progress(db):
    batches = 40
    writer = subprocess.Popen(
        writer_command(db, "finite", batches, 0.02), stdout=subprocess.PIPE, text=True
    )
    sid = int(writer.stdout.readline().split()[0])
    seen, states = [], set()
    with Store.open(db, readonly=True) as reader:
        while writer.poll() is None:
            info = reader.session(sid)
            states.add(info.state)
            seen.append(len(reader.samples(sid)))
            assert reader.resolve("latest") == sid
            time.sleep(0.01)
        assert writer.wait() == 0
        final = reader.session(sid)
    assert states == {"recording"} or states == {"recording", "complete"}
    assert len(seen) > 5 and np.all(np.diff(seen) >= 0) and 0 < seen[0] < seen[-1]
    assert (final.state, final.samples) == ("complete", batches * BATCH * 14)


def test_a_reader_opens_a_closed_database_whose_log_is_gone(db):
    assert subprocess.run(writer_command(db, "finite", 2, 0.0), capture_output=True).returncode == 0
    assert not db.with_name(db.name + "-wal").exists()
    with Store.open(db, readonly=True) as reader:
        assert [info.samples for info in reader.sessions()] == [2 * BATCH * 14]
