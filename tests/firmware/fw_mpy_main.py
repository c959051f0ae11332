"""MicroPython entry (tests/mpy/run.mjs): every shared check, then MicroPython-only ones.

Golden vectors are read from /work/vectors (tests/vectors copied by the runner).
Prints ``ok NAME``, ``n/a NAME`` or ``FAIL NAME: error`` per check, then ``DONE``;
raises if any failed.
"""

import json
import os
import struct

import fw_checks
import fw_imu_checks
import fw_vectors
import micropython
import mpy_report

from hipdrop_fw import packet, sampler
from hipdrop_fw import protocol as p


def check_add_allocates_nothing():
    pk = packet.SamplePacker(244)
    pk.start(p.TYPE_LIVE, 1, 0, 0, 3, 0x11)
    full = False
    micropython.heap_lock()
    try:
        while not full:
            full = pk.add(-32768, 32767, 0, 1, -1, 2, -3, 4)
    finally:
        micropython.heap_unlock()
    assert bytes(pk.finish())[14] == 14


def check_bytes_of_finished_packet():
    pk = packet.SamplePacker(84)
    pk.start(p.TYPE_LIVE, 1, 0, 0, 3, 0x11)
    pk.add(1, 2, 3, 4, 5, 6, 7, 8)
    assert len(bytes(pk.finish())) == 36


def check_sample_path_allocates_nothing():
    """FIFO bytes -> unpack -> hook -> packer.add for 10 samples, with the heap locked."""
    imu = fw_imu_checks.FakeImu([10])
    imu._map = fw_imu_checks.mpu6886.axis_map(fw_imu_checks.M5_AXES)
    s = sampler.Sampler(imu, lambda: 0, packet.SamplePacker(244), None, 1, _tilt_hook)
    imu.read_fifo(s._buf)
    micropython.heap_lock()
    try:
        s._pack(10, 12345)
    finally:
        micropython.heap_unlock()
    pk = bytes(s.packer.finish())
    assert pk[14] == 10 and s.seq == 10
    # sample 9 in chip axes: acc (9, -9, 1), gyr (2, 3, 9); board x = -z, y = -x, z = +y
    assert struct.unpack_from("<8h", pk, 16 + 16 * 9) == (-1, -9, -9, -9, -2, 3, -9, 9)


def check_read_stamping_allocates_nothing():
    """The per-read clock tracking (first read, kept, clamped down and up, period updates)
    with the heap locked; the packing it feeds (check_sample_path_allocates_nothing) between.
    """
    imu = fw_imu_checks.FakeImu([14])
    imu._map = fw_imu_checks.mpu6886.axis_map(fw_imu_checks.M5_AXES)
    s = sampler.Sampler(imu, lambda: 0, packet.SamplePacker(244), lambda pk: None, 1)
    imu.read_fifo(s._buf)
    stamps = [0] * 40
    now = sampler.TICKS_MASK - 50_000  # wraps on the way
    for j in range(40):
        now = (now + 20_000 + (j % 3) * 7_000) & sampler.TICKS_MASK
        micropython.heap_lock()
        try:
            t = s._stamp(now, 5 + (j % 4))
        finally:
            micropython.heap_unlock()
        stamps[j] = t
        s._pack(5, t)  # advances the tracked stamp (finished packets go to the sink)
    assert s._tracking and s._window > 64 and s.seq == 200
    assert stamps[0] == sampler.TICKS_MASK - 30_000 - 4 * 5000  # the first read: measured


def _tilt_hook(rec):
    rec[6] = rec[2]
    rec[7] = -rec[2]


def vector_checks(folder="/work/vectors"):
    """One (name, check) per vector file; a check returns False if it does not apply."""
    names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    return [("vector " + n, _vector_check(folder + "/" + n)) for n in names]


def _vector_check(path):
    def check():
        with open(path) as f:
            vec = json.load(f)
        return fw_vectors.check(vec)

    return check


mpy_report.run_checks(
    fw_checks.CHECKS
    + fw_imu_checks.CHECKS
    + [
        ("check_sample_path_allocates_nothing", check_sample_path_allocates_nothing),
        ("check_read_stamping_allocates_nothing", check_read_stamping_allocates_nothing),
        ("check_add_allocates_nothing", check_add_allocates_nothing),
        ("check_bytes_of_finished_packet", check_bytes_of_finished_packet),
    ]
    + vector_checks(),
    "firmware",
)
