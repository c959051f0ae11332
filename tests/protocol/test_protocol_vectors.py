"""Every golden vector in tests/vectors decodes (or encodes) to its recorded values."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from protocol_testkit import VECTORS_DIR, load_vectors, reference

from hipdrop.protocol import (
    Fault,
    Opcode,
    Result,
    decode_log_chunk,
    decode_packets,
    decode_response,
    decode_status,
    encode_command,
)
from hipdrop.protocol.constants import ERROR_NAMES

VECTORS = load_vectors()
KINDS = {"samples", "status", "log_chunk", "command", "response", "bad_packet"}


def _of(kind: str) -> list[str]:
    return [name for name, v in VECTORS.items() if v["kind"] == kind]


def _close(actual, expected) -> None:
    expected = np.array(expected, dtype=float)  # JSON null -> NaN
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_every_vector_has_the_common_keys():
    assert len(VECTORS) > 60
    for name, vector in VECTORS.items():
        assert vector["kind"] in KINDS, name
        assert vector["description"], name
        bytes.fromhex(vector["hex"])
    for kind in KINDS:
        assert _of(kind), kind


def test_committed_vectors_equal_the_reference_encoder_output():
    built = reference.build_vectors()
    on_disk = {n for n in VECTORS if n != "samples_hand_written"}
    assert set(built) == on_disk
    for name, vector in built.items():
        assert (VECTORS_DIR / f"{name}.json").read_text() == reference.dumps(vector), name


def test_hand_written_vector_annotation_matches_its_bytes():
    vector = VECTORS["samples_hand_written"]
    data = bytes.fromhex(vector["hex"])
    pos = 0
    for field in vector["annotated"]:
        chunk = bytes.fromhex(field["hex"])
        assert field["offset"] == pos
        assert data[pos : pos + len(chunk)] == chunk, field
        signed = "acc" in field["field"] or "gyr" in field["field"] or "cdeg" in field["field"]
        assert int.from_bytes(chunk, "little", signed=signed) == field["value"], field
        pos += len(chunk)
    assert pos == len(data)
    assert zlib.crc32(data[:-4]) == vector["header"]["crc32"]


@pytest.mark.parametrize("name", _of("samples"))
def test_sample_vector_decodes_to_its_values(name):
    vector = VECTORS[name]
    decoded = decode_packets([bytes.fromhex(vector["hex"])])
    assert not decoded.errors
    assert decoded.n_packets == 1
    h = vector["header"]
    assert int(decoded.packet_type[0]) == h["type"]
    assert int(decoded.boot[0]) == h["boot"]
    assert int(decoded.seq[0]) == h["seq"]
    assert int(decoded.t0_ticks_us[0]) == h["t0_ticks_us"]
    assert int(decoded.rate_code[0]) == h["rate_code"]
    assert decoded.rate_hz[0] == h["rate_hz"]
    assert int(decoded.fs_code[0]) == h["fs_code"]
    assert int(decoded.count[0]) == h["count"]
    assert int(decoded.flags[0]) == h["flags"]
    s = vector["samples"]
    np.testing.assert_array_equal(decoded.raw, s["raw"])
    _close(decoded.acc_ms2, s["acc_ms2"])
    _close(decoded.gyr_dps, s["gyr_dps"])
    _close(decoded.tilt_deg, s["tilt_deg"])
    _close(decoded.time_offset_s, s["time_offset_s"])


@pytest.mark.parametrize("name", _of("bad_packet"))
def test_bad_vector_gives_its_error_and_keeps_good_neighbours(name):
    vector = VECTORS[name]
    assert vector["error"] in ERROR_NAMES
    good = bytes.fromhex(VECTORS["samples_hand_written"]["hex"])
    decoded = decode_packets([good, bytes.fromhex(vector["hex"]), good])
    assert dict(decoded.errors) == {vector["error"]: 1}
    assert decoded.input_index.tolist() == [0, 2]
    assert decoded.n_samples == 4


def test_all_vectors_in_one_batch():
    batch = [bytes.fromhex(VECTORS[n]["hex"]) for n in _of("samples") + _of("bad_packet")]
    decoded = decode_packets(batch)
    assert decoded.n_packets == len(_of("samples"))
    assert sum(decoded.errors.values()) == len(_of("bad_packet"))
    expected_raw = np.concatenate([VECTORS[n]["samples"]["raw"] for n in _of("samples")])
    np.testing.assert_array_equal(decoded.raw, expected_raw)


@pytest.mark.parametrize("name", _of("status"))
def test_status_vector_decodes_to_its_values(name):
    vector = VECTORS[name]
    status = decode_status(bytes.fromhex(vector["hex"]))
    for key, expected in vector["decoded"].items():
        actual = getattr(status, key)
        if key == "firmware_version":
            assert list(actual) == expected
        elif isinstance(expected, float):
            assert math.isclose(actual, expected), key
        else:
            assert actual == expected, key
    assert isinstance(status.fault, Fault)


@pytest.mark.parametrize("name", _of("log_chunk"))
def test_log_chunk_vector_decodes_to_its_values(name):
    vector = VECTORS[name]
    chunk = decode_log_chunk(bytes.fromhex(vector["hex"]))
    f = vector["fields"]
    assert (chunk.log_id, chunk.offset, chunk.data.hex()) == (
        f["log_id"],
        f["offset"],
        f["data_hex"],
    )
    assert len(chunk.data) == f["n"]
    # a log chunk on the stream is not a sample packet (§8)
    assert dict(decode_packets([bytes.fromhex(vector["hex"])]).errors) == {"unknown_type": 1}


@pytest.mark.parametrize("name", _of("command"))
def test_command_vector_encodes_to_its_bytes(name):
    f = VECTORS[name]["fields"]
    assert Opcode[f["name"]] == f["op"]
    assert encode_command(Opcode(f["op"]), f["token"], *f["args"]).hex() == VECTORS[name]["hex"]


def _payload_values(response) -> dict:
    """The parsed payload expressed in the vector's wire terms."""
    p = response.payload
    if p is None:
        return {}
    if response.op == Opcode.CALIBRATE:
        return {
            "gyro_bias_cdps": [round(b * 100) for b in p.gyr_bias_dps],
            "neutral_roll_cdeg": round(p.neutral_roll_deg * 100),
            "neutral_pitch_cdeg": round(p.neutral_pitch_deg * 100),
        }
    if response.op == Opcode.START:
        return {"count": p.samples_per_packet}
    if response.op == Opcode.LOG_LIST:
        entries = [vars(e) for e in p.entries]
        return {
            "total": p.total,
            "first_index": p.first_index,
            "n": len(entries),
            "entries": entries,
        }
    return dict(vars(p))


@pytest.mark.parametrize("name", _of("response"))
def test_response_vector_decodes_to_its_values(name):
    f = VECTORS[name]["fields"]
    response = decode_response(bytes.fromhex(VECTORS[name]["hex"]))
    assert response.op == f["command_op"]
    assert response.token == f["token"]
    assert response.result == f["result"]
    assert Result(response.result).name == f["result_name"]
    assert _payload_values(response) == f["payload"]
