"""Board, IMU-driver and sampler checks that run unchanged on CPython and on MicroPython.

The pure logic only: axis mapping and unpacking, divider choice, tick arithmetic, and the
driver and sampler against small fakes written here (the register-level chip model is host
code with NumPy; tests/firmware/test_fw_imu.py drives the driver with it on CPython).
Expected values are worked out by hand in the comments. Each ``check_*`` raises
AssertionError on a mismatch.
"""

import struct

from hipdrop_fw import boards, packet, sampler
from hipdrop_fw import protocol as p
from hipdrop_fw.imu import mpu6886

_MASK = 0x3FFFFFFF
M5_AXES = ((2, -1), (0, -1), (1, 1))


def fifo_sample(acc, temp, gyr):
    """One 14-byte FIFO sample: big-endian int16 accel x, y, z, temperature, gyro x, y, z."""
    return struct.pack(">7h", acc[0], acc[1], acc[2], temp, gyr[0], gyr[1], gyr[2])


def _raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return
    raise AssertionError("no " + exc.__name__)


def _det(axes):
    m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    for k, (src, sign) in enumerate(axes):
        m[k][src] = sign
    a, b, c = m
    return (
        a[0] * (b[1] * c[2] - b[2] * c[1])
        - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0])
    )


def check_boards():
    names = []
    for name in boards.BOARDS:
        prof = boards.load(name)
        names.append(prof.NAME)
        assert boards.load(prof.NAME) is prof  # the Model Number spelling loads it too
        assert sorted(src for src, _ in prof.AXES) == [0, 1, 2], prof.AXES
        assert all(sign in (-1, 1) for _, sign in prof.AXES), prof.AXES
        assert _det(prof.AXES) == 1, "AXES must be a proper rotation"
        assert prof.I2C_FREQ == 400_000 and prof.IMU_ADDR in (0x68, 0x69)
        assert prof.IMU_PART in ("mpu6886", "mpu6050", "mpu6500")
    assert names == ["m5stickc-plus2", "diy-esp32"], names
    try:
        boards.load("esp8266")
    except ValueError as e:
        assert "esp8266" in str(e) and "m5stickc_plus2" in str(e), str(e)
    else:
        raise AssertionError("unknown board accepted")


def check_unpack_maps_axes():
    imu = mpu6886.Mpu6886(None, axes=M5_AXES)
    buf = bytearray(fifo_sample((9, 9, 9), 0, (9, 9, 9)))
    buf += fifo_sample((1000, -2000, 3000), 77, (-32768, 5, 32767))
    out = [0] * 6
    imu.unpack(buf, 1, out)
    # board x = -chip z, y = -chip x, z = +chip y; -(-32768) saturates at 32767
    assert out == [-3000, -1000, -2000, -32767, 32767, 5], out
    identity = mpu6886.Mpu6886(None)
    identity.unpack(buf, 1, out)
    assert out == [1000, -2000, 3000, -32768, 5, 32767], out


def check_nearest_divider():
    # 1000 / (1 + div): 104 Hz -> 100 (|4|) beats 111.1 (|7.1|); 208 -> 200 beats 250
    got = [mpu6886.nearest_divider(hz) for hz in (100, 104, 200, 208)]
    assert got == [9, 9, 4, 4], got
    assert [mpu6886.dlpf_cfg(hz) for hz in (100, 200)] == [3, 2]


def check_tick_arithmetic():
    assert sampler.ticks_diff(5, _MASK - 4) == 10  # across the 2**30 wrap
    assert sampler.ticks_diff(_MASK - 4, 5) == -10
    assert sampler.ticks_diff(2**29 - 1, 0) == 2**29 - 1
    assert sampler.first_sample_ticks(100, 3, 5000) == 2**30 - 9900
    assert sampler.first_sample_ticks(20000, 1, 5000) == 20000
    # 1 s at 5 ms: 200 samples + 1/64 margin = 203.125 -> 204 (rounded up)
    assert sampler.lost_samples(1_000_000, 5000) == 204
    assert sampler.lost_samples(4000, 5000) == 1
    assert sampler.lost_samples(0, 5000) == 1


class FakeBus:
    """Just enough of an MPU6886 on ``machine.I2C`` for ``read_fifo``: status, count, FIFO."""

    def __init__(self, addr=0x68):
        self.addr = addr
        self.fifo = bytearray()
        self.status = 0
        self.resets = 0

    def readfrom_mem_into(self, addr, reg, buf):
        if addr != self.addr:
            raise OSError(19)
        if reg == 0x75:
            buf[0] = 0x19
        elif reg == 0x3A:
            buf[0] = self.status
            self.status = 0
        elif reg == 0x72:
            buf[0] = len(self.fifo) >> 8
            buf[1] = len(self.fifo) & 0xFF
        elif reg == 0x74:
            n = len(buf)
            buf[:n] = self.fifo[:n]
            self.fifo = self.fifo[n:]

    def writeto_mem(self, addr, reg, buf):
        if reg == 0x6A and buf[0] & 0x04:
            self.fifo = bytearray()
            self.resets += 1


def check_read_fifo():
    bus = FakeBus()
    imu = mpu6886.Mpu6886(bus)
    assert imu.probe() == "mpu6886" and imu.fifo_size == 1024
    for k in range(5):
        bus.fifo += fifo_sample((k, 0, 0), 0, (0, 0, -k))
    buf = bytearray(3 * 14)  # room for 3 of the 5
    assert imu.read_fifo(buf) == 3 and imu.fifo_samples == 5
    assert len(bus.fifo) == 28 and buf[:14] == fifo_sample((0, 0, 0), 0, (0, 0, 0))
    assert imu.read_fifo(bytearray(1024)) == 2 and imu.fifo_samples == 2
    bus.status = 0x10  # FIFO_OFLOW_INT
    bus.fifo += fifo_sample((1, 1, 1), 0, (1, 1, 1))
    assert imu.read_fifo(buf) == 0 and imu.overflows == 1 and bus.resets == 1
    assert not bus.fifo
    bus.fifo += b"\x01" * 15  # a count that is no multiple of 14: misaligned
    assert imu.read_fifo(buf) == 0 and imu.overflows == 2 and not bus.fifo
    assert mpu6886.Mpu6886(FakeBus(0x69)).probe() is None


class FakeImu:
    """An IMU whose FIFO reads are scripted: each ``reads`` item is a sample count or 'ovf'."""

    def __init__(self, reads, period_us=5000):
        self.reads = list(reads)
        self.period_us = period_us
        self.fifo_size = 1024
        self.rate_code = 3
        self.fs_code = 0x33
        self.overflows = 0
        self.fifo_samples = 0
        self.next_value = 0

    def fifo_reset(self):
        pass

    def read_fifo(self, buf):
        what = self.reads.pop(0)
        if what == "ovf":
            self.overflows += 1
            return 0
        for i in range(what):
            v = self.next_value + i
            buf[14 * i : 14 * i + 14] = fifo_sample((v, -v, 1), 0, (2, 3, v))
        self.next_value += what
        self.fifo_samples = what
        return what

    def unpack(self, buf, i, out):
        mpu6886.Mpu6886.unpack(self, buf, i, out)

    _map = mpu6886.axis_map(((0, 1), (1, 1), (2, 1)))


def _keeper(sent):
    """A sink that copies each packet (the sampler hands out a view into the packer)."""
    return lambda pk: sent.append(bytes(pk))


def _headers(packets):
    """(seq, t0, flags, count, first acc_x) of each packet."""
    rows = []
    for pk in packets:
        _, _, _, seq, t0, _, _, count, flags = struct.unpack_from("<BBHIIBBBB", pk, 0)
        rows.append((seq, t0, flags, count, struct.unpack_from("<h", pk, 16)[0]))
    return rows


def check_sampler_packets_and_timestamps():
    clock = [_MASK - 12_000]  # wraps during the run
    sent = []
    imu = FakeImu([5, 0, 6, "ovf", 4, 3])
    s = sampler.Sampler(imu, lambda: clock[0], packet.SamplePacker(20 + 16 * 4), _keeper(sent))
    s.start()
    for step in (25_000, 10_000, 30_000, 1_000_000, 20_000, 15_000):
        clock[0] = (clock[0] + step) & _MASK
        s.poll()
    s.flush()
    unsettled, ovf = p.FLAG_TILT_UNSETTLED, p.FLAG_TILT_UNSETTLED | p.FLAG_FIFO_OVERFLOW
    t1 = (_MASK - 12_000 + 25_000 - 4 * 5000) & _MASK  # newest of 5 at the first poll
    # third poll: 6 samples, newest now, so the first is in (t2 - 5000, t2]; the tracked
    # stamp (sample 5 at t1 + 25_000) is earlier than that window: clamped up to its start
    t2 = (_MASK - 12_000 + 65_000 - 5 * 5000) & _MASK
    # overflow 1.0 s after the last read: ceil(1_000_000 * 65/64 / 5000) = 204 samples lost
    t3 = (_MASK - 12_000 + 1_085_000 - 3 * 5000) & _MASK  # tracking starts afresh
    want = [
        (0, t1, unsettled, 4, 0),
        (4, (t1 + 20_000) & _MASK, unsettled, 4, 4),  # sample 4, then 5-7 from the 3rd poll
        (8, (t2 - 4999 + 15_000) & _MASK, unsettled, 3, 8),  # sent early by the overflow
        (11 + 204, t3, ovf, 4, 11),
        # the tracked stamp t3 + 20_000 is inside this read's window: kept
        (11 + 204 + 4, (t3 + 20_000) & _MASK, unsettled, 3, 15),
    ]
    got = _headers(sent)
    assert got == want, (got, want)
    assert s.dropped == 204 and s.seq == 11 + 204 + 7


class ClockedImu(FakeImu):
    """A FIFO filled by a sample clock of ``period_ns`` (off the nominal 5000 µs), read at
    the device times the test gives; sample ``k`` is at ``phase_ns + k * period_ns``."""

    def __init__(self, period_ns, phase_ns):
        super().__init__([])
        self.period_ns = period_ns
        self.phase_ns = phase_ns
        self.written = 0
        self.taken = 0
        self.now_us = 0

    def read_fifo(self, buf):
        # samples written by now_us (floor division on non-negative ints)
        self.written = (self.now_us * 1000 - self.phase_ns) // self.period_ns + 1
        self.reads.append(self.written - self.taken)
        self.fifo_samples = self.written - self.taken
        self.taken = self.written
        self.next_value = 0  # the counts do not matter here
        return FakeImu.read_fifo(self, buf)


def check_sampler_tracks_the_sample_clock():
    """Uneven reads of a sample clock 0.5 % slow: the stamps converge on the true times
    (the measured ones are late by up to a period) and the period estimate on the clock's."""
    imu = ClockedImu(5_025_000, 1_234_567)  # 5025 µs
    clock = [0]
    starts = []

    def sink(pk):
        seq, t0 = struct.unpack_from("<II", pk, 4)
        starts.append((seq, t0))

    s = sampler.Sampler(imu, lambda: clock[0], packet.SamplePacker(20 + 16 * 4), sink)
    s.start()
    x = 12345
    for _ in range(2000):  # ~60 s of polls 5-55 ms apart
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        clock[0] += 5000 + x % 50_000
        imu.now_us = clock[0]
        s.poll()
    worst = 0
    for seq, t0 in starts[len(starts) // 4 :]:  # after the first 15 s
        true_us = (1_234_567 + seq * 5_025_000) // 1000
        worst = max(worst, abs(t0 - true_us))
    assert worst < 250, worst  # measured stamps alone: late by up to 5025
    assert abs(s._pfp - (5025 << 14)) < (1 << 14) // 20, s._pfp / (1 << 14)  # within 10 ppm


def check_sampler_hook_writes_tilt():
    sent = []
    seen = []

    def hook(rec):
        seen.append(rec[0])
        rec[6] = 1234
        rec[7] = -rec[0]

    s = sampler.Sampler(FakeImu([3]), lambda: 0, packet.SamplePacker(244), _keeper(sent), 7, hook)
    s.start()
    s.poll()
    s.flush()
    assert seen == [0, 1, 2]
    assert struct.unpack_from("<H", sent[0], 2)[0] == 7
    assert struct.unpack_from("<8h", sent[0], 16 + 32) == (2, -2, 1, 2, 3, 2, 1234, -2)


def check_sampler_default_tilt_unavailable():
    sent = []
    s = sampler.Sampler(FakeImu([1]), lambda: 0, packet.SamplePacker(244), _keeper(sent))
    s.start()
    s.poll()
    s.flush()
    assert struct.unpack_from("<2h", sent[0], 16 + 12) == (p.TILT_UNAVAILABLE,) * 2


CHECKS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("check_")]
