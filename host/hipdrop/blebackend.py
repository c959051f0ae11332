"""Which bleak backends the host's BLE code runs on: the platform's own, or a test's."""

from typing import NamedTuple


class BleakBackends(NamedTuple):
    """The ``backend=`` arguments for bleak's ``BleakScanner`` and ``BleakClient``.

    ``None`` is bleak's platform default (CoreBluetooth, BlueZ, WinRT). Tests and the demo
    pass subclasses of bleak's base scanner and client that run on a virtual radio
    (``hipdrop.vsensor.bleak_bumble.bleak_backends``), so they drive the same code path as
    production; nothing else differs.
    """

    scanner: type | None = None
    client: type | None = None
