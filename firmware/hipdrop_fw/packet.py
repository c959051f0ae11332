"""Stream and status packet packers (docs/protocol.md §3, §4, §6).

Buffers are allocated once; packing a sample allocates nothing.
"""

import struct
from binascii import crc32

from hipdrop_fw import protocol
from hipdrop_fw.compat import const

_HEADER_FMT = "<BBHIIBBBB"
_RECORD_FMT = "<8h"
_STATUS_FMT = "<BBHBBhHIBBBBH"
_LOG_HEADER_FMT = "<BBHIH"
_CRC_FMT = "<I"
_COUNT_OFFSET = const(14)
_HEADER_SIZE = const(16)
_RECORD_SIZE = const(16)
_SAMPLE_OVERHEAD = const(20)
_LOG_HEADER_SIZE = const(10)
_LOG_OVERHEAD = const(14)
_MAX_COUNT = const(255)
_MAX_LOG_DATA = const(0xFFFF)


def _seal(mv, end):
    """Append the CRC-32 of ``mv[:end]``; return the packet as a memoryview."""
    struct.pack_into(_CRC_FMT, mv, end, crc32(mv[:end]))
    return mv[: end + 4]


class SamplePacker:
    """Batches samples into one sample packet (§3) of at most ``payload_max`` bytes."""

    def __init__(self, payload_max):
        """Allocate the packet buffer once; ``payload_max`` is MTU - 3."""
        self.capacity = min((payload_max - _SAMPLE_OVERHEAD) // _RECORD_SIZE, _MAX_COUNT)
        if self.capacity < 1:
            raise ValueError("payload_max too small for one sample")
        self._mv = memoryview(bytearray(_SAMPLE_OVERHEAD + _RECORD_SIZE * self.capacity))
        self._n = 0

    def start(self, ptype, boot, seq, t0_ticks_us, rate_code, fs_code, flags=0):
        """Begin a packet: write its header, forget earlier samples."""
        struct.pack_into(
            _HEADER_FMT,
            self._mv,
            0,
            protocol.PROTOCOL_VERSION,
            ptype,
            boot,
            seq,
            t0_ticks_us,
            rate_code,
            fs_code,
            0,
            flags,
        )
        self._n = 0

    def add(self, ax, ay, az, gx, gy, gz, roll_cdeg, pitch_cdeg):
        """Append one sample (i16 counts and centidegrees); True once the packet is full."""
        n = self._n
        at = _HEADER_SIZE + _RECORD_SIZE * n
        struct.pack_into(_RECORD_FMT, self._mv, at, ax, ay, az, gx, gy, gz, roll_cdeg, pitch_cdeg)
        n += 1
        self._n = n
        return n >= self.capacity

    def finish(self):
        """Write count and CRC-32; return the packet bytes (a view into the buffer)."""
        n = self._n
        if not n:
            raise ValueError("empty packet")
        self._mv[_COUNT_OFFSET] = n
        return _seal(self._mv, _HEADER_SIZE + _RECORD_SIZE * n)


def pack_status(
    buf,
    boot,
    fw_major,
    fw_minor,
    fw_patch,
    battery_mv=0,
    battery_pct=protocol.BATTERY_PCT_UNKNOWN,
    state=0,
    temperature_cdeg_c=protocol.TEMPERATURE_UNKNOWN,
    log_fill_permille=0,
    samples_dropped=0,
    fault=protocol.FAULT_NONE,
):
    """Write the 20-byte status packet (§4) at the start of ``buf``."""
    struct.pack_into(
        _STATUS_FMT,
        buf,
        0,
        protocol.PROTOCOL_VERSION,
        protocol.TYPE_STATUS,
        battery_mv,
        battery_pct,
        state,
        temperature_cdeg_c,
        log_fill_permille,
        samples_dropped,
        fault,
        fw_major,
        fw_minor,
        fw_patch,
        boot,
    )


class LogChunkPacker:
    """Builds log chunks (§6) of at most ``payload_max`` bytes in one buffer.

    Read log bytes straight into ``data`` (e.g. ``f.readinto(packer.data[:n])``),
    then call ``finish``.
    """

    def __init__(self, payload_max):
        """Allocate the chunk buffer once; ``payload_max`` is MTU - 3."""
        self.capacity = min(payload_max - _LOG_OVERHEAD, _MAX_LOG_DATA)
        if self.capacity < 1:
            raise ValueError("payload_max too small for one data byte")
        self._mv = memoryview(bytearray(_LOG_OVERHEAD + self.capacity))
        self.data = self._mv[_LOG_HEADER_SIZE : _LOG_HEADER_SIZE + self.capacity]

    def finish(self, log_id, offset, n):
        """Seal a chunk of the first ``n`` bytes of ``data``; return the chunk bytes."""
        if not 0 <= n <= self.capacity:
            raise ValueError("n out of range")
        struct.pack_into(
            _LOG_HEADER_FMT,
            self._mv,
            0,
            protocol.PROTOCOL_VERSION,
            protocol.TYPE_LOG_CHUNK,
            log_id,
            offset,
            n,
        )
        return _seal(self._mv, _LOG_HEADER_SIZE + n)
