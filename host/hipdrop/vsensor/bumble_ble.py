"""MicroPython's ``bluetooth.BLE`` on Bumble's Bluetooth stack: the firmware on a real BLE stack.

:class:`BumbleBLE` is :class:`~hipdrop.vsensor.mpy_bluetooth.MicroPythonBLE` (the documented
API and NimBLE's limits) carried by a Bumble :class:`~bumble.device.Device`: its GATT server
holds the firmware's services, its controller advertises and connects over Bumble's
in-process virtual link, and its SMP pairs and bonds. A central on the same link (the host's
bleak code path over :mod:`.bleak_bumble`) sees a real peripheral.

The firmware's calls are synchronous and the stack is asyncio: every radio action is queued
in call order and carried out by one task while the firmware's main loop yields
(``await asyncio.sleep(0)``), so a notification the firmware made is on the air only once
its loop lets the stack run — as on the ESP32, where NimBLE's host task drains the
buffers. ``tx_buffers`` notifications may wait; one more raises ``OSError(ENOMEM)``.
Stack events become the firmware's IRQs in the same order. Bond keys go where MicroPython
sends them: to the firmware, through ``_IRQ_SET_SECRET``/``_IRQ_GET_SECRET`` (Bumble's key
store is :class:`FirmwareKeyStore`), so a bond lasts exactly as long as the firmware keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from bumble import gatt
from bumble.core import UUID as BumbleUUID
from bumble.device import Connection, Device
from bumble.keys import KeyStore, PairingKeys

from .mpy_bluetooth import (
    FLAG_INDICATE,
    FLAG_NOTIFY,
    FLAG_READ,
    FLAG_READ_ENCRYPTED,
    FLAG_WRITE,
    FLAG_WRITE_NO_RESPONSE,
    IRQ_CENTRAL_CONNECT,
    IRQ_CENTRAL_DISCONNECT,
    IRQ_ENCRYPTION_UPDATE,
    IRQ_MTU_EXCHANGED,
    Link,
    MicroPythonBLE,
)

_PROPERTIES = (
    (FLAG_READ, gatt.Characteristic.Properties.READ),
    (FLAG_WRITE, gatt.Characteristic.Properties.WRITE),
    (FLAG_WRITE_NO_RESPONSE, gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE),
    (FLAG_NOTIFY, gatt.Characteristic.Properties.NOTIFY),
    (FLAG_INDICATE, gatt.Characteristic.Properties.INDICATE),
)
_KEY_SIZE = 16
_INDICATION_TIMEOUT_S = 30.0  # ATT's transaction timeout


_PEER_SECRET = 2  # the sec_type the keys are filed under (opaque to the firmware)


class FirmwareKeyStore(KeyStore):
    """Bumble's bond keys, kept by the firmware through MicroPython's secret IRQs.

    Each peer's keys are one secret: key = the peer's name in Bumble's store, value = JSON of
    the name and Bumble's ``PairingKeys`` (NimBLE's own records differ; the firmware stores
    either as opaque bytes).
    """

    def __init__(self, radio: MicroPythonBLE):
        self.radio = radio

    async def update(self, name: str, keys: PairingKeys) -> None:
        value = json.dumps({"name": name, "keys": keys.to_dict()}).encode()
        self.radio.stack_set_secret(_PEER_SECRET, name.encode(), value)

    async def get(self, name: str) -> PairingKeys | None:
        value = self.radio.stack_get_secret(_PEER_SECRET, 0, name.encode())
        return None if value is None else PairingKeys.from_dict(json.loads(value)["keys"])

    async def delete(self, name: str) -> None:
        self.radio.stack_set_secret(_PEER_SECRET, name.encode(), None)

    async def get_all(self) -> list[tuple[str, PairingKeys]]:
        found = []
        while (value := self.radio.stack_get_secret(_PEER_SECRET, len(found), None)) is not None:
            entry = json.loads(value)
            found.append((entry["name"], PairingKeys.from_dict(entry["keys"])))
        return found

    async def delete_all(self) -> None:
        for name, _ in await self.get_all():
            await self.delete(name)


@dataclass
class BumbleLink(Link):
    """A connection on Bumble's stack."""

    connection: Connection | None = None


class BumbleBLE(MicroPythonBLE):
    """``bluetooth.BLE`` on the Bumble ``device`` (powered on by :meth:`start`).

    ``on_error`` receives exceptions of radio actions (default: re-raised in the task).
    """

    def __init__(self, device: Device, tx_buffers=8, on_error: Callable | None = None):
        super().__init__(bytes(device.random_address)[::-1], tx_buffers)
        self.device = device
        self._chars: dict[int, gatt.Characteristic] = {}
        self._queue: asyncio.Queue = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        self._on_error = on_error
        device.keystore = FirmwareKeyStore(self)
        device.on("connection", self._on_connection)

    async def start(self) -> None:
        """Power the stack on and start carrying out radio actions."""
        await self.device.power_on()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Stop the radio actions and power off: the board lost power."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for link in list(self.links.values()):
            with contextlib.suppress(Exception):
                await link.connection.disconnect()
        await self.device.power_off()

    async def settled(self) -> None:
        """Wait until every queued radio action was carried out."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            action = await self._queue.get()
            try:
                await action()
            except Exception as error:  # noqa: BLE001 (reported; the radio goes on)
                if self._on_error is None:
                    raise
                self._on_error(error)
            finally:
                self._queue.task_done()

    def _later(self, action: Callable) -> None:
        self._queue.put_nowait(action)

    # -- advertising and GATT database ------------------------------------------------

    def _transport_advertise(self, interval_us):
        if interval_us is None:
            self._later(self._stop_advertising)
            return
        adv, resp = self.adv_data, self.resp_data
        self._later(lambda: self._advertise(adv, resp, interval_us / 1000))

    async def _stop_advertising(self):
        if self.device.is_advertising:
            await self.device.stop_advertising()

    async def _advertise(self, adv: bytes, resp: bytes, interval_ms: float):
        await self._stop_advertising()
        if self.links:
            return  # NimBLE's legacy advertising stops at a connection; the app restarts it
        self.device.gatt_server.max_mtu = self._config["mtu"]
        await self.device.start_advertising(
            advertising_data=adv,
            scan_response_data=resp,
            advertising_interval_min=max(interval_ms, 20.0),
            advertising_interval_max=max(interval_ms, 20.0),
        )

    def _transport_register(self):
        self._chars.clear()
        services = []
        for uuid, handles in self.services:
            chars = [self._characteristic(h) for h in handles if h in self.attributes]
            services.append(gatt.Service(_bumble_uuid(uuid), chars))
        self.device.add_services(services)

    def _characteristic(self, handle: int) -> gatt.Characteristic:
        attr = self.attributes[handle]
        properties = gatt.Characteristic.Properties(0)
        for flag, prop in _PROPERTIES:
            if attr.flags & flag:
                properties |= prop
        value = gatt.CharacteristicValue(
            read=lambda connection: self.client_read(handle, connection.is_encrypted),
            write=lambda connection, data: self._written(connection, handle, data),
        )
        permissions = gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE
        if attr.flags & FLAG_READ_ENCRYPTED:  # Bumble answers "insufficient encryption"
            permissions |= gatt.Characteristic.READ_REQUIRES_ENCRYPTION
        char = gatt.Characteristic(_bumble_uuid(attr.uuid), properties, permissions, value)
        self._chars[handle] = char
        return char

    def _written(self, connection: Connection, handle: int, data: bytes) -> None:
        link = self.links.get(connection.handle)
        if link is not None:
            self.client_write(link, handle, data)

    # -- connections and their events -------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        link = BumbleLink(connection.handle, connection=connection)
        self.links[link.conn_handle] = link
        self.adv_interval_us = None  # the controller stopped advertising
        connection.on("disconnection", lambda _reason: self._on_disconnection(link))
        connection.on("connection_att_mtu_update", lambda: self._on_mtu(link))
        connection.on("connection_encryption_change", lambda: self._on_encryption(link))
        connection.on("pairing", lambda keys: self._on_paired(link, keys))
        self._peer_irq(IRQ_CENTRAL_CONNECT, link)

    def _peer_irq(self, event: int, link: BumbleLink) -> None:
        peer = link.connection.peer_address
        self._addr_irq(event, link.conn_handle, peer.address_type, bytes(peer)[::-1])

    def _on_disconnection(self, link: BumbleLink) -> None:
        if self.links.pop(link.conn_handle, None) is not None:
            link.indication = None
            self._peer_irq(IRQ_CENTRAL_DISCONNECT, link)

    def _on_mtu(self, link: BumbleLink) -> None:
        link.mtu = link.connection.att_mtu
        self._irq(IRQ_MTU_EXCHANGED, (link.conn_handle, link.mtu))

    def _on_encryption(self, link: BumbleLink) -> None:
        """Encrypted with keys from an earlier bond, or by a pairing now under way (whose
        ``pairing`` event follows with the bond)."""
        self._later(lambda: self._report_encryption(link))

    async def _report_encryption(self, link: BumbleLink) -> None:
        if link.conn_handle not in self.links:
            return
        keys = await self.device.keystore.get(str(link.connection.peer_address))
        link.encrypted = bool(link.connection.is_encrypted)
        link.bonded = link.encrypted and keys is not None
        self._encryption_irq(link)

    def _on_paired(self, link: BumbleLink, keys) -> None:
        link.encrypted = bool(link.connection.is_encrypted)
        link.bonded = link.encrypted and keys is not None and bool(self._config["bond"])
        self._encryption_irq(link)

    def _encryption_irq(self, link: BumbleLink) -> None:
        authenticated = bool(link.connection.authenticated)
        data = (link.conn_handle, link.encrypted, authenticated, link.bonded, _KEY_SIZE)
        self._irq(IRQ_ENCRYPTION_UPDATE, data)

    # -- what the firmware sends --------------------------------------------------------

    def _transport_subscription(self, link, value_handle):
        cccd = self.device.gatt_server.read_cccd(link.connection, self._chars[value_handle])
        return (FLAG_NOTIFY if cccd[0] & 1 else 0) | (FLAG_INDICATE if cccd[0] & 2 else 0)

    def _transport_buffers_used(self, link):
        return self._queue.qsize()

    def _transport_notify(self, link, value_handle, payload):
        char = self._chars[value_handle]
        self._later(lambda: self._notify(link, char, payload))

    async def _notify(self, link: BumbleLink, char, payload: bytes) -> None:
        if link.conn_handle in self.links:  # queued notifications die with their link
            await self.device.notify_subscriber(link.connection, char, payload, force=True)

    def _transport_indicate(self, link):
        handle, payload = link.indication
        task = self._indicate(link, self._chars[handle], payload)
        asyncio.get_running_loop().create_task(task)  # notifications go on meanwhile

    async def _indicate(self, link: BumbleLink, char, payload: bytes) -> None:
        status = 0
        try:
            await asyncio.wait_for(
                self.device.indicate_subscriber(link.connection, char, payload, force=True),
                _INDICATION_TIMEOUT_S,
            )
        except Exception:  # noqa: BLE001 (any failure is a failed indication, status != 0)
            status = 1
        if link.conn_handle in self.links and link.indication is not None:
            self.indication_done(link, status)

    def _transport_request(self, action, link):
        steps = {
            "disconnect": lambda: link.connection.disconnect(),
            "mtu": lambda: link.connection.gatt_client.request_mtu(self._config["mtu"]),
            "pair": lambda: link.connection.pair(),
        }
        self._later(lambda: self._on_link(link, steps[action]))

    async def _on_link(self, link: BumbleLink, step: Callable) -> None:
        if link.conn_handle in self.links:
            await step()


def _bumble_uuid(uuid) -> BumbleUUID:
    return BumbleUUID.from_bytes(uuid.bytes_le)
