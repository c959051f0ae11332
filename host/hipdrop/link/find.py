"""Finding hipdrop sensors nearby: scan for the service UUID, read the scan response.

Sensors are matched on the hipdrop service UUID in the advertisement, never on the name
(docs/protocol.md §1): the name arrives later, in the scan response, with the manufacturer
data that carry the protocol version, the battery and the firmware version.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from ..blebackend import BleakBackends
from ..errors import HipdropError
from ..protocol.constants import MANUFACTURER_COMPANY_ID, SERVICE_UUID

SCAN_S = 5.0
_MANUFACTURER = struct.Struct("<BB3B")  # protocol version, battery %, firmware x.y.z


@dataclass(frozen=True)
class Sighting:
    """One sensor heard while scanning."""

    device: BLEDevice
    name: str
    rssi: int | None
    protocol_version: int | None
    battery_pct: int | None
    firmware: str | None

    @property
    def address(self) -> str:
        return self.device.address


def sighting(device: BLEDevice, adv: AdvertisementData) -> Sighting:
    """What a sensor's advertisement and scan response say."""
    data = adv.manufacturer_data.get(MANUFACTURER_COMPANY_ID, b"")
    version = battery = firmware = None
    if len(data) >= _MANUFACTURER.size:
        version, pct, major, minor, patch = _MANUFACTURER.unpack_from(data)
        battery = pct if pct <= 100 else None
        firmware = f"{major}.{minor}.{patch}"
    name = adv.local_name or device.name or ""
    return Sighting(device, name, adv.rssi, version, battery, firmware)


async def scan(backends: BleakBackends, seconds: float = SCAN_S,
               enough=lambda sighting: False) -> list[Sighting]:  # fmt: skip
    """Every hipdrop sensor heard within ``seconds`` (or until one is ``enough``), strongest
    first."""
    found: dict[str, Sighting] = {}
    done = asyncio.Event()

    def heard(device: BLEDevice, adv: AdvertisementData) -> None:
        found[device.address] = sighting(device, adv)
        if enough(found[device.address]):
            done.set()

    scanner = BleakScanner(heard, service_uuids=[SERVICE_UUID], backend=backends.scanner)
    try:
        await scanner.start()
    except (BleakError, OSError) as error:
        raise HipdropError(
            f"cannot use this computer's Bluetooth ({error or type(error).__name__}): is there an "
            "adapter, switched on (on Linux: is bluetoothd running?) — or try the simulated "
            "sensor with `--sim treadmill_quick`"
        ) from None
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), seconds)
    finally:
        await scanner.stop()
    return sorted(found.values(), key=lambda s: -(s.rssi if s.rssi is not None else -999))


async def find_sensor(backends: BleakBackends, wanted: str | None,
                      seconds: float = SCAN_S) -> Sighting:  # fmt: skip
    """The sensor ``wanted`` (an address, the UUID macOS gives instead, or the advertised
    name; case does not matter), or the strongest one when ``wanted`` is None."""
    key = wanted.casefold() if wanted is not None else None

    def is_wanted(s: Sighting) -> bool:
        return key in (s.address.casefold(), s.name.casefold())

    sightings = await scan(backends, seconds, is_wanted if key else lambda s: False)
    if key is not None:
        sightings = [s for s in sightings if is_wanted(s)]
    if not sightings:
        what = f"no hipdrop sensor {wanted!r}" if wanted else "no hipdrop sensor"
        raise HipdropError(
            f"{what} found in {seconds:g} s of scanning: is it switched on, charged and "
            "near this computer? (`hipdrop scan` lists the sensors in range)"
        )
    return sightings[0]
