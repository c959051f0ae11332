"""bleak's own API, through the Bumble backend, against a Bumble GATT peripheral.

The peripheral is built here, shaped like the sensor (docs/protocol.md §1): only the
``backend=`` argument differs from the host's production calls.
"""

import asyncio
import struct

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.hci import OwnAddressType

from hipdrop.vsensor.bleak_bumble import bleak_backends
from hipdrop.vsensor.bumble_air import Air

SERVICE = "83f3a910-4366-4e9e-8b71-a8cb7057dd00"
STREAM, CONTROL, STATUS = (SERVICE[:-2] + suffix for suffix in ("01", "02", "03"))
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
SENSOR_ADDRESS = "F0:F0:F0:F0:AB:CD"
HOST_ADDRESS = "C0:C0:C0:C0:00:01"
MANUFACTURER = struct.pack("<HBBBBB", 0xFFFF, 1, 255, 0, 1, 0)
ADVERTISEMENT = bytes(
    AdvertisingData(
        [
            (AdvertisingData.Type.FLAGS, b"\x06"),
            (
                AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                UUID(SERVICE).to_bytes(),
            ),
        ]
    )
)
SCAN_RESPONSE = bytes(
    AdvertisingData(
        [
            (AdvertisingData.Type.COMPLETE_LOCAL_NAME, b"hipdrop-ABCD"),
            (AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA, MANUFACTURER),
        ]
    )
)
_P = gatt.Characteristic.Properties
_READ, _WRITE = gatt.Characteristic.READABLE, gatt.Characteristic.WRITEABLE


class Sensor:
    """A sensor-shaped peripheral: stream (notify), control (write, indicate), status."""

    def __init__(self, device, own_address_type=OwnAddressType.RANDOM):
        self.device = device
        self.own_address_type = own_address_type
        self.writes = []
        self.connections = []
        self.pairings = 0
        self.readvertise = True
        self.drop_link_on_read = False
        self.stream = gatt.Characteristic(STREAM, _P.NOTIFY, _READ)
        self.control = gatt.Characteristic(
            CONTROL,
            _P.WRITE | _P.INDICATE,
            _READ | _WRITE,
            gatt.CharacteristicValue(write=lambda _, value: self.writes.append(value)),
        )
        self.status = gatt.Characteristic(
            STATUS, _P.READ | _P.NOTIFY, _READ, gatt.CharacteristicValue(read=self._read_status)
        )
        device.add_service(gatt.Service(SERVICE, [self.stream, self.control, self.status]))
        device.gatt_server.max_mtu = 247
        device.on("connection", self._on_connection)

    async def start(self):
        await self.device.power_on()
        await self.advertise()

    async def advertise(self):
        await self.device.start_advertising(
            advertising_data=ADVERTISEMENT,
            scan_response_data=SCAN_RESPONSE,
            own_address_type=self.own_address_type,
            advertising_interval_min=20,
            advertising_interval_max=20,
        )

    @property
    def link(self):
        return self.connections[-1]

    def _on_connection(self, connection):
        self.connections.append(connection)
        connection.on("pairing_start", self._on_pairing_start)
        connection.on("disconnection", self._on_disconnection)

    def _on_pairing_start(self):
        self.pairings += 1

    def _on_disconnection(self, reason):
        if self.readvertise:  # as the firmware does
            asyncio.ensure_future(self.advertise())

    async def _read_status(self, connection):
        if self.drop_link_on_read:
            await connection.disconnect()
        return b"status"


async def _setup(own_address_type=OwnAddressType.RANDOM):
    air = Air()
    sensor = Sensor(air.device("sensor", SENSOR_ADDRESS), own_address_type)
    host = air.device("host", HOST_ADDRESS)
    await sensor.start()
    await host.power_on()
    return sensor, host, bleak_backends(host)


async def _find(backends):
    device = await BleakScanner.find_device_by_filter(
        lambda _, adv: SERVICE in adv.service_uuids, timeout=2, backend=backends.scanner
    )
    assert device is not None
    return device


def _run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), 10))


# -- scanning --------------------------------------------------------------------------------


def test_found_by_service_uuid_with_the_scan_response_merged_in():
    async def scenario():
        sensor, _, backends = await _setup()
        seen = []
        async with BleakScanner(
            lambda device, adv: seen.append((device, adv)), [SERVICE], backend=backends.scanner
        ):
            await asyncio.sleep(0.2)
        named = [i for i, (_, adv) in enumerate(seen) if adv.local_name]
        assert named and len(seen) - named[0] > 3
        for device, adv in seen[named[0] :]:  # the name persists in later advertisements
            assert (device.address, device.name) == (SENSOR_ADDRESS, "hipdrop-ABCD")
            assert device.details == sensor.device.random_address
            assert adv.service_uuids == [SERVICE]
            assert adv.manufacturer_data == {0xFFFF: MANUFACTURER[2:]}
            assert adv.tx_power is None and adv.rssi == -50
        assert len(ADVERTISEMENT) == 21

    _run(scenario)


def test_the_service_filter_leaves_out_other_advertisers():
    async def scenario():
        air = Air()
        other = air.device("other", "D0:D0:D0:D0:00:02")
        host = air.device("host", HOST_ADDRESS)
        await other.power_on()
        await host.power_on()
        await other.start_advertising(advertising_data=b"\x02\x01\x06", advertising_interval_min=20)
        scanner = bleak_backends(host).scanner
        everyone = await BleakScanner.discover(0.2, backend=scanner)
        filtered = await BleakScanner.discover(0.2, service_uuids=[SERVICE], backend=scanner)
        assert [d.address for d in everyone] == ["D0:D0:D0:D0:00:02"]
        assert filtered == []

    _run(scenario)


# -- connection, discovery, I/O -------------------------------------------------------------


def test_connect_discovers_the_services_and_negotiates_the_servers_mtu():
    async def scenario():
        _, _, backends = await _setup()
        device = await _find(backends)
        async with BleakClient(device, backend=backends.client) as client:
            assert client.is_connected and client.mtu_size == 247
            assert client.name == "hipdrop-ABCD"
            services = client.services
            assert set(services.get_characteristic(STREAM).properties) == {"notify"}
            assert set(services.get_characteristic(CONTROL).properties) == {"write", "indicate"}
            assert set(services.get_characteristic(STATUS).properties) == {"read", "notify"}
            for uuid in (STREAM, CONTROL, STATUS):
                assert services.get_characteristic(uuid).get_descriptor(CCCD) is not None
            assert services.get_characteristic(STREAM).max_write_without_response_size == 244
            assert await client.read_gatt_char(STATUS) == bytearray(b"status")
            cccd = services.get_characteristic(STATUS).get_descriptor(CCCD)
            assert await client.read_gatt_descriptor(cccd.handle) == bytearray(b"\0\0")
        assert not client.is_connected

    _run(scenario)


def test_the_services_argument_limits_discovery():
    async def scenario():
        _, _, backends = await _setup()
        device = await _find(backends)
        async with BleakClient(device, services=[SERVICE], backend=backends.client) as client:
            assert [s.uuid for s in client.services] == [SERVICE]

    _run(scenario)


def test_two_thousand_full_notifications_arrive_in_order_and_intact():
    async def scenario():
        sensor, _, backends = await _setup()
        sent = [struct.pack("<I", i) + bytes([i % 251]) * 240 for i in range(2000)]
        received = []
        all_in = asyncio.Event()

        def on_notification(_, data):
            received.append(bytes(data))
            if len(received) == len(sent):
                all_in.set()

        async with BleakClient(await _find(backends), backend=backends.client) as client:
            await client.start_notify(STREAM, on_notification)
            for value in sent:
                await sensor.device.notify_subscribers(sensor.stream, value)
            await asyncio.wait_for(all_in.wait(), 5)
        assert received == sent

    _run(scenario)


def test_writes_reach_the_server_and_an_indication_reaches_the_callback():
    async def scenario():
        sensor, _, backends = await _setup()
        indications = asyncio.Queue()
        async with BleakClient(await _find(backends), backend=backends.client) as client:
            await client.write_gatt_char(CONTROL, b"\x01\x02", response=True)
            assert sensor.writes == [b"\x01\x02"]
            await client.write_gatt_char(CONTROL, b"\x03", response=False)
            await client.start_notify(CONTROL, lambda _, data: indications.put_nowait(data))
            await sensor.device.indicate_subscribers(sensor.control, b"\x81\x00")
            assert await asyncio.wait_for(indications.get(), 1) == bytearray(b"\x81\x00")
            await client.stop_notify(CONTROL)
        assert sensor.writes == [b"\x01\x02", b"\x03"]

    _run(scenario)


# -- security --------------------------------------------------------------------------------


def test_pairing_bonds_and_a_reconnection_is_encrypted_without_pairing_again():
    async def scenario():
        sensor, host, backends = await _setup()
        device = await _find(backends)
        async with BleakClient(device, backend=backends.client) as client:
            assert not sensor.link.is_encrypted
            await client.pair()
            assert sensor.link.is_encrypted and sensor.pairings == 1
        assert await host.keystore.get(SENSOR_ADDRESS) is not None
        assert await sensor.device.keystore.get(HOST_ADDRESS) is not None

        async with BleakClient(device, backend=backends.client) as client:
            assert sensor.link.is_encrypted and sensor.pairings == 1
            await client.pair()  # already bonded: nothing to do
            assert sensor.pairings == 1
            await client.unpair()
        assert await host.keystore.get(SENSOR_ADDRESS) is None

    _run(scenario)


def test_pair_on_connect():
    async def scenario():
        sensor, _, backends = await _setup()
        async with BleakClient(await _find(backends), pair=True, backend=backends.client):
            assert sensor.link.is_encrypted and sensor.pairings == 1

    _run(scenario)


def test_a_peer_that_forgot_the_bond_is_refused_until_unpaired_and_paired_again():
    async def scenario():
        sensor, _, backends = await _setup()
        device = await _find(backends)
        async with BleakClient(device, backend=backends.client) as client:
            await client.pair()
        await sensor.device.keystore.delete_all()  # e.g. the sensor was reflashed
        client = BleakClient(device, backend=backends.client)
        with pytest.raises(BleakError, match="refused the stored bond"):
            await client.connect()
        assert not client.is_connected
        await client.unpair()
        async with BleakClient(device, pair=True, backend=backends.client):
            assert sensor.link.is_encrypted and sensor.pairings == 2

    _run(scenario)


# -- disconnection and failures --------------------------------------------------------------


def test_a_peripheral_disconnect_calls_back_and_later_operations_raise():
    async def scenario():
        sensor, _, backends = await _setup()
        dropped = asyncio.Event()
        client = BleakClient(
            await _find(backends), lambda _: dropped.set(), backend=backends.client
        )
        await client.connect()
        status = client.services.get_characteristic(STATUS)
        await sensor.link.disconnect()
        await asyncio.wait_for(dropped.wait(), 1)
        assert not client.is_connected
        with pytest.raises(BleakError, match="Not connected"):
            client.mtu_size  # noqa: B018
        with pytest.raises(BleakError, match="Not connected"):
            await client.start_notify(status, lambda *_: None)
        with pytest.raises(BleakError):  # bleak: "Service Discovery has not been performed"
            await client.read_gatt_char(status)
        with pytest.raises(BleakError):
            await client.write_gatt_char(CONTROL, b"\x01", response=True)
        await client.disconnect()  # idempotent

    _run(scenario)


def test_a_disconnect_asked_for_does_not_call_back():
    async def scenario():
        _, _, backends = await _setup()
        calls = []
        client = BleakClient(await _find(backends), calls.append, backend=backends.client)
        await client.connect()
        await client.disconnect()
        await asyncio.sleep(0.05)
        assert calls == [] and not client.is_connected

    _run(scenario)


def test_a_link_lost_during_a_request_raises_bleak_error_not_cancellation():
    async def scenario():
        sensor, _, backends = await _setup()
        async with BleakClient(await _find(backends), backend=backends.client) as client:
            sensor.drop_link_on_read = True
            with pytest.raises(BleakError, match="link dropped"):
                await client.read_gatt_char(STATUS)

    _run(scenario)


def test_connecting_to_an_address_nobody_advertises_is_not_found_in_time():
    async def scenario():
        _, _, backends = await _setup()
        client = BleakClient("11:22:33:44:55:66", timeout=0.3, backend=backends.client)
        with pytest.raises(BleakDeviceNotFoundError, match="11:22:33:44:55:66 was not found"):
            await client.connect()
        with pytest.raises(BleakDeviceNotFoundError):
            await client.unpair()

    _run(scenario)


def test_connecting_to_a_device_that_stopped_advertising_times_out():
    async def scenario():
        sensor, _, backends = await _setup()
        device = await _find(backends)
        await sensor.device.stop_advertising()
        client = BleakClient(device, timeout=0.3, backend=backends.client)
        with pytest.raises(TimeoutError, match="did not connect within 0.3 s"):
            await client.connect()
        await sensor.advertise()
        await asyncio.sleep(0.1)
        assert sensor.connections == []  # the timed-out attempt was cancelled for good
        async with BleakClient(device, backend=backends.client) as client:
            assert client.is_connected

    _run(scenario)


def test_an_address_string_and_a_public_address_peripheral_work():
    async def scenario():
        sensor, _, backends = await _setup(own_address_type=OwnAddressType.PUBLIC)
        received = asyncio.Queue()
        async with BleakClient(SENSOR_ADDRESS, backend=backends.client) as client:
            assert client.name == SENSOR_ADDRESS
            await client.start_notify(STREAM, lambda _, data: received.put_nowait(data))
            await sensor.device.notify_subscribers(sensor.stream, b"x" * 244)
            assert await asyncio.wait_for(received.get(), 1) == bytearray(b"x" * 244)
            await client.pair()
        async with BleakClient(SENSOR_ADDRESS, backend=backends.client):
            assert sensor.link.is_encrypted and sensor.pairings == 1

    _run(scenario)
