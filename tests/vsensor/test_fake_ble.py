"""The fake ``bluetooth`` module follows MicroPython's documented API and NimBLE's limits."""

import pytest

from hipdrop.vsensor import fake_ble as fb

SVC = fb.UUID("83f3a910-4366-4e9e-8b71-a8cb7057dd00")
NOTIFY = fb.UUID("83f3a910-4366-4e9e-8b71-a8cb7057dd01")
WRITE = fb.UUID("83f3a910-4366-4e9e-8b71-a8cb7057dd02")


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, event, data):
        self.events.append((event, data))


@pytest.fixture
def radio():
    ble = fb.BLE(tx_buffers=3)
    ble.active(True)
    ble.config(mtu=247)
    ble.irq(Recorder())
    ((notify, write),) = ble.gatts_register_services(
        ((SVC, ((NOTIFY, fb.FLAG_NOTIFY), (WRITE, fb.FLAG_WRITE | fb.FLAG_INDICATE))),)
    )
    ble.gap_advertise(100_000, b"\x02\x01\x06")
    return ble, notify, write


def test_inactive_radio_raises_enodev():
    ble = fb.BLE()
    with pytest.raises(OSError) as e:
        ble.gap_advertise(100_000, b"")
    assert e.value.args[0] == fb.ENODEV


def test_advertising_payload_limit_is_31_bytes(radio):
    ble, _, _ = radio
    ble.gap_advertise(100_000, bytes(31), resp_data=bytes(31))
    for adv, resp in ((bytes(32), None), (None, bytes(32))):
        with pytest.raises(OSError) as e:
            ble.gap_advertise(100_000, adv, resp_data=resp)
        assert e.value.args[0] == -18
    ble.gap_advertise(250_000)  # None re-uses the previous payloads
    assert (ble.adv_data, ble.resp_data, ble.adv_interval_us) == (bytes(31), bytes(31), 250_000)
    ble.gap_advertise(None)
    assert not ble.advertising


def test_register_while_advertising_is_refused(radio):
    ble, _, _ = radio
    with pytest.raises(OSError) as e:
        ble.gatts_register_services(())
    assert e.value.args[0] == fb.EBUSY


def test_irq_tuples_as_documented(radio):
    ble, notify, write = radio
    seen = []

    def handler(event, data):
        if event in (fb.IRQ_CENTRAL_CONNECT, fb.IRQ_CENTRAL_DISCONNECT):
            addr = data[2]
            assert isinstance(addr, memoryview) and addr.readonly
            seen.append(addr)
            data = (data[0], data[1], bytes(addr))
        seen.append((event, data))

    ble.irq(handler)
    host = fb.Central(ble, addr=b"\x01\x02\x03\x04\x05\x06", mtu=517)
    conn = host.connect()
    assert host.exchange_mtu() == 247  # min(config mtu, central's)
    host.pair()
    host.write(write, b"\x01\x02")
    ble.gatts_indicate(conn, write, b"\x81")
    host.drain()
    host.disconnect()
    addr = b"\x01\x02\x03\x04\x05\x06"
    events = [s for s in seen if isinstance(s, tuple)]
    assert events == [
        (fb.IRQ_CENTRAL_CONNECT, (conn, 1, addr)),
        (fb.IRQ_MTU_EXCHANGED, (conn, 247)),
        (fb.IRQ_ENCRYPTION_UPDATE, (conn, True, False, True, 16)),
        (fb.IRQ_GATTS_WRITE, (conn, write)),
        (fb.IRQ_GATTS_INDICATE_DONE, (conn, write, 0)),
        (fb.IRQ_CENTRAL_DISCONNECT, (conn, 1, addr)),
    ]
    with pytest.raises(ValueError):  # the addr memoryview is only valid in the handler
        bytes(seen[0])


def test_notifications_are_cut_to_mtu_minus_3(radio):
    ble, notify, _ = radio
    host = fb.Central(ble, mtu=247)
    conn = host.connect()
    ble.gatts_notify(conn, notify, bytes(range(100)))
    host.exchange_mtu()
    ble.gatts_notify(conn, notify, bytes(300))
    assert [len(v) for _, v in host.drain()] == [20, 244]


def test_enomem_until_the_radio_drains(radio):
    ble, notify, _ = radio
    host = fb.Central(ble)
    conn = host.connect()
    for i in range(3):
        ble.gatts_notify(conn, notify, bytes([i]))
    with pytest.raises(OSError) as e:
        ble.gatts_notify(conn, notify, b"\x09")
    assert e.value.args[0] == fb.ENOMEM
    assert len(host.drain(max_count=1)) == 1
    ble.gatts_notify(conn, notify, b"\x03")
    assert [v for _, v in host.drain()] == [b"\x01", b"\x02", b"\x03"]


def test_notify_without_data_sends_the_local_value_and_needs_a_connection(radio):
    ble, notify, _ = radio
    ble.gatts_write(notify, b"local")
    with pytest.raises(OSError) as e:
        ble.gatts_notify(0, notify)
    assert e.value.args[0] == fb.ENOTCONN
    host = fb.Central(ble)
    ble.gatts_notify(host.connect(), notify)
    assert host.drain() == [(notify, b"local")]


def test_client_writes_are_cut_to_the_buffer(radio):
    ble, _, write = radio
    host = fb.Central(ble)
    host.connect()
    host.exchange_mtu()
    host.write(write, bytes(range(30)))
    assert ble.gatts_read(write) == bytes(range(20))
    ble.gatts_set_buffer(write, 64)
    host.write(write, bytes(range(30)))
    assert ble.gatts_read(write) == bytes(range(30))


def test_one_indication_at_a_time(radio):
    ble, _, write = radio
    host = fb.Central(ble, auto_confirm=False)
    conn = host.connect()
    ble.gatts_indicate(conn, write, b"\x01")
    with pytest.raises(OSError) as e:
        ble.gatts_indicate(conn, write, b"\x02")
    assert e.value.args[0] == fb.EALREADY
    host.confirm()
    assert host.indications == [(write, b"\x01")]


def test_device_side_disconnect_arrives_later(radio):
    ble, _, _ = radio
    host = fb.Central(ble)
    conn = host.connect()
    assert ble.gap_disconnect(conn)
    assert host.link is not None  # no IRQ from inside the call
    ble.pump()
    assert host.link is None and not ble.gap_disconnect(conn)
    assert ble._handler.events[-1][0] == fb.IRQ_CENTRAL_DISCONNECT


def test_uuids():
    assert fb.UUID(0x180F) == fb.UUID(b"\x0f\x18") and repr(fb.UUID(0x180F)) == "UUID(0x180f)"
    assert repr(SVC) == "UUID('83f3a910-4366-4e9e-8b71-a8cb7057dd00')"
    assert SVC.bytes_le[0] == 0x00 and SVC.bytes_le[-1] == 0x83
    with pytest.raises(ValueError):
        fb.UUID(0x10000)
