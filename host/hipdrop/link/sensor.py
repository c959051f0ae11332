"""One connected hipdrop sensor, through bleak: the GATT handshake and the control point.

:class:`SensorLink` wraps a connected :class:`bleak.BleakClient`: it reads the status and
checks the protocol version, pairs when asked, subscribes to the stream, control and status
characteristics, and sends control-point commands, matching each indication to its command
by token (docs/protocol.md §5). Stream notifications go to ``on_stream(data, host_rx_s)``;
status notifications update :attr:`status`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from bleak import BleakClient
from bleak.exc import BleakError

from ..errors import HipdropError
from ..protocol import (
    BOND_UUID,
    CONTROL_UUID,
    STATUS_UUID,
    STREAM_UUID,
    Opcode,
    ProtocolError,
    Response,
    Status,
    check_version,
    decode_response,
    decode_status,
    encode_command,
)

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"
MODEL_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
COMMAND_TIMEOUT_S = 5.0
CUES = {"short": 1, "double": 2, "long": 3, "rising": 4, "falling": 5}
"""CUE patterns (§5): pulses, and rising (good form) / falling (correct your form)."""
RESUME_WAIT_S = 1.0  # a link with a stored bond encrypts by itself within this
BOND_WAIT_S = 5.0


class LinkError(HipdropError):
    """The sensor did not answer, answered nonsense, or the link went down: worth retrying."""


class SensorRefused(LinkError):
    """The sensor cannot be used as it is (another protocol version, an MTU too small, a
    refused stream, no bond): retrying would not help, the user has to act."""


class SensorLink:
    """The protocol over one connected ``client`` (see the module docstring).

    ``clock`` is the host's clock (Unix seconds) used to stamp notifications.
    """

    def __init__(self, client: BleakClient, on_stream: Callable[[bytes, float], None],
                 clock: Callable[[], float]):  # fmt: skip
        self.client = client
        self.on_stream = on_stream
        self.clock = clock
        self.status: Status | None = None
        self.model = ""
        self.firmware = ""
        self._token = 0
        self._waiting: dict[int, asyncio.Future] = {}

    async def open(self, pair: bool) -> Status:
        """Check the sensor speaks our protocol, pair if asked, subscribe; the status."""
        try:
            self.status = decode_status(bytes(await self.client.read_gatt_char(STATUS_UUID)))
            check_version(self.status)
        except ProtocolError as error:  # VersionMismatch says which side to update
            raise SensorRefused(f"{self.client.address}: {error}") from None
        await self._learn_mtu()
        self.model = await self._read_text(MODEL_UUID)
        self.firmware = await self._read_text(FIRMWARE_REVISION_UUID)
        if pair:
            await self.client.pair()
        await self.client.start_notify(CONTROL_UUID, self._on_control)
        await self.client.start_notify(STATUS_UUID, self._on_status)
        await self.client.start_notify(STREAM_UUID, self._on_stream)
        return self.status

    async def _learn_mtu(self) -> None:
        """BlueZ reports MTU 23 until asked for the real one (bleak's ``_acquire_mtu``, the
        way its docs give); other backends know it after connecting. The sensor itself
        refuses to stream below ``MIN_MTU`` (START answers MTU_TOO_SMALL)."""
        acquire = getattr(getattr(self.client, "_backend", None), "_acquire_mtu", None)
        if acquire is not None:
            with contextlib.suppress(Exception):  # an older BlueZ: START will tell
                await acquire()

    async def ensure_bonded(self) -> bool:
        """Pair unless the sensor already reports this host as bonded; True if it paired now.

        Commands that change the sensor or read health data need a bonded host (§5). Where
        the OS has no pairing call for applications (macOS), reading the bond characteristic,
        which needs an encrypted link, makes the OS pair by itself (§1). Raises
        :class:`SensorRefused` when pairing did not bond.
        """
        if await self._bonded_within(RESUME_WAIT_S):
            return False
        try:
            await self.client.pair()
        except NotImplementedError:
            await self._pair_by_reading()
        if not await self._bonded_within(BOND_WAIT_S):
            raise SensorRefused("pairing did not bond: remove the sensor from this computer's "
                                "Bluetooth devices and try again")  # fmt: skip
        return True

    async def _pair_by_reading(self) -> None:
        try:
            await self.client.read_gatt_char(BOND_UUID)
        except (BleakError, KeyError) as error:
            raise SensorRefused(
                f"this computer pairs only when asked by the sensor, and it did not ({error}): "
                "update the sensor's firmware (`hipdrop device flash`)"
            ) from None

    async def _bonded_within(self, wait_s: float) -> bool:
        """Whether the sensor's status reports a bonded host within ``wait_s``."""
        for _ in range(round(wait_s / 0.05) + 1):
            if self.status is not None and self.status.bonded:
                return True
            await asyncio.sleep(0.05)
        return False

    async def _read_text(self, uuid: str) -> str:
        try:
            return bytes(await self.client.read_gatt_char(uuid)).decode(errors="replace")
        except (BleakError, KeyError):
            return ""

    async def command(self, op: Opcode, *args: int, timeout_s=COMMAND_TIMEOUT_S) -> Response:
        """Send one control-point command and wait for its response."""
        self._token = self._token % 255 + 1
        token = self._token
        answer = asyncio.get_running_loop().create_future()
        self._waiting[token] = answer
        try:
            await self.client.write_gatt_char(
                CONTROL_UUID, encode_command(op, token, *args), response=True
            )
            return await asyncio.wait_for(answer, timeout_s)
        except TimeoutError:
            raise LinkError(f"the sensor did not answer {op.name} within {timeout_s:g} s") from None
        finally:
            self._waiting.pop(token, None)

    def _on_control(self, _char, data: bytearray) -> None:
        try:
            response = decode_response(bytes(data))
        except ValueError:
            return  # not a response we can read: the waiting command times out
        answer = self._waiting.get(response.token)
        if answer is not None and not answer.done():
            answer.set_result(response)

    def _on_status(self, _char, data: bytearray) -> None:
        with contextlib.suppress(ValueError):  # keep the last good status
            self.status = decode_status(bytes(data))

    def _on_stream(self, _char, data: bytearray) -> None:
        self.on_stream(bytes(data), self.clock())

    async def cue(self, pattern: str, repeat: int = 1) -> Response:
        """Buzz, beep or flash ``pattern`` (a name in ``CUES``) on the sensor, ``repeat`` times."""
        try:
            code = CUES[pattern]
        except KeyError:
            raise LinkError(f"unknown cue {pattern!r}: choose from {', '.join(CUES)}") from None
        return await self.command(Opcode.CUE, code, repeat)

    async def battery_pct(self) -> int | None:
        try:
            return bytes(await self.client.read_gatt_char(BATTERY_LEVEL_UUID))[0]
        except (BleakError, KeyError, IndexError):
            return None
