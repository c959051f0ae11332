"""Firmware checks that run unchanged on CPython (pytest) and on MicroPython (fw_mpy_main.py).

Expected bytes are written out by hand from docs/protocol.md, not produced by the
code under test. Each ``check_*`` function raises AssertionError on a mismatch.
"""

from binascii import crc32, hexlify, unhexlify

from hipdrop_fw import battery, button, control, outputs, packet
from hipdrop_fw import protocol as p


def _hex(data):
    """Hex digits of a bytes-like object."""
    return hexlify(bytes(data)).decode()


def from_hex(spaced_hex):
    """Bytes of hex digits grouped by field with spaces."""
    return unhexlify(spaced_hex.replace(" ", ""))


def _with_crc(spaced_hex):
    """Bytes of ``spaced_hex`` followed by their CRC-32 (u32 little-endian)."""
    body = from_hex(spaced_hex)
    return body + crc32(body).to_bytes(4, "little")


def assert_bytes(got, want):
    assert _hex(got) == _hex(want), "got " + _hex(got) + " want " + _hex(want)


def check_crc32_check_value():
    assert crc32(b"123456789") == 0xCBF43926


def check_samples_per_packet():
    for mtu, n in ((247, 14), (185, 10), (87, 4), (86, 3), (23, 0), (0, 0), (65535, 255)):
        assert p.samples_per_packet(mtu) == n, (mtu, n)


def check_sample_packet_one_sample():
    pk = packet.SamplePacker(244)
    pk.start(p.TYPE_LIVE, 0x0102, 0x01020304, 0x3FFFFFFF, 3, 0x12, p.FLAG_TILT_UNSETTLED)
    assert not pk.add(1, -1, 0x1234, -32768, 32767, 0, p.TILT_UNAVAILABLE, 100)
    header = "0101 0201 04030201 ffffff3f 03 12 01 02 "
    want = _with_crc(header + "0100 ffff 3412 0080 ff7f 0000 0080 6400")
    assert_bytes(pk.finish(), want)


def check_sample_packet_fills_and_restarts():
    pk = packet.SamplePacker(87 - 3)
    assert pk.capacity == 4
    for round_ in range(2):
        pk.start(p.TYPE_BACKFILL, 7, 0xFFFFFFFF, 0, 1, 0x33, p.FLAG_FIFO_OVERFLOW)
        assert [pk.add(i, 0, 0, 0, 0, 0, 0, round_) for i in range(4)] == [False] * 3 + [True]
    record = "{:02x}00" + "0000" * 6 + "0100"
    records = "".join(record.format(i) for i in range(4))
    want = _with_crc("0102 0700 ffffffff 00000000 01 33 04 01 " + records)
    assert_bytes(pk.finish(), want)


def check_sample_packer_sizes():
    assert packet.SamplePacker(244).capacity == 14
    assert packet.SamplePacker(20 + 16 * 300).capacity == 255
    for bad in (20, 35):
        try:
            packet.SamplePacker(bad)
        except ValueError:
            continue
        raise AssertionError(f"payload_max {bad} accepted")


def check_status_packet():
    buf = bytearray(24)
    packet.pack_status(
        buf, 0x0A0B, 1, 2, 3, battery_mv=3987, battery_pct=87, state=0x5C,
        temperature_cdeg_c=-1234, log_fill_permille=1000, samples_dropped=0x01020304,
        fault=p.FAULT_FLASH_FULL,
    )  # fmt: skip
    want = "0110 930f 57 5c 2efb e803 04030201 04 010203 0b0a"
    assert_bytes(buf[: p.STATUS_SIZE], from_hex(want))
    assert buf[p.STATUS_SIZE :] == bytearray(4)


def check_status_packet_defaults():
    buf = bytearray(p.STATUS_SIZE)
    packet.pack_status(buf, 1, 0, 1, 0)
    assert_bytes(buf, from_hex("0110 0000 ff 00 0080 0000 00000000 00 000100 0100"))


def check_log_chunk():
    lc = packet.LogChunkPacker(244)
    assert lc.capacity == 230
    lc.data[:3] = b"abc"
    assert_bytes(lc.finish(0x0102, 0x0A0B0C0D, 3), _with_crc("0103 0201 0d0c0b0a 0300 616263"))
    assert_bytes(lc.finish(5, 0, 0), _with_crc("0103 0500 00000000 0000"))


def check_parse_command():
    cases = (
        (b"\x01\x07", True, (p.RESULT_OK, 1, 7, ())),
        (b"\x01\x07\x00", True, (p.RESULT_BAD_LENGTH, 1, 7, ())),
        (b"\x03\x09\x02\x31", True, (p.RESULT_OK, 3, 9, (2, 0x31))),
        (b"\x03\x09\x02\xff", True, (p.RESULT_OK, 3, 9, (2, 0xFF))),
        (b"\x03\x09\x09\x00", True, (p.RESULT_BAD_ARGUMENT, 3, 9, (9, 0))),
        (b"\x03\x09\x01\x04", True, (p.RESULT_BAD_ARGUMENT, 3, 9, (1, 4))),
        (b"\x03\x09\x09\x00", False, (p.RESULT_NOT_BONDED, 3, 9, (9, 0))),
        (b"\x04\x01\x00", True, (p.RESULT_BAD_ARGUMENT, 4, 1, (0,))),
        (b"\x04\x01\x0a", True, (p.RESULT_OK, 4, 1, (10,))),
        (from_hex("05 02 0100 ffffffff 10000000"), False, (p.RESULT_OK, 5, 2, (1, 2**32 - 1, 16))),
        (b"\x06\x03" + (2**63 + 5).to_bytes(8, "little"), True, (0, 6, 3, (2**63 + 5,))),
        (b"\x08\x04\x05\x00", False, (p.RESULT_OK, 8, 4, (5, 0))),
        (b"\x08\x04\x06\x01", False, (p.RESULT_BAD_ARGUMENT, 8, 4, (6, 1))),
        (b"\x0b\x05\x01\x00\x04\x03\x02\x01", True, (p.RESULT_OK, 11, 5, (1, 0x01020304))),
        (b"\x0c\x05", True, (p.RESULT_UNKNOWN_OP, 12, 5, ())),
        (b"\x81\x05", True, (p.RESULT_UNKNOWN_OP, 0x81, 5, ())),
        (b"\x0c", True, (p.RESULT_UNKNOWN_OP, 12, 0, ())),
        (b"\x01", True, (p.RESULT_BAD_LENGTH, 1, 0, ())),
        (b"", True, (p.RESULT_UNKNOWN_OP, 0, 0, ())),
    )
    for data, bonded, want in cases:
        got = control.parse_command(memoryview(data), bonded)
        assert got == want, (_hex(data), got, want)


def check_needs_bond():
    bond = [op for op in range(256) if control.needs_bond(op)]
    assert bond == [3, 4, 6, 9, 10, 11], bond


def check_pack_response():
    buf = bytearray(64)
    n = control.pack_response(buf, p.OP_START, 0x21, p.RESULT_OK, (14,))
    assert_bytes(buf[:n], b"\x81\x21\x00\x0e")
    n = control.pack_response(buf, p.OP_STOP, 0x22, p.RESULT_OK)
    assert_bytes(buf[:n], b"\x82\x22\x00")
    n = control.pack_response(buf, 0x42, 0x23, p.RESULT_UNKNOWN_OP)
    assert_bytes(buf[:n], b"\xc2\x23\x01")
    n = control.pack_response(buf, p.OP_BACKFILL, 1, p.RESULT_PARTIAL, (16, 2**32 - 1))
    assert_bytes(buf[:n], from_hex("850107 10000000 ffffffff"))
    n = control.pack_response(buf, p.OP_CALIBRATE, 2, p.RESULT_OK, (-1, 2, -3, 4500, -4500))
    assert_bytes(buf[:n], from_hex("840200 ffff 0200 fdff 9411 6cee"))
    n = control.pack_response(buf, p.OP_TIME_SYNC, 3, p.RESULT_OK, (9, 0x3FFFFFFF))
    assert_bytes(buf[:n], from_hex("860300 0900 ffffff3f"))


def check_log_list_response():
    buf = bytearray(244)
    assert control.log_list_capacity(244) == 16
    assert control.log_list_capacity(84) == 5
    n = control.pack_response(buf, p.OP_LOG_LIST, 4, p.RESULT_OK, (3, 1, 2))
    assert n == 8
    control.pack_log_entry(buf, 0, 1, 1700000000, 720000, 11520000)
    n = control.pack_log_entry(buf, 1, 2, 0, 0, 0)
    want = "890400 0300 0100 02 0100 00f15365 80fc0a00 00c8af00 0200" + "00" * 12
    assert_bytes(buf[:n], from_hex(want))


def check_battery_curve_smoothing_hysteresis():
    reading = [1950000]  # microvolts at the pin: 3900 mV behind 1:2
    b = battery.Battery(lambda: reading[0], 2.0, window=4, low_mv=3450, clear_mv=3600)
    assert b.read() == (3900, 64)  # 3870 (60) .. 3910 (65): 60 + 3.75 rounded
    assert battery.percent(3610) == 5 and battery.percent(4300) == 100
    reading[0] = 1650000  # 3300 mV
    mvs = [b.read()[0] for _ in range(4)]
    assert mvs == [3750, 3600, 3450, 3300], mvs
    assert b.low
    reading[0] = 1790000  # 3580 mV: above low, not above clear
    for _ in range(4):
        b.read()
    assert b.low and b.mv == 3580
    reading[0] = 1900000  # one reading of 3800 mV lifts the average to 3635
    b.read()
    assert not b.low


class _Rec:
    def __init__(self, log, name):
        self.log, self.name, self.f = log, name, 0

    def value(self, v=None):
        self.log.append((self.name, v))

    def freq(self, hz=None):
        self.f = hz

    def duty_u16(self, d=None):
        self.log.append(("tone", self.f if d else 0))


def check_outputs_double_timeline():
    log = []
    out = outputs.Outputs(_Rec(log, "led"), _Rec(log, "pwm"), None)
    del log[:]
    out.pattern("double", 1)
    seen = []
    for t in range(0, 700, 10):
        n = len(log)
        out.poll(t)
        if len(log) > n:
            seen.append((t, log[n:]))
    assert seen == [
        (0, [("led", 1), ("tone", 2000)]), (80, [("led", 0), ("tone", 0)]),
        (180, [("led", 1), ("tone", 2000)]), (260, [("led", 0), ("tone", 0)]),
    ], seen  # fmt: skip
    assert not out.active


class _In:
    def __init__(self):
        self.level = 1

    def value(self):
        return self.level


def check_button_short_and_long():
    pin = _In()
    b = button.Button(pin)
    got = []
    for t in range(0, 4000, 10):
        pin.level = 0 if 100 <= t < 300 or 1000 <= t < 3500 else 1
        e = b.poll(t)
        if e:
            got.append((t, e))
    assert got == [(330, button.SHORT), (3000, button.LONG)], got


CHECKS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("check_")]
