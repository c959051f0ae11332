"""MicroPython entry for the flash log (tests/mpy/run.mjs): the codec and the log on the
WebAssembly port's own ``os`` and in-memory filesystem. Prints ``ok NAME``, then ``DONE``."""

import os

import mpy_report

from hipdrop_fw import bonds, flashlog, logcodec, packet


def _packets(n_packets, count=14):
    """Deterministic running-like packets: ramps plus a pseudo-random wobble and extremes."""
    sp = packet.SamplePacker(20 + 16 * count)
    out = []
    r = 12345
    for k in range(n_packets):
        sp.start(1, 7, k * count, (k * 70000) & 0x3FFFFFFF, 3, 0x23)
        for i in range(count):
            r = (r * 1103515245 + 12345) & 0x7FFFFFFF
            j = k * count + i
            w = (r >> 8) % 600 - 300
            sp.add((j * 37) % 4000 - 2000 + w, w, 2048 + w // 3, (r >> 4) % 200 - 100,
                   -32768 if j % 97 == 0 else 32767, 5, -32768, j % 50)  # fmt: skip
        out.append(bytes(sp.finish()))
    return out


def check_codec_round_trip():
    buf = bytearray(logcodec.MAX_ENCODED)
    back = bytearray(16 + 16 * 255 + 4)
    for pk in _packets(30) + _packets(3, count=255) + _packets(3, count=2):
        n = logcodec.encode(pk, buf)
        assert n > 0
        m = logcodec.decode(memoryview(buf)[:n], back)
        assert bytes(back[:m]) == pk


def check_chained_round_trip():
    buf = bytearray(logcodec.MAX_CHAINED)
    back = bytearray(16 + 16 * 255 + 4)
    for pks in (_packets(30), _packets(3, count=255), _packets(3, count=1)):
        for prev, pk in zip(pks, pks[1:]):
            n = logcodec.encode_next(pk, prev, buf)
            assert n > 0
            m = logcodec.decode_next(memoryview(buf)[:n], prev, back)
            assert bytes(back[:m]) == pk
    gap = _packets(3)
    assert logcodec.encode_next(gap[2], gap[0], buf) == 0


def check_log_on_micropython_fs():
    fs = flashlog.OsFs(os, open)
    log = flashlog.FlashLog(fs, "/mlog", block=1024)
    pks = _packets(200)
    assert log.start(7, 1700000000, 123, 3, 0x23, "m5stickc-plus2")
    for pk in pks:
        assert log.append(pk)
    log.close()
    [(log_id, unix_s, n, size)] = log.list()
    assert (unix_s, n) == (1700000000, 200 * 14), (unix_s, n)
    with open(log.path(log_id), "rb") as f:
        data = f.read()
    assert len(data) == size
    assert list(flashlog.packets(data)) == pks
    kinds = [k for k, _, _ in flashlog.records(data)]
    assert kinds.count(flashlog.KIND_CHAINED) > 150, kinds
    assert log.erase(log_id, log.checksum(log_id) ^ 1) == 11
    assert log.erase(log_id, log.checksum(log_id)) == 0
    assert log.ids() == []
    print("info ratio", 244 * 200 * 1000 // size)


def check_bonds_on_micropython_fs():
    fs = flashlog.OsFs(os, open)
    store = bonds.BondStore(fs, "/bonds_check")
    assert store.set(2, memoryview(b"peer"), memoryview(b"\x01" * 150))
    assert store.set(10, b"self", b"irk")
    assert store.save()
    again = bonds.BondStore(fs, "/bonds_check")
    assert again.get(2, 0, b"peer") == b"\x01" * 150 and again.get(10, 0, None) == b"irk"
    assert again.get(2, 1, None) is None
    os.remove("/bonds_check")


mpy_report.run_checks(mpy_report.named_checks(globals()), "flash log")
