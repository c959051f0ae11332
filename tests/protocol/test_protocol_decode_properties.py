"""Property tests: the decoder never raises and never takes corrupted bytes for data."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_testkit import reference

from hipdrop.protocol import decode_packets
from hipdrop.protocol.constants import ERROR_NAMES

records = st.integers(1, 14).flatmap(lambda n: st.binary(min_size=16 * n, max_size=16 * n))


@st.composite
def good_packets(draw) -> bytes:
    return reference.sample_packet(
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.integers(0, 2**30 - 1)),
        draw(records),
        ptype=draw(st.sampled_from([1, 2])),
        rate_code=draw(st.integers(1, 4)),
        fs_code=draw(st.integers(0, 3)) | draw(st.integers(0, 3)) << 4,
        flags=draw(st.integers(0, 3)),
    )


@st.composite
def mutations(draw, packet: bytes) -> bytes:
    """A truncation, an extension or a burst of at most 4 overwritten bytes (CRC-32 always
    detects bursts of up to 32 bits)."""
    kind = draw(st.sampled_from(["truncate", "extend", "burst"]))
    if kind == "truncate":
        return packet[: draw(st.integers(0, len(packet) - 1))]
    if kind == "extend":
        return packet + draw(st.binary(min_size=1, max_size=40))
    at = draw(st.integers(0, len(packet) - 1))
    burst = draw(st.binary(min_size=1, max_size=min(4, len(packet) - at)))
    mutated = packet[:at] + burst + packet[at + len(burst) :]
    return mutated if mutated != packet else packet[:-1]


def _crc_ok(packet: bytes) -> bool:
    return len(packet) >= 4 and zlib.crc32(packet[:-4]) == struct.unpack("<I", packet[-4:])[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_random_bytes_never_raise_nor_decode_without_crc(batch):
    decoded = decode_packets(batch)
    assert set(decoded.errors) <= set(ERROR_NAMES)
    assert sum(decoded.errors.values()) + decoded.n_packets == len(batch)
    for i in decoded.input_index:
        assert _crc_ok(batch[i])


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=300), st.integers(1, 4))
def test_random_body_with_valid_crc_decodes_only_when_the_header_is_valid(body, rate_code):
    body = bytes([1, 1]) + body[2:12] + bytes([rate_code]) + body[13:]
    packet = reference.with_crc(body)
    decoded = decode_packets([packet])
    assert decoded.n_packets + sum(decoded.errors.values()) == 1
    if decoded.n_packets:
        assert len(packet) == 20 + 16 * packet[14]
        assert decoded.n_samples == packet[14]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_packet_never_decodes_and_never_loses_a_neighbour(data):
    first, middle, last = (data.draw(good_packets()) for _ in range(3))
    mutated = data.draw(mutations(middle))
    decoded = decode_packets([first, mutated, last])
    assert decoded.input_index.tolist() == [0, 2]
    assert sum(decoded.errors.values()) == 1
    alone = decode_packets([first, last])
    np.testing.assert_array_equal(decoded.raw, alone.raw)


@settings(max_examples=100, deadline=None)
@given(st.lists(good_packets(), min_size=1, max_size=10))
def test_good_packets_decode_to_their_records(batch):
    decoded = decode_packets(batch)
    assert not decoded.errors
    expected = np.concatenate([np.frombuffer(p[16:-4], "<i2").reshape(-1, 8) for p in batch])
    np.testing.assert_array_equal(decoded.raw, expected)
    assert decoded.count.sum() == decoded.n_samples == len(expected)
