"""MicroPython entry (tests/mpy/run.mjs): hipdrop_fw.ble on a real MicroPython interpreter.

The WebAssembly port has no ``bluetooth`` module, so a stand-in radio (mpy_radio.py) records calls.
Prints ``ok NAME`` or ``FAIL NAME: error`` per check, then ``DONE``; raises if any failed.
"""

import micropython
import mpy_report
from mpy_radio import MAC, StandInRadio

from hipdrop_fw import adv, ble
from hipdrop_fw import protocol as p


def _uuid(value):
    return value  # stands in for bluetooth.UUID


def _started():
    radio = StandInRadio()
    dev = ble.Peripheral(
        radio, _uuid, {}, model="m5stickc-plus2", fw_version=(0, 1, 2), clock_ms=lambda: 0
    )
    dev.start()
    return radio, dev


def check_payloads():
    radio, dev = _started()
    want_adv = b"\x02\x01\x06\x11\x07" + bytes(
        reversed(bytes.fromhex(p.SERVICE_UUID.replace("-", "")))
    )
    assert radio.adv == want_adv, radio.adv
    want_resp = b"\x0d\x09hipdrop-ABCD\x08\xff\xff\xff\x01\xff\x00\x01\x02"
    assert radio.resp == want_resp, radio.resp
    assert adv.firmware_revision((0, 1, 2)) == "0.1.2/p1"


def check_irq_allocates_nothing():
    radio, dev = _started()
    irq = radio.handler  # the bound method the stack holds
    addr = memoryview(b"\xc0\xff\xee\x00\x00\x01")
    events = (
        (1, (0, 1, addr)),
        (21, (0, 247)),
        (28, (0, True, False, True, 16)),
        (3, (0, dev._h_control)),
        (20, (0, dev._h_control, 0)),
        (1, (1, 1, addr)),
        (2, (1, 1, addr)),
        (99, ()),
    )
    micropython.heap_lock()
    try:
        for event, data in events:
            irq(event, data)
    finally:
        micropython.heap_unlock()
    assert dev.connected and dev.mtu == 247 and dev.bonded
    assert dev._writes == 1 and dev._indications_done == 1 and dev._reject == 1


def check_notify_stream_allocates_nothing():
    radio, dev = _started()
    radio.handler(1, (0, 1, memoryview(MAC)))
    radio.handler(21, (0, 247))
    dev.poll()
    mv = memoryview(bytearray(244))
    micropython.heap_lock()
    try:
        for _ in range(20):
            ok = dev.notify_stream(mv)
    finally:
        micropython.heap_unlock()
    assert ok and radio.notified == 20 and dev.stream_sent == 20


def check_poll_answers_a_command():
    radio, dev = _started()
    radio.handler(1, (0, 1, memoryview(MAC)))
    radio.handler(3, (0, dev._h_control))
    dev.poll()  # gatts_read gives STOP with no handler: UNKNOWN_OP
    assert bytes(dev._slots[0][: dev._slot_len[0]]) == b"\x82\x01\x01"


mpy_report.run_checks(mpy_report.named_checks(globals()), "BLE")
