"""The shared virtual radio space: Bumble devices, each with its own controller, on one link.

Bumble's :class:`~bumble.link.LocalLink` carries advertising, connections, LL control PDUs
(encryption) and ACL data between in-process controllers. It has no radio timing model: how
fast data crosses it says nothing about real BLE.
"""

from __future__ import annotations

import asyncio
import dataclasses

from bumble import hci
from bumble.controller import Controller
from bumble.core import PhysicalTransport
from bumble.device import Connection, Device
from bumble.host import Host
from bumble.keys import MemoryKeyStore
from bumble.link import LocalLink
from bumble.pairing import PairingConfig
from bumble.transport.common import AsyncPipeSink

# LE Data Packet Length Extension: one 244-byte notification (+ 4 L2CAP + 3 ATT) per packet
_LE_ACL_DATA_PACKET_LENGTH = 251


class _Link(LocalLink):
    """A LocalLink that tags LE data with the address the sender uses on that connection.

    Bumble's own link always tags LE data with the sender controller's random address, so a
    device connected through its public address sees "no connection for 00:00:00:00:00:00"
    and drops every packet.
    """

    def __init__(self):
        super().__init__()
        self.out_of_range: set[Controller] = set()

    def send_advertising_pdu(self, sender_controller, packet):
        """Advertising from a controller out of range reaches nobody (no scan, no connect)."""
        if sender_controller not in self.out_of_range:
            super().send_advertising_pdu(sender_controller, packet)

    def send_acl_data(self, sender_controller, destination_address, transport, data):
        if transport != PhysicalTransport.LE:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        connection = sender_controller.le_connections.get(destination_address)
        destination = self.find_le_controller(destination_address)
        if connection is None or destination is None:
            return  # the link is gone: the packet is lost, as over the air
        source = connection.self_address
        asyncio.get_running_loop().call_soon(destination.on_link_acl_data, source, transport, data)

    def scan_response_data(self, advertiser_address: hci.Address) -> bytes | None:
        """What the advertiser at that address answers to a scan request (None: nobody)."""
        for controller in self.controllers:
            legacy = controller.le_legacy_advertiser
            if legacy.enabled and legacy.address == advertiser_address:
                return bytes(legacy.scan_response_data)
            for advertising_set in controller.advertising_sets.values():
                if advertising_set.enabled and advertising_set.address == advertiser_address:
                    return bytes(advertising_set.scan_response_data)
        return None


class _Controller(Controller):
    """Bumble's controller, with scan responses and connection cancelling that work.

    Bumble's own answers every advertisement with a scan response report that repeats the
    advertising data, so a name or manufacturer data sent only in the scan response (as the
    sensor does, to keep its advertisement under 31 bytes) never arrives. And its LE Create
    Connection Cancel does nothing: a connection attempt that timed out never ends (the host
    waits forever) and still connects when the device shows up later.
    """

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _is_scan_response_report(packet):
            data = self.link.scan_response_data(packet.reports[0].address)
            if data is None:
                return  # the advertiser stopped: no one answers the scan request
            reports = [dataclasses.replace(r, data=data) for r in packet.reports]
            packet = dataclasses.replace(packet, reports=reports)
        super().send_hci_packet(packet)

    def on_hci_le_create_connection_cancel_command(self, _command):
        """Vol 4, Part E, 7.8.13: end the pending attempt; its Connection Complete says so."""
        if self.pending_le_connection is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        peer = self.pending_le_connection.peer_address
        self.pending_le_connection = None
        cancelled = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=peer.address_type,
            peer_address=peer,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # queued, so it reaches the host after the Command Complete made of our return value
        asyncio.get_running_loop().call_soon(self.send_hci_packet, cancelled)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def _is_scan_response_report(packet: hci.HCI_Packet) -> bool:
    if isinstance(packet, hci.HCI_LE_Advertising_Report_Event):
        scan_response = hci.HCI_LE_Advertising_Report_Event.EventType.SCAN_RSP
        return packet.reports[0].event_type == scan_response
    if isinstance(packet, hci.HCI_LE_Extended_Advertising_Report_Event):
        scan_response = hci.HCI_LE_Extended_Advertising_Report_Event.EventType.SCAN_RESPONSE
        return bool(packet.reports[0].event_type & scan_response)
    return False


class Air:
    """One virtual radio space; every device made here can scan, advertise and connect."""

    def __init__(self):
        self.link = _Link()
        self._controllers: dict[Device, Controller] = {}

    def device(self, name: str, address: str) -> Device:
        """A Bumble device with its own controller on this link and an in-memory keystore.

        ``address`` (``"AA:BB:CC:DD:EE:FF"``) is both the controller's public address and the
        device's static random address, which Bumble uses by default to advertise and connect.
        Needs a running event loop; ``await device.power_on()`` before use.
        """
        controller = _Controller(name, link=self.link, public_address=address)
        controller.le_acl_data_packet_length = _LE_ACL_DATA_PACKET_LENGTH
        host = Host(controller, AsyncPipeSink(controller))
        device = Device(name=name, address=hci.Address(address), host=host)
        device.keystore = MemoryKeyStore()
        _identity_is_link_address(device)
        self._controllers[device] = controller
        return device

    def set_in_range(self, device: Device, in_range: bool) -> None:
        """Out of range, a device's advertising reaches no one, so no one can connect to it;
        drop its connections first (the stack's supervision timeout does that over the air)."""
        controller = self._controllers[device]
        if in_range:
            self.link.out_of_range.discard(controller)
        else:
            self.link.out_of_range.add(controller)

    def remove(self, device: Device) -> None:
        """The device is gone for good (its board lost power)."""
        controller = self._controllers.pop(device)
        self.link.out_of_range.discard(controller)
        if controller in self.link.controllers:
            self.link.remove_controller(controller)


def _identity_is_link_address(device: Device) -> None:
    """Make pairing give the address this device uses on the connection as its identity.

    Bumble otherwise gives its public address even to a peer it met through its static
    random address; the peer then files the bond under an address that never connects
    again, and the next connection cannot find its keys to encrypt.
    """
    default_factory = device.pairing_config_factory

    def factory(connection: Connection) -> PairingConfig:
        config = default_factory(connection)
        public = connection.self_address.is_public
        config.identity_address_type = (
            PairingConfig.AddressType.PUBLIC if public else PairingConfig.AddressType.RANDOM
        )
        return config

    device.pairing_config_factory = factory
