"""hipdrop record over the real bleak code path against the firmware on a real BLE stack."""

import numpy as np
import pytest
from linkkit import check_against_recording, record_sim, stored_samples

from hipdrop.store import Store


def test_ten_minutes_at_200_hz_arrive_whole(tmp_path):
    got = record_sim(tmp_path / "s.db", "steady_run", minutes=10)
    samples = stored_samples(got.db, got.session_id)
    assert got.stats["lost"] == 0 and got.gaps == []
    assert got.stats["rejected"] == 0
    first, n = check_against_recording(samples, got.recording, boot=1)
    assert n >= 10 * 60 * 200 - 2 * 200  # all but the pairing at the start
    assert np.median(np.diff(samples.time_s)) == pytest.approx(1 / 200, rel=0.02)
    # on the host clock, samples sit where they were taken: the device clock runs 200 ppm
    # slow here (0.12 s over 10 min) and the IMU 0.4 % fast; the clock map removes both
    taken = got.recording.time_s[first : first + n]
    drift = (samples.time_s - samples.time_s[0]) - (taken - taken[0])
    assert np.abs(drift).max() < 0.005


def test_thirty_second_walk_away_is_backfilled_without_loss(tmp_path):
    got = record_sim(tmp_path / "s.db", faults="disconnect@40:30")
    assert "disconnect" in got.events and "reconnect" in got.events
    assert got.stats["recovered"] >= 30 * 200 - 100
    assert got.stats["lost"] == 0 and got.gaps == []
    samples = stored_samples(got.db, got.session_id)
    first, n = check_against_recording(samples, got.recording, boot=1)
    assert first + n >= len(got.recording.time_s) - 200  # streamed to the end


def test_walk_away_longer_than_the_ring_is_an_exact_gap(tmp_path):
    ring = 2500  # a board without PSRAM: 12.5 s at 200 Hz
    got = record_sim(tmp_path / "s.db", faults="disconnect@40:30", ring_capacity=ring)
    assert len(got.gaps) == 1
    boot, start, end = got.gaps[0]
    samples = stored_samples(got.db, got.session_id)
    index = samples.sample_index[samples.boot == boot]
    assert index.max() >= end and not np.isin(np.arange(start, end), index).any()
    assert start in index - 0 or start - 1 in index  # the gap starts where data stop
    assert got.stats["lost"] == end - start
    assert 30 * 200 - ring - 400 <= end - start <= 30 * 200 - ring + 400
    with Store.open(got.db, readonly=True) as store:
        kinds = [e["kind"] for e in store.events(got.session_id)]
    assert "gap" in kinds


def test_reboot_mid_session_continues_in_a_new_boot(tmp_path):
    got = record_sim(tmp_path / "s.db", faults="reboot@60")
    assert got.stats["boots"] == [1, 2]
    samples = stored_samples(got.db, got.session_id)
    first1, n1 = check_against_recording(samples, got.recording, boot=1)
    first2, n2 = check_against_recording(samples, got.recording, boot=2)
    assert first2 > first1 + n1  # the restart loses a moment, never reorders
    assert np.all(np.diff(samples.time_s) > 0)
    gap_s = got.recording.time_s[first2] - got.recording.time_s[first1 + n1 - 1]
    assert 1.0 < gap_s < 8.0


def test_thousand_corrupted_notifications_do_not_touch_good_ones(tmp_path):
    got = record_sim(tmp_path / "s.db", faults="corrupt@20:70")
    assert got.stats["rejected"] + got.stats["duplicates"] >= 1000
    assert got.stats["rejected"] >= 750
    assert got.stats["lost"] == 0
    samples = stored_samples(got.db, got.session_id)
    check_against_recording(samples, got.recording, boot=1)
    with Store.open(got.db, readonly=True) as store:
        assert sum(1 for _ in store.packets(got.session_id)) == got.stats["stored"]


def test_a_resumed_session_backfills_what_the_dead_recorder_missed(tmp_path):
    import asyncio

    from hipdrop.link.recorder import Recorder, RecordOptions
    from hipdrop.sim import scenario
    from hipdrop.vsensor.virtual_time import run_virtual
    from hipdrop.vsensor.world import SimWorld

    db = tmp_path / "s.db"
    recording = scenario("treadmill_quick", 0)

    async def main():
        async with SimWorld(recording) as world:
            with Store.open(db) as store:
                first = Recorder(store, world.backends, world.clock, RecordOptions())
                task = asyncio.create_task(first.run())
                await asyncio.sleep(40)
                first._close_session = lambda: None  # it dies like a killed process:
                task.cancel()  # no STOP, no end of session (the kill -9 test: test_link_cli)
                await asyncio.gather(task, return_exceptions=True)
                assert store.session(first.session_id).state == "recording"
                await asyncio.sleep(20)  # nobody listens for 20 s
                resumed = Recorder(store, world.backends, world.clock,
                                   RecordOptions(resume="latest"), stop=world.finished)  # fmt: skip
                sid = await resumed.run()
                return first.session_id, sid, resumed.stats(), resumed.unrecoverable

    first_id, sid, stats, gaps = run_virtual(main())
    assert sid == first_id and gaps == [] and stats["lost"] == 0
    assert stats["recovered"] >= 20 * 200 - 400
    samples = stored_samples(db, sid)
    offset, n = check_against_recording(samples, recording, boot=1)
    assert offset + n >= len(recording.time_s) - 200


def test_the_bond_survives_a_reboot_in_the_sensors_flash(tmp_path):
    got = record_sim(tmp_path / "s.db", faults="reboot@60")
    assert got.events.count("paired") == 1  # the reconnect after the reboot encrypted at once
    assert got.events.count("reconnect") == 1


def test_the_status_line_shows_the_battery_draining(tmp_path):
    import asyncio

    from hipdrop.link.recorder import Recorder, RecordOptions
    from hipdrop.sim import scenario
    from hipdrop.vsensor.virtual_time import run_virtual
    from hipdrop.vsensor.world import SimWorld

    states = []

    async def main():
        async with SimWorld(scenario("steady_run", 0)) as world:
            with Store.open(tmp_path / "s.db") as store:
                recorder = Recorder(store, world.backends, world.clock,
                                    RecordOptions(minutes=8), on_state=states.append)  # fmt: skip
                await recorder.run()
                await asyncio.sleep(0)

    run_virtual(main())
    first = next(s for s in states if s.battery_pct is not None)
    assert 90 <= first.battery_pct <= 100 and states[-1].battery_pct < first.battery_pct
    assert 195 < states[-1].rate_hz < 206
