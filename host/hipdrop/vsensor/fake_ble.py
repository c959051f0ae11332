"""The in-memory radio for MicroPython's ``bluetooth`` API: the firmware's BLE code in CPython.

:class:`BLE` is :class:`~hipdrop.vsensor.mpy_bluetooth.MicroPythonBLE` (the documented API
and NimBLE's limits, listed there) with a radio made of plain queues: notifications wait in
``tx_buffers`` slots until the test's :class:`Central` drains them. ``BLE()`` returns a new
object each time, where MicroPython returns a singleton, so tests stay independent.

Events the device causes (``gap_disconnect``, ``gattc_exchange_mtu``, ``gap_pair``) reach the
IRQ handler on the next ``BLE.pump`` or central action, never from inside the call, as on the
real stack. The test side plays the central with :class:`Central`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .mpy_bluetooth import (  # noqa: F401 (re-exported: the firmware tests' names)
    ADV_MAX,
    ADV_TOO_LONG,
    ATT_OVERHEAD,
    DEFAULT_BUFFER,
    DEFAULT_MTU,
    EALREADY,
    EBUSY,
    EINVAL,
    ENODEV,
    ENOMEM,
    ENOTCONN,
    FLAG_INDICATE,
    FLAG_NOTIFY,
    FLAG_READ,
    FLAG_READ_ENCRYPTED,
    FLAG_WRITE,
    FLAG_WRITE_NO_RESPONSE,
    IRQ_CENTRAL_CONNECT,
    IRQ_CENTRAL_DISCONNECT,
    IRQ_ENCRYPTION_UPDATE,
    IRQ_GATTS_INDICATE_DONE,
    IRQ_GATTS_WRITE,
    IRQ_MTU_EXCHANGED,
    UUID,
    Attribute,
    Link,
    MicroPythonBLE,
)  # fmt: skip


@dataclass
class QueueLink(Link):
    """A connection of the in-memory radio: its central and the notifications in flight."""

    central: Central | None = None
    tx: deque = field(default_factory=deque)  # (value_handle, bytes) waiting for the radio


class BLE(MicroPythonBLE):
    """``bluetooth.BLE`` over in-memory queues (see the module docstring)."""

    def __init__(self, mac=b"\x24\x0a\xc4\x12\xab\xcd", tx_buffers=8):
        super().__init__(mac, tx_buffers)
        self._next_conn = 0
        self._pending: deque = deque()  # actions the device started, carried out by pump()

    def _transport_subscription(self, link, value_handle):
        return link.central.subscriptions.get(value_handle, 0)

    def _transport_buffers_used(self, link):
        return len(link.tx)

    def _transport_notify(self, link, value_handle, payload):
        link.tx.append((value_handle, payload))

    def _transport_indicate(self, link):
        pass  # waits for Central.drain / confirm

    def _transport_request(self, action, link):
        self._pending.append((action, link))

    def pump(self):
        """Carry out what the device started (disconnect, MTU exchange, pairing): its IRQs."""
        while self._pending:
            action, link = self._pending.popleft()
            if link.conn_handle not in self.links:
                continue
            if action == "disconnect":
                link.central.disconnect()
            elif action == "mtu":
                link.central.exchange_mtu()
            elif action == "pair":
                link.central.pair()


class Central:
    """The test side: a central that connects to a fake :class:`BLE` and uses its GATT server.

    ``mtu`` is the ATT MTU the central supports (an exchange gives the smaller of it and the
    peripheral's ``config('mtu')``); ``can_bond`` whether pairing stores keys;
    ``auto_confirm`` whether ``drain`` confirms indications at once.
    """

    def __init__(self, ble: BLE, addr=b"\xc0\xff\xee\x00\x00\x01", addr_type=1, mtu=247,
                 can_bond=True, auto_confirm=True):  # fmt: skip
        self.ble = ble
        self.addr = bytes(addr)
        self.addr_type = addr_type
        self.mtu_pref = mtu
        self.can_bond = can_bond
        self.auto_confirm = auto_confirm
        self.link: QueueLink | None = None
        self.subscriptions: dict[int, int] = {}
        self.notifications: list[tuple[int, bytes]] = []
        self.indications: list[tuple[int, bytes]] = []

    def _sync(self):
        self.ble.pump()

    def _addr_irq(self, event, conn_handle):
        self.ble._addr_irq(event, conn_handle, self.addr_type, self.addr)

    @property
    def conn_handle(self) -> int:
        if self.link is None:
            raise RuntimeError("not connected")
        return self.link.conn_handle

    def connect(self) -> int:
        """Connect to the advertising peripheral (→ _IRQ_CENTRAL_CONNECT); the stack stops
        advertising, as NimBLE does for legacy connectable advertising."""
        self._sync()
        ble = self.ble
        if not ble.advertising:
            raise ConnectionError("the peripheral is not advertising")
        ble.adv_interval_us = None
        self.link = QueueLink(ble._next_conn, central=self)
        ble._next_conn += 1
        ble.links[self.link.conn_handle] = self.link
        self._addr_irq(IRQ_CENTRAL_CONNECT, self.link.conn_handle)
        return self.link.conn_handle

    def disconnect(self):
        """The link drops (→ _IRQ_CENTRAL_DISCONNECT); queued notifications are lost."""
        link = self.link
        if link is None:
            return
        self.link = None
        self.subscriptions.clear()
        del self.ble.links[link.conn_handle]
        self._addr_irq(IRQ_CENTRAL_DISCONNECT, link.conn_handle)

    def exchange_mtu(self, mtu=None) -> int:
        """ATT MTU exchange (→ _IRQ_MTU_EXCHANGED with the smaller of both MTUs)."""
        link = self._need_link()
        if mtu is not None:
            self.mtu_pref = mtu
        link.mtu = min(self.mtu_pref, self.ble._config["mtu"])
        self.ble._irq(IRQ_MTU_EXCHANGED, (link.conn_handle, link.mtu))
        return link.mtu

    def pair(self, bond=None, key_size=16):
        """Pair (and bond if both sides want it) (→ _IRQ_ENCRYPTION_UPDATE)."""
        link = self._need_link()
        bond = self.can_bond if bond is None else bond
        link.encrypted = True
        link.bonded = bool(bond and self.ble._config["bond"])
        data = (link.conn_handle, True, bool(self.ble._config["mitm"]), link.bonded, key_size)
        self.ble._irq(IRQ_ENCRYPTION_UPDATE, data)

    def subscribe(self, value_handle, flags=FLAG_NOTIFY):
        """Write the CCCD: which of notify/indicate ``gatts_write(send_update=True)`` sends."""
        self.subscriptions[value_handle] = flags

    def write(self, value_handle, data):
        """Write with response (→ _IRQ_GATTS_WRITE); the value is cut to the buffer size."""
        link = self._need_link()
        data = bytes(data)
        if len(data) > link.mtu - ATT_OVERHEAD:
            raise ValueError(f"a {len(data)}-byte write does not fit MTU {link.mtu}")
        self.ble.client_write(link, value_handle, data)

    def read(self, value_handle) -> bytes:
        """A GATT read of the local value (long reads included)."""
        return self.ble.client_read(value_handle, self._need_link().encrypted)

    def drain(self, max_count=None) -> list[tuple[int, bytes]]:
        """The radio sends up to ``max_count`` queued notifications (all by default) and the
        pending indication; returns the notifications delivered now."""
        self._sync()
        link = self._need_link()
        sent = []
        while link.tx and (max_count is None or len(sent) < max_count):
            sent.append(link.tx.popleft())
        self.notifications.extend(sent)
        if link.indication is not None and self.auto_confirm:
            self.confirm()
        return sent

    def confirm(self, status=0):
        """Acknowledge the pending indication (status 0), or fail it (→ INDICATE_DONE)."""
        handle, value = self.ble.indication_done(self._need_link(), status)
        if status == 0:
            self.indications.append((handle, value))

    def _need_link(self) -> QueueLink:
        if self.link is None:
            raise RuntimeError("not connected")
        return self.link
