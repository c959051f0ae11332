"""MicroPython entry (tests/mpy/run.mjs): hipdrop_fw.app on a real MicroPython interpreter.

The WebAssembly port has no ``bluetooth`` or ``machine``: a stand-in radio records
notifications and the I2C bus answers nothing (the app boots with ``IMU_MISSING``); samples
are fed to the app's per-sample hook directly. Prints ``ok NAME`` or ``FAIL NAME: error``
per check, then ``DONE``; raises if any failed.
"""

import gc
import time
from array import array

import micropython
import mpy_report
from mpy_radio import StandInRadio

from hipdrop_fw import app, boards
from hipdrop_fw import protocol as p

BOOT = 9


class Radio(StandInRadio):
    """The stand-in radio, keeping every stream notification."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def gatts_notify(self, conn, handle, data=None):
        if data is not None:
            self.sent.append(bytes(data))


class NoBus:
    """An I2C bus with nothing on it: every access raises ENODEV."""

    def readfrom_mem_into(self, addr, reg, buf):
        raise OSError(19)

    def writeto_mem(self, addr, reg, buf):
        raise OSError(19)


class Clock:
    ticks_us = staticmethod(time.ticks_us)
    ticks_ms = staticmethod(time.ticks_ms)
    ticks_diff = staticmethod(time.ticks_diff)

    @staticmethod
    def sleep_ms(ms):
        pass


def _app(**kwargs):
    radio = Radio()
    profile = boards.load("m5stickc_plus2")
    a = app.App(profile, NoBus(), radio, Clock, lambda u: u, boot=BOOT, **kwargs)
    return radio, a


def _connect(radio, a):
    addr = memoryview(b"\xc0\xff\xee\x00\x00\x01")
    radio.handler(1, (0, 1, addr))
    radio.handler(21, (0, 247))
    a.poll()


def _feed(a, n):
    rec = array("h", [0, 0, 2048, 0, 0, 0, 0, 0])  # still, 1 g on z at ±16 g
    for _ in range(n):
        a._on_sample(rec)
        a.sampler.seq += 1
        a.sampler.t_us = (a.sampler.t_us + 5000) & 0x3FFFFFFF
    return rec


def check_boot_without_imu_advertises_with_the_fault():
    radio, a = _app(ring_capacity=100)
    assert a.fault == p.FAULT_IMU_MISSING and radio.adv is not None
    assert a._start(1, ()) == p.RESULT_IMU_FAULT
    assert a.peripheral.status_bytes()[14] == p.FAULT_IMU_MISSING


def check_ring_sized_from_the_heap():
    gc.collect()
    _, a = _app(ring_reserve=gc.mem_free() - 24 * 300)
    assert 1 <= a.ring.capacity <= 300, a.ring.capacity


def check_sample_hook_allocates_nothing_between_tilt_steps():
    _, a = _app(ring_capacity=100)
    rec = _feed(a, 4 * 50)
    micropython.heap_lock()
    try:
        for _ in range(3):  # the 4th sample would run the float step
            a._on_sample(rec)
    finally:
        micropython.heap_unlock()
    assert a.ring.count == 100


def check_backfill_streams_the_ring():
    radio, a = _app(ring_capacity=100)
    _connect(radio, a)
    _feed(a, 150)
    assert a._backfill(1, (BOOT, 0, 60)) == (p.RESULT_PARTIAL, (50, 60))
    assert a._backfill(2, (BOOT, 60, 110)) == (p.RESULT_OK, (60, 110))
    assert a._backfill(3, (BOOT + 1, 0, 10)) == p.RESULT_RANGE_UNAVAILABLE
    for _ in range(4):
        a._pump_backfill()
    seqs = [int.from_bytes(pkt[4:8], "little") for pkt in radio.sent]
    assert seqs == [50, 60, 74, 88, 102], seqs
    assert all(pkt[1] == p.TYPE_BACKFILL for pkt in radio.sent)
    assert a.samples_dropped() == 0


def check_time_sync_and_cue():
    radio, a = _app(ring_capacity=10)
    result, (boot, ticks) = a._time_sync(1, (1_700_000_000_000,))
    assert result == p.RESULT_OK and boot == BOOT and 0 <= ticks < 2**30
    assert a._cue(2, (5, 0)) == p.RESULT_OK
    assert a.outputs.log == [("falling", 1)]


mpy_report.run_checks(mpy_report.named_checks(globals()), "app")
