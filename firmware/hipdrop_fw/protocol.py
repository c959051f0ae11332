"""Wire protocol v1 constants (docs/protocol.md, the single source of truth).

Runs unchanged on the ESP32, the MicroPython WebAssembly port and CPython.
"""

from hipdrop_fw.compat import const

# Must equal PROTOCOL_VERSION in host/hipdrop/protocol/constants.py (a test checks it).
PROTOCOL_VERSION = 1

# §1 GATT layout
SERVICE_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd00"
STREAM_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd01"
CONTROL_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd02"
STATUS_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd03"
BOND_UUID = "83f3a910-4366-4e9e-8b71-a8cb7057dd04"
# Scan response manufacturer data: company id 0xFFFF (reserved for testing). Must equal
# MANUFACTURER_COMPANY_ID in host/hipdrop/protocol/constants.py (tests/firmware/test_fw_ble.py).
MANUFACTURER_COMPANY_ID = 0xFFFF

# §1 MTU: a notification carries at most MTU - 3 bytes.
ATT_OVERHEAD = 3
MIN_MTU = 87

# Packet types (byte 1 of every packet)
TYPE_LIVE = 0x01
TYPE_BACKFILL = 0x02
TYPE_LOG_CHUNK = 0x03
TYPE_STATUS = 0x10

# §3 sample packet
HEADER_SIZE = 16
RECORD_SIZE = 16
CRC_SIZE = 4
SAMPLE_OVERHEAD = 20  # HEADER_SIZE + CRC_SIZE
MAX_COUNT = 255
FLAG_FIFO_OVERFLOW = 0x01
FLAG_TILT_UNSETTLED = 0x02
TILT_UNAVAILABLE = -32768

# rate_code -> sample rate in Hz; other codes are invalid.
RATE_HZ = {1: 100, 2: 104, 3: 200, 4: 208}

# fs_code: bits 0-1 index ACC_FS_G, bits 4-5 index GYR_FS_DPS; other bits 0.
ACC_FS_G = (2, 4, 8, 16)
GYR_FS_DPS = (250, 500, 1000, 2000)
_FS_RESERVED_BITS = const(0xCC)

# §4 status packet
STATUS_SIZE = 20
BATTERY_PCT_UNKNOWN = 255
TEMPERATURE_UNKNOWN = -32768

STATE_CHARGING = 0x01
STATE_WORN = 0x02
STATE_STILL = 0x04
STATE_CALIBRATED = 0x08
STATE_STREAMING = 0x10
STATE_LOGGING = 0x20
STATE_BONDED_HOST = 0x40
STATE_BATTERY_LOW = 0x80

FAULT_NONE = 0
FAULT_IMU_MISSING = 1
FAULT_IMU_SELF_TEST = 2
FAULT_MTU_TOO_SMALL = 3
FAULT_FLASH_FULL = 4
FAULT_FLASH_ERROR = 5
FAULT_BATTERY_LOW = 6

# §5 control point opcodes; a response's opcode is op | RESPONSE_BIT.
OP_START = 0x01
OP_STOP = 0x02
OP_SET_RATE = 0x03
OP_CALIBRATE = 0x04
OP_BACKFILL = 0x05
OP_TIME_SYNC = 0x06
OP_IDENTIFY = 0x07
OP_CUE = 0x08
OP_LOG_LIST = 0x09
OP_LOG_READ = 0x0A
OP_LOG_ERASE = 0x0B
RESPONSE_BIT = 0x80
FS_KEEP = 0xFF

# §5 result codes
RESULT_OK = 0
RESULT_UNKNOWN_OP = 1
RESULT_BAD_LENGTH = 2
RESULT_BAD_ARGUMENT = 3
RESULT_NOT_BONDED = 4
RESULT_BUSY = 5
RESULT_RANGE_UNAVAILABLE = 6
RESULT_PARTIAL = 7
RESULT_MTU_TOO_SMALL = 8
RESULT_NOT_STILL = 9
RESULT_NO_SUCH_LOG = 10
RESULT_CHECKSUM_MISMATCH = 11
RESULT_IO_ERROR = 12
RESULT_IMU_FAULT = 13
RESULT_BATTERY_LOW = 14

# §6 log chunk: 10-byte header, data, CRC-32.
LOG_HEADER_SIZE = 10
LOG_OVERHEAD = 14


def fs_code_valid(code):
    """True if ``code`` sets no reserved fs_code bit (§3)."""
    return not code & _FS_RESERVED_BITS


def samples_per_packet(mtu):
    """Samples that fit one notification at ``mtu`` (§3), 0-255; streaming needs MIN_MTU."""
    n = (mtu - ATT_OVERHEAD - SAMPLE_OVERHEAD) // RECORD_SIZE
    return max(0, min(n, MAX_COUNT))
