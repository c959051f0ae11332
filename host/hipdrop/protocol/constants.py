"""Constants of the hipdrop wire protocol v1 (docs/protocol.md).

Every value here mirrors a table of docs/protocol.md; the section is named next to it.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

# Defined once on each side; keep equal to PROTOCOL_VERSION in
# firmware/hipdrop_fw/protocol.py (tests/protocol/test_protocol_constants.py checks it).
PROTOCOL_VERSION = 1

# §1 GATT layout
SERVICE_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd00"
STREAM_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd01"
CONTROL_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd02"
STATUS_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd03"
BOND_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd04"
"""Read needs an encrypted link: reading it makes any OS pair (§1)."""
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_NAME_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"
SERIAL_NUMBER_UUID = "00002a25-0000-1000-8000-00805f9b34fb"
MANUFACTURER_COMPANY_ID = 0xFFFF  # scan response manufacturer data

# §1 MTU: a notification carries at most MTU - ATT_OVERHEAD bytes
ATT_OVERHEAD = 3
MIN_MTU = 87

# §3 sample packet sizes (bytes)
HEADER_SIZE = 16
CRC_SIZE = 4
SAMPLE_SIZE = 16
PACKET_OVERHEAD = HEADER_SIZE + CRC_SIZE  # length = 20 + 16 * count
MAX_COUNT = 255
TILT_UNAVAILABLE = -32768
SEQ_MODULUS = 1 << 32  # seq wraps at 2**32 samples
TICKS_WRAP_US = 1 << 30  # MicroPython ticks_us() wraps at 2**30 us
# §4, §6 sizes (bytes)
STATUS_SIZE = 20
LOG_CHUNK_OVERHEAD = 14  # length = 14 + n
LOG_CHUNK_HEADER_SIZE = 10

G = 9.80665  # standard gravity, m/s^2: acc_ms2 = counts * FS_g * G / 32768
FULL_SCALE_COUNTS = 32768

# §3 rate and full-scale tables
RATE_HZ: dict[int, int] = {1: 100, 2: 104, 3: 200, 4: 208}
ACC_FULL_SCALE_G: tuple[int, ...] = (2, 4, 8, 16)  # fs_code bits 0-1
GYR_FULL_SCALE_DPS: tuple[int, ...] = (250, 500, 1000, 2000)  # fs_code bits 4-5
FS_CODE_RESERVED_MASK = 0xCC
FS_CODE_KEEP = 0xFF  # SET_RATE: keep the current full scale


class PacketType(IntEnum):
    """Byte 1 of every stream and status packet (§3, §4, §6)."""

    LIVE = 0x01
    BACKFILL = 0x02
    LOG_CHUNK = 0x03
    STATUS = 0x10


SAMPLE_PACKET_TYPES = frozenset({PacketType.LIVE, PacketType.BACKFILL})


class PacketFlag(IntFlag):
    """Sample packet byte 15 (§3); bits 2-7 are reserved and must be 0."""

    FIFO_OVERFLOW = 0x01
    TILT_UNSETTLED = 0x02


FLAGS_RESERVED_MASK = 0xFC
T0_RESERVED_MASK = 0xC000_0000


class StateBit(IntFlag):
    """Status packet byte 5 (§4)."""

    CHARGING = 0x01
    WORN = 0x02
    STILL = 0x04
    CALIBRATED = 0x08
    STREAMING = 0x10
    LOGGING = 0x20
    BONDED = 0x40
    BATTERY_LOW = 0x80


class Fault(IntEnum):
    """Status packet byte 14 (§4)."""

    NONE = 0
    IMU_MISSING = 1
    IMU_SELF_TEST = 2
    MTU_TOO_SMALL = 3
    FLASH_FULL = 4
    FLASH_ERROR = 5
    BATTERY_LOW = 6


class Opcode(IntEnum):
    """Control point command opcodes (§5); a response carries ``op | RESPONSE_BIT``."""

    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03
    CALIBRATE = 0x04
    BACKFILL = 0x05
    TIME_SYNC = 0x06
    IDENTIFY = 0x07
    CUE = 0x08
    LOG_LIST = 0x09
    LOG_READ = 0x0A
    LOG_ERASE = 0x0B


RESPONSE_BIT = 0x80


class Result(IntEnum):
    """Control point response result codes (§5)."""

    OK = 0
    UNKNOWN_OP = 1
    BAD_LENGTH = 2
    BAD_ARGUMENT = 3
    NOT_BONDED = 4
    BUSY = 5
    RANGE_UNAVAILABLE = 6
    PARTIAL = 7
    MTU_TOO_SMALL = 8
    NOT_STILL = 9
    NO_SUCH_LOG = 10
    CHECKSUM_MISMATCH = 11
    IO_ERROR = 12
    IMU_FAULT = 13
    BATTERY_LOW = 14


# §8 host decoder error names, in the order the decoder checks them
ERROR_NAMES: tuple[str, ...] = (
    "wrong_version",
    "unknown_type",
    "truncated",
    "oversized",
    "bad_crc",
    "bad_header",
    "duplicate",
)


def samples_per_packet(mtu: int) -> int:
    """Samples per sample packet at an ATT MTU in bytes (§3): ``(mtu - 3 - 20) // 16``.

    Raises ``ValueError`` below ``MIN_MTU``, where the sensor refuses to stream.
    """
    if mtu < MIN_MTU:
        raise ValueError(f"MTU {mtu} is below the minimum of {MIN_MTU}: the sensor will not stream")
    return min((mtu - ATT_OVERHEAD - PACKET_OVERHEAD) // SAMPLE_SIZE, MAX_COUNT)
