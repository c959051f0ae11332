"""StreamAssembler: order, duplicates, gaps, recovery, wrap-around, reboots, long streams."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_testkit import build_stream, reference, sample_records

from hipdrop.protocol import DEFAULT_REORDER_WINDOW_SAMPLES, Samples, StreamAssembler


def push_all(assembler: StreamAssembler, packets, batch=10) -> list[Samples]:
    outs = [assembler.push(packets[i : i + batch]) for i in range(0, len(packets), batch)]
    return [*outs, assembler.flush()]


def joined(outs: list[Samples]) -> dict[str, np.ndarray]:
    names = ("boot", "sample_index", "device_time_s", "acc_ms2", "recovered")
    return {n: np.concatenate([getattr(o, n) for o in outs]) for n in names}


def identity(acc_ms2: np.ndarray) -> np.ndarray:
    """The sample index encoded in acc x, y by sample_records (fs_code 0: +-2 g)."""
    counts = np.round(acc_ms2[:, :2] * 32768 / (2 * reference.G)).astype(np.int64)
    return counts[:, 0] | counts[:, 1] << 15


def missing_runs(kept: np.ndarray) -> list[tuple[int, int]]:
    """Runs of indices missing between the first and last kept index."""
    kept = np.unique(kept)
    jumps = np.nonzero(np.diff(kept) > 1)[0]
    return [(int(kept[j]) + 1, int(kept[j + 1])) for j in jumps]


def test_in_order_stream_is_released_at_once_without_gaps():
    stream = build_stream(700)
    assembler = StreamAssembler()
    out = assembler.push(stream.packets)
    np.testing.assert_array_equal(out.sample_index, np.arange(700))
    np.testing.assert_array_equal(identity(out.acc_ms2), np.arange(700))
    assert not out.recovered.any()
    assert assembler.gaps() == [] and len(assembler.flush()) == 0
    assert assembler.samples_released == 700
    np.testing.assert_allclose(np.diff(out.device_time_s), 0.005, atol=1e-6)


def test_duplicates_are_counted_and_never_released_twice():
    stream = build_stream(140)
    assembler = StreamAssembler()
    first = assembler.push(stream.packets)
    again = assembler.push(stream.packets[::-1])
    assert len(first) == 140 and len(again) == 0
    assert assembler.duplicates == 10 == assembler.errors["duplicate"]


def test_bad_packets_are_counted_and_good_ones_kept():
    stream = build_stream(42)
    bad = [stream.packets[0][:-1], b"", b"\x02" + stream.packets[1][1:]]
    assembler = StreamAssembler()
    out = assembler.push(
        [bad[0], stream.packets[0], bad[1], stream.packets[1], bad[2], stream.packets[2]]
    )
    assert len(out) == 42
    assert dict(assembler.errors) == {"truncated": 2, "wrong_version": 1}


def test_shuffled_duplicated_and_dropped_packets():
    rng = random.Random(7)
    stream = build_stream(14 * 300)
    dropped = {3, 4, 5, 50, 120, 121, 299 - 1}
    sent = [p for i, p in enumerate(stream.packets) if i not in dropped]
    sent += rng.sample(sent, 40)  # duplicates
    keys = [i + rng.uniform(0, 8) for i in range(len(sent))]  # local shuffle of ~8 packets
    sent = [p for _, p in sorted(zip(keys, sent, strict=True), key=lambda kp: kp[0])]
    assembler = StreamAssembler()
    outs = push_all(assembler, sent, batch=7)
    got = joined(outs)
    kept = np.concatenate(
        [np.arange(s, s + 14) for i, s in enumerate(stream.starts) if i not in dropped]
    )
    np.testing.assert_array_equal(got["sample_index"], kept)  # in order, each exactly once
    np.testing.assert_array_equal(identity(got["acc_ms2"]), kept)
    assert not got["recovered"].any()
    assert assembler.gaps() == [(1, s, e) for s, e in missing_runs(kept)]
    assert assembler.duplicates == 40
    for out in outs:
        assert np.all(np.diff(out.sample_index) > 0)


def test_hole_is_held_within_the_window_then_declared():
    stream = build_stream(14 * 40)
    assembler = StreamAssembler(reorder_window_samples=70)
    out = assembler.push(stream.packets[:2] + stream.packets[3:7])  # hole at packet 2
    assert out.sample_index[-1] == 27 and assembler.gaps() == []  # 70 samples beyond: held
    out = assembler.push(stream.packets[7:8])  # 84 samples beyond the hole > 70
    assert assembler.gaps() == [(1, 28, 42)]
    np.testing.assert_array_equal(out.sample_index, np.arange(42, 112))
    assert assembler.gaps_declared == 1


def test_late_backfill_recovers_part_of_a_gap_and_splits_it():
    stream = build_stream(14 * 60)
    assembler = StreamAssembler(reorder_window_samples=28)
    assembler.push(stream.packets[:10] + stream.packets[20:])
    assert assembler.gaps() == [(1, 140, 280)]
    # the device re-sends [170, 200) as one backfill packet of 30 samples
    backfill = build_stream(30, first_index=170, per_packet=30, ptype=2)
    out = assembler.push(backfill.packets)
    np.testing.assert_array_equal(out.sample_index, np.arange(170, 200))
    np.testing.assert_array_equal(identity(out.acc_ms2), np.arange(170, 200))
    assert out.recovered.all()
    assert assembler.gaps() == [(1, 140, 170), (1, 200, 280)]
    # a simply late live packet fills the start of the first gap
    out = assembler.push(stream.packets[10:11])
    np.testing.assert_array_equal(out.sample_index, np.arange(140, 154))
    assert assembler.gaps() == [(1, 154, 170), (1, 200, 280)]
    assert assembler.samples_recovered == 44
    assert len(assembler.push(stream.packets[10:11])) == 0 and assembler.duplicates == 1


def test_sequence_wraps_around_2_32():
    first = 2**32 - 100
    stream = build_stream(14 * 20, first_index=first)
    keep = [p for i, p in enumerate(stream.packets) if i != 10]
    assembler = StreamAssembler()
    got = joined(push_all(assembler, keep, batch=3))
    expected = np.delete(np.arange(first, first + 280), np.arange(140, 154))
    np.testing.assert_array_equal(got["sample_index"], expected)
    assert assembler.gaps() == [(1, first + 140, first + 154)]
    assert got["sample_index"].dtype == np.int64


def test_reboot_mid_stream_starts_a_new_sequence():
    old = build_stream(14 * 20, boot=5, first_index=1000, t0_start_us=9_000_000)
    new = build_stream(14 * 20, boot=6, t0_start_us=2_000_000)
    late = old.packets[15]  # the old boot's packet arrives after the new boot started
    sent = old.packets[:15] + old.packets[16:18] + new.packets[:3] + [late] + new.packets[3:]
    assembler = StreamAssembler()
    got = joined(push_all(assembler, sent, batch=4))
    old_mask = got["boot"] == 5
    # the new boot releases the old one at once, so the late packet fills a declared gap
    np.testing.assert_array_equal(np.sort(got["sample_index"][old_mask]), np.arange(1000, 1252))
    np.testing.assert_array_equal(got["sample_index"][got["recovered"]], np.arange(1210, 1224))
    np.testing.assert_array_equal(got["sample_index"][~old_mask], np.arange(280))
    assert assembler.gaps() == [] and assembler.gaps_declared == 1
    assert got["device_time_s"][~old_mask][0] == pytest.approx(2.0)


def test_older_packet_than_the_first_seen_is_released_as_recovered():
    stream = build_stream(14 * 10)
    assembler = StreamAssembler()
    assembler.push(stream.packets[5:])
    out = assembler.push(stream.packets[2:3])
    np.testing.assert_array_equal(out.sample_index, np.arange(28, 42))
    assert out.recovered.all() and assembler.gaps() == [(1, 42, 70)]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_order_gives_exactly_the_sent_samples_and_gaps(data):
    n_packets = data.draw(st.integers(2, 40))
    stream = build_stream(10 * n_packets, per_packet=10)
    order = data.draw(st.permutations(range(n_packets)))
    kept = sorted(order[: data.draw(st.integers(1, n_packets))])
    extra = data.draw(st.lists(st.sampled_from(kept), max_size=10))
    sent = [stream.packets[i] for i in order if i in kept] + [stream.packets[i] for i in extra]
    assembler = StreamAssembler(data.draw(st.integers(0, 100)))
    got = joined(push_all(assembler, sent, batch=data.draw(st.integers(1, 8))))
    truth = np.concatenate([np.arange(10 * i, 10 * i + 10) for i in kept])
    np.testing.assert_array_equal(np.sort(got["sample_index"]), truth)
    assert assembler.gaps() == [(1, s, e) for s, e in missing_runs(truth)]
    assert assembler.samples_released == len(truth)


@pytest.mark.parametrize("clock_error", [0.015, -0.015])
def test_100_minute_stream_unwraps_device_time(clock_error):
    """200 Hz for 100 min (~85,700 packets): the device clock wraps every 2^30 us (~5.6
    times), the IMU runs 1.5 % off nominal, and a 20-minute outage spans a whole wrap."""
    n = 200 * 60 * 100
    stream = build_stream(n, clock_error=clock_error, t0_start_us=900_000_000)
    outage = (stream.starts >= 200 * 60 * 30) & (stream.starts < 200 * 60 * 50)
    outage[[100, 5000, 5001]] = True
    packets = [p for p, lost in zip(stream.packets, outage, strict=True) if not lost]
    assembler = StreamAssembler()
    outs = push_all(assembler, packets, batch=20)
    got = joined(outs)
    kept = np.concatenate(
        [
            np.arange(s, s + c)
            for s, c in zip(stream.starts[~outage], stream.counts[~outage], strict=True)
        ]
    )
    np.testing.assert_array_equal(got["sample_index"], kept)
    assert assembler.gaps() == [(1, a, b) for a, b in missing_runs(kept)]
    assert len(assembler.gaps()) == 3
    assert assembler.gaps()[-1][2] - assembler.gaps()[-1][1] > 200 * 60 * 20 - 14
    time_s = got["device_time_s"]
    assert np.all(np.diff(time_s) > 0)
    # each packet's t0 unwraps exactly; samples inside a packet use the nominal rate
    first = np.isin(got["sample_index"], stream.starts[~outage])
    truth_s = stream.t0_true_us[~outage] / 1e6
    np.testing.assert_allclose(time_s[first], truth_s, rtol=0, atol=1e-6)
    true_last_s = (900_000_000 + (n - 1) * 1e6 / (200 * (1 + clock_error))) / 1e6
    assert time_s[-1] == pytest.approx(true_last_s, abs=2e-3)
    assert time_s[-1] > 2**30 / 1e6 * 5


def test_default_window_is_documented():
    assert DEFAULT_REORDER_WINDOW_SAMPLES == 256
    with pytest.raises(ValueError):
        StreamAssembler(-1)
    assert sample_records(0, 3).shape == (3, 8)
