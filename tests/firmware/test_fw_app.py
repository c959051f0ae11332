"""The device app (hipdrop_fw.app) end to end in the virtual device: chip model -> driver ->
sampler -> tilt -> ring buffer -> fake radio -> a test-side central -> the host's assembler.

Expected response bytes are written out from docs/protocol.md §5.
"""

import struct

import numpy as np
import pytest

from hipdrop.protocol import StreamAssembler, decode_packets
from hipdrop.sim import scenario
from hipdrop.vsensor.app_device import VirtualDevice
from hipdrop_fw import protocol as p

BOOT = 3


@pytest.fixture(scope="module")
def recording():
    """treadmill_quick: stand 10 s, run 2 min, stand 5 s; 200 Hz, ±16 g, ±1000 deg/s."""
    return scenario("treadmill_quick", seed=1)


class Host:
    """A central that drains the radio every poll and assembles the stream."""

    def __init__(self, dev):
        self.dev = dev
        self.central = dev.central(mtu=247)
        self.control = dev.handle(p.CONTROL_UUID)
        self.stream = dev.handle(p.STREAM_UUID)
        self.status = dev.handle(p.STATUS_UUID)
        self.asm = StreamAssembler()
        self.listening = True
        self.packets = []
        self.released = []

    def connect(self, bond=True):
        self.central.connect()
        self.dev.step()  # the device asks for the MTU exchange
        self.central.drain()
        if bond:
            self.central.pair()
        self.dev.step()

    def each(self):
        if not self.listening or self.central.link is None:
            return
        got = [v for h, v in self.central.drain() if h == self.stream]
        if got:
            self.packets += got
            self.released.append(self.asm.push(got))

    def command(self, data):
        """Write a command and poll until its indication arrives; return its bytes."""
        n = len(self.central.indications)
        self.central.write(self.control, data)
        for _ in range(5):
            self.dev.step()
            self.each()
            if len(self.central.indications) > n:
                return self.central.indications[n][1]
        raise AssertionError("no indication")

    def run(self, seconds):
        self.dev.run(seconds, self.each)

    def indices(self):
        """Every released (boot, sample index), flushed."""
        self.released.append(self.asm.flush())
        return np.concatenate([r.sample_index for r in self.released])

    def tilt(self):
        return np.concatenate([r.tilt_deg for r in self.released])


def streaming_host(rec, **kwargs):
    dev = VirtualDevice(rec, boot=BOOT, **kwargs)
    host = Host(dev)
    host.connect()
    assert host.command(b"\x01\x01") == b"\x81\x01\x00\x0e"  # START: 14 samples per packet
    return dev, host


def test_thirty_seconds_stream_whole_with_device_tilt(recording):
    dev, host = streaming_host(recording)
    host.run(30.0)
    idx = host.indices()
    assert not host.asm.errors and host.asm.gaps() == []
    np.testing.assert_array_equal(idx, np.arange(len(idx)))
    assert len(idx) >= 30 * 200 - 14
    d = decode_packets(host.packets)
    assert (d.packet_type == p.TYPE_LIVE).all() and (d.count == 14).all()
    tilt = host.tilt()
    t_s = idx / 200.0
    assert np.isnan(tilt[t_s < 2.9]).all()  # unsettled for 3 s after boot
    assert not np.isnan(tilt[t_s > 4.0]).any()  # then device tilt in every sample
    settled = d.flags & 0x02 == 0
    assert settled[-1] and not settled[0]
    status = host.central.read(host.status)
    assert status[5] & p.STATE_STREAMING and status[5] & p.STATE_BONDED_HOST
    assert struct.unpack_from("<I", status, 10)[0] == 0 and status[14] == p.FAULT_NONE
    assert dev.app.samples_dropped() == 0


def _backfill_all_gaps(host):
    results = []
    for boot, start, end in host.asm.gaps():
        cmd = struct.pack("<BBHII", p.OP_BACKFILL, 0x40 + len(results), boot, start, end)
        results.append(host.command(cmd))
    return results


@pytest.mark.parametrize("how", ["stop_draining", "disconnect"])
def test_walking_away_then_backfill_closes_the_gap_exactly(recording, how):
    dev, host = streaming_host(recording)
    host.run(8.0)
    if how == "stop_draining":  # the radio stops carrying notifications: ENOMEM
        host.listening = False
        host.run(3.0)
        host.central.link.tx.clear()  # what the stack had queued is lost on air
        host.listening = True
    else:
        host.central.disconnect()
        host.run(3.0)
        host.connect()
        assert host.command(b"\x01\x02")[2] == p.RESULT_OK
    host.run(3.0)  # the hole is now older than the reorder window: a declared gap
    gaps = host.asm.gaps()
    assert len(gaps) == 1 and 500 <= gaps[0][2] - gaps[0][1] <= 700, gaps
    (answer,) = _backfill_all_gaps(host)
    (_, start, end) = gaps[0]
    assert answer == struct.pack("<BBBII", 0x85, 0x40, p.RESULT_OK, start, end)
    host.run(1.0)
    idx = host.indices()
    assert host.asm.gaps() == [] and not host.asm.errors
    np.testing.assert_array_equal(np.sort(idx), np.arange(len(idx)))  # every sample, once
    assert host.asm.samples_recovered == end - start
    d = decode_packets(host.packets)
    assert (d.packet_type == p.TYPE_BACKFILL).sum() == -(-(end - start) // 14)
    assert dev.app.samples_dropped() == 0
    if how == "stop_draining":
        assert dev.app.peripheral.stream_busy > 0


def test_backfill_clips_to_what_the_ring_holds(recording):
    dev, host = streaming_host(recording, ring_capacity=400)
    host.run(3.0)
    answer = host.command(struct.pack("<BBHII", p.OP_BACKFILL, 7, BOOT, 0, 300))
    first, end = struct.unpack_from("<II", answer, 3)
    assert answer[2] == p.RESULT_PARTIAL and end == 300 and 0 < first < 300
    assert host.command(struct.pack("<BBHII", p.OP_BACKFILL, 8, BOOT, 0, 10)) == b"\x85\x08\x06"
    assert host.command(struct.pack("<BBHII", p.OP_BACKFILL, 9, BOOT + 1, 0, 10))[2] == 6


def test_set_rate_needs_a_bond_then_streams_at_100_hz(recording):
    dev = VirtualDevice(recording, boot=BOOT)
    host = Host(dev)
    host.connect(bond=False)
    assert host.command(b"\x03\x05\x01\xff") == b"\x83\x05\x04"  # NOT_BONDED
    host.central.pair()
    assert host.command(b"\x03\x06\x01\xff") == b"\x83\x06\x00"
    assert host.command(b"\x01\x07")[2] == p.RESULT_OK
    host.run(5.0)
    d = decode_packets(host.packets)
    assert (d.rate_code == 1).all() and (d.fs_code == 0x23).all()
    assert dev.app.imu.rate_hz == 100 and 480 <= d.count.sum() <= 520
    assert host.asm.gaps() == []


def test_calibrate_while_standing_answers_bias_and_neutral(recording):
    dev = VirtualDevice(recording, boot=BOOT)
    host = Host(dev)
    host.connect()
    host.run(1.0)
    host.central.write(host.control, b"\x04\x11\x02")  # CALIBRATE 2 s
    host.run(1.9)
    assert host.central.indications == []  # answered when done
    host.run(0.3)
    ((_, answer),) = host.central.indications
    assert answer[:3] == b"\x84\x11\x00" and len(answer) == 13
    bias_x, bias_y, bias_z, roll, pitch = struct.unpack_from("<5h", answer, 3)
    assert dev.app.tilt.calibration() == (bias_x, bias_y, bias_z, roll, pitch)
    assert max(abs(bias_x), abs(bias_y), abs(bias_z)) < 300  # < 3 deg/s
    assert host.central.read(host.status)[5] & p.STATE_CALIBRATED


def test_calibrate_while_running_answers_not_still(recording):
    start = int(np.searchsorted(recording.time_s, 40.0))
    dev = VirtualDevice(recording, start=start, boot=BOOT)
    host = Host(dev)
    host.connect()
    host.central.write(host.control, b"\x04\x12\x01")
    host.run(1.2)
    assert [v for _, v in host.central.indications] == [b"\x84\x12\x09"]  # NOT_STILL
    assert not host.central.read(host.status)[5] & p.STATE_CALIBRATED


def test_missing_imu_keeps_advertising_with_the_fault(recording):
    dev = VirtualDevice(recording, boot=BOOT, present=False)
    assert dev.app.fault == p.FAULT_IMU_MISSING and dev.radio.advertising
    host = Host(dev)
    host.connect()
    status = host.central.read(host.status)
    assert status[14] == p.FAULT_IMU_MISSING and struct.unpack_from("<H", status, 18)[0] == BOOT
    assert host.command(b"\x01\x01") == b"\x81\x01\x0d"  # IMU_FAULT
    assert host.command(b"\x04\x02\x02") == b"\x84\x02\x0d"
    host.run(1.0)
    assert host.packets == []


def test_time_sync_cue_identify_and_log_commands(recording):
    dev, host = streaming_host(recording)
    host.run(1.0)
    answer = host.command(struct.pack("<BBQ", p.OP_TIME_SYNC, 3, 1_700_000_000_123))
    boot, ticks = struct.unpack_from("<HI", answer, 3)
    assert answer[:3] == b"\x86\x03\x00" and boot == BOOT
    assert abs(ticks - dev.clock.ticks_us()) < 100_000
    assert dev.app.time_sync[0] == 1_700_000_000_123
    assert host.command(b"\x08\x04\x04\x02") == b"\x88\x04\x00"
    assert host.command(b"\x07\x05\x03") == b"\x87\x05\x00"
    assert host.command(b"\x07\x06\x00") == b"\x87\x06\x00"
    assert dev.outputs.log == [("rising", 2), ("identify", 3), ("off", 0)]
    no_logs = b"\x89\x07\x00\x00\x00\x00\x00\x00"  # LOG_LIST: total 0 (streaming from boot)
    assert host.command(b"\x09\x07\x00\x00") == no_logs
    assert host.command(b"\x02\x08") == b"\x82\x08\x00"  # STOP
    n = len(host.packets)
    host.run(1.0)
    assert len(host.packets) == n
