"""The on-device tilt filter and ring buffer on CPython: shared checks, simulator accuracy,
and backfill packets read back by the host decoder."""

import struct

import fw_checks_tilt
import numpy as np
import pytest

from hipdrop.protocol import decode_packets
from hipdrop.sim import rotation, scenario
from hipdrop_fw import protocol as p
from hipdrop_fw.packet import SamplePacker
from hipdrop_fw.ringbuf import RingBuffer
from hipdrop_fw.tilt import Calibrator, Tilt

CAL = slice(200, 1200)  # 1–6 s of the scenario's 10 s stand


@pytest.mark.parametrize(
    ("name", "check"), fw_checks_tilt.CHECKS, ids=[n for n, _ in fw_checks_tilt.CHECKS]
)
def test_check(name, check):
    check()


def _truth_tilt_deg(rec):
    """True roll, pitch of the levelled neutral board (the filter's definition, tilt.py)."""
    up = rotation.rotate(rotation.conjugate(rec.sensor.sensor_quat), np.array([0.0, 0.0, 1.0]))
    u0 = up[CAL].mean(axis=0)
    r0, p0 = np.arctan2(u0[1], u0[2]), np.arctan2(-u0[0], np.hypot(u0[1], u0[2]))
    cq, sq, cr, sr = np.cos(p0), np.sin(p0), np.cos(r0), np.sin(r0)
    n = np.array([[cq, sq * sr, sq * cr], [0.0, cr, -sr], [-sq, cq * sr, cq * cr]])
    b = up @ n.T
    roll = np.degrees(np.arctan2(b[:, 1], b[:, 2]))
    return roll, np.degrees(np.arctan2(-b[:, 0], np.hypot(b[:, 1], b[:, 2])))


def _run_filter(rec):
    """Calibrate on the stand, then filter the rest; (n, 2) degrees, NaN while unavailable."""
    spec = rec.spec
    acc, gyr = rec.sensor.acc_counts.tolist(), rec.sensor.gyr_counts.tolist()
    tilt = Tilt(spec.rate_hz, spec.acc_range_g, spec.gyr_range_dps)
    cal = Calibrator(spec.acc_range_g, spec.gyr_range_dps)
    cal.start(CAL.stop - CAL.start)
    for i in range(CAL.start, CAL.stop):
        cal.add(*acc[i], *gyr[i])
    assert cal.finish(tilt) == p.RESULT_OK
    out = np.full((len(acc), 2), np.nan)
    for i in range(CAL.stop, len(acc)):
        tilt.update(*acc[i], *gyr[i])
        if tilt.roll_cdeg != p.TILT_UNAVAILABLE:
            out[i] = tilt.roll_cdeg / 100, tilt.pitch_cdeg / 100
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tilt_tracks_simulated_running(seed):
    """treadmill_quick: 10 s stand, 2 min run, 5 s stand; realistic biases, noise, ringing.

    Measured (seeds 0–2): median |error| during running 0.1–0.3°, 95th percentile < 1°.
    """
    rec = scenario("treadmill_quick", seed)
    est = _run_filter(rec)
    roll, pitch = _truth_tilt_deg(rec)
    t = rec.time_s
    assert np.isnan(est[t < 6 + 2.9]).all()  # unavailable until settled after calibration
    assert not np.isnan(est[t > 6 + 3.1]).any()
    running = (t > 20) & (t < 130)
    for k, truth in ((0, roll), (1, pitch)):
        err = np.abs(est[running, k] - truth[running])
        assert np.median(err) < 0.5, (k, np.median(err))
        assert np.percentile(err, 95) < 1.2, (k, np.percentile(err, 95))
        assert np.ptp(truth[running]) > 5  # the motion is real, not a flat line
    standing = t > 131
    assert np.nanmax(np.abs(est[standing] - np.c_[roll, pitch][standing])) < 0.5


def test_backfill_decodes_to_pushed_records():
    ring = RingBuffer(300)
    rng = np.random.default_rng(5)
    raw = rng.integers(-32767, 32767, size=(400, 8)).astype(np.int16)
    first_seq = 2**32 - 150
    for i, row in enumerate(raw):
        ring.push(struct.pack("<8h", *row.tolist()), (first_seq + i) % 2**32, (i * 5000) % 2**30)
    result, first, end = ring.request((first_seq + 50) % 2**32, (first_seq + 350) % 2**32)
    assert (result, first, end) == (p.RESULT_PARTIAL, (first_seq + 100) % 2**32, 200)
    packer = SamplePacker(247 - 3)
    packets = [bytes(pkt) for pkt in ring.packets(packer, first, end, 3, 3, 0x33)]
    dec = decode_packets(packets)
    assert not dec.errors
    assert (dec.packet_type == p.TYPE_BACKFILL).all() and (dec.count[:-1] == 14).all()
    assert np.array_equal(dec.raw, raw[100:350])
    offsets = (dec.seq.astype(np.int64) - first_seq) % 2**32
    assert np.array_equal(dec.t0_ticks_us, offsets * 5000)
