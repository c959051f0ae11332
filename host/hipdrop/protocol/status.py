"""The status packet (docs/protocol.md §4) and the version handshake (§7)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .constants import PROTOCOL_VERSION, STATUS_SIZE, Fault, PacketType, StateBit
from .errors import ProtocolError, VersionMismatch

_STATUS = struct.Struct("<BBHBBhHIBBBBH")
_UNKNOWN_TEMPERATURE = -32768
_UNKNOWN_PCT = 255


@dataclass(frozen=True)
class Status:
    """A decoded status packet, in units. None where the device reports "unknown"."""

    protocol_version: int
    battery_mv: int | None
    battery_pct: int | None
    charging: bool
    worn: bool
    still: bool
    calibrated: bool
    streaming: bool
    logging: bool
    bonded: bool
    battery_low: bool
    temperature_c: float | None
    log_fill_fraction: float
    samples_dropped: int
    fault: Fault | int
    firmware_version: tuple[int, int, int]
    boot: int


def check_version(status: Status | bytes) -> None:
    """Raise ``VersionMismatch`` unless the sensor speaks this host's protocol version (§7).

    Accepts a decoded ``Status`` or the raw status bytes (only byte 0 is read).
    """
    if isinstance(status, Status):
        version = status.protocol_version
    else:
        if len(status) < 1:
            raise ProtocolError("empty status packet", "truncated")
        version = status[0]
    if version != PROTOCOL_VERSION:
        raise VersionMismatch(version, PROTOCOL_VERSION)


def decode_status(data: bytes) -> Status:
    """Decode the 20-byte status packet.

    Raises ``VersionMismatch`` first if byte 0 is another protocol version (its layout is
    unknown), then ``ProtocolError`` for a wrong type or length.
    """
    data = bytes(data)
    check_version(data)
    if len(data) >= 2 and data[1] != PacketType.STATUS:
        raise ProtocolError(f"packet type {data[1]:#04x} is not a status packet", "unknown_type")
    if len(data) != STATUS_SIZE:
        error = "truncated" if len(data) < STATUS_SIZE else "oversized"
        raise ProtocolError(f"status packet of {len(data)} bytes, expected {STATUS_SIZE}", error)
    (version, _, mv, pct, state, temp, fill, dropped, fault, *fw, boot) = _STATUS.unpack(data)
    return Status(
        protocol_version=version,
        battery_mv=mv or None,
        battery_pct=None if pct == _UNKNOWN_PCT else pct,
        **_state_bits(state),
        temperature_c=None if temp == _UNKNOWN_TEMPERATURE else temp / 100,
        log_fill_fraction=fill / 1000,
        samples_dropped=dropped,
        fault=_fault(fault),
        firmware_version=tuple(fw),
        boot=boot,
    )


def _state_bits(state: int) -> dict[str, bool]:
    return {bit.name.lower(): bool(state & bit) for bit in StateBit}


def _fault(code: int) -> Fault | int:
    try:
        return Fault(code)
    except ValueError:
        return code
