"""Tilt-filter and ring-buffer checks that run unchanged on CPython and MicroPython.

Expected values come from geometry (a board held still at a known tilt) and from
docs/protocol.md (§3 record layout, §5 BACKFILL results), not from the code under test.
"""

import math
import struct

from hipdrop_fw import protocol as p
from hipdrop_fw.packet import SamplePacker
from hipdrop_fw.ringbuf import BYTES_PER_SAMPLE, RingBuffer, capacity_for_heap
from hipdrop_fw.tilt import SETTLE_S, Calibrator, Tilt

RATE_HZ = 200
ONE_G = 2048  # counts at ±16 g
DPS = 32.768  # counts per deg/s at ±1000 deg/s


def _still_acc(roll_deg, pitch_deg):
    """Accelerometer counts of a board at rest with this ZYX roll and pitch."""
    r, q = math.radians(roll_deg), math.radians(pitch_deg)
    up = (-math.sin(q), math.cos(q) * math.sin(r), math.cos(q) * math.cos(r))
    return tuple(int(round(ONE_G * c)) for c in up)


def _acc_from_neutral(roll0_deg, pitch0_deg, roll_deg, pitch_deg):
    """Counts of a board at rest tilted by (roll, pitch) about the axes of the levelled
    neutral board: the board's up-vector is N^T·up(roll, pitch), N = Ry(pitch0)·Rx(roll0)."""
    r, q = math.radians(roll0_deg), math.radians(pitch0_deg)
    cr, sr, cq, sq = math.cos(r), math.sin(r), math.cos(q), math.sin(q)
    n = ((cq, sq * sr, sq * cr), (0.0, cr, -sr), (-sq, cq * sr, cq * cr))
    v = [c / ONE_G for c in _still_acc(roll_deg, pitch_deg)]
    return tuple(int(round(ONE_G * sum(n[i][j] * v[i] for i in range(3)))) for j in range(3))


def _feed(tilt, seconds, acc, gyr=(0, 0, 0)):
    for _ in range(int(seconds * RATE_HZ)):
        tilt.update(acc[0], acc[1], acc[2], gyr[0], gyr[1], gyr[2])


def _close(got_cdeg, want_deg, tol_cdeg):
    assert abs(got_cdeg - want_deg * 100) <= tol_cdeg, (got_cdeg, want_deg)


def check_tilt_unavailable_until_settled():
    tilt = Tilt(RATE_HZ, 16, 1000)
    assert (tilt.roll_cdeg, tilt.pitch_cdeg) == (p.TILT_UNAVAILABLE, p.TILT_UNAVAILABLE)
    assert tilt.flags == p.FLAG_TILT_UNSETTLED
    _feed(tilt, SETTLE_S - 0.5, _still_acc(0, 0))
    assert tilt.roll_cdeg == p.TILT_UNAVAILABLE and tilt.flags == p.FLAG_TILT_UNSETTLED
    _feed(tilt, 1.0, _still_acc(0, 0))
    assert tilt.flags == 0 and tilt.settled and tilt.still
    assert (tilt.roll_cdeg, tilt.pitch_cdeg) == (0, 0)


def check_tilt_still_at_known_angles():
    for roll, pitch in ((10, 0), (0, 20), (-30, -15), (60, 5)):
        tilt = Tilt(RATE_HZ, 16, 1000)
        _feed(tilt, 4, _still_acc(roll, pitch))
        _close(tilt.roll_cdeg, roll, 10)
        _close(tilt.pitch_cdeg, pitch, 10)


def check_tilt_upside_down():
    tilt = Tilt(RATE_HZ, 16, 1000, block=1)
    _feed(tilt, 4, (0, 0, -ONE_G))  # started upside down
    assert abs(tilt.roll_cdeg) == 18000 and tilt.pitch_cdeg == 0, tilt.roll_cdeg
    tilt = Tilt(RATE_HZ, 16, 1000)
    _feed(tilt, 4, _still_acc(0, 0))
    _feed(tilt, 1, _still_acc(0, 0), (int(round(180 * DPS)), 0, 0))  # turned over in 1 s
    _feed(tilt, 10, (0, 0, -ONE_G))
    assert abs(tilt.roll_cdeg) > 17950 and abs(tilt.pitch_cdeg) < 50, tilt.roll_cdeg


def check_tilt_follows_gyro_roll():
    """Roll 30° in 1 s by gyro alone (acc kept level): the estimate follows the gyro."""
    tilt = Tilt(RATE_HZ, 16, 1000, block=1)
    _feed(tilt, 4, _still_acc(0, 0))
    _feed(tilt, 1, _still_acc(0, 0), (int(round(30 * DPS)), 0, 0))
    # the slow correction pulls back at most 0.3/s x ~15° over 1 s (and less, it is not still)
    assert 2500 < tilt.roll_cdeg < 3010, tilt.roll_cdeg


def check_calibration_sets_neutral_and_bias():
    tilt = Tilt(RATE_HZ, 16, 1000)
    cal = Calibrator(16, 1000)
    cal.start(2 * RATE_HZ)
    acc, gyr = _still_acc(12, 17), (33, -16, 10)  # bias ≈ 1.0, -0.5, 0.3 deg/s
    done = False
    while not done:
        done = cal.add(*acc, *gyr)
    assert cal.finish(tilt) == p.RESULT_OK
    bx, by, bz, roll0, pitch0 = tilt.calibration()
    assert (bx, by, bz) == (101, -49, 31), tilt.calibration()
    _close(roll0, 12, 3)
    _close(pitch0, 17, 3)
    assert tilt.flags == p.FLAG_TILT_UNSETTLED  # a calibration restarts the filter
    _feed(tilt, 60, acc, gyr)  # a minute at neutral with the biased gyro: no drift
    assert abs(tilt.roll_cdeg) <= 5 and abs(tilt.pitch_cdeg) <= 5, (tilt.roll_cdeg, tilt.pitch_cdeg)
    # 5° of roll about the levelled board's forward axis reads 5° (not 5° × cos 17°)
    _feed(tilt, 30, _acc_from_neutral(12, 17, 5, 0), gyr)  # accelerometer alone: slow
    _close(tilt.roll_cdeg, 5, 5)
    _close(tilt.pitch_cdeg, 0, 5)


def check_calibration_refuses_motion():
    cal = Calibrator(16, 1000)
    cal.start(RATE_HZ)
    for i in range(RATE_HZ):
        cal.add(0, 0, ONE_G, (i % 20) * 10, 0, 0)  # 6 deg/s peak to peak
    tilt = Tilt(RATE_HZ, 16, 1000)
    assert cal.finish(tilt) == p.RESULT_NOT_STILL
    assert tilt.calibration() == (0, 0, 0, 0, 0)
    cal.start(RATE_HZ)
    for _ in range(RATE_HZ):
        cal.add(0, 0, ONE_G // 2, 0, 0, 0)  # half a g: falling, not standing
    assert cal.finish(tilt) == p.RESULT_NOT_STILL


def _record(i):
    tilt = p.TILT_UNAVAILABLE if i % 7 == 0 else i
    return struct.pack("<8h", i, -i, i * 2, 3, -3, i % 100, tilt, tilt)


def _ring(capacity, first_seq, n, t_step_us=5000):
    ring = RingBuffer(capacity)
    for i in range(n):
        seq = (first_seq + i) & 0xFFFFFFFF
        ring.push(_record(i), seq, (1000 + i * t_step_us) & 0x3FFFFFFF)
    return ring


def check_ring_push_overwrite_span():
    assert RingBuffer(5).span() == (0, 0)
    ring = _ring(5, 100, 3)
    assert ring.count == 3 and ring.span() == (100, 103)
    ring = _ring(5, 100, 12)
    assert ring.count == 5 and ring.span() == (107, 112)
    ring.clear()
    assert ring.count == 0 and ring.span() == (0, 0)


def check_ring_request_results():
    ring = _ring(10, 100, 10)  # holds [100, 110)
    ok, partial, gone = p.RESULT_OK, p.RESULT_PARTIAL, p.RESULT_RANGE_UNAVAILABLE
    assert ring.request(100, 110) == (ok, 100, 110)
    assert ring.request(103, 105) == (ok, 103, 105)
    assert ring.request(90, 105) == (partial, 100, 105)
    assert ring.request(105, 200) == (partial, 105, 110)
    assert ring.request(0, 1000) == (partial, 100, 110)
    assert ring.request(50, 100) == (gone, 0, 0)
    assert ring.request(110, 120) == (gone, 0, 0)
    assert ring.request(105, 105) == (gone, 0, 0)
    assert RingBuffer(4).request(0, 10) == (gone, 0, 0)


def check_ring_request_across_seq_wrap():
    ring = _ring(10, 0xFFFFFFFA, 10)  # holds 2³²-6 … 3
    assert ring.span() == (0xFFFFFFFA, 4)
    assert ring.request(0xFFFFFFF0, 2) == (p.RESULT_PARTIAL, 0xFFFFFFFA, 2)
    assert ring.request(0xFFFFFFFC, 4) == (p.RESULT_OK, 0xFFFFFFFC, 4)
    assert ring.request(1, 0xFFFFFFFB) == (p.RESULT_PARTIAL, 1, 4)  # 1 … past 2³²: wraps


def _parse(packet):
    """(header fields, records) of a sample packet, read per docs/protocol.md §3."""
    head = struct.unpack_from("<BBHIIBBBB", packet, 0)
    n = head[7]
    assert len(packet) == 20 + 16 * n
    return head, [bytes(packet[16 + 16 * i : 32 + 16 * i]) for i in range(n)]


def check_ring_backfill_repacks_records():
    ring = _ring(40, 0xFFFFFFF0, 50)  # holds seq 2³²-6 … 33, records 10 … 49
    result, first, end = ring.request(0xFFFFFFFE, 20)
    assert (result, first, end) == (p.RESULT_OK, 0xFFFFFFFE, 20)
    packer = SamplePacker(84)  # MTU 87: 4 samples per packet
    got, seqs = [], []
    for pkt in ring.packets(packer, first, end, 9, 3, 0x33):
        head, recs = _parse(bytes(pkt))
        version, ptype, boot, seq, t0, rate, fs, n, flags = head
        assert (version, ptype, boot, rate, fs) == (1, p.TYPE_BACKFILL, 9, 3, 0x33)
        i = (seq - 0xFFFFFFF0) & 0xFFFFFFFF
        assert t0 == 1000 + i * 5000, (t0, i)
        want_flags = p.FLAG_TILT_UNSETTLED if i % 7 == 0 else 0
        assert flags == want_flags, (seq, flags)
        seqs.append(seq)
        got += recs
    assert seqs == [0xFFFFFFFE, 2, 6, 10, 14, 18], seqs
    assert got == [_record(i) for i in range(14, 36)]


def check_ring_backfill_splits_at_holes():
    ring = RingBuffer(8)
    for i, seq in enumerate((10, 11, 12, 15, 16, 17)):  # the FIFO lost 13 and 14
        ring.push(_record(i + 1), seq, i * 5000)
    assert ring.span() == (10, 18)
    packer = SamplePacker(20 + 16 * 14)
    heads = [_parse(bytes(pkt))[0] for pkt in ring.packets(packer, 11, 17, 1, 3, 0x33)]
    assert [(h[3], h[7], h[8]) for h in heads] == [(11, 2, 0), (15, 2, p.FLAG_FIFO_OVERFLOW)]


def check_ring_capacity_for_heap():
    assert BYTES_PER_SAMPLE == 24
    assert capacity_for_heap(1_000_000, 200_000) == 33333
    assert capacity_for_heap(100, 200) == 0


CHECKS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("check_")]
