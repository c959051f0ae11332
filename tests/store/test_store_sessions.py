"""Session rows: fields, listing, references, and recordings whose recorder is gone."""

import subprocess

import pytest
from store_testkit import STARTED_AT, packed_rows, writer_command

from hipdrop.store import Store, StoreError


def test_a_session_keeps_its_fields(store):
    sid = store.create_session(
        started_at=STARTED_AT, source="live", athlete="Ann", device="AA:BB:CC:DD:EE:FF",
        device_name="hipdrop-EEFF", firmware="1.2.3", board="m5stickc-plus2", protocol_version=1,
        sample_rate_hz=200.0, calibration={"gyro_bias": [0.1, 0, -0.2]}, notes="easy run",
        tags=["treadmill", "week 1"],
    )  # fmt: skip
    info = store.session(sid)
    assert (info.athlete, info.device_name, info.firmware, info.board) == (
        "Ann", "hipdrop-EEFF", "1.2.3", "m5stickc-plus2"
    )  # fmt: skip
    assert info.tags == ("treadmill", "week 1") and info.state == "recording"
    assert not info.interrupted and info.duration_s is None and info.completeness is None
    store.update_session(sid, athlete="Bea", tags=["race"], stats={"lost": 3}, notes=None)
    info = store.session(sid)
    assert (info.athlete, info.tags, info.notes) == ("Bea", ("race",), None)
    calibration, stats = store._conn.execute(
        "SELECT calibration, stats FROM sessions WHERE id = ?", (sid,)
    ).fetchone()
    assert (calibration, stats) == ('{"gyro_bias": [0.1, 0, -0.2]}', '{"lost": 3}')


def test_bad_fields_are_programming_errors(store):
    with pytest.raises(ValueError, match="source"):
        store.create_session(started_at=STARTED_AT, source="radio")
    sid = store.create_session(started_at=STARTED_AT, source="live")
    with pytest.raises(TypeError, match="shoe"):
        store.update_session(sid, shoe="trainer")
    with pytest.raises(TypeError, match="sequence of strings"):
        store.update_session(sid, tags="race")


def test_finishing_sets_state_and_end(store):
    done, cut = (store.create_session(started_at=STARTED_AT, source="live") for _ in range(2))
    store.finish_session(done, STARTED_AT + 90.0)
    store.finish_session(cut, STARTED_AT + 30.0, complete=False)
    assert (store.session(done).state, store.session(done).duration_s) == ("complete", 90.0)
    assert (store.session(cut).state, store.session(cut).interrupted) == ("incomplete", False)


def test_sessions_are_listed_newest_first_and_by_athlete(store):
    starts = {"Ann": [3.0, 1.0], "Bea": [2.0]}
    ids = {
        (who, t): store.create_session(started_at=STARTED_AT + t, source="live", athlete=who)
        for who, times in starts.items()
        for t in times
    }
    assert [i.id for i in store.sessions()] == [ids["Ann", 3.0], ids["Bea", 2.0], ids["Ann", 1.0]]
    assert [i.id for i in store.sessions(athlete="Ann")] == [ids["Ann", 3.0], ids["Ann", 1.0]]
    assert store.sessions(athlete="Cem") == []


def test_latest_is_the_newest_start_even_while_recording(store):
    old = store.create_session(started_at=STARTED_AT + 100, source="live")
    store.finish_session(old, STARTED_AT + 200)
    earlier = store.create_session(started_at=STARTED_AT, source="import")  # created later
    store.finish_session(earlier, STARTED_AT + 50)
    new = store.create_session(started_at=STARTED_AT + 300, source="live")
    assert store.resolve("latest") == store.resolve("LATEST") == new
    assert store.resolve(str(earlier)) == store.resolve(earlier) == earlier


@pytest.mark.parametrize("ref", ["99", 99, "first", "-1"])
def test_an_unknown_reference_is_a_clear_error(store, ref):
    store.create_session(started_at=STARTED_AT, source="live")
    with pytest.raises(StoreError, match="no session 99|not a session"):
        store.resolve(ref)


def test_latest_in_an_empty_database_says_how_to_record(store):
    with pytest.raises(StoreError, match="hipdrop record --sim treadmill_quick"):
        store.resolve("latest")


def test_a_session_closed_without_finishing_is_interrupted(db):
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="live")
        store.add_packets(sid, packed_rows(30, host_start=STARTED_AT))
        assert store.session(sid).state == "recording"  # its own recorder is alive
    with Store.open(db) as store:
        info = store.session(sid)
        assert (info.state, info.interrupted, info.state_text) == (
            "incomplete", True, "incomplete (interrupted)"
        )  # fmt: skip
        stored = store._conn.execute("SELECT state FROM sessions").fetchone()[0]
        assert stored == "recording"  # opening changed nothing
        assert store.recover_stale() == [sid]
        info = store.session(sid)
        assert (info.state, info.interrupted) == ("incomplete", False)
        assert info.ended_at == pytest.approx(STARTED_AT + 30 * 14 / 200 + 0.01 - 0.005)


def test_an_interrupted_session_can_be_closed_or_resumed(db):
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="live")
        store.add_packets(sid, packed_rows(10, host_start=STARTED_AT))
    with Store.open(db) as store:
        store.reopen_session(sid)
        assert store.session(sid).state == "recording"
        assert store.add_packets(sid, packed_rows(20, host_start=STARTED_AT)) == 10
        store.close_session(sid)
        assert (store.session(sid).state, store.session(sid).samples) == ("incomplete", 20 * 14)
        assert store.recover_stale() == []


def test_a_session_recorded_by_a_live_process_is_not_taken_over(db):
    writer = subprocess.Popen(
        writer_command(db, "forever", 0.05), stdout=subprocess.PIPE, text=True
    )
    try:
        sid = int(writer.stdout.readline().split()[0])
        with Store.open(db) as store:
            assert store.session(sid).state == "recording"
            assert store.recover_stale() == []
            for refused in (store.reopen_session, store.close_session, store.delete_session):
                with pytest.raises(StoreError, match="still being recorded"):
                    refused(sid)
    finally:
        writer.kill()
        writer.wait()
    with Store.open(db) as store:
        assert store.session(sid).interrupted
        assert store.recover_stale() == [sid]


def test_a_writer_on_another_host_counts_as_alive_while_it_commits(store):
    sid = store.create_session(started_at=STARTED_AT, source="live")
    store._conn.execute("UPDATE writers SET host = 'elsewhere', seen_at = seen_at - 60")
    assert store.session(sid).state == "recording"
    assert store.recover_stale(max_age_s=300) == []
    assert store.recover_stale(max_age_s=30) == [sid]
