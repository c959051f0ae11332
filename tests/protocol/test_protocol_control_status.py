"""Control point encoding and decoding, the status packet, the version handshake."""

from __future__ import annotations

import struct

import pytest
from protocol_testkit import load_vectors

from hipdrop.protocol import (
    PROTOCOL_VERSION,
    BackfillRange,
    Opcode,
    ProtocolError,
    Result,
    VersionMismatch,
    check_version,
    decode_log_chunk,
    decode_response,
    decode_status,
    encode_command,
)

STATUS = bytes.fromhex(load_vectors()["status_typical"]["hex"])
CHUNK = bytes.fromhex(load_vectors()["log_chunk"]["hex"])


def test_encode_command_checks_arguments():
    assert encode_command(Opcode.BACKFILL, 9, 3, 0, 2**32 - 1) == struct.pack(
        "<BBHII", 5, 9, 3, 0, 2**32 - 1
    )
    assert encode_command(0x07, 1, 10) == bytes([7, 1, 10])  # plain ints are accepted
    with pytest.raises(ValueError, match="takes 2 argument"):
        encode_command(Opcode.SET_RATE, 1, 3)
    with pytest.raises(ValueError, match="out of range"):
        encode_command(Opcode.CALIBRATE, 1, 256)
    with pytest.raises(ValueError, match="out of range"):
        encode_command(Opcode.START, 256)
    with pytest.raises(ValueError, match="unknown opcode"):
        encode_command(0x42, 1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x81\x01",  # shorter than op, token, result
        b"\x01\x01\x00",  # no response bit
        b"\x81\x01\x00",  # START OK without its count
        b"\x81\x01\x00\x0e\x00",  # START OK with a byte too many
        b"\x82\x01\x00\x00",  # STOP OK carries no payload
        b"\x85\x01\x07" + struct.pack("<I", 5),  # BACKFILL PARTIAL, short payload
        b"\x89\x01\x00" + struct.pack("<HHB", 3, 0, 2) + bytes(14),  # LOG_LIST: 1 of 2 entries
        b"\x89\x01\x00\x03\x00",  # LOG_LIST shorter than its head
    ],
)
def test_malformed_responses_raise_protocol_error(data):
    with pytest.raises(ProtocolError):
        decode_response(data)


def test_error_results_carry_no_parsed_payload():
    response = decode_response(bytes([0x85, 4, Result.RANGE_UNAVAILABLE]))
    assert response.op == Opcode.BACKFILL and response.payload is None and not response.ok
    partial = decode_response(bytes([0x85, 4, Result.PARTIAL]) + struct.pack("<II", 7, 9))
    assert partial.ok and partial.payload == BackfillRange(7, 9)
    unknown = decode_response(bytes([0xC2, 4, Result.UNKNOWN_OP]))
    assert unknown.op == 0x42 and unknown.result == Result.UNKNOWN_OP
    future = decode_response(bytes([0x81, 4, 99, 1, 2]))  # a result this host does not know
    assert future.result == 99 and future.payload is None and future.raw_payload == b"\x01\x02"


def test_status_version_mismatch_tells_which_side_to_update():
    with pytest.raises(VersionMismatch, match=r"v2, this hipdrop speaks v1: .*pip install -U"):
        decode_status(bytes([2]) + STATUS[1:])
    with pytest.raises(VersionMismatch, match=r"v0, this hipdrop speaks v1: .*hipdrop flash"):
        check_version(bytes([0, 0x10]))
    with pytest.raises(VersionMismatch):  # a newer layout may be longer: version comes first
        decode_status(bytes([2]) + STATUS[1:] + b"\x00")
    status = decode_status(STATUS)
    check_version(status)
    assert status.protocol_version == PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (STATUS[:-1], "truncated"),
        (STATUS + b"\x00", "oversized"),
        (STATUS[:1] + b"\x01" + STATUS[2:], "unknown_type"),
        (b"", "truncated"),
    ],
)
def test_malformed_status_raises(data, error):
    with pytest.raises(ProtocolError) as info:
        decode_status(data)
    assert info.value.error == error


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (CHUNK[:-1], "truncated"),
        (CHUNK[:5], "truncated"),
        (CHUNK + b"\x00", "oversized"),
        (b"\x02" + CHUNK[1:], "wrong_version"),
        (CHUNK[:1] + b"\x01" + CHUNK[2:], "unknown_type"),
        (CHUNK[:-1] + bytes([CHUNK[-1] ^ 1]), "bad_crc"),
    ],
)
def test_malformed_log_chunk_raises(data, error):
    with pytest.raises(ProtocolError) as info:
        decode_log_chunk(data)
    assert info.value.error == error
