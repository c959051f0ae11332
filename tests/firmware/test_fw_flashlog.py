"""The untethered flash log: round trip, power cuts, erase, full flash, compression."""

import binascii
import random
import struct
from pathlib import Path

import numpy as np
import pytest
from fw_support import assert_passed, assert_ran_to_the_end, run_micropython

from hipdrop.protocol import decode_log_chunk, decode_packets
from hipdrop.sim import scenario
from hipdrop.vsensor import VirtualSensor
from hipdrop.vsensor.fake_flash import FakeFlash
from hipdrop_fw import flashlog, logcodec, packet
from hipdrop_fw import protocol as p

HERE = Path(__file__).parent
MINUTES = 10


@pytest.fixture(scope="module")
def run_packets():
    """The first 10 minutes of a simulated 20-minute run, as the device's packets (200 Hz)."""
    rec = scenario("steady_run", seed=1)
    out = []
    for n in VirtualSensor(rec).notifications():
        if n.host_time_s > MINUTES * 60:
            break
        out.append(n.data)
    return out


def _log(fs, pks, compress=True, block=flashlog.BLOCK):
    log = flashlog.FlashLog(fs, compress=compress, block=block)
    assert log.start(1, 1_700_000_000, 4242, 3, 0x23, "m5stickc-plus2")
    for pk in pks:
        if not log.append(pk):
            break
    return log


def _read_over_ble(log, log_id, mtu=247):
    """LOG_READ chunk by chunk through the LogChunkPacker and the host's chunk decoder."""
    size = log.info(log_id)[3]
    packer = packet.LogChunkPacker(mtu - 3)
    data = bytearray()
    while len(data) < size:
        result, chunk = log.read_chunk(log_id, len(data), size - len(data), packer)
        assert result == p.RESULT_OK
        decoded = decode_log_chunk(bytes(chunk))
        assert (decoded.log_id, decoded.offset) == (log_id, len(data))
        data += decoded.data
    return bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_ten_minutes_round_trip(run_packets, compress):
    fs = FakeFlash()
    log = _log(fs, run_packets, compress)
    log.close()
    [(log_id, unix_s, n_samples, size)] = log.list()
    want = decode_packets(run_packets)
    assert (unix_s, n_samples) == (1_700_000_000, want.n_samples)
    assert want.n_samples >= MINUTES * 60 * 200 * 0.99
    data = _read_over_ble(log, log_id)
    assert len(data) == size
    got = list(flashlog.packets(data))
    assert got == run_packets
    decoded = decode_packets(got)
    assert not decoded.errors
    np.testing.assert_array_equal(decoded.raw, want.raw)
    np.testing.assert_array_equal(decoded.seq, want.seq)
    header = next(flashlog.records(data))
    assert flashlog.parse_header(data[header[1] : header[2]]) == (
        2, 1, 1_700_000_000, 4242, 3, 0x23, "m5stickc-plus2")  # fmt: skip


def test_compression_ratio_on_running(run_packets):
    fs = FakeFlash()
    log = _log(fs, run_packets)
    log.close()
    ratio = sum(map(len, run_packets)) / log.list()[0][3]
    print(f"compression ratio on 10 min of simulated running at 200 Hz: {ratio:.2f}")
    assert ratio > 1.6


def test_codec_round_trips_extremes():
    rng = np.random.default_rng(3)
    buf, back = bytearray(logcodec.MAX_ENCODED), bytearray(16 + 16 * 255 + 4)
    for count in (2, 3, 14, 255):
        for scale in (0, 1, 100, 40000):
            sp = packet.SamplePacker(20 + 16 * count)
            sp.start(1, 2, 3, 4, 1, 0x33, 1)
            values = (
                rng.integers(-32768, 32768, (count, 8))
                if scale == 40000
                else (
                    np.cumsum(rng.integers(-scale, scale + 1, (count, 8)), axis=0) % 65536 - 32768
                )
            )
            for row in values:
                sp.add(*map(int, row))
            pk = bytes(sp.finish())
            n = logcodec.encode(pk, buf)
            assert n and bytes(back[: logcodec.decode(memoryview(buf)[:n], back)]) == pk


def test_bad_crc_packet_is_stored_raw():
    sp = packet.SamplePacker(244)
    sp.start(1, 1, 0, 0, 3, 0)
    for i in range(14):
        sp.add(i, i, i, i, i, i, i, i)
    bad = bytearray(sp.finish())
    bad[20] ^= 1
    assert logcodec.encode(bad, bytearray(logcodec.MAX_ENCODED)) == 0
    fs = FakeFlash()
    log = _log(fs, [bytes(bad)])
    log.close()
    data = fs.live["log/" + flashlog.log_name(1)]
    assert list(flashlog.packets(data)) == [bytes(bad)]  # stored as is; the host rejects it


@pytest.mark.parametrize("torn_bytes", [0, 1500])
def test_power_cut_anywhere_keeps_every_synced_packet(run_packets, torn_bytes):
    pks = run_packets[:900]  # ~1.5 min
    block = 1024
    total = _log(FakeFlash(), pks, block=block).size
    cuts = random.Random(torn_bytes).sample(range(0, total + 2 * block), 40)
    for cut in cuts:
        fs = FakeFlash(torn_bytes=torn_bytes)
        fs.cut_power_after(cut)
        _log(fs, pks, block=block)
        after = fs.remount()
        log = flashlog.FlashLog(after, block=block)
        log.recover()
        assert log.recover() == 0  # idempotent
        ids = log.ids()
        if cut < block:  # nothing was synced: no log, or an empty one
            assert not ids or log.info(ids[0])[2] == 0
            continue
        data = after.live["log/" + flashlog.log_name(ids[0])]
        got = list(flashlog.packets(data))
        assert got == pks[: len(got)], cut  # never anything corrupt
        synced = (min(cut, total) // block) * block
        assert len(data) >= synced - 260, cut  # at most the torn record of the last block
        assert log.info(ids[0])[2] == sum(pk[14] for pk in got)
        assert not decode_packets(got).errors


def test_erase_needs_the_right_crc(run_packets):
    fs = FakeFlash()
    log = _log(fs, run_packets[:50])
    log.close()
    crc = log.checksum(1)
    assert log.erase(1, crc ^ 0xFFFFFFFF) == p.RESULT_CHECKSUM_MISMATCH
    assert log.ids() == [1]
    assert log.erase(2, crc) == p.RESULT_NO_SUCH_LOG
    assert log.erase(1, crc) == p.RESULT_OK
    assert log.ids() == []


def test_open_log_is_busy_and_ids_grow(run_packets):
    fs = FakeFlash()
    log = _log(fs, run_packets[:20])
    packer = packet.LogChunkPacker(244)
    assert log.read_chunk(1, 0, 10, packer)[0] == p.RESULT_BUSY
    assert log.erase(1, 0) == p.RESULT_BUSY
    assert log.start(1, 0, 0, 3, 0x23, "x")
    assert log.ids() == [1, 2] and log.list()[0][2] == 20 * 14
    assert log.read_chunk(9, 0, 10, packer)[0] == p.RESULT_NO_SUCH_LOG


def test_full_flash_stops_cleanly(run_packets):
    fs = FakeFlash(capacity_bytes=40 * 4096)
    log = _log(fs, run_packets)
    assert not log.logging and log.fault == p.FAULT_FLASH_FULL
    assert log.fill_permille() > 900
    [(log_id, _, n, size)] = log.list()
    data = fs.remount().live["log/" + flashlog.log_name(log_id)]
    got = list(flashlog.packets(data))
    assert got == run_packets[: len(got)] and n == sum(pk[14] for pk in got) > 0
    assert len(data) == size
    assert not log.start(1, 0, 0, 3, 0x23, "x") and log.fault == p.FAULT_FLASH_FULL
    assert log.erase(log_id, log.checksum(log_id)) == p.RESULT_OK
    assert log.fault == p.FAULT_NONE and log.start(1, 0, 0, 3, 0x23, "x")


def test_low_battery_close_keeps_the_partial_block(run_packets):
    fs = FakeFlash()
    log = _log(fs, run_packets[:5])  # less than a block: nothing written yet
    assert fs.bytes_written == 0
    log.close()
    data = fs.remount().live["log/" + flashlog.log_name(1)]
    assert list(flashlog.packets(data)) == run_packets[:5]


def test_on_micropython():
    result = run_micropython(HERE / "fw_mpy_flashlog.py", timeout_s=120)
    assert_ran_to_the_end(result)
    assert_passed(result, "check_codec_round_trip")
    assert_passed(result, "check_chained_round_trip")
    assert_passed(result, "check_log_on_micropython_fs")
    assert_passed(result, "check_bonds_on_micropython_fs")


def _kinds_and_offsets(data):
    return [(kind, start - 3) for kind, start, _ in flashlog.records(data)]


def test_chained_records_restart_at_each_block(run_packets):
    """'C' records chain to the previous packet, never across a block boundary."""
    block = 1024
    fs = FakeFlash()
    log = _log(fs, run_packets[:600], block=block)
    log.close()
    data = fs.live["log/" + flashlog.log_name(1)]
    recs = _kinds_and_offsets(data)
    pk_recs = [(k, at) for k, at in recs if k not in (flashlog.KIND_HEADER, flashlog.KIND_END)]
    assert pk_recs[0][0] == flashlog.KIND_DELTA  # a log's first packet is intra
    chained = sum(k == flashlog.KIND_CHAINED for k, _ in pk_recs)
    assert chained > 0.8 * len(pk_recs)
    for (_, at0), (k1, at1) in zip(pk_recs, pk_recs[1:]):
        if at1 // block != at0 // block:
            assert k1 != flashlog.KIND_CHAINED, at1
        else:
            assert k1 == flashlog.KIND_CHAINED, at1  # running packets always follow
    assert list(flashlog.packets(data)) == run_packets[:600]


def _edited(pk, **fields):
    """``pk`` with header fields changed and its CRC re-sealed."""
    b = bytearray(pk)
    for name, value in fields.items():
        at, fmt = {"boot": (2, "<H"), "seq": (4, "<I"), "t0": (8, "<I"), "flags": (15, "<B"),
                   "rate": (12, "<B"), "version": (0, "<B")}[name]  # fmt: skip
        struct.pack_into(fmt, b, at, value)
    struct.pack_into("<I", b, len(b) - 4, binascii.crc32(b[:-4]))
    return bytes(b)


def test_chain_falls_back_after_gap_flag_boot_and_rate_change(run_packets):
    t0 = lambda pk: struct.unpack_from("<I", pk, 8)[0]  # noqa: E731
    pks = list(run_packets[:2] + run_packets[3:13])  # a gap before pks[2]
    pks[5] = _edited(pks[5], flags=pks[5][15] | 1)  # flag set for one packet
    pks[8:] = [_edited(pk, boot=2) for pk in pks[8:]]  # a new boot
    pks[10] = _edited(pks[10], t0=(t0(pks[10]) - 2**29) & 0x3FFFFFFF)  # t0 far off: chains
    pks[11] = _edited(pks[11], t0=0x3FFFFFFF)
    buf = bytearray(logcodec.MAX_CHAINED)
    assert logcodec.encode_next(pks[2], pks[1], buf) == 0
    assert logcodec.encode_next(pks[5], pks[4], buf) == 0
    assert logcodec.encode_next(pks[8], pks[7], buf) == 0
    assert logcodec.encode_next(_edited(pks[9], rate=4), pks[8], buf) == 0
    assert logcodec.encode_next(_edited(pks[9], version=2), pks[8], buf) == 0
    assert logcodec.encode_next(pks[9], pks[8], buf)
    fs = FakeFlash()
    _log(fs, pks).close()
    data = fs.live["log/" + flashlog.log_name(1)]
    kinds = [k for k, _ in _kinds_and_offsets(data)][1:-1]
    C, D = flashlog.KIND_CHAINED, flashlog.KIND_DELTA
    assert kinds == [D, C, D, C, C, D, D, C, D, C, C, C]
    assert list(flashlog.packets(data)) == pks


def test_chained_codec_round_trips_extremes():
    rng = np.random.default_rng(5)
    buf, back = bytearray(logcodec.MAX_CHAINED), bytearray(16 + 16 * 255 + 4)
    prev = None
    seq, t0 = 2**32 - 20, 2**30 - 50_000
    for count in (1, 2, 255, 1, 3, 14, 255, 14):
        for scale in (0, 1, 100, 40000):
            sp = packet.SamplePacker(20 + 16 * count)
            sp.start(1, 9, seq, t0, 3, 0x33, 0)
            values = (
                rng.integers(-32768, 32768, (count, 8))
                if scale == 40000
                else (
                    np.cumsum(rng.integers(-scale, scale + 1, (count, 8)), axis=0) % 65536 - 32768
                )
            )
            for row in values:
                sp.add(*map(int, row))
            pk = bytes(sp.finish())
            if prev is not None:
                n = logcodec.encode_next(pk, prev, buf)
                assert n and n <= logcodec.MAX_CHAINED
                assert bytes(back[: logcodec.decode_next(memoryview(buf)[:n], prev, back)]) == pk
                with pytest.raises(ValueError):
                    logcodec.decode_next(memoryview(buf)[: n - 1], prev, back)
            prev = pk
            seq = (seq + count) & 0xFFFFFFFF
            t0 = (t0 + count * 5000 + int(rng.integers(-300, 300))) & 0x3FFFFFFF


def test_format_1_logs_still_read(run_packets, monkeypatch):
    monkeypatch.setattr(flashlog, "FORMAT_VERSION", 1)
    monkeypatch.setattr(logcodec, "encode_next", lambda *a: 0)  # what format 1 wrote
    fs = FakeFlash()
    _log(fs, run_packets[:100]).close()
    monkeypatch.undo()
    data = fs.live["log/" + flashlog.log_name(1)]
    assert {k for k, _ in _kinds_and_offsets(data)} == {
        flashlog.KIND_HEADER, flashlog.KIND_DELTA, flashlog.KIND_END}  # fmt: skip
    header = next(flashlog.records(data))
    assert flashlog.parse_header(data[header[1] : header[2]])[0] == 1
    assert list(flashlog.packets(data)) == run_packets[:100]
    log = flashlog.FlashLog(fs)
    assert log.recover() == 0 and log.info(1)[2] == 100 * 14


def test_orphan_chained_record_is_refused(run_packets):
    fs = FakeFlash()
    _log(fs, run_packets[:3]).close()
    data = bytearray(fs.live["log/" + flashlog.log_name(1)])
    recs = _kinds_and_offsets(data)
    d_at, c_at = recs[1][1], recs[2][1]
    assert (recs[1][0], recs[2][0]) == (flashlog.KIND_DELTA, flashlog.KIND_CHAINED)
    orphan = data[:d_at] + data[c_at:]  # the intra record it chained to is missing
    with pytest.raises(ValueError):
        list(flashlog.packets(orphan))


@pytest.mark.parametrize("rate_hz", [100, 200])
def test_bytes_per_sample_on_running(rate_hz):
    """docs/firmware.md capacity table: B/sample on flash, records and header included."""
    rec = scenario("steady_run", seed=1, rate_hz=rate_hz)
    pks = []
    for n in VirtualSensor(rec).notifications():
        if n.host_time_s > MINUTES * 60:
            break
        pks.append(n.data)
    fs = FakeFlash()
    log = _log(fs, pks)
    log.close()
    [(_, _, n_samples, size)] = log.list()
    per_sample = size / n_samples
    minutes = 6.0e6 / (per_sample * rate_hz * 60)
    print(f"{rate_hz} Hz: {per_sample:.2f} B/sample, {minutes:.0f} min in 6.0 MB")
    assert per_sample < {100: 8.2, 200: 7.0}[rate_hz]
    data = fs.live["log/" + flashlog.log_name(1)]
    assert list(flashlog.packets(data)) == pks
