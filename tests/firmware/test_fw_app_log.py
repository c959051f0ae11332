"""The device app's persistence in the virtual device: untethered log, LOG_LIST/READ/ERASE over
the fake radio, boot counter and calibration across a reboot on the same fake flash."""

import struct
from binascii import crc32

import numpy as np
import pytest
from test_fw_app import Host

from hipdrop.protocol import decode_log_chunk, decode_packets
from hipdrop.sim import scenario
from hipdrop.vsensor.app_device import VirtualDevice
from hipdrop_fw import flashlog
from hipdrop_fw import protocol as p


@pytest.fixture(scope="module")
def recording():
    return scenario("treadmill_quick", seed=1)


class LogHost(Host):
    """A host that routes stream notifications by byte 1 (protocol §6): log chunks aside."""

    def __init__(self, dev, mtu=247):
        super().__init__(dev)
        self.central = dev.central(mtu=mtu)
        self.chunks = []

    def each(self):
        if self.central.link is None:
            return
        got = []
        for h, v in self.central.drain():
            if h != self.stream:
                continue
            if v[1] == p.TYPE_LOG_CHUNK:
                self.chunks.append(decode_log_chunk(v))
            else:
                got.append(v)
        if got:
            self.packets += got
            self.released.append(self.asm.push(got))


def _capture(dev):
    """Record every sample the sampler produces (after the app's hook filled in the tilt)."""
    got = []
    s = dev.app.sampler
    hook = s.on_sample

    def on_sample(rec):
        hook(rec)
        got.append((s.seq, tuple(rec)))

    s.on_sample = on_sample
    return got


def _read_log(host, log_id, size, token=0x30):
    answer = host.command(struct.pack("<BBHII", p.OP_LOG_READ, token, log_id, 0, size))
    assert answer == struct.pack("<BBBI", 0x8A, token, p.RESULT_OK, size)
    for _ in range(2000):
        if sum(len(c.data) for c in host.chunks) >= size:
            break
        host.dev.step()
        host.each()
    data = bytearray()
    for chunk in host.chunks:
        assert chunk.log_id == log_id and chunk.offset == len(data)
        data += chunk.data
    assert len(data) == size
    return bytes(data)


def test_untethered_minute_is_logged_listed_read_and_erased(recording):
    dev = VirtualDevice(recording)
    got = _capture(dev)
    assert dev.app.boot == 1
    dev.run(60.0)
    host = LogHost(dev)
    host.connect()
    status = host.central.read(host.status)
    fill = struct.unpack_from("<H", status, 8)[0]  # log_fill_permille
    assert 0 < fill < 100 and status[14] == p.FAULT_NONE
    assert host.command(b"\x01\x01")[2] == p.RESULT_OK  # START closes the log
    produced = list(got)
    n = len(produced)
    assert 60 * 200 - 20 <= n <= 61 * 200

    answer = host.command(struct.pack("<BBH", p.OP_LOG_LIST, 0x21, 0))
    total, first, count = struct.unpack_from("<HHB", answer, 3)
    assert answer[:3] == b"\x89\x21\x00" and (total, first, count) == (1, 0, 1)
    log_id, unix_s, n_samples, size = struct.unpack_from("<HIII", answer, 8)
    assert log_id == 1 and unix_s == 0 and n_samples == n and len(answer) == 8 + 14

    data = _read_log(host, log_id, size)
    pks = list(flashlog.packets(data))
    d = decode_packets(pks)
    assert (d.boot == 1).all() and (d.packet_type == p.TYPE_LIVE).all()
    assert d.count.sum() == n
    seqs = np.concatenate([s + np.arange(c) for s, c in zip(d.seq, d.count, strict=True)])
    np.testing.assert_array_equal(seqs, [q for q, _ in produced])
    records = np.frombuffer(b"".join(bytes(pk[16:-4]) for pk in pks), "<i2").reshape(-1, 8)
    np.testing.assert_array_equal(records, np.array([r for _, r in produced]))

    crc = crc32(data)
    bad = host.command(struct.pack("<BBHI", p.OP_LOG_ERASE, 0x22, log_id, crc ^ 1))
    assert bad == b"\x8b\x22" + bytes([p.RESULT_CHECKSUM_MISMATCH])
    missing = host.command(struct.pack("<BBHI", p.OP_LOG_ERASE, 0x23, 99, crc))
    assert missing == b"\x8b\x23" + bytes([p.RESULT_NO_SUCH_LOG])
    ok = host.command(struct.pack("<BBHI", p.OP_LOG_ERASE, 0x24, log_id, crc))
    assert ok == b"\x8b\x24\x00"
    assert host.command(b"\x09\x25\x00\x00") == b"\x89\x25\x00\x00\x00\x00\x00\x00"


def test_log_list_pages_at_a_small_mtu(recording):
    dev = VirtualDevice(recording)
    for _ in range(3):  # three logs: START closes each, the next starts after the disconnect
        dev.run(1.0)
        host = LogHost(dev)
        host.connect()
        assert host.command(b"\x01\x01")[2] == p.RESULT_OK
        host.central.disconnect()
        dev.step()
    dev.run(1.0)
    host = LogHost(dev, mtu=40)  # 37-byte indications: two entries each
    host.connect()
    host.command(b"\x01\x01")  # MTU 40 < 87: MTU_TOO_SMALL, the 4th log stays open
    entries = []
    first = 0
    while True:
        answer = host.command(struct.pack("<BBH", p.OP_LOG_LIST, first, first))
        total, at, n = struct.unpack_from("<HHB", answer, 3)
        assert answer[2] == p.RESULT_OK and at == first and len(answer) == 8 + 14 * n
        assert n == min(2, total - first)
        entries += [struct.unpack_from("<HIII", answer, 8 + 14 * i) for i in range(n)]
        first += n
        if first >= total:
            break
    assert [e[0] for e in entries] == [1, 2, 3, 4] and all(e[2] > 0 for e in entries)


def test_reboot_keeps_calibration_and_counts_boots(recording):
    dev = VirtualDevice(recording)
    host = LogHost(dev)
    host.connect()
    host.run(1.0)
    host.central.write(host.control, b"\x04\x11\x02")  # CALIBRATE 2 s while standing
    host.run(2.5)
    ((_, answer),) = host.central.indications
    assert answer[:3] == b"\x84\x11\x00"
    cal = struct.unpack_from("<5h", answer, 3)
    for boot in (2, 3):
        dev = VirtualDevice(recording, flash=dev.flash)
        assert dev.app.boot == boot and dev.app.calibrated
        assert dev.app.tilt.calibration() == cal
        host = LogHost(dev)
        host.connect()
        status = host.central.read(host.status)
        assert struct.unpack_from("<H", status, 18)[0] == boot
        assert status[5] & p.STATE_CALIBRATED


def test_log_commands_need_a_bond(recording):
    dev = VirtualDevice(recording)
    dev.run(2.0)
    host = LogHost(dev)
    host.connect(bond=False)
    assert host.command(b"\x09\x01\x00\x00") == b"\x89\x01\x04"
    assert host.command(struct.pack("<BBHII", p.OP_LOG_READ, 2, 1, 0, 100)) == b"\x8a\x02\x04"
    assert host.command(struct.pack("<BBHI", p.OP_LOG_ERASE, 3, 1, 0)) == b"\x8b\x03\x04"
    assert dev.app.logs.log.ids() == [1]


def test_log_read_of_unknown_or_open_log(recording):
    dev = VirtualDevice(recording)
    dev.run(2.0)
    host = LogHost(dev)
    host.connect()
    host.central.drain()
    assert host.command(struct.pack("<BBHII", p.OP_LOG_READ, 4, 1, 0, 10))[2] == p.RESULT_BUSY
    assert host.command(struct.pack("<BBHII", p.OP_LOG_READ, 5, 7, 0, 10))[2] == (
        p.RESULT_NO_SUCH_LOG
    )
