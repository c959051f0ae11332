"""MicroPython's ``bluetooth.BLE`` API for one peripheral, independent of what carries it.

It follows MicroPython's documented API (docs.micropython.org, ``bluetooth`` — low-level
Bluetooth): the same method signatures, IRQ event codes and data tuples, characteristic
flags and errors, and the local GATT database's semantics, plus the limits of the ESP32's
NimBLE stack that the firmware must live with (docs/protocol.md §1,
/work/shared/measured-here.md):

- advertising and scan-response payloads of more than 31 bytes raise ``OSError(-18)``;
- the ATT MTU stays 23 until an exchange raises ``_IRQ_MTU_EXCHANGED``;
- a notification or indication longer than MTU - 3 is cut to MTU - 3, silently;
- ``gatts_notify`` raises ``OSError(ENOMEM)`` while the stack's ``tx_buffers`` are full;
- a client write is cut to the characteristic's buffer (20 bytes unless a local
  ``gatts_write`` or ``gatts_set_buffer`` made it larger);
- ``addr`` in IRQ data is a read-only memoryview that is only valid during the handler.

Stricter than the real stack, on purpose: a second indication on a connection before the
first one was confirmed raises ``OSError(EALREADY)`` (ATT allows one outstanding
indication per bearer); ``gatts_register_services`` while advertising raises
``OSError(EBUSY)`` (the docs say advertising must be stopped first).

:class:`MicroPythonBLE` keeps the local state; a subclass is the radio: it implements the
``_transport_*`` hooks (the in-memory :mod:`.fake_ble` or Bumble's stack in
:mod:`.bumble_ble`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Characteristic flags, as the bluetooth module exports them.
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
FLAG_READ_ENCRYPTED = 0x0200

# IRQ event codes (MicroPython docs; the module does not export them).
IRQ_CENTRAL_CONNECT = 1  # conn_handle, addr_type, addr
IRQ_CENTRAL_DISCONNECT = 2  # conn_handle, addr_type, addr
IRQ_GATTS_WRITE = 3  # conn_handle, attr_handle
IRQ_GATTS_INDICATE_DONE = 20  # conn_handle, value_handle, status
IRQ_MTU_EXCHANGED = 21  # conn_handle, mtu
IRQ_ENCRYPTION_UPDATE = 28  # conn_handle, encrypted, authenticated, bonded, key_size
IRQ_GET_SECRET = 29  # sec_type, index, key -> the stored value or None
IRQ_SET_SECRET = 30  # sec_type, key, value (None deletes) -> bool

# MicroPython's errno values (py/mperrno.h), independent of the host OS.
ENOMEM = 12
EBUSY = 16
ENODEV = 19  # the radio is not active
EINVAL = 22
ENOTCONN = 107
EALREADY = 114
ADV_TOO_LONG = -18  # NimBLE on the ESP32 refuses a legacy payload over 31 bytes

ADV_MAX = 31
DEFAULT_MTU = 23
DEFAULT_BUFFER = 20
ATT_OVERHEAD = 3
_FIRST_HANDLE = 10  # NimBLE's own GAP and GATT services take the first handles
_CONFIG_KEYS = ("mac", "addr_mode", "gap_name", "rxbuf", "mtu", "bond", "mitm", "io", "le_secure")
DEFAULT_MAC = b"\x24\x0a\xc4\x12\xab\xcd"


class UUID:
    """``bluetooth.UUID``: a 16-bit int, a 128-bit string, or 2/16 bytes little-endian."""

    def __init__(self, value):
        if isinstance(value, UUID):
            self._le = value._le
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self._le = value.to_bytes(2, "little")
        elif isinstance(value, str):
            digits = value.replace("-", "")
            if len(digits) != 32:
                raise ValueError("invalid UUID")
            self._le = bytes.fromhex(digits)[::-1]
        else:
            raw = bytes(value)
            if len(raw) not in (2, 4, 16):
                raise ValueError("invalid UUID")
            self._le = raw

    @property
    def bytes_le(self) -> bytes:
        return self._le

    def __eq__(self, other):
        return isinstance(other, UUID) and other._le == self._le

    def __hash__(self):
        return hash(self._le)

    def __repr__(self):
        if len(self._le) == 2:
            return f"UUID(0x{int.from_bytes(self._le, 'little'):04x})"
        h = self._le[::-1].hex()
        return f"UUID('{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}')"


def as_uuid(value) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


@dataclass
class Attribute:
    """One characteristic or descriptor value in the GATT database."""

    uuid: UUID
    flags: int
    service: UUID
    value: bytes = b""
    max_len: int = DEFAULT_BUFFER
    append: bool = False


@dataclass
class Link:
    """One connection as the stack sees it (a radio subclasses it with its own handles)."""

    conn_handle: int
    mtu: int = DEFAULT_MTU
    encrypted: bool = False
    bonded: bool = False
    indication: tuple[int, bytes] | None = None


class MicroPythonBLE:
    """``bluetooth.BLE``'s local state and checks; subclasses carry the radio traffic.

    ``mac`` is the 6-byte address; ``tx_buffers`` how many notifications the stack holds
    before ``gatts_notify`` raises ENOMEM.
    """

    def __init__(self, mac=DEFAULT_MAC, tx_buffers=8):
        self._active = False
        self._handler: Callable | None = None
        self._config = {
            "mac": (0, bytes(mac)), "addr_mode": 0, "gap_name": b"MPY NIMBLE", "rxbuf": 64,
            "mtu": DEFAULT_MTU, "bond": True, "mitm": False, "io": 3, "le_secure": False,
        }  # fmt: skip
        self.tx_buffers = tx_buffers
        self.attributes: dict[int, Attribute] = {}
        self.services: list[tuple[UUID, tuple[int, ...]]] = []
        self.links: dict[int, Link] = {}
        self.adv_data = b""
        self.resp_data = b""
        self.adv_interval_us: int | None = None
        self.advertise_calls = 0

    # -- configuration and events ------------------------------------------------------

    def active(self, active=None, /):
        if active is not None:
            self._active = bool(active)
            if not active:
                self.adv_interval_us = None
                self._transport_advertise(None)
        return self._active

    def config(self, *args, **kwargs):
        if args:
            if len(args) != 1 or kwargs:
                raise TypeError("query one parameter at a time")
            self._need_active()
            if args[0] not in _CONFIG_KEYS:
                raise ValueError("unknown config param")
            return self._config[args[0]]
        for key, value in kwargs.items():
            if key not in _CONFIG_KEYS or key == "mac":
                raise ValueError("unknown config param")
            self._config[key] = value.encode() if key == "gap_name" else value
        return None

    def irq(self, handler, /):
        self._handler = handler

    def _need_active(self):
        if not self._active:
            raise OSError(ENODEV)

    def _irq(self, event, data):
        if self._handler is not None:
            return self._handler(event, data)
        return None

    def stack_get_secret(self, sec_type: int, index: int, key: bytes | None):
        """The stack asks the application for a bond secret (MicroPython keeps none)."""
        return self._irq(IRQ_GET_SECRET, (sec_type, index, key))

    def stack_set_secret(self, sec_type: int, key: bytes, value: bytes | None) -> bool:
        """The stack hands the application a bond secret to keep (``None``: forget it)."""
        return bool(self._irq(IRQ_SET_SECRET, (sec_type, key, value)))

    def _addr_irq(self, event, conn_handle, addr_type, addr):
        view = memoryview(bytes(addr)).toreadonly()
        try:
            self._irq(event, (conn_handle, addr_type, view))
        finally:
            view.release()  # only valid during the handler, as in MicroPython

    # -- advertising -------------------------------------------------------------------

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._need_active()
        if interval_us is None:
            self.adv_interval_us = None
            self._transport_advertise(None)
            return
        adv = self.adv_data if adv_data is None else bytes(adv_data)
        resp = self.resp_data if resp_data is None else bytes(resp_data)
        if len(adv) > ADV_MAX or len(resp) > ADV_MAX:
            raise OSError(ADV_TOO_LONG)
        self.adv_data, self.resp_data = adv, resp
        self.adv_interval_us = interval_us // 625 * 625  # rounded down to 625 us
        self.advertise_calls += 1
        self._transport_advertise(self.adv_interval_us)

    @property
    def advertising(self) -> bool:
        return self.adv_interval_us is not None

    # -- GATT server -------------------------------------------------------------------

    def gatts_register_services(self, services_definition, /):
        self._need_active()
        if self.advertising:
            raise OSError(EBUSY)
        self.attributes.clear()
        self.services.clear()
        handle = _FIRST_HANDLE
        result = []
        for service_uuid, characteristics in services_definition:
            handle += 1  # service declaration
            handles = []
            for char in characteristics:
                uuid, flags = char[0], char[1]
                handle += 2  # declaration, value
                self.attributes[handle] = Attribute(as_uuid(uuid), flags, service_uuid)
                handles.append(handle)
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    handle += 1  # CCCD, added by the stack
                for d_uuid, d_flags in char[2] if len(char) > 2 else ():
                    handle += 1
                    self.attributes[handle] = Attribute(as_uuid(d_uuid), d_flags, service_uuid)
                    handles.append(handle)
            result.append(tuple(handles))
            self.services.append((as_uuid(service_uuid), tuple(handles)))
        self._transport_register()
        return tuple(result)

    def _attr(self, value_handle):
        self._need_active()
        try:
            return self.attributes[value_handle]
        except KeyError:
            raise OSError(EINVAL) from None

    def gatts_read(self, value_handle, /):
        attr = self._attr(value_handle)
        value = attr.value
        if attr.append:
            attr.value = b""
        return value

    def gatts_write(self, value_handle, data, send_update=False, /):
        attr = self._attr(value_handle)
        attr.value = bytes(data)
        attr.max_len = max(attr.max_len, len(attr.value))
        if send_update:
            for link in list(self.links.values()):
                subs = self._transport_subscription(link, value_handle)
                if subs & FLAG_NOTIFY:
                    self.gatts_notify(link.conn_handle, value_handle)
                elif subs & FLAG_INDICATE:
                    self.gatts_indicate(link.conn_handle, value_handle)

    def gatts_set_buffer(self, value_handle, len, append=False, /):  # noqa: A002 (MicroPython's name)
        attr = self._attr(value_handle)
        attr.max_len, attr.append = len, bool(append)

    def client_write(self, link: Link, value_handle: int, data: bytes) -> None:
        """A central wrote ``data`` (→ _IRQ_GATTS_WRITE); the value is cut to the buffer."""
        attr = self._attr(value_handle)
        if not attr.flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE):
            raise PermissionError("write not permitted")
        cut = bytes(data)[: attr.max_len]
        attr.value = (attr.value + cut)[: attr.max_len] if attr.append else cut
        self._irq(IRQ_GATTS_WRITE, (link.conn_handle, value_handle))

    def client_read(self, value_handle: int, encrypted: bool = False) -> bytes:
        """A central read the local value (long reads included); ``FLAG_READ_ENCRYPTED`` needs
        an ``encrypted`` link (the stack answers "insufficient encryption" otherwise)."""
        attr = self._attr(value_handle)
        if not attr.flags & FLAG_READ:
            raise PermissionError("read not permitted")
        if attr.flags & FLAG_READ_ENCRYPTED and not encrypted:
            raise PermissionError("insufficient encryption")
        return attr.value

    def _link(self, conn_handle):
        self._need_active()
        link = self.links.get(conn_handle)
        if link is None:
            raise OSError(ENOTCONN)
        return link

    def _payload(self, link, value_handle, data):
        attr = self._attr(value_handle)
        value = attr.value if data is None else bytes(data)
        return value[: link.mtu - ATT_OVERHEAD]  # NimBLE cuts it silently

    def gatts_notify(self, conn_handle, value_handle, data=None, /):
        link = self._link(conn_handle)
        if self._transport_buffers_used(link) >= self.tx_buffers:
            raise OSError(ENOMEM)
        self._transport_notify(link, value_handle, self._payload(link, value_handle, data))

    def gatts_indicate(self, conn_handle, value_handle, data=None, /):
        link = self._link(conn_handle)
        if link.indication is not None:
            raise OSError(EALREADY)
        link.indication = (value_handle, self._payload(link, value_handle, data))
        self._transport_indicate(link)

    def indication_done(self, link: Link, status: int = 0) -> tuple[int, bytes]:
        """The central confirmed (status 0) or failed the pending indication."""
        if link.indication is None:
            raise RuntimeError("no indication pending")
        handle, value = link.indication
        link.indication = None
        self._irq(IRQ_GATTS_INDICATE_DONE, (link.conn_handle, handle, status))
        return handle, value

    # -- GAP and GATT client calls a peripheral makes ----------------------------------

    def gap_disconnect(self, conn_handle, /):
        self._need_active()
        link = self.links.get(conn_handle)
        if link is None:
            return False
        self._transport_request("disconnect", link)
        return True

    def gattc_exchange_mtu(self, conn_handle, /):
        self._transport_request("mtu", self._link(conn_handle))

    def gap_pair(self, conn_handle, /):
        self._transport_request("pair", self._link(conn_handle))

    # -- test-side helpers -------------------------------------------------------------

    def handle_of(self, uuid) -> int:
        """Value handle of the characteristic with ``uuid`` (a test helper)."""
        want = as_uuid(uuid)
        for handle, attr in self.attributes.items():
            if attr.uuid == want:
                return handle
        raise KeyError(uuid)

    # -- the radio: subclasses implement these ------------------------------------------

    def _transport_advertise(self, interval_us: int | None) -> None:
        """Start (or update) advertising ``adv_data``/``resp_data``; ``None`` stops."""

    def _transport_register(self) -> None:
        """The GATT database in ``attributes``/``services`` was (re)built."""

    def _transport_subscription(self, link: Link, value_handle: int) -> int:
        """The central's CCCD for ``value_handle``: FLAG_NOTIFY, FLAG_INDICATE or 0."""
        raise NotImplementedError

    def _transport_buffers_used(self, link: Link) -> int:
        raise NotImplementedError

    def _transport_notify(self, link: Link, value_handle: int, payload: bytes) -> None:
        raise NotImplementedError

    def _transport_indicate(self, link: Link) -> None:
        """Send ``link.indication``; call :meth:`indication_done` when confirmed."""
        raise NotImplementedError

    def _transport_request(self, action: str, link: Link) -> None:
        """Carry out ``disconnect``, ``mtu`` (exchange) or ``pair``, later, never inside the
        call (the stack raises their IRQs afterwards)."""
        raise NotImplementedError
