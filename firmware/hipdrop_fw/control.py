"""Control-point codec (docs/protocol.md §5): parse commands, build responses.

Stateless: the device app decides what a valid command does.
"""

import struct

from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const

_CMD_HEADER = const(2)  # op, token
_RESP_HEADER = const(3)  # op | 0x80, token, result
_LOG_LIST_HEADER = const(8)  # response header + total u16, first_index u16, n u8
_LOG_ENTRY_SIZE = const(14)
_LOG_ENTRY_FMT = "<HIII"
_RESP_HEADER_FMT = "<BBB"
_CALIBRATE_MAX_S = const(10)
_CUE_PATTERNS = const(5)

# op -> struct format of its arguments
_ARGS = {
    p.OP_START: "<",
    p.OP_STOP: "<",
    p.OP_SET_RATE: "<BB",
    p.OP_CALIBRATE: "<B",
    p.OP_BACKFILL: "<HII",
    p.OP_TIME_SYNC: "<Q",
    p.OP_IDENTIFY: "<B",
    p.OP_CUE: "<BB",
    p.OP_LOG_LIST: "<H",
    p.OP_LOG_READ: "<HII",
    p.OP_LOG_ERASE: "<HI",
}
_ARGS_SIZE = {op: struct.calcsize(fmt) for op, fmt in _ARGS.items()}

# op -> struct format of its response payload (OK, or PARTIAL for BACKFILL)
_PAYLOAD = {
    p.OP_START: "<B",
    p.OP_CALIBRATE: "<5h",
    p.OP_BACKFILL: "<II",
    p.OP_TIME_SYNC: "<HI",
    p.OP_LOG_LIST: "<HHB",
    p.OP_LOG_READ: "<I",
}

_BOND_OPS = (
    p.OP_SET_RATE,
    p.OP_CALIBRATE,
    p.OP_TIME_SYNC,
    p.OP_LOG_LIST,
    p.OP_LOG_READ,
    p.OP_LOG_ERASE,
)


def needs_bond(op):
    """True if ``op`` is answered NOT_BONDED on a link without a bonded key."""
    return op in _BOND_OPS


def _check_args(op, args):
    """Result code of the stateless range checks of ``args``."""
    if op == p.OP_SET_RATE:
        rate_code, fs_code = args
        ok = rate_code in p.RATE_HZ and (fs_code == p.FS_KEEP or p.fs_code_valid(fs_code))
    elif op == p.OP_CALIBRATE:
        ok = 1 <= args[0] <= _CALIBRATE_MAX_S
    elif op == p.OP_CUE:
        ok = 1 <= args[0] <= _CUE_PATTERNS
    else:
        ok = True
    return p.RESULT_OK if ok else p.RESULT_BAD_ARGUMENT


def parse_command(data, bonded=False):
    """Decode a control-point write into ``(result, op, token, args)``; never raises.

    Checks in order: UNKNOWN_OP, BAD_LENGTH, NOT_BONDED, BAD_ARGUMENT. ``args`` is
    the decoded argument tuple once the length is right, else ``()``. A write
    shorter than op + token reads the missing bytes as 0.
    """
    op = data[0] if data else 0
    token = data[1] if len(data) > 1 else 0
    fmt = _ARGS.get(op)
    if fmt is None:
        return p.RESULT_UNKNOWN_OP, op, token, ()
    if len(data) != _CMD_HEADER + _ARGS_SIZE[op]:
        return p.RESULT_BAD_LENGTH, op, token, ()
    args = struct.unpack_from(fmt, data, _CMD_HEADER)
    if not bonded and op in _BOND_OPS:
        return p.RESULT_NOT_BONDED, op, token, args
    return _check_args(op, args), op, token, args


def pack_response(buf, op, token, result, payload=()):
    """Write a response into ``buf``; return its length.

    ``payload`` holds the values of the op's response payload (§5), given only
    with OK (or PARTIAL for BACKFILL); LOG_LIST entries follow via ``pack_log_entry``.
    """
    struct.pack_into(_RESP_HEADER_FMT, buf, 0, op | p.RESPONSE_BIT, token, result)
    if not payload:
        return _RESP_HEADER
    fmt = _PAYLOAD[op]
    struct.pack_into(fmt, buf, _RESP_HEADER, *payload)
    return _RESP_HEADER + struct.calcsize(fmt)


def log_list_capacity(payload_max):
    """LOG_LIST entries that fit one indication of ``payload_max`` (MTU - 3) bytes."""
    return max(0, (payload_max - _LOG_LIST_HEADER) // _LOG_ENTRY_SIZE)


def pack_log_entry(buf, i, log_id, start_unix_s, n_samples, size_bytes):
    """Write entry ``i`` of a LOG_LIST response; return the response length so far."""
    offset = _LOG_LIST_HEADER + _LOG_ENTRY_SIZE * i
    struct.pack_into(_LOG_ENTRY_FMT, buf, offset, log_id, start_unix_s, n_samples, size_bytes)
    return offset + _LOG_ENTRY_SIZE
