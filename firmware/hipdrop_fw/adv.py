"""Advertising, scan response and Device Information values (docs/protocol.md §1).

Built once at start; only the battery byte of the scan response changes afterwards.
"""

from binascii import hexlify, unhexlify

from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const

_RESP_BATTERY_FROM_END = const(4)  # the scan response ends: battery, fw major, minor, patch
_MANUFACTURER = "hipdrop"
_NAME_PREFIX = "hipdrop-"


def uuid128_le(text):
    """The 16 bytes of a 128-bit UUID string, least significant byte first (§1)."""
    be = unhexlify(text.replace("-", ""))
    le = bytearray(16)
    for i in range(16):
        le[i] = be[15 - i]
    return bytes(le)


def advertising_payload():
    """Flags (LE General Discoverable, no BR/EDR) + the hipdrop service UUID: 21 bytes."""
    return b"\x02\x01\x06\x11\x07" + uuid128_le(p.SERVICE_UUID)


def scan_response(mac, fw_version, battery_pct=p.BATTERY_PCT_UNKNOWN):
    """Complete local name ``hipdrop-XXXX`` + manufacturer data (§1), as a bytearray."""
    name = device_name(mac).encode()
    mfr = bytes((p.MANUFACTURER_COMPANY_ID & 0xFF, p.MANUFACTURER_COMPANY_ID >> 8))
    mfr += bytes((p.PROTOCOL_VERSION, battery_pct)) + bytes(fw_version)
    return bytearray(bytes((len(name) + 1, 0x09)) + name + bytes((len(mfr) + 1, 0xFF)) + mfr)


def device_name(mac):
    """``hipdrop-XXXX``: the last two bytes of the 6-byte MAC in upper-case hex."""
    return _NAME_PREFIX + hexlify(bytes(mac[4:6])).decode().upper()


def firmware_revision(fw_version):
    """Device Information firmware revision: ``MAJOR.MINOR.PATCH/pN``."""
    major, minor, patch = fw_version
    return f"{major}.{minor}.{patch}/p{p.PROTOCOL_VERSION}"


def set_battery(resp, battery_pct):
    """Write the battery percent (255 = unknown) into a ``scan_response`` in place."""
    resp[len(resp) - _RESP_BATTERY_FROM_END] = battery_pct


def device_information(mac, model, fw_version):
    """Manufacturer, model, firmware revision and serial number strings (0x180A)."""
    return (_MANUFACTURER, model, firmware_revision(fw_version), serial_number(mac))


def serial_number(mac):
    """Device Information serial number: 12 upper-case hex digits of the MAC."""
    return hexlify(bytes(mac)).decode().upper()
