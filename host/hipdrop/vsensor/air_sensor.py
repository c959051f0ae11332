"""The virtual sensor on the air: the whole firmware on a real BLE stack, fed by the simulator.

An :class:`AirSensor` is a board running ``firmware/``'s App (:class:`.app_device.VirtualDevice`:
the register-level IMU model, the fake flash) whose radio is Bumble's stack
(:class:`.bumble_ble.BumbleBLE`) on the virtual link of an :class:`~.bumble_air.Air`. The host
finds and uses it with bleak through :func:`.bleak_bumble.bleak_backends`, exactly as it would a
real board.

Time: the board keeps pace with the event loop's clock, and :meth:`AirSensor.clock` is the
host's clock in this world (Unix seconds from the loop's clock). On a normal loop that is the
wall clock; on a :class:`~.virtual_time.VirtualTimeLoop` the whole world — board, link, host —
runs on simulated time, as fast as the computer can.

Faults (``kind@time_s[:seconds]``, times on the recording's clock):

| kind         | on the air                                                                  |
|--------------|-----------------------------------------------------------------------------|
| `disconnect` | the runner walks out of range: the link drops and the board is unreachable  |
|              | for `seconds` (it keeps sampling, logging to flash, buffering for backfill) |
| `reboot`     | the board loses power and restarts (new boot counter; the flash survives)   |
| `corrupt`    | for `seconds`, each stream packet is followed by damaged copies of it       |

When the recording has run out, :attr:`AirSensor.finished` is set and the board lies still on
a table for up to ``IDLE_TAIL_S`` more (so a host can still stop it, or sync its logs); with
``untethered`` it is out of the host's range until then — a run without a phone or laptop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import numpy as np
from bumble import hci

from ..errors import HipdropError
from .app_device import VirtualDevice
from .bumble_ble import BumbleBLE
from .device import boot_segments
from .fake_flash import FakeFlash
from .faults import Fault
from .firmware import firmware_module

PSRAM_RING_SAMPLES = 71_000
"""The M5StickC Plus2's backfill ring (≈ 5.9 min at 200 Hz, docs/firmware.md)."""
DEFAULT_ADDRESS = "24:0A:C4:12:AB:CD"
IDLE_TAIL_S = 1800.0
_AIR_FAULTS = ("disconnect", "reboot", "corrupt")
_CORRUPT_COPIES = 4


class CorruptingBLE(BumbleBLE):
    """A radio that follows each stream packet with damaged copies while ``corrupting``:
    a flipped byte, a cut tail, a bad header, an extra byte."""

    corrupting = False
    stream_handle = -1

    def _transport_notify(self, link, value_handle, payload):
        super()._transport_notify(link, value_handle, payload)
        if self.corrupting and value_handle == self.stream_handle:
            for k in range(_CORRUPT_COPIES):
                super()._transport_notify(link, value_handle, _damaged(payload, k))


def _damaged(payload: bytes, kind: int) -> bytes:
    data = bytearray(payload)
    if kind == 0:
        data[len(data) // 2] ^= 0x5A
    elif kind == 1:
        del data[-5:]
    elif kind == 2:
        data[0] ^= 0xFF
    else:
        data.append(0)
    return bytes(data)


@dataclass(frozen=True)
class _Samples:
    """What the chip model reads of a recording."""

    time_s: np.ndarray
    acc_ms2: np.ndarray
    gyr_dps: np.ndarray
    spec: object


def with_idle_tail(recording, seconds: float) -> _Samples:
    """The recording followed by ``seconds`` of its last sample: the clip lying still."""
    n = int(seconds * recording.spec.rate_hz)
    step = np.median(np.diff(recording.time_s))
    return _Samples(
        np.concatenate([recording.time_s, recording.time_s[-1] + step * np.arange(1, n + 1)]),
        np.concatenate([recording.acc_ms2, np.repeat(recording.acc_ms2[-1:], n, axis=0)]),
        np.concatenate([recording.gyr_dps, np.zeros((n, 3))]),
        recording.spec,
    )


class TimedOutputs:
    """The board's LED/buzzer/motor as a log of (pattern, repeat, host clock time)."""

    def __init__(self, clock):
        self.clock = clock
        self.log: list[tuple[str, int, float]] = []

    def pattern(self, name, repeat=1):
        self.log.append((name, repeat, self.clock()))

    def poll(self, now):
        pass


class SimulatedCell:
    """The board's LiPo seen through its battery ADC (``ADC.read_uv`` behind a 1:2 divider):
    full at power-up, losing ``mv_per_hour`` as the board runs."""

    def __init__(self, hours, full_mv=4150.0, mv_per_hour=250.0, divider=2.0):
        self.hours, self.full_mv = hours, full_mv
        self.mv_per_hour, self.divider = mv_per_hour, divider

    def __call__(self) -> int:
        return round((self.full_mv - self.mv_per_hour * self.hours()) * 1000 / self.divider)


class AirSensor:
    """A simulated board on ``air`` streaming ``recording`` (see the module docstring).

    ``ring_capacity`` samples of backfill (default: the reference board with PSRAM);
    ``faults`` from :func:`~.faults.parse_faults` (``disconnect``, ``reboot``, ``corrupt``);
    ``untethered``: out of range until the recording has run out (``finished``);
    ``first_boot``: the boot counter of its first boot (its flash remembers the earlier ones).
    """

    def __init__(self, air, recording, *, faults=(), address=DEFAULT_ADDRESS,
                 ring_capacity=PSRAM_RING_SAMPLES, board="m5stickc_plus2", part="mpu6886",
                 epoch_s=None, untethered=False, first_boot=1):  # fmt: skip
        unsupported = sorted({f.kind for f in faults} - set(_AIR_FAULTS))
        if unsupported:
            raise HipdropError(
                f"fault kind(s) {', '.join(unsupported)} cannot happen on a BLE link "
                f"(its link layer retransmits): use {', '.join(_AIR_FAULTS)}"
            )
        self.air, self.recording = air, with_idle_tail(recording, IDLE_TAIL_S)
        self.end_s = float(recording.time_s[-1])
        self.untethered = untethered
        self.address, self.ring_capacity = address, ring_capacity
        self.board, self.part = board, part
        self.faults: list[Fault] = list(faults)
        self.flash = FakeFlash()
        with self.flash.open("/boot_count", "wb") as f:
            f.write(str(first_boot - 1).encode())
        self.device: VirtualDevice | None = None
        self.outputs = TimedOutputs(self.clock)
        self.finished = asyncio.Event()
        self.epoch_s = time.time() if epoch_s is None else epoch_s
        self._t_boot = 0.0
        self._loop_start: float | None = None
        self._bumble = None

    # -- the world's clock ----------------------------------------------------------------

    @property
    def sim_time_s(self) -> float:
        """Seconds since the recording began, on the recording's clock."""
        if self.device is None:
            return self._t_boot
        return self._t_boot + self.device.chip.time_s

    def clock(self) -> float:
        """The host's clock in this world (Unix seconds)."""
        loop = asyncio.get_running_loop()
        if self._loop_start is None:
            self._loop_start = loop.time()
        return self.epoch_s + loop.time() - self._loop_start

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Run every boot of the board until the recording ends."""
        self.clock()  # the world's time starts with the board
        reboots = [f.at_s for f in self.faults if f.kind == "reboot"]
        try:
            for boot_no, start, stop, t_boot in boot_segments(self.recording.time_s, reboots):
                self._t_boot = float(t_boot)
                await self._run_boot(start, stop, first=boot_no == 1)
        finally:
            self.finished.set()

    async def _run_boot(self, start: int, stop: int, first: bool) -> None:
        radio = await self._power_on()
        self.device = VirtualDevice(
            self.recording, start, stop, board=self.board, part=self.part, radio=radio,
            flash=self.flash, ring_capacity=self.ring_capacity, outputs=self.outputs,
            battery=self._battery(),
        )  # fmt: skip
        radio.stream_handle = self.device.handle("83f3a910-4366-4e9e-8b71-a8cb7057dd01")
        try:
            while self._samples_left() > 0:
                self.device.step()
                await self._faults_now(radio)
                await self._pace()
                self._check_finished()
        finally:
            self._t_boot = self.sim_time_s
            self.device = None
            await self._power_off(radio)

    def _battery(self):
        battery = firmware_module("battery")
        cell = SimulatedCell(lambda: self.sim_time_s / 3600)
        return battery.Battery(cell, cell.divider)

    def _check_finished(self) -> None:
        if self.sim_time_s >= self.end_s and not self.finished.is_set():
            self.finished.set()
            if self.untethered:
                self._set_reachable(True)  # back home, next to the laptop

    def _samples_left(self) -> int:
        """Samples the chip can still produce beyond the next main-loop period."""
        chip = self.device.chip
        per_poll = self.device.poll_s * self.recording.spec.rate_hz * 1.05 + 2
        return int(len(chip.source) - chip.sample_count - per_poll)

    async def _power_on(self) -> CorruptingBLE:
        self._bumble = self.air.device("hipdrop", self.address)
        radio = CorruptingBLE(self._bumble)
        self._set_reachable(not self.untethered or self.finished.is_set())
        await radio.start()
        return radio

    async def _power_off(self, radio: CorruptingBLE) -> None:
        with contextlib.suppress(Exception):
            await radio.stop()
        self.air.remove(self._bumble)

    async def _pace(self) -> None:
        """Wait until the world's clock reaches the board's."""
        ahead = self.epoch_s + self.sim_time_s - self.clock()
        await asyncio.sleep(max(ahead, 0.0))

    # -- faults -------------------------------------------------------------------------------

    async def _faults_now(self, radio: CorruptingBLE) -> None:
        t = self.sim_time_s
        radio.corrupting = any(
            f.kind == "corrupt" and f.at_s <= t < f.at_s + f.seconds for f in self.faults
        )
        for fault in [f for f in self.faults if f.kind == "disconnect" and f.at_s <= t]:
            self.faults.remove(fault)
            await self._walk_away(radio, fault.seconds)

    async def _walk_away(self, radio: CorruptingBLE, seconds: float) -> None:
        """Out of range: the link times out and the board is unreachable for ``seconds``."""
        for link in list(radio.links.values()):
            with contextlib.suppress(Exception):
                await link.connection.disconnect(hci.HCI_CONNECTION_TIMEOUT_ERROR)
        await asyncio.sleep(0.05)  # the central hears the link end
        self._set_reachable(False)
        until = self.sim_time_s + seconds
        while self.sim_time_s < until and self._samples_left() > 0:
            self.device.step()
            await self._pace()
        self._set_reachable(True)

    def _set_reachable(self, reachable: bool) -> None:
        self.air.set_in_range(self._bumble, reachable)
