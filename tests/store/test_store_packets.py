"""Raw packets in, samples out: the stored bytes replay to what the sensor sent."""

import numpy as np
import pytest
from store_testkit import STARTED_AT, packed_rows, sensor_rows, treadmill

from hipdrop.protocol import StreamAssembler
from hipdrop.store import Store


def _new(store):
    return store.create_session(started_at=STARTED_AT, source="live")


def _drift_bound_s(recording):
    """How far the device clock (mapped by arrival times) may drift from the recording's."""
    return recording.time_s[-1] * abs(recording.spec.clock_error) + 0.01


def _assembled(notes):
    """The samples a live host assembles from the same notifications."""
    assembler = StreamAssembler()
    first = assembler.push([n.data for n in notes])
    rest = assembler.flush()
    return {
        name: np.concatenate([getattr(first, name), getattr(rest, name)])
        for name in ("boot", "sample_index", "device_time_s")
    }


def test_replayed_samples_are_the_simulators_samples(store):
    recording, sensor, notes = treadmill()
    sid = _new(store)
    assert store.add_packets(sid, sensor_rows(notes)) == len(notes)
    samples = store.samples(sid)
    index = sensor.recording_index(samples.boot, samples.sample_index)
    assert len(samples) == sum(n.data[14] for n in notes)
    np.testing.assert_array_equal(samples.acc_ms2, recording.acc_ms2[index])
    np.testing.assert_array_equal(samples.gyr_dps, recording.gyr_dps[index])
    assert (np.diff(samples.time_s) > 0).all()
    # arrival times place the samples where the recording has them, up to one constant (the
    # chip's start-up and the link latency) and the device clock's drift
    offset = samples.time_s - recording.time_s[index]
    assert np.ptp(offset) < _drift_bound_s(recording) and abs(np.median(offset)) < 0.5


def test_recording_is_the_engines_input(store):
    _, _, notes = treadmill()
    sid = _new(store)
    store.add_packets(sid, sensor_rows(notes))
    data, samples = store.recording(sid), store.samples(sid)
    np.testing.assert_array_equal(data.time_s, samples.time_s)
    np.testing.assert_array_equal(data.acc_ms2, samples.acc_ms2)
    assert data.sample_rate_hz == pytest.approx(200, rel=0.01)
    assert data.source == f"session {sid}" and data.speed_mps is None
    assert data.acc_ms2.flags.c_contiguous and data.gyr_dps.flags.c_contiguous


def test_a_duplicate_never_reaches_the_table(store):
    _, _, notes = treadmill()
    rows = sensor_rows(notes)
    sid = _new(store)
    assert store.add_packets(sid, rows[:100] + rows[50:60]) == 100
    assert store.add_packets(sid, rows[90:200]) == 100
    assert len(list(store.packets(sid))) == 200
    assert store.session(sid).samples == sum(row[5][14] for row in rows[:200])


def test_the_same_packet_in_another_session_is_kept(store):
    rows = packed_rows(5)
    first, second = _new(store), _new(store)
    assert store.add_packets(first, rows) == store.add_packets(second, rows) == 5


def test_packets_come_back_exactly_in_arrival_order(store):
    _, _, notes = treadmill()
    rows = sensor_rows(notes[:40])
    shuffled = rows[20:] + rows[:20]
    sid = _new(store)
    store.add_packets(sid, (row[:5] + (memoryview(row[5]),) for row in shuffled))
    assert list(store.packets(sid)) == shuffled


def test_a_reboot_keeps_both_boots_in_place(store):
    recording, sensor, notes = treadmill(reboots_s=(60.0,))
    sid = _new(store)
    store.add_packets(sid, sensor_rows(notes))
    samples = store.samples(sid)
    index = sensor.recording_index(samples.boot, samples.sample_index)
    offset = samples.time_s - recording.time_s[index]
    assert set(samples.boot.tolist()) == {1, 2}
    assert np.ptp(offset) < _drift_bound_s(recording)  # boot 2 at 61 s, not chained to boot 1
    assert any("boot 2: clock from packet arrival" in note for note in samples.notes)


def test_a_stored_clock_maps_device_time_exactly(store):
    _, _, notes = treadmill(reboots_s=(60.0,))
    sid = _new(store)
    store.add_packets(sid, sensor_rows(notes))
    store.set_clock(sid, 1, STARTED_AT + 2.5, 1.0001)
    store.set_clock(sid, 2, STARTED_AT + 64.0, 0.9999)
    samples, truth = store.samples(sid), _assembled(notes)
    for boot, offset, scale in ((1, 2.5, 1.0001), (2, 64.0, 0.9999)):
        mine = samples.boot == boot
        order = np.argsort(samples.sample_index[mine])
        theirs = truth["boot"] == boot
        index, device_s = truth["sample_index"][theirs], truth["device_time_s"][theirs]
        line = np.polyval(np.polyfit(index, device_s, 1), index)  # the IMU's steady clock
        assert np.abs(line - device_s).max() < 0.01  # packet t0 jitter only
        expected = STARTED_AT + offset + scale * line - STARTED_AT
        np.testing.assert_allclose(samples.time_s[mine][order], expected, atol=1e-6)
    assert any("boot 1: clock from the recorder's clock map" in n for n in samples.notes)


def test_boots_without_any_time_are_chained_end_to_end(store):
    sid = _new(store)
    store.add_packets(sid, packed_rows(10, boot=7) + packed_rows(5, boot=8))
    samples = store.samples(sid)
    assert len(samples) == 15 * 14
    np.testing.assert_allclose(samples.time_s, np.arange(15 * 14) / 200.0, atol=1e-9)
    assert samples.boot.tolist() == [7] * 140 + [8] * 70


def test_completeness_counts_missing_and_backfilled_samples(store):
    sid = _new(store)
    rows = packed_rows(20, host_start=STARTED_AT)
    store.add_packets(sid, rows[:5] + rows[10:])
    info = store.session(sid)
    assert (info.samples, info.samples_expected) == (15 * 14, 20 * 14)
    assert info.completeness == pytest.approx(0.75)
    samples = store.samples(sid)
    assert samples.gaps == ((1, 70, 140),)
    backfill = [row[:3] + (STARTED_AT + 9.0, "backfill", row[5]) for row in rows[5:10]]
    assert store.add_packets(sid, backfill) == 5
    assert store.session(sid).completeness == 1.0
    assert store.samples(sid).gaps == ()
    # the late packets' arrival does not move the clock: the earliest arrival bounds it
    np.testing.assert_allclose(store.samples(sid).time_s, np.arange(280) / 200 + 0.01, atol=1e-6)


def test_packets_wait_for_commit_before_another_reader_sees_them(db, store):
    sid = _new(store)
    store.add_packets(sid, packed_rows(3))
    with Store.open(db, readonly=True) as reader:
        assert reader.session(sid).samples == 0
        store.commit()
        assert reader.session(sid).samples == 3 * 14


def test_a_bad_origin_is_refused_and_undone(store):
    sid = _new(store)
    row = packed_rows(1)[0]
    with pytest.raises(ValueError, match="origin"):
        store.add_packets(sid, [row[:4] + ("radio",) + row[5:]])
    assert store.session(sid).samples == 0
