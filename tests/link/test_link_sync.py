"""hipdrop sync: untethered logs into sessions, resumable, verified, merged into live sessions."""

import numpy as np
from linkkit import check_against_recording, stored_samples, sync_sim

from hipdrop.store import Store


def test_an_untethered_run_becomes_a_session_and_leaves_the_sensor(tmp_path):
    db = tmp_path / "s.db"
    recording, (first, again), _ = sync_sim(db)
    assert len(first) == 1
    assert first[0] not in again  # erased: a second sync finds only what was logged since
    samples = stored_samples(db, first[0])
    offset, n = check_against_recording(samples, recording, boot=1)
    assert offset < 200 and offset + n >= len(recording.time_s)  # all from boot to the end
    with Store.open(db, readonly=True) as store:
        info = store.session(first[0])
        assert info.state == "complete"
        assert [e["kind"] for e in store.events(first[0])] == ["log_synced"]
    assert not (tmp_path / "s.db.sync").exists()


def test_an_interrupted_download_resumes_where_it_stopped(tmp_path):
    db = tmp_path / "s.db"
    recording, (first, again), progress = sync_sim(db, interrupt_at=0.5)
    assert first is None and again[0] == 1
    _, done, total = progress[0]
    assert 0.5 * total <= done < total  # went on from the partial file, not from zero
    samples = stored_samples(db, again[0])
    offset, n = check_against_recording(samples, recording, boot=1)
    assert offset + n >= len(recording.time_s)


def test_keep_leaves_the_log_and_a_second_sync_adds_nothing_twice(tmp_path):
    db = tmp_path / "s.db"
    recording, (first, again), _ = sync_sim(db, keep=True)
    assert first[0] in again  # the same log lands in the same session
    with Store.open(db, readonly=True) as store:
        packets = list(store.packets(first[0]))
        kinds = [e["kind"] for e in store.events(first[0])]
    assert kinds == ["log_synced", "log_merged"]
    seqs = [(boot, seq) for boot, seq, *_ in packets]
    assert len(seqs) == len(set(seqs))


def test_a_log_fills_the_gap_of_a_walk_away_the_ring_could_not(tmp_path):
    db = tmp_path / "s.db"
    recording, (synced, _), _ = sync_sim(db, {"ring_capacity": 2500}, record="disconnect@40:30")
    with Store.open(db, readonly=True) as store:
        live = store.sessions()[-1].id  # the oldest: the live session
        kinds = [e["kind"] for e in store.events(live)]
    assert live in synced and "log_merged" in kinds and "gap" in kinds
    samples = stored_samples(db, live)
    assert samples.gaps == ()  # the flash log covered the walk-away
    offset, n = check_against_recording(samples, recording, boot=1)
    assert np.all(np.diff(samples.time_s) > 0)
