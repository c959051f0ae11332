"""The untethered flash log: round trip, power cuts, erase, full flash, compression."""

import random
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
        1, 1, 1_700_000_000, 4242, 3, 0x23, "m5stickc-plus2")  # fmt: skip


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
    assert_passed(result, "check_log_on_micropython_fs")
