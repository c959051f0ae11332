"""The GATT handshake over bleak: first-time pairing, the bond's reuse, cues."""

import asyncio

import pytest
from bleak import BleakClient

from hipdrop.link.find import find_sensor, scan
from hipdrop.link.sensor import SensorLink
from hipdrop.protocol import Opcode, Result
from hipdrop.sim import scenario
from hipdrop.vsensor.virtual_time import run_virtual
from hipdrop.vsensor.world import SimWorld


def in_world(body):
    """Run ``body(world, sighting)`` against the virtual sensor, on simulated time."""

    async def main():
        async with SimWorld(scenario("treadmill_quick", 0)) as world:
            sighting = await find_sensor(world.backends, None, seconds=1.0)
            return await body(world, sighting)

    return run_virtual(main())


async def connected(world, sighting, body):
    async with BleakClient(sighting.device, backend=world.backends.client) as client:
        link = SensorLink(client, lambda data, t: None, world.clock)
        await link.open(pair=False)
        return await body(link)


def test_scan_reads_name_firmware_and_protocol_from_the_scan_response():
    async def body(world, _sighting):
        return await scan(world.backends, seconds=1.0)

    (found,) = in_world(body)
    assert found.name == "hipdrop-ABCD" and found.address == "24:0A:C4:12:AB:CD"
    assert found.protocol_version == 1 and found.firmware.count(".") == 2
    assert found.rssi is not None and 90 <= found.battery_pct <= 100  # a charged cell


def test_first_use_pairs_and_bonds_and_a_bonded_host_is_not_asked_again():
    async def body(world, sighting):
        async def first(link):
            refused = await link.command(Opcode.SET_RATE, 1, 0xFF)
            paired = await link.ensure_bonded()
            allowed = await link.command(Opcode.SET_RATE, 3, 0xFF)
            return refused.result, paired, allowed.result

        async def again(link):
            return await link.ensure_bonded(), link.status.bonded

        return await connected(world, sighting, first), await connected(world, sighting, again)

    (refused, paired, allowed), (paired_again, bonded) = in_world(body)
    assert refused == Result.NOT_BONDED and paired and allowed == Result.OK
    assert not paired_again and bonded  # the link encrypted with the stored keys


def test_a_cue_reaches_the_sensor_within_one_main_loop_period():
    async def body(world, sighting):
        async def cue(link):
            await asyncio.sleep(1.0)
            sent = world.clock()
            answer = await link.cue("falling", 2)
            return sent, answer.result

        sent, result = await connected(world, sighting, cue)
        return sent, result, list(world.sensor.outputs.log)

    sent, result, log = in_world(body)
    assert result == Result.OK
    name, repeat, at = log[-1]
    assert (name, repeat) == ("falling", 2)
    assert 0 <= at - sent <= 0.025  # the firmware polls every 20 ms


def test_without_a_pairing_call_reading_the_bond_characteristic_pairs():
    """CoreBluetooth has no pairing call (bleak raises NotImplementedError): the host reads the
    characteristic that needs encryption, and the OS — here Bumble's backend — pairs."""

    async def body(world, sighting):
        class NoPairCall(world.backends.client):
            async def pair(self, *args, **kwargs):
                raise NotImplementedError("CoreBluetooth: pairing is up to the OS")

        async with BleakClient(sighting.device, backend=NoPairCall) as client:
            link = SensorLink(client, lambda data, t: None, world.clock)
            await link.open(pair=False)
            paired = await link.ensure_bonded()
            answer = await link.command(Opcode.SET_RATE, 3, 0xFF)
            return paired, link.status.bonded, answer.result

    assert in_world(body) == (True, True, Result.OK)


def test_a_computer_without_usable_bluetooth_gets_a_sentence(capsys):
    from bleak.backends.scanner import BaseBleakScanner

    from hipdrop.blebackend import BleakBackends
    from hipdrop.errors import HipdropError

    class NoAdapter(BaseBleakScanner):
        def __init__(self, detection_callback, service_uuids, *args, **kwargs):
            super().__init__(detection_callback, service_uuids)

        async def start(self):
            raise FileNotFoundError(2, "No such file or directory")  # no D-Bus socket

        async def stop(self):
            pass

    with pytest.raises(HipdropError, match="cannot use this computer's Bluetooth"):
        asyncio.run(scan(BleakBackends(scanner=NoAdapter), seconds=0.1))
