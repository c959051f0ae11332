"""The device application: IMU -> tilt -> ring buffer -> BLE, and the control point.

Hardware comes in as arguments (``App(profile, i2c, ble, clock, bluetooth.UUID)``), so the
same class runs on the ESP32 (``firmware/main.py``), in the host's virtual sensor
(``hipdrop.vsensor.app_device``, with the chip model as the bus, the fake radio and a fake
clock) and, for its pure parts, on the MicroPython WebAssembly port.

``clock`` has ``ticks_us()``, ``ticks_ms()``, ``ticks_diff(a, b)`` and ``sleep_ms(ms)``: on
the device the ``time`` module itself. ``outputs`` has ``pattern(name, repeat)`` (LED,
buzzer or vibration motor); names are ``"identify"`` (repeat = seconds, 0 stops), ``"off"``
and the ``CUE_PATTERNS``; and ``poll(ticks_ms)``, called every main-loop step to advance the
pattern without sleeping (``outputs.Outputs`` on the board).

Main loop: ``poll()`` every 20-50 ms. Each poll reads the IMU FIFO (every sample goes through
the tilt filter into the sample array and into the ring buffer; each full packet is notified
while a central is connected and streaming), serves BLE events and commands, sends up to
``backfill_per_poll`` backfill packets, finishes a running calibration and refreshes the
status. A packet the stack refuses (ENOMEM) is not retried live: the ring buffer holds it
for ``BACKFILL``. Samples refused while streaming that leave the ring buffer before a
backfill asked for them count as dropped in the status.

Persistence (``fs``, a ``flashlog`` filesystem adapter: ``flashlog.OsFs(os, open)`` on the
board): the boot counter and the calibration live in their own files and the untethered log
and ``LOG_LIST``/``LOG_READ``/``LOG_ERASE`` are served by ``logging_service.LogService``.
Every packet finished while not streaming goes to the flash log (a log starts when one
arrives with no central connected; ``START`` closes it). Without ``fs`` the ``LOG_*`` ops
answer ``UNKNOWN_OP`` and nothing persists. A log's start time is ``rtc.WallClock``'s: the
last ``TIME_SYNC``, else the board's RTC (``rtc``) as read at boot, else 0; every
``TIME_SYNC`` also sets the RTC.

Battery (``battery``, a ``battery.Battery``): read with every status refresh (250 ms); the
status carries its voltage, percent and low bit and the peripheral sets the Battery Level
characteristic. When it turns low the app flushes and closes the flash log, stops streaming,
refuses ``START`` with ``BATTERY_LOW``, starts no new log and reports fault ``BATTERY_LOW``
(protocol §4) until the battery recovers (its hysteresis).

Button (``button``, a ``button.Button`` polled every step): a short press closes the open
log and pauses untethered logging (cue ``"falling"``), or, with no log open, resumes it and
starts a log with the next packet even while a central is connected but not streaming (cue
``"rising"``; ``"long"`` if logging is impossible: streaming, low battery, no filesystem). A
long press (2 s) starts a ``BUTTON_CAL_S`` calibration (stand still): cue ``"double"`` when it
succeeds, ``"long"`` when it fails or cannot start; no indication is sent.
"""

import struct

from hipdrop_fw import ble as ble_mod
from hipdrop_fw import bonds, logging_service, packet, ringbuf, sampler, tilt
from hipdrop_fw import button as button_mod
from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const
from hipdrop_fw.imu import mpu6886
from hipdrop_fw.outputs import NullOutputs
from hipdrop_fw.rtc import WallClock

FW_VERSION = (0, 1, 0)
DEFAULT_RATE_CODE = const(3)  # 200 Hz
DEFAULT_FS_CODE = const(0x23)  # ±16 g, ±1000 deg/s
CUE_PATTERNS = ("short", "double", "long", "rising", "falling")  # CUE pattern 1-5
RING_RESERVE = 64 * 1024
"""Heap kept free beside the ring buffer (docs/firmware.md: 384 KB on a PSRAM build)."""
_MASK32 = 0xFFFFFFFF
_BACKFILL_QUEUE = const(4)
_UNSENT_RANGES = const(8)
_STATUS_EVERY_MS = const(250)
_RELOG_MS = const(1000)  # samples possibly still in the radio's buffers when a link drops
_DRIVERS = ("mpu6886", "mpu6050", "mpu6500")
_RECORD_FMT = "<8h"
BUTTON_CAL_S = const(3)
_NO_TOKEN = const(-1)


def _heap_free():
    import gc

    gc.collect()
    return gc.mem_free()


class App:
    """The hipdrop device: see the module docstring.

    ``profile`` a board profile module (``boards.load``); ``i2c`` the IMU's bus; ``ble`` a
    ``bluetooth.BLE``; ``bluetooth_uuid`` the ``bluetooth.UUID`` class; ``fs`` the filesystem
    adapter for persistence (None: nothing persists); ``boot`` the boot counter (None: the
    persisted one + 1, or 0 without ``fs``; given with ``fs`` it is persisted);
    ``ring_capacity`` samples kept for backfill (default: sized from the free heap
    with ``ringbuf.capacity_for_heap(gc.mem_free(), ring_reserve)``); ``mtu`` the MTU offered;
    ``rtc`` the board's clock (``rtc.for_board``; None: log dates only after a ``TIME_SYNC``);
    ``power_off`` switches the board off when the battery is empty (``battery.power_off_for``).
    """

    def __init__(self, profile, i2c, ble, clock, bluetooth_uuid, *, outputs=None, boot=None,
                 fs=None, fw_version=FW_VERSION, ring_capacity=None, ring_reserve=RING_RESERVE,
                 mtu=247, backfill_per_poll=4, battery=None,
                 button=None, rtc=None, power_off=None):  # fmt: skip
        self.profile = profile
        self.clock = clock
        self.outputs = outputs if outputs is not None else NullOutputs()
        self.battery = battery
        self.button = button
        self.logging_enabled = True  # the button pauses untethered logging
        self.log_requested = False  # the button asked for a log while connected
        self.battery_low = False
        self._battery_mv = 0
        self._battery_pct = p.BATTERY_PCT_UNKNOWN
        if fs is not None:
            boot = logging_service.next_boot(fs, boot)
        boot = boot or 0
        self.boot = boot
        self.backfill_per_poll = backfill_per_poll
        self.imu = mpu6886.Mpu6886(i2c, profile.IMU_ADDR, profile.AXES, clock.sleep_ms)
        self.tilt = tilt.Tilt(200, 16, 1000)
        self.calibrated = False
        self.streaming = False
        self.time_sync = None  # (unix_ms, ticks_ms) of the last TIME_SYNC
        self.power_off = power_off
        self.wall = WallClock(clock, rtc)  # the logs' start times: TIME_SYNC, else the RTC
        self.ring_lost = 0  # refused live samples that left the ring before a backfill
        self.backfill_lost = 0  # promised backfill samples overwritten before they were sent
        self._unsent = []  # [first, end) sample ranges refused while streaming
        self._backfills = []  # [token-free] [next_seq, end_seq) ranges still to send
        self._record = bytearray(16)  # one packet record, for the ring buffer
        self._cal = None
        self._cal_token = 0
        self._cal_done = False
        self._status_at = clock.ticks_ms()
        self._temp_cdeg = p.TEMPERATURE_UNKNOWN
        handlers = self._handlers()
        self.peripheral = ble_mod.Peripheral(
            ble, bluetooth_uuid, handlers, model=profile.NAME, fw_version=fw_version,
            boot=boot, on_link=self._on_link, mtu=mtu, clock_ms=clock.ticks_ms,
            bonds=None if fs is None else bonds.BondStore(fs),
        )  # fmt: skip
        self.logs = None
        if fs is not None:
            self.logs = logging_service.LogService(fs, profile.NAME, self.peripheral)
            handlers.update(self.logs.handlers())
        payload = mtu - p.ATT_OVERHEAD
        self._bf_packer = packet.SamplePacker(payload)
        self.sampler = sampler.Sampler(self.imu, clock.ticks_us, packet.SamplePacker(payload),
                                       self._sink, boot, self._on_sample)  # fmt: skip
        self.fault = self._boot_imu()
        self._load_calibration()
        if ring_capacity is None:
            ring_capacity = ringbuf.capacity_for_heap(_heap_free(), ring_reserve)
        self.ring = ringbuf.RingBuffer(max(ring_capacity, 1))
        self.peripheral.start()
        if self.fault == p.FAULT_NONE:
            self.sampler.start()
        self._read_battery()
        self._refresh_status()

    # -- boot and configuration --------------------------------------------------------

    def _boot_imu(self):
        """Probe and self-test the IMU, then configure the default rate; a FAULT_* code."""
        if self.profile.IMU_PART not in _DRIVERS:
            return p.FAULT_IMU_MISSING
        fault = self.imu.self_test()
        if fault == p.FAULT_IMU_MISSING:
            return fault
        self._configure(DEFAULT_RATE_CODE, DEFAULT_FS_CODE)
        return fault

    def _load_calibration(self):
        cal = self.logs.load_calibration() if self.logs is not None else None
        if cal is not None:
            self.tilt.set_calibration(*cal)
            self.calibrated = True
            self.sampler.flags = self.tilt.flags

    def _configure(self, rate_code, fs_code):
        imu = self.imu
        imu.configure(rate_code, fs_code)
        self.tilt.set_scale(imu.rate_hz, p.ACC_FS_G[fs_code & 3], p.GYR_FS_DPS[(fs_code >> 4) & 3])
        self.sampler.flags = self.tilt.flags

    # -- the sampling path ---------------------------------------------------------------

    def _on_sample(self, rec):
        """Per-sample hook: tilt into the record, calibration, ring buffer."""
        t = self.tilt
        t.update(rec[0], rec[1], rec[2], rec[3], rec[4], rec[5])
        rec[6] = t.roll_cdeg
        rec[7] = t.pitch_cdeg
        self.sampler.flags = t.flags
        cal = self._cal
        if cal is not None and not self._cal_done:
            self._cal_done = cal.add(rec[0], rec[1], rec[2], rec[3], rec[4], rec[5])
        s = self.sampler
        r = self._record
        struct.pack_into(_RECORD_FMT, r, 0, rec[0], rec[1], rec[2], rec[3], rec[4], rec[5],
                         rec[6], rec[7])  # fmt: skip
        self.ring.push(r, s.seq, s.t_us)

    def _sink(self, pkt):
        """A full live packet: notify it while streaming (a refusal leaves it to backfill),
        else log it."""
        if not self.streaming:
            if self.logs is not None and self.logging_enabled and not self.battery_low:
                imu = self.imu
                connected = self.peripheral.connected and not self.log_requested
                self.logs.on_packet(pkt, connected, self.boot, self.wall.unix_s,
                                    imu.rate_code, imu.fs_code)  # fmt: skip
            return
        if self.peripheral.notify_stream(pkt):
            return
        end = self.sampler.seq
        first = end - pkt[14]
        u = self._unsent
        if u and u[-1][1] == first:
            u[-1][1] = end
        elif len(u) < _UNSENT_RANGES:
            u.append([first, end])
        else:
            u[-1][1] = end  # merge: over-counts nothing that is still held

    # -- main loop ---------------------------------------------------------------------

    def poll(self):
        """One main-loop step; call every 20-50 ms."""
        if self.fault != p.FAULT_IMU_MISSING:
            self.sampler.poll()
        self.peripheral.poll()
        self._pump_backfill()
        if self.logs is not None:
            self.logs.pump()
        if self._cal_done:
            self._finish_calibration()
        now = self.clock.ticks_ms()
        if self.button is not None:
            event = self.button.poll(now)
            if event == button_mod.SHORT:
                self._toggle_logging()
            elif event == button_mod.LONG:
                self._button_calibrate()
        self.outputs.poll(now)
        if self.clock.ticks_diff(now, self._status_at) >= _STATUS_EVERY_MS:
            self._status_at = now
            self._read_battery()
            self._account_unsent()
            self._refresh_status()

    def samples_dropped(self):
        """Samples lost on the device since boot (status §4)."""
        return self.sampler.dropped + self.ring_lost + self.backfill_lost

    def _account_unsent(self):
        """Refused samples that left the ring buffer are lost."""
        if not self._unsent:
            return
        held = self.ring.span()[0] if self.ring.count else self.sampler.seq
        while self._unsent and self._unsent[0][0] < held:
            first, end = self._unsent[0]
            if end <= held:
                self.ring_lost += end - first
                self._unsent.pop(0)
            else:
                self.ring_lost += held - first
                self._unsent[0][0] = held

    # -- the button --------------------------------------------------------------------

    def _toggle_logging(self):
        logs = self.logs
        if logs is not None and logs.log.logging:
            if not self.streaming:
                self.sampler.flush()  # the partial packet into the log
            logs.close()
            self.logging_enabled = False
            self.log_requested = False
            self.outputs.pattern("falling", 1)
        elif logs is None or self.streaming or self.battery_low:
            self.outputs.pattern("long", 1)
        else:
            self.logging_enabled = True
            self.log_requested = True
            self.outputs.pattern("rising", 1)
        self._refresh_status()

    def _button_calibrate(self):
        if self._calibrate(_NO_TOKEN, (BUTTON_CAL_S,)) is not None:
            self.outputs.pattern("long", 1)  # IMU fault or busy

    def _read_battery(self):
        """Take a battery reading; on turning low protect the data (module docstring)."""
        b = self.battery
        if b is None:
            return
        self._battery_mv, self._battery_pct = b.read()
        if b.low and not self.battery_low:
            self.battery_low = True
            if self.logs is not None and self.logs.log.logging:
                if not self.streaming:
                    self.sampler.flush()  # the partial packet into the log
                self.logs.close()
            self.streaming = False
        elif not b.low:
            self.battery_low = False
        if b.empty and self.power_off is not None:
            self.peripheral.save_bonds()  # the log closed when the battery turned low
            self.power_off()

    def _refresh_status(self):
        state = 0
        if self.battery_low:
            state |= p.STATE_BATTERY_LOW
        if self.logs is not None and self.logs.log.logging:
            state |= p.STATE_LOGGING
        if self.streaming:
            state |= p.STATE_STREAMING
        if self.calibrated:
            state |= p.STATE_CALIBRATED
        if self.tilt.still:
            state |= p.STATE_STILL
        if self.fault != p.FAULT_IMU_MISSING:
            try:
                self._temp_cdeg = int(self.imu.temperature_c() * 100)
            except OSError:
                self._temp_cdeg = p.TEMPERATURE_UNKNOWN
        fault, fill = self.fault, 0
        if fault == p.FAULT_NONE and self.battery_low:
            fault = p.FAULT_BATTERY_LOW
        if self.logs is not None:
            fill = self.logs.fill_permille()
            if fault == p.FAULT_NONE:
                fault = self.logs.fault()
        self.peripheral.set_status(
            battery_mv=self._battery_mv,
            battery_pct=self._battery_pct,
            state=state,
            temperature_cdeg_c=self._temp_cdeg,
            log_fill_permille=fill,
            samples_dropped=self.samples_dropped(),
            fault=fault,
        )

    def _on_link(self, connected, mtu, bonded):
        if not connected:
            if self.streaming:
                self._relog_recent()
            self.streaming = False
            self._backfills = []
            if self.logs is not None:
                self.logs.link_down()
            self._account_unsent()
            self._refresh_status()

    def _relog_recent(self):
        """The link dropped while streaming: the packets last handed to the radio may have
        died in its buffers, and the host cannot backfill them once the ring moves on. Log
        the last ``_RELOG_MS`` of samples from the ring, so the flash log covers them too
        (the host drops what it already has)."""
        logs, imu = self.logs, self.imu
        if logs is None or not self.logging_enabled or self.battery_low or not self.ring.count:
            return
        first, end = self.ring.span()
        first = max(first, end - imu.rate_hz * _RELOG_MS // 1000) & _MASK32
        for pkt in self.ring.packets(self._bf_packer, first, end, self.boot,
                                     imu.rate_code, imu.fs_code):  # fmt: skip
            logs.on_packet(pkt, False, self.boot, self.wall.unix_s, imu.rate_code, imu.fs_code)

    # -- backfill ----------------------------------------------------------------------

    def _pump_backfill(self):
        """Send up to ``backfill_per_poll`` type-0x02 packets of the queued ranges.

        A fresh ``ring.packets`` generator per poll: new samples move the ring's indices.
        """
        budget = self.backfill_per_poll
        imu = self.imu
        while self._backfills and budget:
            rng = self._backfills[0]
            sent = False
            for pkt in self.ring.packets(self._bf_packer, rng[0], rng[1], self.boot,
                                         imu.rate_code, imu.fs_code):  # fmt: skip
                if not self.peripheral.notify_stream(pkt):
                    return
                seq = pkt[4] | pkt[5] << 8 | pkt[6] << 16 | pkt[7] << 24
                self.backfill_lost += (seq - rng[0]) & _MASK32  # overwritten before sending
                rng[0] = (seq + pkt[14]) & _MASK32
                budget -= 1
                sent = True
                break
            if not sent or rng[0] == rng[1]:
                if not sent:
                    self.backfill_lost += (rng[1] - rng[0]) & _MASK32
                self._backfills.pop(0)

    def _backfill(self, token, args):
        boot, from_seq, to_seq = args
        if boot != self.boot:
            return p.RESULT_RANGE_UNAVAILABLE
        result, first, end = self.ring.request(from_seq, to_seq)
        if result == p.RESULT_RANGE_UNAVAILABLE:
            return result
        if len(self._backfills) >= _BACKFILL_QUEUE:
            return p.RESULT_BUSY
        self._backfills.append([first, end])
        self._forget_unsent(first, end)
        return result, (first, end)

    def _forget_unsent(self, first, end):
        """A backfill now covers [first, end): those refused samples are no longer at risk."""
        kept = []
        for a, b in self._unsent:
            if a < first:
                kept.append([a, min(b, first)])
            if b > end:
                kept.append([max(a, end), b])
        self._unsent = kept

    # -- control point handlers --------------------------------------------------------

    def _handlers(self):
        return {
            p.OP_START: self._start,
            p.OP_STOP: self._stop,
            p.OP_SET_RATE: self._set_rate,
            p.OP_CALIBRATE: self._calibrate,
            p.OP_BACKFILL: self._backfill,
            p.OP_TIME_SYNC: self._time_sync,
            p.OP_IDENTIFY: self._identify,
            p.OP_CUE: self._cue,
        }

    def _start(self, token, args):
        if self.fault == p.FAULT_IMU_MISSING:
            return p.RESULT_IMU_FAULT
        if self.battery_low:
            return p.RESULT_BATTERY_LOW
        self.log_requested = False
        payload = self.peripheral.payload_max
        if self.sampler.packer.capacity != p.samples_per_packet(payload + p.ATT_OVERHEAD):
            self.sampler.flush()  # not streaming yet: the ring buffer holds those samples
            self.sampler.packer = packet.SamplePacker(payload)
            self._bf_packer = packet.SamplePacker(payload)
        if not self.streaming and self.logs is not None and self.logs.log.logging:
            self.sampler.flush()  # the log keeps every sample before the stream
            self.logs.close()
        self.streaming = True
        self._refresh_status()
        return p.RESULT_OK

    def _stop(self, token, args):
        self.streaming = False
        self._refresh_status()
        return p.RESULT_OK

    def _set_rate(self, token, args):
        if self.fault == p.FAULT_IMU_MISSING:
            return p.RESULT_IMU_FAULT
        if self._cal is not None:
            return p.RESULT_BUSY
        rate_code, fs_code = args
        if fs_code == p.FS_KEEP:
            fs_code = self.imu.fs_code
        s = self.sampler
        s.poll()
        s.flush()
        self._configure(rate_code, fs_code)
        self.ring.clear()  # it holds one rate
        self._backfills = []
        self._account_unsent()
        s.start(s.seq)
        return p.RESULT_OK

    def _calibrate(self, token, args):
        if self.fault == p.FAULT_IMU_MISSING:
            return p.RESULT_IMU_FAULT
        if self._cal is not None:
            return p.RESULT_BUSY
        fs = self.imu.fs_code
        cal = tilt.Calibrator(p.ACC_FS_G[fs & 3], p.GYR_FS_DPS[(fs >> 4) & 3])
        cal.start(args[0] * self.imu.rate_hz)
        self._cal_token = token
        self._cal_done = False
        self._cal = cal
        return None  # answered by _finish_calibration

    def _finish_calibration(self):
        cal, self._cal, self._cal_done = self._cal, None, False
        if cal is None:
            return
        result = cal.finish(self.tilt)
        payload = ()
        if result == p.RESULT_OK:
            self.calibrated = True
            self.sampler.flags = self.tilt.flags
            payload = self.tilt.calibration()
            if self.logs is not None:
                self.logs.save_calibration(payload)
        if self._cal_token == _NO_TOKEN:  # the button: answer with a cue
            self.outputs.pattern("double" if result == p.RESULT_OK else "long", 1)
        else:
            self.peripheral.respond(p.OP_CALIBRATE, self._cal_token, result, payload)
        self._refresh_status()

    def _time_sync(self, token, args):
        self.time_sync = (args[0], self.clock.ticks_ms())
        self.wall.sync(*self.time_sync)  # and sets the RTC
        return p.RESULT_OK, (self.boot, self.clock.ticks_us() & sampler.TICKS_MASK)

    def _identify(self, token, args):
        self.outputs.pattern("identify" if args[0] else "off", args[0])
        return p.RESULT_OK

    def _cue(self, token, args):
        pattern, repeat = args
        self.outputs.pattern(CUE_PATTERNS[pattern - 1], repeat or 1)
        return p.RESULT_OK
