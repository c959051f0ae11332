"""MicroPython's bluetooth API on Bumble's stack keeps NimBLE's limits, seen from bleak."""

import asyncio

import pytest
from bleak import BleakClient, BleakScanner

from hipdrop.vsensor import mpy_bluetooth as mb
from hipdrop.vsensor.bleak_bumble import bleak_backends
from hipdrop.vsensor.bumble_air import Air
from hipdrop.vsensor.bumble_ble import BumbleBLE
from hipdrop.vsensor.virtual_time import run_virtual

SVC = "83f3a910-4366-4e9e-8b71-a8cb7057dd00"
NOTIFY = "83f3a910-4366-4e9e-8b71-a8cb7057dd01"
WRITE = "83f3a910-4366-4e9e-8b71-a8cb7057dd02"
ADV = b"\x02\x01\x06\x11\x07" + mb.UUID(SVC).bytes_le


class Peripheral:
    """A minimal MicroPython-style app: records its IRQs."""

    def __init__(self, radio):
        self.radio, self.events = radio, []
        radio.active(True)
        radio.config(mtu=247)
        radio.irq(lambda event, data: self.events.append((event, tuple(
            bytes(x) if isinstance(x, memoryview) else x for x in data))))  # fmt: skip
        ((self.notify, self.write),) = radio.gatts_register_services(
            ((mb.UUID(SVC), ((mb.UUID(NOTIFY), mb.FLAG_NOTIFY),
                             (mb.UUID(WRITE), mb.FLAG_WRITE | mb.FLAG_INDICATE))),)
        )  # fmt: skip
        radio.gap_advertise(100_000, ADV)

    def kinds(self):
        return [event for event, _ in self.events]


def with_peripheral(body, tx_buffers=8):
    async def main():
        air = Air()
        radio = BumbleBLE(air.device("sensor", "24:0A:C4:12:AB:CD"), tx_buffers=tx_buffers)
        await radio.start()
        peripheral = Peripheral(radio)
        host = air.device("host", "C0:FF:EE:00:00:01")
        await host.power_on()
        backends = bleak_backends(host)
        device = await BleakScanner.find_device_by_filter(
            lambda d, adv: SVC in adv.service_uuids, timeout=2.0, backend=backends.scanner
        )
        async with BleakClient(device, backend=backends.client) as client:
            return await body(peripheral, client)

    return run_virtual(main())


def test_advertising_over_31_bytes_is_refused_like_nimble():
    async def body(peripheral, _client):
        with pytest.raises(OSError) as error:
            peripheral.radio.gap_advertise(100_000, ADV + bytes(11))
        return error.value.args[0]

    assert with_peripheral(body) == mb.ADV_TOO_LONG


def test_connect_mtu_and_pairing_arrive_as_micropython_irqs():
    async def body(peripheral, client):
        await client.pair()
        await asyncio.sleep(0.1)
        return peripheral.events, client.mtu_size

    events, mtu = with_peripheral(body)
    kinds = [event for event, _ in events]
    assert kinds[0] == mb.IRQ_CENTRAL_CONNECT and mb.IRQ_MTU_EXCHANGED in kinds
    assert dict(events)[mb.IRQ_MTU_EXCHANGED][1] == mtu == 247
    encrypted = [data for event, data in events if event == mb.IRQ_ENCRYPTION_UPDATE]
    assert encrypted[-1][1] and encrypted[-1][3]  # encrypted and bonded
    assert events[0][1][2] == bytes.fromhex("c0ffee000001")  # the host's address


def test_notifications_are_cut_to_mtu_minus_3_and_enomem_when_buffers_are_full():
    async def body(peripheral, client):
        got = []
        await client.start_notify(NOTIFY, lambda _c, data: got.append(bytes(data)))
        radio, conn = peripheral.radio, peripheral.events[0][1][0]
        radio.gatts_notify(conn, peripheral.notify, bytes(range(250)))
        refused = 0
        for k in range(12):  # in one main-loop step: the stack has no time to send
            try:
                radio.gatts_notify(conn, peripheral.notify, bytes([k]))
            except OSError as error:
                assert error.args[0] == mb.ENOMEM
                refused += 1
        await radio.settled()
        await asyncio.sleep(0.05)
        return got, refused

    got, refused = with_peripheral(body, tx_buffers=8)
    assert got[0] == bytes(range(244))  # 247 - 3, cut silently
    assert refused == 12 - 7 and len(got) == 8


def test_a_client_write_and_an_indication_round_trip():
    async def body(peripheral, client):
        got = []
        await client.start_notify(WRITE, lambda _c, data: got.append(bytes(data)))
        await client.write_gatt_char(WRITE, b"\x01\x07", response=True)
        conn, handle = peripheral.events[-1][1]
        value = peripheral.radio.gatts_read(handle)
        peripheral.radio.gatts_indicate(conn, handle, b"\x81\x07\x00")
        await asyncio.sleep(0.1)
        return value, got, peripheral.kinds()

    value, got, kinds = with_peripheral(body)
    assert value == b"\x01\x07" and got == [b"\x81\x07\x00"]
    assert mb.IRQ_GATTS_WRITE in kinds and kinds[-1] == mb.IRQ_GATTS_INDICATE_DONE
