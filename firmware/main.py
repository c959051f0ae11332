"""hipdrop on the board: build the hardware adapters, run the app, reboot on a crash.

MicroPython runs this file after boot. The board profile is named in ``board.txt`` on the
flash (default ``m5stickc_plus2``); the App keeps the boot counter (``boot_count``, protocol
§3), the calibration and the flash log on the filesystem passed as ``flashlog.OsFs``; the
board's RTC (``rtc.for_board``: the BM8563 on the IMU's bus, or ``machine.RTC``) dates logs.
An exception is appended to ``crash.txt`` and the board resets; the watchdog resets it if
the loop stalls. Ctrl-C (KeyboardInterrupt) still stops it for ``mpremote``, but the watchdog,
once started, cannot be stopped: while ``hold.txt`` exists the app (and its watchdog) does not
start, which is how ``hipdrop device flash`` keeps the board still while it copies files.
"""

import gc
import os
import sys
import time

import bluetooth
import machine

from hipdrop_fw import app, battery, boards, button, flashlog, outputs, rtc

_BOARD_FILE = "board.txt"
_CRASH_FILE = "crash.txt"
_HOLD_FILE = "hold.txt"  # the same name as host/hipdrop/device/layout.py HOLD_FILE
_DEFAULT_BOARD = "m5stickc_plus2"
_POLL_MS = 20
_WATCHDOG_MS = 8000


def _read(path, default):
    try:
        with open(path) as f:
            return f.read().strip() or default
    except OSError:
        return default


def _held():
    try:
        os.stat(_HOLD_FILE)
        return True
    except OSError:
        return False


def run():
    profile = boards.load(_read(_BOARD_FILE, _DEFAULT_BOARD))
    if profile.POWER_HOLD_PIN is not None:  # keeps a battery board switched on
        machine.Pin(profile.POWER_HOLD_PIN, machine.Pin.OUT, value=1)
    pin = machine.Pin
    i2c = machine.I2C(profile.I2C_ID, scl=pin(profile.I2C_SCL), sda=pin(profile.I2C_SDA),
                      freq=profile.I2C_FREQ)  # fmt: skip
    gc.collect()
    device = app.App(profile, i2c, bluetooth.BLE(), time, bluetooth.UUID,
                     outputs=outputs.for_board(profile, machine),
                     battery=battery.for_board(profile, machine),
                     button=button.for_board(profile, machine),
                     rtc=rtc.for_board(profile, i2c, machine),
                     power_off=battery.power_off_for(profile, machine),
                     fs=flashlog.OsFs(os, open))  # fmt: skip
    watchdog = machine.WDT(timeout=_WATCHDOG_MS)
    while True:
        device.poll()
        watchdog.feed()
        time.sleep_ms(_POLL_MS)


def main():
    if _held():
        print("hipdrop: not starting: hold.txt (hipdrop device flash is updating the board)")
        return
    try:
        run()
    except Exception as e:  # noqa: BLE001 (log anything, then reboot into a known state)
        try:
            with open(_CRASH_FILE, "a") as f:
                sys.print_exception(e, f)
        except OSError:
            pass
        time.sleep_ms(1000)
        machine.reset()


main()
