"""A bleak backend on Bumble: the host's real bleak code path, over a virtual BLE link.

:func:`bleak_backends` binds a scanner and a client to one Bumble :class:`~bumble.device.Device`
(the central, made by :class:`~hipdrop.vsensor.bumble_air.Air`); pass them as ``backend=`` to
``BleakScanner`` and ``BleakClient``. Everything above the backend is bleak's own code, and
the peripheral is a real GATT server on a real (if in-process) Bluetooth stack.

It behaves as the desktop stacks do where bleak leaves it to them: the scan response's
fields are merged into the device's advertisement data, a client given an address string
first scans for it (as BlueZ does), the client asks for an MTU of 517 (the peripheral's
server maximum decides), and a bonded peer's link is encrypted with the stored keys on every
connection. The disconnected callback runs only on an unsolicited disconnect (peer or link
loss), as bleak's base class documents. Bumble's controller cannot read a connection's RSSI.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, core, gatt_client
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import Address

from hipdrop.blebackend import BleakBackends

# What BlueZ and macOS request right after connecting; the peripheral's server max decides.
_REQUESTED_MTU = 517
_DEFAULT_MTU = 23

_T = AdvertisingData.Type
_SERVICE_UUID_LISTS = (
    _T.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    _T.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    _T.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    _T.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    _T.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    _T.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA = (
    _T.SERVICE_DATA_16_BIT_UUID,
    _T.SERVICE_DATA_32_BIT_UUID,
    _T.SERVICE_DATA_128_BIT_UUID,
)


def bleak_backends(central: Device) -> BleakBackends:
    """bleak scanner and client backends that use ``central`` (powered on) as the adapter."""
    bound = {"central": central}
    return BleakBackends(
        scanner=type("BumbleScanner", (BumbleScanner,), bound),
        client=type("BumbleClient", (BumbleClient,), bound),
    )


# -- scanner ---------------------------------------------------------------------------------


class BumbleScanner(BaseBleakScanner):
    """bleak's scanner backend on a Bumble device; bind one with :func:`bleak_backends`."""

    central: ClassVar[Device]

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs):
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode == "active"

    async def start(self) -> None:
        self.seen_devices = {}
        self.central.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self.central.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        self.central.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self.central.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        key = _address_str(advertisement.address)
        seen = self.seen_devices.get(key)
        data = _advertisement_data(advertisement, seen[1] if seen else None)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        device = self.create_or_update_device(
            key, key, data.local_name, advertisement.address, data
        )
        self.call_detection_callbacks(device, data)


def _address_str(address: Address) -> str:
    """bleak's form of an address: ``AA:BB:CC:DD:EE:FF``, without Bumble's ``/P`` suffix."""
    return address.to_string(with_type_qualifier=False)


def _advertisement_data(
    advertisement: Advertisement, previous: AdvertisementData | None
) -> AdvertisementData:
    data = advertisement.data
    fresh = AdvertisementData(
        local_name=_local_name(data),
        manufacturer_data=dict(data.get_all(_T.MANUFACTURER_SPECIFIC_DATA)),
        service_data={
            _uuid_str(uuid): value for kind in _SERVICE_DATA for uuid, value in data.get_all(kind)
        },
        service_uuids=[
            _uuid_str(uuid)
            for kind in _SERVICE_UUID_LISTS
            for uuids in data.get_all(kind)
            for uuid in uuids
        ],
        tx_power=data.get(_T.TX_POWER_LEVEL),
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )
    return fresh if previous is None else _merged(previous, fresh)


def _merged(old: AdvertisementData, new: AdvertisementData) -> AdvertisementData:
    """Fields persist across advertisements and scan responses, as in the OS stacks' caches.

    The sensor's name and manufacturer data come only in its scan response.
    """
    return new._replace(
        local_name=new.local_name or old.local_name,
        manufacturer_data={**old.manufacturer_data, **new.manufacturer_data},
        service_data={**old.service_data, **new.service_data},
        service_uuids=list(dict.fromkeys(old.service_uuids + new.service_uuids)),
        tx_power=old.tx_power if new.tx_power is None else new.tx_power,
    )


def _local_name(data: AdvertisingData) -> str | None:
    return data.get(_T.COMPLETE_LOCAL_NAME) or data.get(_T.SHORTENED_LOCAL_NAME)


def _uuid_str(uuid: UUID) -> str:
    """bleak's form of a UUID: 128 bits, lower case."""
    return normalize_uuid_str(uuid.to_hex_str("-"))


# -- client ----------------------------------------------------------------------------------


class BumbleClient(BaseBleakClient):
    """bleak's client backend on a Bumble device; bind one with :func:`bleak_backends`.

    ``read_gatt_char``'s ``use_cached`` is ignored (bleak allows it): every read asks the
    peripheral.
    """

    central: ClassVar[Device]

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, **kwargs)
        known = isinstance(address_or_ble_device, BLEDevice)
        self._peer_address: Address | None = address_or_ble_device.details if known else None
        self._name: str | None = address_or_ble_device.name if known else None
        self._service_filter: set[str] | None = kwargs.get("services")
        self._connection: Connection | None = None
        self._disconnecting = False
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # -- connection ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        return self._connected().att_mtu

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, encrypt a bonded link (or pair if asked), exchange the MTU, discover.

        Raises ``BleakDeviceNotFoundError`` if an address string is not seen advertising
        within the timeout, ``TimeoutError`` if a found device does not accept the connection
        in time.
        """
        if self.is_connected:
            raise BleakError("Client is already connected")
        timeout = kwargs.get("timeout", self._timeout)
        if self._peer_address is None:
            self._peer_address = await self._find(timeout)
        connection = await self._open(self._peer_address, timeout)
        try:
            with _bleak_errors():
                await self._secure(connection, pair)
                peer = Peer(connection)
                await peer.request_mtu(_REQUESTED_MTU)
                self.services = await self._discover(peer)
        except BaseException:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        if self._connection is None:
            return
        self._disconnecting = True
        try:
            with _bleak_errors():
                await self._connection.disconnect()
        finally:
            self._disconnecting = False

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pair and bond (Just Works); returns at once if the peer is already bonded."""
        connection = self._connected()
        if await self._bonded(connection):
            return
        with _bleak_errors():
            await connection.pair()

    async def unpair(self) -> None:
        """Disconnect and forget the bond's keys on this side (the peer keeps its own)."""
        await self.disconnect()
        if self._peer_address is None:
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} was never seen.")
        keystore, key = self.central.keystore, str(self._peer_address)
        if await keystore.get(key) is not None:
            await keystore.delete(key)

    async def _find(self, timeout: float) -> Address:
        """Scan for the address, as BlueZ does before connecting to an address string."""
        found: asyncio.Future[Advertisement] = asyncio.get_running_loop().create_future()

        def on_advertisement(advertisement: Advertisement) -> None:
            if _address_str(advertisement.address) == self.address.upper() and not found.done():
                found.set_result(advertisement)

        async with _listening(self.central, on_advertisement):
            try:
                advertisement = await asyncio.wait_for(found, timeout)
            except TimeoutError:
                raise BleakDeviceNotFoundError(
                    self.address, f"Device with address {self.address} was not found."
                ) from None
        return advertisement.address

    async def _open(self, address: Address, timeout: float) -> Connection:
        try:
            connection = await self.central.connect(address, timeout=timeout)
        except core.TimeoutError:
            raise TimeoutError(f"{self.address} did not connect within {timeout} s") from None
        except core.BaseBumbleError as error:
            raise BleakError(f"connecting to {self.address} failed: {error}") from error
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._connection = connection
        return connection

    async def _secure(self, connection: Connection, pair: bool) -> None:
        """Encrypt with a stored bond, as an OS does on every connection; else pair if asked."""
        if not await self._bonded(connection):
            if pair:
                await connection.pair()
            return
        try:
            await connection.encrypt()
        except core.BaseBumbleError as error:
            raise BleakError(
                f"{self.address} refused the stored bond ({error}): it may have forgotten it;"
                " unpair() and pair again"
            ) from error

    async def _bonded(self, connection: Connection) -> bool:
        return await self.central.keystore.get(str(connection.peer_address)) is not None

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self.services = None
        self._subscribers.clear()
        if not self._disconnecting and self._disconnected_callback is not None:
            self._disconnected_callback()

    def _connected(self) -> Connection:
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    # -- GATT ------------------------------------------------------------------------------

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        await peer.discover_all()
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            if self._service_filter is None or _uuid_str(service.uuid) in self._service_filter:
                _add_service(collection, service, self._max_write_without_response_size)
        return collection

    def _max_write_without_response_size(self) -> int:
        mtu = self._connection.att_mtu if self._connection else _DEFAULT_MTU
        return mtu - 3

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return await self._read(characteristic.obj)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return await self._read(descriptor.obj)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data, response: bool
    ) -> None:
        await self._write(characteristic.obj, data, response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data) -> None:
        await self._write(descriptor.obj, data, True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Subscribe to notifications, or to indications if the characteristic has only those."""
        self._connected()

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        with _bleak_errors():
            await characteristic.obj.subscribe(subscriber, prefer_notify=True)
        self._subscribers[characteristic.handle] = subscriber

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._connected()
        subscriber = self._subscribers.pop(characteristic.handle, None)
        with _bleak_errors():
            await characteristic.obj.unsubscribe(subscriber)

    async def _read(self, proxy: gatt_client.AttributeProxy) -> bytearray:
        """Read; a value that needs encryption makes the link pair first, then the read is
        tried again — what BlueZ, CoreBluetooth and WinRT do by themselves."""
        connection = self._connected()
        with _bleak_errors():
            try:
                return bytearray(await proxy.read_value())
            except att.ATT_Error as error:
                if error.error_code not in _NEEDS_PAIRING or connection.is_encrypted:
                    raise
            await connection.pair()
            return bytearray(await proxy.read_value())

    async def _write(self, proxy: gatt_client.AttributeProxy, data, response: bool) -> None:
        self._connected()
        with _bleak_errors():
            await proxy.write_value(bytes(data), with_response=response)


def _add_service(
    collection: BleakGATTServiceCollection,
    service: gatt_client.ServiceProxy,
    max_write_without_response_size: Callable[[], int],
) -> None:
    """Add a discovered service, its characteristics and their descriptors (CCCDs too)."""
    bleak_service = BleakGATTService(service, service.handle, _uuid_str(service.uuid))
    collection.add_service(bleak_service)
    for char in service.characteristics:
        properties = list(gatt_char_props_to_strs(int(char.properties)))
        bleak_char = BleakGATTCharacteristic(
            char,
            char.handle,
            _uuid_str(char.uuid),
            properties,
            max_write_without_response_size,
            bleak_service,
        )
        collection.add_characteristic(bleak_char)
        for descriptor in char.descriptors:
            collection.add_descriptor(
                BleakGATTDescriptor(
                    descriptor, descriptor.handle, _uuid_str(descriptor.type), bleak_char
                )
            )


_NEEDS_PAIRING = (
    att.ATT_INSUFFICIENT_ENCRYPTION_ERROR,
    att.ATT_INSUFFICIENT_AUTHENTICATION_ERROR,
)


@contextlib.contextmanager
def _bleak_errors() -> Iterator[None]:
    """Raise Bumble's failures as bleak's, so callers handle one family whatever the backend.

    A GATT request still waiting when the link drops is cancelled by Bumble; that is a lost
    connection, not a cancellation of the caller's task.
    """
    try:
        yield
    except att.ATT_Error as error:
        raise BleakGATTProtocolError(error.error_code) from error
    except core.BaseBumbleError as error:
        raise BleakError(str(error)) from error
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise BleakError("Not connected: the link dropped during the operation") from None


@contextlib.asynccontextmanager
async def _listening(central: Device, listener: Callable[[Advertisement], None]):
    """Listen to advertisements, scanning meanwhile unless a scan is already running."""
    central.on(Device.EVENT_ADVERTISEMENT, listener)
    own_scan = not central.scanning
    try:
        if own_scan:
            await central.start_scanning(filter_duplicates=False)
        yield
    finally:
        central.remove_listener(Device.EVENT_ADVERTISEMENT, listener)
        if own_scan:
            await central.stop_scanning()
