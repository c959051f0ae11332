"""Reference encoder for the golden vectors of docs/protocol.md (wire protocol v1).

Written from the spec with nothing but ``struct`` and ``zlib``; it imports nothing from
``hipdrop`` or the firmware, so the vectors check both sides independently.
``python tests/vectors/generate.py`` rewrites every vector except the hand-written one;
tests/protocol checks that the committed files equal what this script builds.
"""

from __future__ import annotations

import json
import random
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
G = 9.80665
RATE_HZ = {1: 100, 2: 104, 3: 200, 4: 208}
ACC_FS_G = (2, 4, 8, 16)
GYR_FS_DPS = (250, 500, 1000, 2000)
TILT_UNAVAILABLE = -32768
HAND_WRITTEN = "samples_hand_written.json"


def with_crc(body: bytes) -> bytes:
    """Append the CRC-32 (zlib/IEEE) of ``body`` as u32 little-endian (§2)."""
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def sample_packet(
    boot, seq, t0, records, *, ptype=1, rate_code=3, fs_code=0, flags=0, version=1, count=None
) -> bytes:
    """A sample packet (§3). ``records``: bytes, or a list of 8-int records."""
    if not isinstance(records, bytes | bytearray):
        records = b"".join(struct.pack("<8h", *r) for r in records)
    count = len(records) // 16 if count is None else count
    header = struct.pack(
        "<BBHIIBBBB", version, ptype, boot, seq, t0, rate_code, fs_code, count, flags
    )
    return with_crc(header + bytes(records))


def physical(records, fs_code, rate_code) -> dict:
    """The spec's unit conversions of §3, for the expected values of a vector."""
    acc_fs, gyr_fs = ACC_FS_G[fs_code & 3], GYR_FS_DPS[(fs_code >> 4) & 3]

    def tilt(c):
        return None if c == TILT_UNAVAILABLE else c / 100

    return {
        "raw": [list(r) for r in records],
        "acc_ms2": [[c * acc_fs * G / 32768 for c in r[0:3]] for r in records],
        "gyr_dps": [[c * gyr_fs / 32768 for c in r[3:6]] for r in records],
        "tilt_deg": [[tilt(r[6]), tilt(r[7])] for r in records],
        "time_offset_s": [i / RATE_HZ[rate_code] for i in range(len(records))],
    }


def samples_vector(
    description, boot, seq, t0, records, *, ptype=1, rate_code=3, fs_code=0, flags=0
) -> dict:
    data = sample_packet(
        boot, seq, t0, records, ptype=ptype, rate_code=rate_code, fs_code=fs_code, flags=flags
    )
    header = {
        "version": 1,
        "type": ptype,
        "boot": boot,
        "seq": seq,
        "t0_ticks_us": t0,
        "rate_code": rate_code,
        "rate_hz": RATE_HZ[rate_code],
        "fs_code": fs_code,
        "acc_fs_g": ACC_FS_G[fs_code & 3],
        "gyr_fs_dps": GYR_FS_DPS[(fs_code >> 4) & 3],
        "count": len(records),
        "flags": flags,
        "crc32": struct.unpack_from("<I", data, len(data) - 4)[0],
    }
    return {
        "kind": "samples",
        "description": description,
        "hex": data.hex(),
        "header": header,
        "samples": physical(records, fs_code, rate_code),
    }


def _walk(rng, n, tilt=True):
    """Plausible worn-sensor records: gravity on z at +-4 g, small motion, tilt."""
    out = []
    for i in range(n):
        acc = [rng.randint(-900, 900), rng.randint(-600, 600), 8192 + rng.randint(-1500, 1500)]
        gyr = [rng.randint(-2000, 2000) for _ in range(3)]
        roll_pitch = [rng.randint(-800, 800), 300 + i] if tilt else [TILT_UNAVAILABLE] * 2
        out.append(acc + gyr + roll_pitch)
    return out


EXTREMES = [
    [-32768] * 8,
    [32767] * 8,
    [-1, -1, -1, -1, -1, -1, -32767, 32767],
    [1, 0, -32768, 32767, 0, 1, 0, -1],
]


def sample_vectors(rng) -> dict:
    v = {
        "samples_live_full_mtu_200hz": samples_vector(
            "Live packet at MTU 247: 14 samples at 200 Hz, acc +-4 g, gyr +-2000 deg/s.",
            3,
            2800,
            987654321,
            _walk(rng, 14),
            fs_code=0x31,
        ),
        "samples_backfill_100hz": samples_vector(
            "Backfill packet (type 0x02), 6 samples at 100 Hz, acc +-2 g, gyr +-250 deg/s.",
            3,
            1400,
            12345678,
            _walk(rng, 6),
            ptype=2,
            rate_code=1,
            fs_code=0x00,
        ),
        "samples_fifo_overflow_no_tilt_104hz": samples_vector(
            "FIFO_OVERFLOW and TILT_UNSETTLED flags, tilt unavailable (-32768), 104 Hz.",
            9,
            70000,
            5000,
            _walk(rng, 4, tilt=False),
            rate_code=2,
            fs_code=0x22,
            flags=0x03,
        ),
        "samples_max_header_fields": samples_vector(
            "Largest header values: boot 65535, seq 2^32-1, t0 2^30-1, 208 Hz, TILT_UNSETTLED.",
            65535,
            0xFFFFFFFF,
            (1 << 30) - 1,
            [EXTREMES[3]],
            rate_code=4,
            flags=0x02,
        ),
        "samples_zero_header_fields": samples_vector(
            "Smallest header values: boot 0, seq 0, t0 0, one zero sample.",
            0,
            0,
            0,
            [[0] * 8],
            rate_code=1,
        ),
    }
    for acc in range(4):
        for gyr in range(4):
            fs = acc | gyr << 4
            v[f"samples_extreme_fs_0x{fs:02x}"] = samples_vector(
                f"Extreme int16 values at fs_code 0x{fs:02x}: acc +-{ACC_FS_G[acc]} g, "
                f"gyr +-{GYR_FS_DPS[gyr]} deg/s, 208 Hz.",
                1,
                4096 * fs,
                1000 * fs,
                EXTREMES,
                rate_code=4,
                fs_code=fs,
            )
    return v


STATUS_FIELDS = (
    "version",
    "type",
    "battery_mv",
    "battery_pct",
    "state",
    "temperature_cdeg_c",
    "log_fill_permille",
    "samples_dropped",
    "fault",
    "fw_major",
    "fw_minor",
    "fw_patch",
    "boot",
)
STATE_BITS = (
    "charging",
    "worn",
    "still",
    "calibrated",
    "streaming",
    "logging",
    "bonded",
    "battery_low",
)


def status_vector(description, **f) -> dict:
    fields = {"version": 1, "type": 0x10, **f}
    data = struct.pack("<BBHBBhHIBBBBH", *(fields[k] for k in STATUS_FIELDS))
    decoded = {
        "battery_mv": fields["battery_mv"] or None,
        "battery_pct": None if fields["battery_pct"] == 255 else fields["battery_pct"],
        **{name: bool(fields["state"] >> bit & 1) for bit, name in enumerate(STATE_BITS)},
        "temperature_c": None
        if fields["temperature_cdeg_c"] == -32768
        else fields["temperature_cdeg_c"] / 100,
        "log_fill_fraction": fields["log_fill_permille"] / 1000,
        "samples_dropped": fields["samples_dropped"],
        "fault": fields["fault"],
        "firmware_version": [fields["fw_major"], fields["fw_minor"], fields["fw_patch"]],
        "boot": fields["boot"],
        "protocol_version": 1,
    }
    return {
        "kind": "status",
        "description": description,
        "hex": data.hex(),
        "fields": fields,
        "decoded": decoded,
    }


def status_vectors() -> dict:
    return {
        "status_typical": status_vector(
            "Worn, calibrated, streaming, bonded; 31.5 degC; log 12.3 % full.",
            battery_mv=3987,
            battery_pct=76,
            state=0x5A,
            temperature_cdeg_c=3150,
            log_fill_permille=123,
            samples_dropped=42,
            fault=0,
            fw_major=0,
            fw_minor=3,
            fw_patch=1,
            boot=7,
        ),
        "status_unknowns_battery_low": status_vector(
            "Battery and temperature unknown, charging and battery low, fault BATTERY_LOW.",
            battery_mv=0,
            battery_pct=255,
            state=0x81,
            temperature_cdeg_c=-32768,
            log_fill_permille=1000,
            samples_dropped=0xFFFFFFFF,
            fault=6,
            fw_major=1,
            fw_minor=2,
            fw_patch=3,
            boot=65535,
        ),
        "status_all_bits_negative_temp": status_vector(
            "Every state bit set, -5.25 degC, fault MTU_TOO_SMALL.",
            battery_mv=4200,
            battery_pct=100,
            state=0xFF,
            temperature_cdeg_c=-525,
            log_fill_permille=0,
            samples_dropped=0,
            fault=3,
            fw_major=255,
            fw_minor=0,
            fw_patch=9,
            boot=0,
        ),
    }


def log_chunk_vector(description, log_id, offset, data) -> dict:
    packet = with_crc(struct.pack("<BBHIH", 1, 0x03, log_id, offset, len(data)) + data)
    fields = {
        "log_id": log_id,
        "offset": offset,
        "n": len(data),
        "data_hex": data.hex(),
        "crc32": struct.unpack_from("<I", packet, len(packet) - 4)[0],
    }
    return {"kind": "log_chunk", "description": description, "hex": packet.hex(), "fields": fields}


def log_chunk_vectors() -> dict:
    return {
        "log_chunk": log_chunk_vector(
            "Chunk of log 5 at offset 4096, 32 bytes.", 5, 4096, bytes(range(0x20, 0x40))
        ),
        "log_chunk_empty": log_chunk_vector(
            "Empty chunk (n = 0) at the end of log 65535.", 65535, 0xFFFFFFFF, b""
        ),
    }


# (name, op, argument names, struct format) from the table of §5
COMMANDS = {
    "START": (0x01, [], ""),
    "STOP": (0x02, [], ""),
    "SET_RATE": (0x03, ["rate_code", "fs_code"], "BB"),
    "CALIBRATE": (0x04, ["seconds"], "B"),
    "BACKFILL": (0x05, ["boot", "from_seq", "to_seq"], "HII"),
    "TIME_SYNC": (0x06, ["unix_ms"], "Q"),
    "IDENTIFY": (0x07, ["seconds"], "B"),
    "CUE": (0x08, ["pattern", "repeat"], "BB"),
    "LOG_LIST": (0x09, ["first_index"], "H"),
    "LOG_READ": (0x0A, ["log_id", "offset", "length"], "HII"),
    "LOG_ERASE": (0x0B, ["log_id", "crc32"], "HI"),
}


def command_vector(description, name, token, *args) -> dict:
    op, arg_names, fmt = COMMANDS[name]
    data = struct.pack("<BB" + fmt, op, token, *args)
    fields = {"op": op, "name": name, "token": token, "arg_names": arg_names, "args": list(args)}
    return {"kind": "command", "description": description, "hex": data.hex(), "fields": fields}


def command_vectors() -> dict:
    c = command_vector
    return {
        "command_start": c("START.", "START", 1),
        "command_stop": c("STOP.", "STOP", 2),
        "command_set_rate": c(
            "SET_RATE 200 Hz, acc +-4 g, gyr +-2000 deg/s.", "SET_RATE", 3, 3, 0x31
        ),
        "command_set_rate_keep_fs": c(
            "SET_RATE 100 Hz, keep full scale (0xFF).", "SET_RATE", 4, 1, 0xFF
        ),
        "command_calibrate": c("CALIBRATE for 5 s.", "CALIBRATE", 5, 5),
        "command_backfill": c("BACKFILL boot 3, [1400, 1540).", "BACKFILL", 6, 3, 1400, 1540),
        "command_time_sync": c(
            "TIME_SYNC at 2026-01-01T00:00:00.123Z.", "TIME_SYNC", 7, 1767225600123
        ),
        "command_identify": c("IDENTIFY for 3 s.", "IDENTIFY", 8, 3),
        "command_cue": c("CUE double pulse, 3 times.", "CUE", 9, 2, 3),
        "command_log_list": c("LOG_LIST from index 0.", "LOG_LIST", 10, 0),
        "command_log_read": c("LOG_READ log 5, 64 KiB from 0.", "LOG_READ", 11, 5, 0, 65536),
        "command_log_erase": c(
            "LOG_ERASE log 5 with CRC 0xdeadbeef.", "LOG_ERASE", 255, 5, 0xDEADBEEF
        ),
    }


def response_vector(
    description, name, token, result, result_name, payload_fields, payload: bytes
) -> dict:
    op = COMMANDS[name][0] if name in COMMANDS else int(name, 16)
    data = struct.pack("<BBB", op | 0x80, token, result) + payload
    fields = {
        "op": op | 0x80,
        "command_op": op,
        "name": name,
        "token": token,
        "result": result,
        "result_name": result_name,
        "payload": payload_fields,
    }
    return {"kind": "response", "description": description, "hex": data.hex(), "fields": fields}


def _log_list_payload():
    entries = [(1, 1767225600, 720000, 11520000), (2, 1767312000, 1200, 19200)]
    payload = struct.pack("<HHB", 3, 0, len(entries))
    payload += b"".join(struct.pack("<HIII", *e) for e in entries)
    keys = ("log_id", "start_unix_s", "n_samples", "size_bytes")
    fields = {
        "total": 3,
        "first_index": 0,
        "n": 2,
        "entries": [dict(zip(keys, e, strict=True)) for e in entries],
    }
    return fields, payload


def response_vectors() -> dict:
    r = response_vector
    log_fields, log_payload = _log_list_payload()
    return {
        "response_start_ok": r(
            "START OK, 14 samples per packet.", "START", 1, 0, "OK", {"count": 14}, bytes([14])
        ),
        "response_start_mtu_too_small": r(
            "START refused at MTU 23.", "START", 1, 8, "MTU_TOO_SMALL", {}, b""
        ),
        "response_stop_ok": r("STOP OK.", "STOP", 2, 0, "OK", {}, b""),
        "response_set_rate_not_bonded": r(
            "SET_RATE without a bond.", "SET_RATE", 3, 4, "NOT_BONDED", {}, b""
        ),
        "response_calibrate_ok": r(
            "CALIBRATE OK: gyro bias 0.12, -0.05, 0.03 deg/s; neutral roll 1.5, pitch -3.2.",
            "CALIBRATE",
            5,
            0,
            "OK",
            {"gyro_bias_cdps": [12, -5, 3], "neutral_roll_cdeg": 150, "neutral_pitch_cdeg": -320},
            struct.pack("<5h", 12, -5, 3, 150, -320),
        ),
        "response_backfill_partial": r(
            "BACKFILL PARTIAL: only [1450, 1540) is left.",
            "BACKFILL",
            6,
            7,
            "PARTIAL",
            {"first": 1450, "end": 1540},
            struct.pack("<II", 1450, 1540),
        ),
        "response_backfill_unavailable": r(
            "BACKFILL RANGE_UNAVAILABLE.", "BACKFILL", 6, 6, "RANGE_UNAVAILABLE", {}, b""
        ),
        "response_time_sync_ok": r(
            "TIME_SYNC OK: boot 3, ticks_us 987654321.",
            "TIME_SYNC",
            7,
            0,
            "OK",
            {"boot": 3, "ticks_us": 987654321},
            struct.pack("<HI", 3, 987654321),
        ),
        "response_log_list_ok": r(
            "LOG_LIST OK: 2 of 3 entries.", "LOG_LIST", 10, 0, "OK", log_fields, log_payload
        ),
        "response_log_read_ok": r(
            "LOG_READ OK: 65536 bytes follow.",
            "LOG_READ",
            11,
            0,
            "OK",
            {"size_bytes": 65536},
            struct.pack("<I", 65536),
        ),
        "response_log_erase_checksum_mismatch": r(
            "LOG_ERASE CHECKSUM_MISMATCH.", "LOG_ERASE", 255, 11, "CHECKSUM_MISMATCH", {}, b""
        ),
        "response_unknown_op": r(
            "Opcode 0x7f is unknown: UNKNOWN_OP.", "0x7f", 12, 1, "UNKNOWN_OP", {}, b""
        ),
    }


def bad_vector(description, data: bytes, error: str) -> dict:
    return {"kind": "bad_packet", "description": description, "hex": data.hex(), "error": error}


def _good(**kw) -> bytes:
    return sample_packet(3, 2800, 987654321, EXTREMES[2:], **kw)


def bad_vectors() -> dict:
    good = _good()
    flipped = bytearray(good)
    flipped[20] ^= 0x01
    crc_flipped = bytearray(good)
    crc_flipped[-1] ^= 0x80
    b = bad_vector
    return {
        "bad_truncated_last_byte": b(
            "A good packet without its last byte.", good[:-1], "truncated"
        ),
        "bad_truncated_header": b("Ten bytes: shorter than the header.", good[:10], "truncated"),
        "bad_empty": b("An empty notification.", b"", "truncated"),
        "bad_oversized": b("A good packet with one byte appended.", good + b"\x00", "oversized"),
        "bad_wrong_version_2": b("Version 2, CRC valid.", _good(version=2), "wrong_version"),
        "bad_wrong_version_0": b("Version 0, CRC valid.", _good(version=0), "wrong_version"),
        "bad_unknown_type_0x05": b("Type 0x05, CRC valid.", _good(ptype=0x05), "unknown_type"),
        "bad_unknown_type_status": b(
            "A status packet (type 0x10) on the stream.",
            bytes.fromhex(status_vectors()["status_typical"]["hex"]),
            "unknown_type",
        ),
        "bad_crc_payload_bit": b("One payload bit flipped.", bytes(flipped), "bad_crc"),
        "bad_crc_crc_bit": b("One CRC bit flipped.", bytes(crc_flipped), "bad_crc"),
        "bad_rate_code_0": b("rate_code 0, CRC valid.", _good(rate_code=0), "bad_header"),
        "bad_rate_code_5": b("rate_code 5, CRC valid.", _good(rate_code=5), "bad_header"),
        "bad_fs_code_bit_2": b("fs_code reserved bit 2 set.", _good(fs_code=0x04), "bad_header"),
        "bad_fs_code_bit_7": b("fs_code reserved bit 7 set.", _good(fs_code=0x80), "bad_header"),
        "bad_reserved_flag_bit_2": b("flags bit 2 set.", _good(flags=0x04), "bad_header"),
        "bad_reserved_flag_bit_7": b("flags bit 7 set.", _good(flags=0x81), "bad_header"),
        "bad_count_0": b(
            "count 0 (20 bytes, CRC valid).", sample_packet(3, 2800, 987654321, b""), "bad_header"
        ),
        "bad_t0_bit_30": b(
            "t0 with bit 30 set.", sample_packet(3, 2800, 1 << 30, EXTREMES[2:]), "bad_header"
        ),
        "bad_t0_bit_31": b(
            "t0 with bit 31 set.", sample_packet(3, 2800, (1 << 31) | 5, EXTREMES[2:]), "bad_header"
        ),
    }


def build_vectors() -> dict[str, dict]:
    """Every generated vector, by file stem."""
    rng = random.Random(20260101)
    vectors = {}
    for group in (
        sample_vectors(rng),
        status_vectors(),
        log_chunk_vectors(),
        command_vectors(),
        response_vectors(),
        bad_vectors(),
    ):
        vectors.update(group)
    return vectors


def dumps(vector: dict) -> str:
    return json.dumps(vector, indent=1) + "\n"


def main() -> int:
    for name, vector in build_vectors().items():
        (HERE / f"{name}.json").write_text(dumps(vector))
    return 0


if __name__ == "__main__":
    sys.exit(main())
