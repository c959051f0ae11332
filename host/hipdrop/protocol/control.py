"""Control point commands and responses (docs/protocol.md §5)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from .constants import RESPONSE_BIT, Opcode, Result
from .errors import ProtocolError

# Arguments of each command, after ``op u8, token u8`` (§5 table).
COMMAND_ARGS: dict[Opcode, struct.Struct] = {
    Opcode.START: struct.Struct("<"),
    Opcode.STOP: struct.Struct("<"),
    Opcode.SET_RATE: struct.Struct("<BB"),  # rate_code, fs_code (0xFF = keep)
    Opcode.CALIBRATE: struct.Struct("<B"),  # seconds
    Opcode.BACKFILL: struct.Struct("<HII"),  # boot, from_seq, to_seq (end exclusive)
    Opcode.TIME_SYNC: struct.Struct("<Q"),  # unix_ms
    Opcode.IDENTIFY: struct.Struct("<B"),  # seconds
    Opcode.CUE: struct.Struct("<BB"),  # pattern, repeat
    Opcode.LOG_LIST: struct.Struct("<H"),  # first_index
    Opcode.LOG_READ: struct.Struct("<HII"),  # log_id, offset, length
    Opcode.LOG_ERASE: struct.Struct("<HI"),  # log_id, crc32
}

_RESPONSE_HEAD = struct.Struct("<BBB")
_LOG_ENTRY = struct.Struct("<HIII")
_LOG_LIST_HEAD = struct.Struct("<HHB")


@dataclass(frozen=True)
class StartInfo:
    samples_per_packet: int


@dataclass(frozen=True)
class CalibrationInfo:
    gyr_bias_dps: tuple[float, float, float]
    neutral_roll_deg: float
    neutral_pitch_deg: float


@dataclass(frozen=True)
class BackfillRange:
    """The part ``[first, end)`` of a requested range that follows as backfill packets."""

    first: int
    end: int


@dataclass(frozen=True)
class TimeSyncInfo:
    boot: int
    ticks_us: int


@dataclass(frozen=True)
class LogEntry:
    log_id: int
    start_unix_s: int
    n_samples: int
    size_bytes: int


@dataclass(frozen=True)
class LogListPage:
    total: int
    first_index: int
    entries: tuple[LogEntry, ...]


@dataclass(frozen=True)
class LogReadInfo:
    size_bytes: int


@dataclass(frozen=True)
class Response:
    """A decoded control point indication.

    ``op`` is an ``Opcode`` (a plain int for an opcode this host does not know, as in
    ``UNKNOWN_OP``); ``payload`` is the parsed payload when the result carries one
    (``OK``, or ``PARTIAL`` for ``BACKFILL``), else None; ``raw_payload`` keeps the bytes.
    """

    op: Opcode | int
    token: int
    result: Result | int
    payload: Any
    raw_payload: bytes

    @property
    def ok(self) -> bool:
        return self.result in (Result.OK, Result.PARTIAL)


def encode_command(op: Opcode | int, token: int, *args: int) -> bytes:
    """The bytes of a command (§5): ``op u8, token u8, arguments...`` in table order.

    Raises ``ValueError`` for an unknown opcode, a wrong number of arguments or a value
    that does not fit its field. Ranges the device checks (rate code, seconds) are not
    checked here, so tests can send them.
    """
    try:
        layout = COMMAND_ARGS[Opcode(op)]
    except ValueError:
        raise ValueError(f"unknown opcode {op!r}") from None
    name = Opcode(op).name
    expected = len(layout.format) - 1
    if len(args) != expected:
        raise ValueError(f"{name} takes {expected} argument(s), got {len(args)}")
    try:
        return struct.pack("<BB", op, token) + layout.pack(*args)
    except struct.error as exc:
        raise ValueError(f"{name} argument out of range: {exc}") from None


def decode_response(data: bytes) -> Response:
    """Decode a control point indication; raises ``ProtocolError`` when malformed."""
    data = bytes(data)
    if len(data) < _RESPONSE_HEAD.size:
        raise ProtocolError(f"response of {len(data)} bytes is shorter than 3", "truncated")
    op_byte, token, result_byte = _RESPONSE_HEAD.unpack_from(data)
    if not op_byte & RESPONSE_BIT:
        raise ProtocolError(f"byte 0 = {op_byte:#04x} lacks the response bit 0x80")
    op = _enum_or_int(Opcode, op_byte & ~RESPONSE_BIT)
    result = _enum_or_int(Result, result_byte)
    raw_payload = data[_RESPONSE_HEAD.size :]
    payload = None
    if result == Result.OK or (result == Result.PARTIAL and op == Opcode.BACKFILL):
        payload = _parse_payload(op, raw_payload)
    return Response(op, token, result, payload, raw_payload)


def _enum_or_int(enum, value: int):
    try:
        return enum(value)
    except ValueError:
        return value


def _parse_payload(op: Opcode | int, payload: bytes) -> Any:
    parser = _PARSERS.get(op)
    if parser is None:  # no payload in the table
        _expect_size(op, payload, 0)
        return None
    return parser(payload)


def _expect_size(op, payload: bytes, size: int) -> None:
    if len(payload) != size:
        name = getattr(op, "name", op)
        raise ProtocolError(f"{name} response payload has {len(payload)} bytes, expected {size}")


def _fixed(op: Opcode, fmt: str, build):
    layout = struct.Struct(fmt)

    def parse(payload: bytes):
        _expect_size(op, payload, layout.size)
        return build(*layout.unpack(payload))

    return parse


def _calibration(bx, by, bz, roll, pitch) -> CalibrationInfo:
    return CalibrationInfo((bx / 100, by / 100, bz / 100), roll / 100, pitch / 100)


def _log_list(payload: bytes) -> LogListPage:
    if len(payload) < _LOG_LIST_HEAD.size:
        raise ProtocolError(f"LOG_LIST response payload has {len(payload)} bytes, expected >= 5")
    total, first_index, n = _LOG_LIST_HEAD.unpack_from(payload)
    _expect_size(Opcode.LOG_LIST, payload, _LOG_LIST_HEAD.size + n * _LOG_ENTRY.size)
    entries = tuple(
        LogEntry(*fields) for fields in _LOG_ENTRY.iter_unpack(payload[_LOG_LIST_HEAD.size :])
    )
    return LogListPage(total, first_index, entries)


_PARSERS = {
    Opcode.START: _fixed(Opcode.START, "<B", StartInfo),
    Opcode.CALIBRATE: _fixed(Opcode.CALIBRATE, "<hhhhh", _calibration),
    Opcode.BACKFILL: _fixed(Opcode.BACKFILL, "<II", BackfillRange),
    Opcode.TIME_SYNC: _fixed(Opcode.TIME_SYNC, "<HI", TimeSyncInfo),
    Opcode.LOG_LIST: _log_list,
    Opcode.LOG_READ: _fixed(Opcode.LOG_READ, "<I", LogReadInfo),
}
