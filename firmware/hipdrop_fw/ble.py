"""The device's BLE peripheral (docs/protocol.md §1, §4, §5) on MicroPython's ``bluetooth.BLE``.

The radio is passed in: ``Peripheral(bluetooth.BLE(), bluetooth.UUID, handlers, ...)`` on
the ESP32, the fake of ``hipdrop.vsensor.fake_ble`` in the virtual sensor. Nothing here
imports ``bluetooth``, so the module also loads in CPython and the WebAssembly port.

Split of work (as aioble does it): the IRQ handler ``_irq`` only stores small ints and
bools into fields that exist from ``__init__`` (no allocation, no calls); ``poll``, called
from the main loop, does the work: parse commands, answer by indication, restart
advertising, notify the status. The one exception is the stack asking for or handing over
bond keys (``_IRQ_GET_SECRET``/``_IRQ_SET_SECRET``, at pairing and connection, never while
streaming): it must be answered in the handler, from the ``bonds`` store
(``hipdrop_fw.bonds.BondStore``), which ``poll`` then writes to flash.

App callback table (``handlers``): ``{op: fn}`` for the §5 opcodes the app implements,
``fn(token, args) -> answer``, called from ``poll`` once the command passed every check
(known op, length, bond, argument range; ``START`` also MTU ≥ ``MIN_MTU``). ``args`` is the
decoded argument tuple. ``answer`` is

- an int result code: answered without payload (``START`` with ``RESULT_OK`` gets its
  ``count`` payload added here),
- ``(result, payload)``: answered with the payload of the op's table row (OK, or PARTIAL
  for ``BACKFILL``),
- ``None``: the app answers later with ``Peripheral.respond`` (``CALIBRATE`` when done,
  ``LOG_LIST`` with its entries).

An op without a handler answers ``UNKNOWN_OP``: this firmware does not know it.
``on_link(connected, mtu, bonded)`` (optional) is called from ``poll`` when the link
changes.
"""

import time

from hipdrop_fw import adv, control, packet
from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const


def _minus(a, b):
    return a - b


# CPython has no ticks_diff; there the caller's clock_ms (the virtual sensor's) never wraps.
_ticks_diff = getattr(time, "ticks_diff", _minus)

# IRQ event codes and data tuples (MicroPython docs, bluetooth.BLE.irq)
_IRQ_CENTRAL_CONNECT = const(1)  # conn_handle, addr_type, addr
_IRQ_CENTRAL_DISCONNECT = const(2)  # conn_handle, addr_type, addr
_IRQ_GATTS_WRITE = const(3)  # conn_handle, attr_handle
_IRQ_GATTS_INDICATE_DONE = const(20)  # conn_handle, value_handle, status
_IRQ_MTU_EXCHANGED = const(21)  # conn_handle, mtu
_IRQ_ENCRYPTION_UPDATE = const(28)  # conn_handle, encrypted, authenticated, bonded, key_size
_IRQ_GET_SECRET = const(29)  # sec_type, index, key -> value or None
_IRQ_SET_SECRET = const(30)  # sec_type, key, value (None: delete) -> bool

# Characteristic flags (MicroPython docs, gatts_register_services)
_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)
_FLAG_READ_ENCRYPTED = const(0x0200)  # a read needs an encrypted link (the OS pairs)

_ENOMEM = const(12)  # MicroPython maps NimBLE's BLE_HS_ENOMEM to MP_ENOMEM
_DEFAULT_MTU = const(23)  # ATT MTU until an exchange
_NO_CONN = const(-1)
_CONTROL_BUFFER = const(32)  # longer than any command, so an overlong write reads as one
_NO_HANDLE = const(-1)
_IO_NO_INPUT_OUTPUT = const(3)  # config(io=...): "Just Works" pairing, no passkey

_UUID_BATTERY_SERVICE = const(0x180F)
_UUID_BATTERY_LEVEL = const(0x2A19)
_UUID_DEVICE_INFO = const(0x180A)
_UUID_MANUFACTURER = const(0x2A29)
_UUID_MODEL = const(0x2A24)
_UUID_FIRMWARE = const(0x2A26)
_UUID_SERIAL = const(0x2A25)


class Peripheral:
    """One-central hipdrop GATT server; see the module docstring for the callback table.

    ``model`` is the board profile name, ``fw_version`` a (major, minor, patch) tuple,
    ``boot`` the boot counter, ``mtu`` the ATT MTU offered in an exchange,
    ``backoff_ms`` how long ``notify_stream`` waits after the stack ran out of buffers,
    ``clock_ms`` a millisecond clock (``time.ticks_ms`` by default), ``bonds`` the store
    of bond keys (``bonds.BondStore``; None: bonds last until the next reboot at most).
    """

    def __init__(
        self,
        ble,
        uuid,
        handlers,
        *,
        model,
        fw_version,
        boot=0,
        on_link=None,
        mtu=247,
        adv_interval_us=100_000,
        backoff_ms=10,
        response_slots=4,
        exchange_mtu=True,
        clock_ms=None,
        bonds=None,
    ):
        self._ble = ble
        self._uuid = uuid
        self._handlers = handlers
        self._on_link = on_link
        self.model = model
        self.fw_version = tuple(fw_version)
        self.boot = boot
        self.preferred_mtu = mtu
        self._adv_interval_us = adv_interval_us
        self._backoff_ms = backoff_ms
        self._exchange_mtu = exchange_mtu
        self._clock_ms = clock_ms if clock_ms is not None else time.ticks_ms
        self._bonds = bonds
        self._adv = adv.advertising_payload()
        self._resp = bytearray(0)
        self.name = ""
        self.advertising = False
        self.pairing = False
        self._h_stream = self._h_control = self._h_status = self._h_battery = _NO_HANDLE
        # Link state written by the IRQ handler (ints and bools only).
        self._conn = _NO_CONN
        self._reject = _NO_CONN
        self._mtu = _DEFAULT_MTU
        self._encrypted = False
        self._bonded_key = False
        self._connects = 0
        self._disconnects = 0
        self._writes = 0
        self._link_changes = 0
        self._indications_done = 0
        self.indications_failed = 0
        # The main loop's view of those counters.
        self._connects_seen = 0
        self._disconnects_seen = 0
        self._writes_seen = 0
        self._link_changes_seen = 0
        self._indications_seen = 0
        # Control-point responses waiting for their indication (one in flight at a time).
        size = mtu - p.ATT_OVERHEAD
        self._slots = [bytearray(size) for _ in range(response_slots)]
        self._slot_len = [0] * response_slots
        self._q_head = 0
        self._q_count = 0
        self._in_flight = False
        # Status (§4): the app's fields, and the packet as last written.
        self._status = bytearray(p.STATUS_SIZE)
        self._status_new = bytearray(p.STATUS_SIZE)
        packet.pack_status(self._status, boot, *self.fw_version)
        self._status_fields = (0, p.BATTERY_PCT_UNKNOWN, 0, p.TEMPERATURE_UNKNOWN, 0, 0, 0)
        self._status_notify = False
        self._mtu_fault = False
        self._battery = bytearray(1)
        self._battery_pct = p.BATTERY_PCT_UNKNOWN
        self._busy_since = self._clock_ms()
        self._busy = False
        # Counters for the status line and the tests.
        self.stream_sent = 0
        self.stream_busy = 0  # ENOMEM from the stack, packet kept by the caller
        self.stream_deferred = 0  # refused during the ENOMEM back-off
        self.stream_oversize = 0  # longer than MTU - 3: refused, never cut
        self.commands = 0
        self.commands_overrun = 0  # writes overwritten before poll() read them
        self.responses_dropped = 0

    # -- setup -------------------------------------------------------------------------

    def start(self):
        """Activate the radio, register the services, fill the read-only values, advertise."""
        ble = self._ble
        ble.active(True)
        ble.config(mtu=self.preferred_mtu)
        try:  # builds without MICROPY_PY_BLUETOOTH_ENABLE_PAIRING_BONDING lack these keys
            ble.config(bond=True, io=_IO_NO_INPUT_OUTPUT)
            self.pairing = True
        except ValueError:
            self.pairing = False  # never bonded: "bond" commands answer NOT_BONDED
        mac = ble.config("mac")[1]
        self.name = adv.device_name(mac)
        ble.config(gap_name=self.name)
        self._resp = adv.scan_response(mac, self.fw_version, self._battery_pct)
        ble.irq(self._irq)
        ((self._h_stream, self._h_control, self._h_status, bond), (self._h_battery,), dis) = (
            ble.gatts_register_services(self._services())
        )
        ble.gatts_set_buffer(self._h_control, _CONTROL_BUFFER)
        ble.gatts_write(bond, b"\x01")  # readable only once encrypted: the read pairs
        info = adv.device_information(mac, self.model, self.fw_version)
        for handle, text in zip(dis, info):
            ble.gatts_write(handle, text.encode())
        self._write_status()
        self._advertise()

    def _services(self):
        u = self._uuid
        hipdrop = (
            u(p.SERVICE_UUID),
            (
                (u(p.STREAM_UUID), _FLAG_NOTIFY),
                (u(p.CONTROL_UUID), _FLAG_WRITE | _FLAG_INDICATE),
                (u(p.STATUS_UUID), _FLAG_READ | _FLAG_NOTIFY),
                (u(p.BOND_UUID), _FLAG_READ | _FLAG_READ_ENCRYPTED),
            ),
        )
        battery = (u(_UUID_BATTERY_SERVICE), ((u(_UUID_BATTERY_LEVEL), _FLAG_READ | _FLAG_NOTIFY),))
        info_uuids = (_UUID_MANUFACTURER, _UUID_MODEL, _UUID_FIRMWARE, _UUID_SERIAL)
        info = (u(_UUID_DEVICE_INFO), tuple((u(x), _FLAG_READ) for x in info_uuids))
        return (hipdrop, battery, info)

    def _advertise(self):
        self._ble.gap_advertise(self._adv_interval_us, adv_data=self._adv, resp_data=self._resp)
        self.advertising = True

    # -- IRQ: store and return ---------------------------------------------------------

    def _irq(self, event, data):
        """Record the event for ``poll``; allocates nothing and calls nothing (bond keys
        excepted: the stack needs their answer now)."""
        if event == _IRQ_CENTRAL_CONNECT:
            if self._conn == _NO_CONN:
                self._conn = data[0]
                self._mtu = _DEFAULT_MTU
                self._encrypted = False
                self._bonded_key = False
                self._connects += 1
            else:
                self._reject = data[0]
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self._conn:
                self._conn = _NO_CONN
                self._encrypted = False
                self._bonded_key = False
                self._disconnects += 1
        elif event == _IRQ_GATTS_WRITE:
            if data[0] == self._conn and data[1] == self._h_control:
                self._writes += 1
        elif event == _IRQ_GATTS_INDICATE_DONE:
            if data[0] == self._conn:
                if data[2] != 0:
                    self.indications_failed += 1
                self._indications_done += 1
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self._conn:
                self._mtu = data[1]
                self._link_changes += 1
        elif event == _IRQ_ENCRYPTION_UPDATE and data[0] == self._conn:
            self._encrypted = data[1] != 0
            self._bonded_key = data[1] != 0 and data[3] != 0
            self._link_changes += 1
        elif event == _IRQ_GET_SECRET or event == _IRQ_SET_SECRET:  # noqa: SIM109 (no tuple)
            return self._secret(event, data)
        return None

    def _secret(self, event, data):
        """Answer the stack's bond-key IRQs from the store (see the module docstring)."""
        if self._bonds is None:
            return None if event == _IRQ_GET_SECRET else False
        if event == _IRQ_GET_SECRET:
            return self._bonds.get(data[0], data[1], data[2])
        return self._bonds.set(data[0], data[1], data[2])

    # -- link state --------------------------------------------------------------------

    @property
    def connected(self):
        return self._conn != _NO_CONN

    @property
    def mtu(self):
        """The ATT MTU of the current connection (23 until exchanged)."""
        return self._mtu

    @property
    def payload_max(self):
        """Largest notification or indication payload at this MTU: MTU - 3."""
        return self._mtu - p.ATT_OVERHEAD

    @property
    def encrypted(self):
        return self._conn != _NO_CONN and self._encrypted

    @property
    def bonded(self):
        """True while the link is encrypted with a bonded key (§5 "bond" commands)."""
        return self._conn != _NO_CONN and self._bonded_key

    # -- main loop ---------------------------------------------------------------------

    def poll(self):
        """Do the work the IRQ handler recorded; call often from the main loop."""
        if self._reject != _NO_CONN:
            conn, self._reject = self._reject, _NO_CONN
            self._ble.gap_disconnect(conn)
        link = False
        if self._disconnects != self._disconnects_seen:
            self._disconnects_seen = self._disconnects
            self._link_down()
            link = True
        if self._connects != self._connects_seen:
            self._connects_seen = self._connects
            link = self._link_up() or link
        if self._link_changes != self._link_changes_seen:
            self._link_changes_seen = self._link_changes
            if self._mtu >= p.MIN_MTU:
                self._mtu_fault = False
            link = True
        if link:
            self._refresh_status()
            if self._on_link is not None:
                self._on_link(self.connected, self._mtu, self.bonded)
        if self._writes != self._writes_seen:
            self.commands_overrun += self._writes - self._writes_seen - 1
            self._writes_seen = self._writes
            self._command(self._ble.gatts_read(self._h_control))
        self._pump_indication()
        self._notify_status()
        self.save_bonds()

    def save_bonds(self):
        """Write bond keys the stack handed over since the last save (main loop only)."""
        if self._bonds is not None:
            self._bonds.save()

    def _link_down(self):
        self._q_count = 0
        self._in_flight = False
        self._indications_seen = self._indications_done
        self._mtu_fault = False
        self._busy = False
        if self._conn == _NO_CONN:
            self._advertise()

    def _link_up(self):
        """A central connected (the stack stopped advertising); False if it already left."""
        self.advertising = False
        if self._conn == _NO_CONN:
            return False
        if self._exchange_mtu:
            try:  # noqa: SIM105 (MicroPython has no contextlib.suppress)
                self._ble.gattc_exchange_mtu(self._conn)
            except OSError:
                pass  # the central may still start one; START refuses a small MTU
        return True

    # -- stream ------------------------------------------------------------------------

    def notify_stream(self, mv):
        """Notify one stream packet; False if not sent, and the caller keeps it.

        Refused without a central, when longer than MTU - 3 (the stack would cut it
        silently), and for ``backoff_ms`` after the stack answered ENOMEM (out of buffers).
        """
        conn = self._conn
        if conn == _NO_CONN:
            return False
        if len(mv) > self._mtu - p.ATT_OVERHEAD:
            self.stream_oversize += 1
            return False
        if self._busy:
            if _ticks_diff(self._clock_ms(), self._busy_since) < self._backoff_ms:
                self.stream_deferred += 1
                return False
            self._busy = False
        try:
            self._ble.gatts_notify(conn, self._h_stream, mv)
        except OSError as e:
            if e.args[0] != _ENOMEM:
                return False  # e.g. ENOTCONN: the disconnect IRQ is on its way
            self.stream_busy += 1
            self._busy = True
            self._busy_since = self._clock_ms()
            return False
        self.stream_sent += 1
        return True

    # -- control point -----------------------------------------------------------------

    def _command(self, data):
        self.commands += 1
        result, op, token, args = control.parse_command(data, self.bonded)
        if result == p.RESULT_OK and op == p.OP_START and self._mtu < p.MIN_MTU:
            result = p.RESULT_MTU_TOO_SMALL
            self._mtu_fault = True
            self._refresh_status()
        elif result == p.RESULT_OK:
            handler = self._handlers.get(op)
            if handler is not None:
                self._answer(op, token, handler(token, args))
                return
            result = p.RESULT_UNKNOWN_OP
        self.respond(op, token, result)

    def _answer(self, op, token, answer):
        """Respond with a handler's answer (see the module docstring)."""
        if answer is None:
            return  # the app responds later
        if isinstance(answer, int):
            answer = (answer, ())
        result, payload = answer
        if op == p.OP_START and result == p.RESULT_OK and not payload:
            payload = (p.samples_per_packet(self._mtu),)
        self.respond(op, token, result, payload)

    def respond(self, op, token, result, payload=(), entries=()):
        """Queue a control-point response (§5) for indication; False if the queue is full.

        ``payload`` as in ``control.pack_response``; ``entries`` the LOG_LIST entries
        ``(log_id, start_unix_s, n_samples, size_bytes)``, as many as fit MTU - 3.
        """
        n_slots = len(self._slots)
        if self._q_count == n_slots:
            self.responses_dropped += 1
            return False
        i = (self._q_head + self._q_count) % n_slots
        buf = self._slots[i]
        n = control.pack_response(buf, op, token, result, payload)
        for k, entry in enumerate(entries):
            n = control.pack_log_entry(buf, k, *entry)
        self._slot_len[i] = n
        self._q_count += 1
        self._pump_indication()
        return True

    def _pump_indication(self):
        if self._in_flight and self._indications_done != self._indications_seen:
            self._indications_seen = self._indications_done
            self._in_flight = False
            self._q_head = (self._q_head + 1) % len(self._slots)
            self._q_count -= 1
        if self._in_flight or not self._q_count or self._conn == _NO_CONN:
            return
        i = self._q_head
        self._indications_seen = self._indications_done
        try:
            mv = memoryview(self._slots[i])
            self._ble.gatts_indicate(self._conn, self._h_control, mv[: self._slot_len[i]])
        except OSError:
            return  # out of buffers: try again at the next poll
        self._in_flight = True

    # -- status and battery ------------------------------------------------------------

    def set_status(
        self,
        battery_mv=0,
        battery_pct=p.BATTERY_PCT_UNKNOWN,
        state=0,
        temperature_cdeg_c=p.TEMPERATURE_UNKNOWN,
        log_fill_permille=0,
        samples_dropped=0,
        fault=p.FAULT_NONE,
    ):
        """The app's status fields (§4); written, and notified if they changed.

        The peripheral adds the link's part: state bit "bonded host connected" and the
        fault ``MTU_TOO_SMALL`` after a refused ``START`` (unless the app reports another).
        """
        self._status_fields = (
            battery_mv, battery_pct, state, temperature_cdeg_c, log_fill_permille,
            samples_dropped, fault,
        )  # fmt: skip
        self._refresh_status()
        if battery_pct != self._battery_pct:
            self._set_battery(battery_pct)

    def status_bytes(self):
        """The status packet as last written to the characteristic."""
        return bytes(self._status)

    def _refresh_status(self):
        mv, pct, state, temp, fill, dropped, fault = self._status_fields
        if self.bonded:
            state |= p.STATE_BONDED_HOST
        if fault == p.FAULT_NONE and self._mtu_fault:
            fault = p.FAULT_MTU_TOO_SMALL
        new = self._status_new
        major, minor, patch = self.fw_version
        packet.pack_status(
            new, self.boot, major, minor, patch, mv, pct, state, temp, fill, dropped, fault
        )
        if new != self._status:
            self._status[:] = new
            if self._h_status != _NO_HANDLE:
                self._write_status()

    def _write_status(self):
        self._ble.gatts_write(self._h_status, self._status)
        self._status_notify = self._conn != _NO_CONN

    def _notify_status(self):
        if not self._status_notify or self._conn == _NO_CONN:
            self._status_notify = False
            return
        try:
            self._ble.gatts_notify(self._conn, self._h_status)
        except OSError:
            return  # out of buffers: the next poll tries again
        self._status_notify = False

    def _set_battery(self, pct):
        self._battery_pct = pct
        if self._h_battery == _NO_HANDLE:
            return  # start() builds the scan response with the latest level
        adv.set_battery(self._resp, pct)
        if self.advertising:
            self._advertise()  # the scan response carries the level
        if pct > 100:
            return  # unknown: 0x2A19 keeps the last known level
        self._battery[0] = pct
        self._ble.gatts_write(self._h_battery, self._battery)
        if self._conn != _NO_CONN:
            try:  # noqa: SIM105 (MicroPython has no contextlib.suppress)
                self._ble.gatts_notify(self._conn, self._h_battery)
            except OSError:
                pass  # the status packet carries the level too
