"""Validate and decode sample packets (§3) and log chunks (§6) from the stream characteristic.

``decode_packets`` never raises on link input: it counts every rejected packet under its
§8 error name and converts all accepted samples in one vectorised NumPy pass.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .constants import (
    ACC_FULL_SCALE_G,
    CRC_SIZE,
    FLAGS_RESERVED_MASK,
    FS_CODE_RESERVED_MASK,
    FULL_SCALE_COUNTS,
    GYR_FULL_SCALE_DPS,
    HEADER_SIZE,
    LOG_CHUNK_HEADER_SIZE,
    LOG_CHUNK_OVERHEAD,
    PACKET_OVERHEAD,
    PROTOCOL_VERSION,
    RATE_HZ,
    SAMPLE_PACKET_TYPES,
    SAMPLE_SIZE,
    T0_RESERVED_MASK,
    TILT_UNAVAILABLE,
    G,
    PacketType,
)
from .errors import ProtocolError

_HEADER = struct.Struct("<BBHIIBBBB")  # version type boot seq t0 rate fs count flags
_CRC = struct.Struct("<I")
_LOG_HEADER = struct.Struct("<BBHIH")  # version type log_id offset n

_EMPTY_I64 = np.zeros(0, np.int64)


@dataclass(frozen=True, eq=False)
class Decoded:
    """Accepted sample packets of one batch: per-packet and per-sample arrays.

    Per packet (length P, in input order): ``input_index`` (position in the batch),
    ``packet_type``, ``boot``, ``seq``, ``t0_ticks_us``, ``rate_code``, ``fs_code``,
    ``rate_hz``, ``count``, ``flags``.
    Per sample (length N, packets concatenated in order): ``sample_packet`` (index into
    the per-packet arrays), ``sample_offset`` (position in its packet), ``raw`` (N, 8) int16
    counts, ``acc_ms2`` (N, 3) m/s^2, ``gyr_dps`` (N, 3) deg/s, ``tilt_deg`` (N, 2) roll and
    pitch in degrees, NaN where the device sent -32768.
    ``errors`` counts the rejected packets by §8 error name.
    """

    input_index: np.ndarray
    packet_type: np.ndarray
    boot: np.ndarray
    seq: np.ndarray
    t0_ticks_us: np.ndarray
    rate_code: np.ndarray
    fs_code: np.ndarray
    rate_hz: np.ndarray
    count: np.ndarray
    flags: np.ndarray
    sample_packet: np.ndarray
    sample_offset: np.ndarray
    raw: np.ndarray
    acc_ms2: np.ndarray
    gyr_dps: np.ndarray
    tilt_deg: np.ndarray
    errors: Counter = field(default_factory=Counter)

    @property
    def n_packets(self) -> int:
        return len(self.input_index)

    @property
    def n_samples(self) -> int:
        return len(self.sample_packet)

    @property
    def time_offset_s(self) -> np.ndarray:
        """Device time of each sample after its packet's ``t0``, seconds: ``offset / rate``."""
        return self.sample_offset / self.rate_hz[self.sample_packet]


def packet_error(packet: bytes) -> str | None:
    """The §8 error name of a sample packet, or None when it is valid.

    Checks, in order: version, type, length (truncated, oversized), CRC, header fields.
    The version comes first because another version's layout is unknown.
    """
    n = len(packet)
    if n >= 1 and packet[0] != PROTOCOL_VERSION:
        return "wrong_version"
    if n >= 2 and packet[1] not in SAMPLE_PACKET_TYPES:
        return "unknown_type"
    if n < HEADER_SIZE:
        return "truncated"
    expected = PACKET_OVERHEAD + SAMPLE_SIZE * packet[14]
    if n != expected:
        return "truncated" if n < expected else "oversized"
    body = expected - CRC_SIZE
    if zlib.crc32(packet[:body]) != _CRC.unpack_from(packet, body)[0]:
        return "bad_crc"
    return None if _header_valid(_HEADER.unpack_from(packet)) else "bad_header"


def _header_valid(header: tuple[int, ...]) -> bool:
    _, _, _, _, t0, rate_code, fs_code, count, flags = header
    return (
        rate_code in RATE_HZ
        and not fs_code & FS_CODE_RESERVED_MASK
        and count > 0
        and not flags & FLAGS_RESERVED_MASK
        and not t0 & T0_RESERVED_MASK
    )


def decode_packets(packets: Sequence[bytes]) -> Decoded:
    """Validate a batch of stream notifications and decode the accepted sample packets.

    Never raises on link input; see ``packet_error`` for the order of checks.
    """
    errors: Counter = Counter()
    headers: list[tuple[int, ...]] = []
    payloads: list[bytes] = []
    accepted: list[int] = []
    for i, packet in enumerate(packets):
        packet = bytes(packet)
        error = packet_error(packet)
        if error is not None:
            errors[error] += 1
            continue
        headers.append(_HEADER.unpack_from(packet))
        payloads.append(packet[HEADER_SIZE:-CRC_SIZE])
        accepted.append(i)
    return _convert(headers, payloads, accepted, errors)


def _convert(
    headers: list[tuple[int, ...]], payloads: list[bytes], accepted: list[int], errors: Counter
) -> Decoded:
    """Convert every accepted sample in one vectorised pass."""
    h = np.array(headers, dtype=np.int64).reshape(-1, 9)
    count = h[:, 7]
    raw = np.frombuffer(b"".join(payloads), dtype="<i2").reshape(-1, 8)
    sample_packet = np.repeat(np.arange(len(h)), count)
    starts = np.cumsum(count) - count
    sample_offset = np.arange(len(raw), dtype=np.int64) - np.repeat(starts, count)
    fs_code = h[:, 6]
    acc_scale = np.take(ACC_FULL_SCALE_G, fs_code & 0x3) * G / FULL_SCALE_COUNTS
    gyr_scale = np.take(GYR_FULL_SCALE_DPS, (fs_code >> 4) & 0x3) / FULL_SCALE_COUNTS
    rate_lut = np.zeros(256)
    rate_lut[list(RATE_HZ)] = list(RATE_HZ.values())
    tilt = raw[:, 6:8].astype(np.float64) / 100.0
    tilt[raw[:, 6:8] == TILT_UNAVAILABLE] = np.nan
    return Decoded(
        input_index=np.asarray(accepted, dtype=np.int64) if accepted else _EMPTY_I64,
        packet_type=h[:, 1].astype(np.uint8),
        boot=h[:, 2].astype(np.uint16),
        seq=h[:, 3].astype(np.uint32),
        t0_ticks_us=h[:, 4].astype(np.uint32),
        rate_code=h[:, 5].astype(np.uint8),
        fs_code=fs_code.astype(np.uint8),
        rate_hz=rate_lut[h[:, 5]],
        count=count,
        flags=h[:, 8].astype(np.uint8),
        sample_packet=sample_packet,
        sample_offset=sample_offset,
        raw=raw,
        acc_ms2=raw[:, 0:3] * acc_scale[sample_packet, None],
        gyr_dps=raw[:, 3:6] * gyr_scale[sample_packet, None],
        tilt_deg=tilt,
        errors=errors,
    )


@dataclass(frozen=True)
class LogChunk:
    """One log chunk (§6): ``data`` is the file's bytes from ``offset``."""

    log_id: int
    offset: int
    data: bytes


def decode_log_chunk(packet: bytes) -> LogChunk:
    """Decode a log chunk (§6); raises ``ProtocolError`` with its §8 error name."""
    packet = bytes(packet)
    n = len(packet)
    if n >= 1 and packet[0] != PROTOCOL_VERSION:
        raise ProtocolError(f"log chunk of protocol v{packet[0]}", "wrong_version")
    if n >= 2 and packet[1] != PacketType.LOG_CHUNK:
        raise ProtocolError(f"packet type {packet[1]:#04x} is not a log chunk", "unknown_type")
    if n < LOG_CHUNK_HEADER_SIZE:
        raise ProtocolError(f"log chunk of {n} bytes is shorter than its header", "truncated")
    _, _, log_id, offset, size = _LOG_HEADER.unpack_from(packet)
    expected = LOG_CHUNK_OVERHEAD + size
    if n != expected:
        error = "truncated" if n < expected else "oversized"
        raise ProtocolError(f"log chunk of {n} bytes, header says {expected}", error)
    body = expected - CRC_SIZE
    if zlib.crc32(packet[:body]) != _CRC.unpack_from(packet, body)[0]:
        raise ProtocolError("log chunk CRC-32 mismatch", "bad_crc")
    return LogChunk(log_id, offset, packet[LOG_CHUNK_HEADER_SIZE:body])
