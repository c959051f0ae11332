"""Golden vectors (tests/vectors/*.json, format in its README) checked against the firmware.

Runs unchanged on CPython and MicroPython. The packers must rebuild every sample,
status, log-chunk and response vector byte for byte from its decoded fields, and
the control codec must decode every command vector. ``bad_packet`` vectors test
only the host decoder.
"""

from binascii import unhexlify

from fw_checks import assert_bytes

from hipdrop_fw import control, packet
from hipdrop_fw import protocol as p

_SAMPLE_FIELDS = ("type", "boot", "seq", "t0_ticks_us", "rate_code", "fs_code", "flags")
_STATUS_FIELDS = (
    "boot", "fw_major", "fw_minor", "fw_patch", "battery_mv", "battery_pct", "state",
    "temperature_cdeg_c", "log_fill_permille", "samples_dropped", "fault",
)  # fmt: skip
# Response payload names in wire order (CALIBRATE and LOG_LIST entries are special).
_PAYLOAD_NAMES = {
    p.OP_START: ("count",),
    p.OP_BACKFILL: ("first", "end"),
    p.OP_TIME_SYNC: ("boot", "ticks_us"),
    p.OP_LOG_LIST: ("total", "first_index", "n"),
    p.OP_LOG_READ: ("size_bytes",),
}
_ENTRY_NAMES = ("log_id", "start_unix_s", "n_samples", "size_bytes")


def _samples(vec):
    h = vec["header"]
    raw = vec["samples"]["raw"]
    pk = packet.SamplePacker(p.SAMPLE_OVERHEAD + p.RECORD_SIZE * len(raw))
    pk.start(*[h[k] for k in _SAMPLE_FIELDS])
    for s in raw:
        pk.add(*s)
    return pk.finish()


def _status(vec):
    buf = bytearray(p.STATUS_SIZE)
    packet.pack_status(buf, *[vec["fields"][k] for k in _STATUS_FIELDS])
    return buf


def _log_chunk(vec):
    f = vec["fields"]
    data = unhexlify(f["data_hex"])
    lc = packet.LogChunkPacker(p.LOG_OVERHEAD + max(1, len(data)))
    lc.data[: len(data)] = data
    return lc.finish(f["log_id"], f["offset"], f["n"])


def _payload(op, payload):
    if not payload:
        return ()
    if op == p.OP_CALIBRATE:
        return tuple(payload["gyro_bias_cdps"]) + (
            payload["neutral_roll_cdeg"],
            payload["neutral_pitch_cdeg"],
        )
    return tuple(payload[k] for k in _PAYLOAD_NAMES[op])


def _response(vec):
    f = vec["fields"]
    op = f["command_op"]
    buf = bytearray(256)
    n = control.pack_response(buf, op, f["token"], f["result"], _payload(op, f["payload"]))
    for i, entry in enumerate(f["payload"].get("entries", ())):
        n = control.pack_log_entry(buf, i, *[entry[k] for k in _ENTRY_NAMES])
    return buf[:n]


_PACKERS = {"samples": _samples, "status": _status, "log_chunk": _log_chunk, "response": _response}


def check(vec):
    """Check ``vec`` against the firmware; False if the firmware has no part in it."""
    kind = vec["kind"]
    wire = unhexlify(vec["hex"])
    if kind == "command":
        f = vec["fields"]
        want = (p.RESULT_OK, f["op"], f["token"], tuple(f["args"]))
        got = control.parse_command(wire, True)
        assert got == want, (got, want)
        return True
    if kind in _PACKERS:
        assert_bytes(_PACKERS[kind](vec), wire)
        return True
    assert kind == "bad_packet", "unknown vector kind " + kind
    return False
