"""The firmware's BLE peripheral (hipdrop_fw.ble) on the fake MicroPython ``bluetooth`` module.

Expected bytes are written out from docs/protocol.md §1, §4, §5, not produced by the code
under test.
"""

import dis

import pytest

from hipdrop.protocol import constants as host_constants
from hipdrop.vsensor import fake_ble as fb
from hipdrop_fw import ble, packet
from hipdrop_fw import protocol as p

MAC = bytes.fromhex("240ac412abcd")
SERVICE_LE = bytes.fromhex("00dd5770cba8718b9e4e664310a9f383")  # §1 UUID, LSB first
FW = (0, 1, 2)


class Rig:
    """A started peripheral on a fake radio, a central, a clock and a handler log."""

    def __init__(self, tx_buffers=8, central_mtu=247, handlers=None):
        self.now_ms = 0
        self.calls = []
        self.links = []
        self.radio = fb.BLE(mac=MAC, tx_buffers=tx_buffers)
        table = {
            p.OP_START: self._record(p.RESULT_OK),
            p.OP_STOP: self._record(p.RESULT_OK),
            p.OP_SET_RATE: self._record(p.RESULT_OK),
            p.OP_BACKFILL: self._record((p.RESULT_PARTIAL, (16, 32))),
        }
        table.update(handlers or {})
        self.dev = ble.Peripheral(
            self.radio, fb.UUID, table, model="m5stickc-plus2", fw_version=FW, boot=7,
            on_link=lambda *link: self.links.append(link), clock_ms=lambda: self.now_ms,
        )  # fmt: skip
        self.dev.start()
        self.host = fb.Central(self.radio, mtu=central_mtu)
        self.control = self.radio.handle_of(p.CONTROL_UUID)
        self.status = self.radio.handle_of(p.STATUS_UUID)
        self.stream = self.radio.handle_of(p.STREAM_UUID)

    def _record(self, answer):
        def handler(token, args):
            self.calls.append((token, args))
            return answer

        return handler

    def connect(self, bond=False):
        self.host.connect()
        self.dev.poll()  # the device asks for an MTU exchange
        self.host.drain()  # the stack carries it out
        if bond:
            self.host.pair()
        self.dev.poll()

    def command(self, data):
        """Write a command, let the device answer, return the indication's bytes."""
        before = len(self.host.indications)
        self.host.write(self.control, data)
        self.dev.poll()
        self.host.drain()
        self.dev.poll()
        assert len(self.host.indications) == before + 1, "no indication"
        handle, value = self.host.indications[-1]
        assert handle == self.control
        return value


@pytest.fixture
def rig():
    return Rig()


def ad_structures(payload):
    """[(ad_type, data), ...] of an advertising or scan-response payload."""
    out, i = [], 0
    while i < len(payload):
        n = payload[i]
        assert n > 0 and i + 1 + n <= len(payload), payload.hex()
        out.append((payload[i + 1], bytes(payload[i + 2 : i + 1 + n])))
        i += 1 + n
    return out


# -- advertising -----------------------------------------------------------------------


def test_advertising_payload_is_flags_and_service_uuid(rig):
    adv = rig.radio.adv_data
    assert len(adv) == 21 <= 31
    assert ad_structures(adv) == [(0x01, b"\x06"), (0x07, SERVICE_LE)]
    assert rig.radio.advertising and rig.radio.adv_interval_us == 100_000


def test_scan_response_has_name_and_manufacturer_data(rig):
    resp = rig.radio.resp_data
    assert len(resp) <= 31
    company = host_constants.MANUFACTURER_COMPANY_ID.to_bytes(2, "little")
    assert ad_structures(resp) == [
        (0x09, b"hipdrop-ABCD"),
        (0xFF, company + bytes([1, 255, 0, 1, 2])),  # version, battery unknown, fw 0.1.2
    ]
    assert rig.radio.config("gap_name") == b"hipdrop-ABCD"
    assert p.MANUFACTURER_COMPANY_ID == host_constants.MANUFACTURER_COMPANY_ID


def test_battery_level_reaches_the_scan_response(rig):
    rig.dev.set_status(battery_mv=3900, battery_pct=87)
    assert ad_structures(rig.radio.resp_data)[1][1][3] == 87


# -- GATT table ------------------------------------------------------------------------


def test_service_table_uuids_and_flags(rig):
    services = {uuid: handles for uuid, handles in rig.radio.services}
    u = fb.UUID
    assert list(services) == [u(p.SERVICE_UUID), u(0x180F), u(0x180A)]
    flags = {rig.radio.attributes[h].uuid: rig.radio.attributes[h].flags for h in
             sum(services.values(), ())}  # fmt: skip
    assert flags == {
        u(p.STREAM_UUID): fb.FLAG_NOTIFY,
        u(p.CONTROL_UUID): fb.FLAG_WRITE | fb.FLAG_INDICATE,
        u(p.STATUS_UUID): fb.FLAG_READ | fb.FLAG_NOTIFY,
        u(p.BOND_UUID): fb.FLAG_READ | fb.FLAG_READ_ENCRYPTED,
        u(0x2A19): fb.FLAG_READ | fb.FLAG_NOTIFY,
        u(0x2A29): fb.FLAG_READ,
        u(0x2A24): fb.FLAG_READ,
        u(0x2A26): fb.FLAG_READ,
        u(0x2A25): fb.FLAG_READ,
    }
    for uuid, ours in (
        (p.SERVICE_UUID, host_constants.SERVICE_UUID),
        (p.BOND_UUID, host_constants.BOND_UUID),
        ("0000180f-0000-1000-8000-00805f9b34fb", host_constants.BATTERY_SERVICE_UUID),
        ("0000180a-0000-1000-8000-00805f9b34fb", host_constants.DEVICE_INFO_SERVICE_UUID),
    ):
        assert uuid == ours


def test_the_bond_characteristic_reads_only_on_an_encrypted_link(rig):
    rig.connect()
    bond = rig.radio.handle_of(p.BOND_UUID)
    with pytest.raises(PermissionError, match="insufficient encryption"):
        rig.host.read(bond)
    rig.host.pair()
    assert rig.host.read(bond) == b"\x01"


def test_device_information_values(rig):
    rig.connect()
    read = {uuid: rig.host.read(rig.radio.handle_of(uuid)) for uuid in
            (0x2A29, 0x2A24, 0x2A26, 0x2A25)}  # fmt: skip
    assert read == {
        0x2A29: b"hipdrop",
        0x2A24: b"m5stickc-plus2",
        0x2A26: b"0.1.2/p1",
        0x2A25: b"240AC412ABCD",
    }


# -- MTU and START ---------------------------------------------------------------------


def test_start_at_mtu_23_answers_mtu_too_small_and_sets_the_fault():
    rig = Rig(central_mtu=23)
    rig.connect()
    assert rig.dev.mtu == 23
    assert rig.command(b"\x01\x21") == b"\x81\x21\x08"
    assert rig.calls == []
    status = rig.host.read(rig.status)
    assert status[14] == p.FAULT_MTU_TOO_SMALL
    assert rig.host.notifications[-1] == (rig.status, status)  # notified on change
    rig.host.exchange_mtu(247)
    rig.dev.poll()
    assert rig.host.read(rig.status)[14] == p.FAULT_NONE
    assert rig.command(b"\x01\x22") == b"\x81\x22\x00\x0e"  # OK, 14 samples per packet
    assert rig.calls == [(0x22, ())]


def test_device_starts_the_mtu_exchange_and_reports_the_link(rig):
    rig.connect()
    assert rig.dev.mtu == 247 and rig.dev.payload_max == 244
    assert rig.links[-1] == (True, 247, False)


def test_notifications_of_244_bytes_pass_at_mtu_247(rig):
    rig.connect()
    pk = packet.SamplePacker(rig.dev.payload_max)
    pk.start(p.TYPE_LIVE, 7, 0, 0, 3, 0x11)
    while not pk.add(1, 2, 3, 4, 5, 6, 7, 8):
        pass
    data = bytes(pk.finish())
    assert len(data) == 244
    assert rig.dev.notify_stream(memoryview(data))
    assert rig.host.drain() == [(rig.stream, data)]
    assert rig.dev.stream_sent == 1


def test_a_packet_longer_than_mtu_minus_3_is_refused_not_cut():
    rig = Rig(central_mtu=185)
    rig.connect()
    assert not rig.dev.notify_stream(bytes(183))
    assert rig.dev.stream_oversize == 1
    assert rig.dev.notify_stream(bytes(182))
    assert rig.host.drain() == [(rig.stream, bytes(182))]


def test_notify_without_a_central_is_refused(rig):
    assert not rig.dev.notify_stream(b"\x01\x01")


def test_enomem_backs_off_and_the_caller_keeps_the_packet():
    rig = Rig(tx_buffers=3)
    rig.connect()
    sent = [rig.dev.notify_stream(bytes([i]) * 30) for i in range(5)]
    assert sent == [True, True, True, False, False]
    assert (rig.dev.stream_busy, rig.dev.stream_deferred) == (1, 1)
    rig.host.drain()
    assert not rig.dev.notify_stream(b"\x03" * 30)  # still backing off (same ms)
    rig.now_ms += 10
    assert rig.dev.notify_stream(b"\x03" * 30)
    got = [v for _, v in rig.host.drain()]
    assert got == [b"\x03" * 30]  # nothing was lost silently: the refused ones were refused


# -- bonding ---------------------------------------------------------------------------


def test_unbonded_set_rate_answers_not_bonded(rig):
    rig.connect()
    assert rig.command(b"\x03\x09\x03\x11") == b"\x83\x09\x04"
    assert rig.calls == []


def test_encrypted_without_bond_is_not_bonded():
    rig = Rig()
    rig.host.can_bond = False
    rig.connect(bond=True)
    assert not rig.dev.bonded
    assert rig.command(b"\x03\x09\x03\x11") == b"\x83\x09\x04"


def test_bonded_set_rate_reaches_the_handler(rig):
    rig.connect(bond=True)
    assert rig.dev.bonded and rig.links[-1] == (True, 247, True)
    assert rig.command(b"\x03\x0a\x03\x11") == b"\x83\x0a\x00"
    assert rig.calls == [(0x0A, (3, 0x11))]
    assert rig.host.read(rig.status)[5] & p.STATE_BONDED_HOST


def test_bonded_bad_argument_is_checked_before_the_handler(rig):
    rig.connect(bond=True)
    assert rig.command(b"\x03\x0b\x09\x00") == b"\x83\x0b\x03"
    assert rig.calls == []


# -- control point errors and deferred answers -----------------------------------------


@pytest.mark.parametrize(
    ("write", "answer"),
    [
        (b"\x01\x07\x00", b"\x81\x07\x02"),  # START with an argument: BAD_LENGTH
        (b"\x0c\x05", b"\x8c\x05\x01"),  # unknown op
        (b"", b"\x80\x00\x01"),  # empty write: op 0, token 0
        (b"\x07\x06\x05", b"\x87\x06\x01"),  # IDENTIFY: known op, no handler in this app
        (b"\x05\x01" + bytes(10) + b"\x00" * 13, b"\x85\x01\x02"),  # 25 bytes: BAD_LENGTH
    ],
)
def test_bad_commands_are_answered_by_indication(rig, write, answer):
    rig.connect()
    assert rig.command(write) == answer
    assert rig.calls == []


def test_backfill_partial_carries_its_payload(rig):
    rig.connect()
    cmd = b"\x05\x04" + bytes.fromhex("0700 00000000 40000000")
    assert rig.command(cmd) == bytes.fromhex("850407 10000000 20000000")
    assert rig.calls == [(4, (7, 0, 64))]


def test_deferred_answer_and_log_list_entries():
    holder = {}

    def log_list(token, args):
        holder["t"] = token  # answered below, as an app answers when its data is ready

    rig = Rig(handlers={p.OP_LOG_LIST: log_list})
    rig.connect(bond=True)
    rig.host.write(rig.control, b"\x09\x31\x00\x00")
    rig.dev.poll()
    rig.host.drain()
    assert rig.host.indications == []  # the app answers later
    entries = [(1, 1700000000, 720000, 11520000)]
    assert rig.dev.respond(p.OP_LOG_LIST, holder["t"], p.RESULT_OK, (1, 0, 1), entries)
    rig.host.drain()
    want = "893100 0100 0000 01 0100 00f15365 80fc0a00 00c8af00"
    assert rig.host.indications == [(rig.control, bytes.fromhex(want.replace(" ", "")))]


def test_one_indication_in_flight_the_next_waits_for_the_confirmation(rig):
    rig.connect()
    rig.host.auto_confirm = False
    for token in (1, 2):
        rig.host.write(rig.control, bytes([p.OP_STOP, token]))
        rig.dev.poll()
    assert rig.host.link.indication == (rig.control, b"\x82\x01\x00")
    rig.host.confirm()
    rig.dev.poll()
    assert rig.host.link.indication == (rig.control, b"\x82\x02\x00")
    rig.host.confirm()
    rig.dev.poll()
    assert [v for _, v in rig.host.indications] == [b"\x82\x01\x00", b"\x82\x02\x00"]


def test_a_write_overwritten_before_poll_is_counted(rig):
    rig.connect()
    rig.host.write(rig.control, b"\x02\x01")
    assert rig.command(b"\x02\x02") == b"\x82\x02\x00"
    assert rig.dev.commands_overrun == 1


# -- status ----------------------------------------------------------------------------


def test_status_read_and_notify_on_change(rig):
    rig.connect()
    want = bytearray(p.STATUS_SIZE)
    packet.pack_status(want, 7, *FW)
    assert rig.host.read(rig.status) == bytes(want)
    n = len(rig.host.notifications)
    rig.dev.set_status(battery_mv=3987, battery_pct=87, state=p.STATE_STREAMING)
    rig.dev.poll()
    rig.dev.set_status(battery_mv=3987, battery_pct=87, state=p.STATE_STREAMING)  # unchanged
    rig.dev.poll()
    rig.host.drain()
    packet.pack_status(want, 7, *FW, battery_mv=3987, battery_pct=87, state=p.STATE_STREAMING)
    battery = rig.radio.handle_of(0x2A19)
    assert rig.host.notifications[n:] == [(battery, b"\x57"), (rig.status, bytes(want))]
    assert rig.host.read(rig.status) == bytes(want) == rig.dev.status_bytes()
    assert rig.host.read(battery) == b"\x57"


# -- disconnects -----------------------------------------------------------------------


def test_disconnect_restarts_advertising_and_a_new_central_connects(rig):
    rig.connect(bond=True)
    assert not rig.radio.advertising
    rig.host.disconnect()
    rig.dev.poll()
    assert rig.radio.advertising and not rig.dev.connected and not rig.dev.bonded
    assert rig.links[-1] == (False, 247, False)
    assert not rig.dev.notify_stream(b"\x01")
    again = fb.Central(rig.radio, addr=b"\x11" * 6)
    again.connect()
    rig.dev.poll()
    again.drain()
    rig.dev.poll()
    assert rig.dev.connected and rig.dev.mtu == 247 and not rig.dev.bonded


def test_a_second_central_is_disconnected(rig):
    rig.connect()
    rig.radio.adv_interval_us = 100_000  # something restarted advertising
    other = fb.Central(rig.radio, addr=b"\x22" * 6)
    other.connect()
    rig.dev.poll()
    rig.radio.pump()
    assert other.link is None and rig.host.link is not None and rig.dev.connected


def test_pending_responses_are_dropped_on_disconnect(rig):
    rig.connect()
    rig.host.auto_confirm = False
    rig.host.write(rig.control, b"\x02\x01")
    rig.dev.poll()
    rig.host.disconnect()
    rig.dev.poll()
    rig.host.auto_confirm = True
    rig.connect()
    assert rig.command(b"\x02\x09") == b"\x82\x09\x00"
    assert rig.host.indications == [(rig.control, b"\x82\x09\x00")]


# -- the IRQ handler allocates nothing -------------------------------------------------

_ALLOCATING = ("CALL", "BUILD_", "LIST_", "DICT_", "SET_", "MAKE_FUNCTION", "FORMAT", "IMPORT")


def test_irq_handler_bytecode_calls_and_builds_nothing():
    """Nothing but the bond-key branch calls out (those IRQs come at pairing, not streaming)."""
    instructions = list(dis.get_instructions(ble.Peripheral._irq))
    bad = sorted({i.opname for i in instructions if i.opname.startswith(_ALLOCATING)} - {"CALL"})
    assert bad == [], bad
    methods = {i.argval for i in instructions if i.opname == "LOAD_METHOD"}
    assert methods == {"_secret"} and [i.opname for i in instructions].count("CALL") == 1


def test_irq_handler_only_stores_ints_and_bools_into_existing_fields(rig):
    irq = rig.radio._handler
    before = dict(vars(rig.dev))
    addr = memoryview(b"\x01" * 6)
    events = [
        (fb.IRQ_CENTRAL_CONNECT, (0, 1, addr)),
        (fb.IRQ_MTU_EXCHANGED, (0, 185)),
        (fb.IRQ_ENCRYPTION_UPDATE, (0, True, False, True, 16)),
        (fb.IRQ_GATTS_WRITE, (0, rig.control)),
        (fb.IRQ_GATTS_INDICATE_DONE, (0, rig.control, 0)),
        (fb.IRQ_CENTRAL_CONNECT, (1, 1, addr)),
        (fb.IRQ_CENTRAL_DISCONNECT, (0, 1, addr)),
        (99, ()),
    ]
    for event, data in events:
        assert irq(event, data) is None
    after = vars(rig.dev)
    assert after.keys() == before.keys()
    changed = {k: v for k, v in after.items() if v is not before[k]}
    assert changed and all(type(v) in (int, bool) for v in changed.values()), changed


def test_bonding_is_enabled_for_just_works_pairing(rig):
    assert rig.dev.pairing
    assert rig.radio.config("bond") is True and rig.radio.config("io") == 3
    rig.connect(bond=True)
    assert rig.dev.encrypted and rig.dev.bonded
