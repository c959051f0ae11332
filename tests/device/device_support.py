"""Helpers for the deploy tests: run the flash against the fake port, a fake esptool, a
stand-in MicroPython image.

esptool cannot run here (it needs a chip in its ROM bootloader): ``FakeEsptool`` stands at
that boundary (``Tools.esptool``) and does to the fake board what the real commands do to a
real one.
"""

from hipdrop.device.board_fs import BoardFs
from hipdrop.device.flash import Request, Tools, flash
from hipdrop.device.sources import firmware_sources
from hipdrop.vsensor.firmware import firmware_dir

FIRMWARE = firmware_dir()
NO_WAIT = Tools(sleep=lambda s: None, settle_s=0)


def run_flash(port, board="m5stickc_plus2", tools=NO_WAIT, lines=None, **options):
    """Flash through the fake port; the printed lines (also appended to ``lines``); waits
    until the board has settled."""
    lines = [] if lines is None else lines
    try:
        flash(Request(board, port.path, **options), tools, out=lines.append)
    finally:
        port.wait_idle()
    return lines


def quick_timeouts(port_path):
    return BoardFs(port_path, timeout_s=3.0, bytes_per_s=1e9)


class FakeEsptool:
    """esptool at its boundary: records the commands; ``erase-flash`` wipes the fake board,
    ``write-flash`` installs MicroPython (its first boot writes ``/boot.py``, as the ESP32
    port's does) and resets it."""

    def __init__(self, board, status=0, mpy=None):
        self.board = board
        self.status = status
        self.mpy = mpy  # the .mpy format of the MicroPython installed (None: as before)
        self.commands = []

    def __call__(self, args):
        self.commands.append(args)
        with self.board.lock:
            if "erase-flash" in args:
                self.board.flash.live.clear()
                self.board.flash.dirs = {""}
                self.board.mode = "silent"
            elif "write-flash" in args:
                self.board.mpy = self.mpy or self.board.mpy
                self.board.put("/boot.py", "# This file is executed on every boot\n")
                self.board.boot()
        return self.status


def esp32_image(path, size=1_600_000):
    """A stand-in MicroPython image: the bootloader's 0xE9 and the partition table's AA 50."""
    data = bytearray(size)
    data[0] = 0xE9
    data[0x7000:0x7002] = b"\xaa\x50"
    path.write_bytes(bytes(data))
    return path


CALIBRATION = bytes(range(10))


def firmware_files(board="m5stickc_plus2"):
    files = {s.remote: s.local.read_bytes() for s in firmware_sources(FIRMWARE, board)}
    return files | {"/board.txt": board.encode()}


def running_board(board, profile="m5stickc_plus2", logs=0):
    """``board`` flashed earlier, with a calibration, a boot count, a crash log and ``logs``
    unsynced logs, booted: its app runs (watchdog armed)."""
    for path, data in firmware_files(profile).items():
        board.put(path, data)
    board.put("/calibration", CALIBRATION)
    board.put("/boot_count", "41")
    board.put("/crash.txt", "Traceback ...\n")
    board.flash.mkdir("/log")
    for i in range(logs):
        board.put(f"/log/{i + 1:05d}.hdl", b"HDLG" * 100)
    board.boot()
    assert board.mode == "app" and board.watchdog_left is not None
    return dict(board.files())
