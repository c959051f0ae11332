"""``--mpy``: the package compiled by mpy-cross, checked against the board's .mpy format."""

import pytest
from device_support import firmware_files, run_flash, running_board
from fake_board import Board
from fake_modules import MPY_ESP32
from fake_serial import FakeSerialPort

from hipdrop.device.sources import mpy_loadable
from hipdrop.errors import HipdropError


def test_a_fresh_board_gets_compiled_modules_it_can_import(board, port):
    board.boot()
    run_flash(port, mpy=True)
    files = board.files()
    package = [p for p in files if p.startswith("/lib/hipdrop_fw/")]
    assert package and all(p.endswith(".mpy") for p in package)
    expected = {p.removesuffix(".py") + ".mpy" for p in firmware_files() if p.startswith("/lib")}
    assert set(package) == expected
    assert files["/main.py"] == firmware_files()["/main.py"]  # MicroPython runs main.py only
    assert board.app_board == "m5stickc_plus2"  # every .mpy header passed the board's check


def test_switching_to_mpy_removes_the_sources_that_would_shadow_it(board, port):
    running_board(board)
    run_flash(port, mpy=True)
    assert not [p for p in board.files() if p.startswith("/lib/") and p.endswith(".py")]
    assert board.app_board == "m5stickc_plus2"


def test_a_board_reading_another_mpy_version_is_refused_untouched(tmp_path):
    old = Board(mpy=5 | (MPY_ESP32 & ~0xFF))  # MicroPython 1.12-1.18 read .mpy v5
    running_board(old)
    before = old.files()
    port = FakeSerialPort(old)
    try:
        with pytest.raises(HipdropError, match=r"--mpy: .*format 6, the board reads 5"):
            run_flash(port, mpy=True)
    finally:
        port.close()
    assert old.files() == before and old.mode == "app"


def test_loadable_headers():
    bytecode = b"M\x06\x00\x1f"  # no native code: any architecture, any sub-version
    native = bytes([ord("M"), 6, 10 << 2 | 3, 31])  # xtensawin, sub-version 3
    assert mpy_loadable(bytecode, MPY_ESP32) and mpy_loadable(native, MPY_ESP32)
    assert not mpy_loadable(native, 6 | (10 << 2 | 2) << 8)  # another sub-version
    assert not mpy_loadable(native, 6 | (9 << 2 | 3) << 8)  # xtensa (ESP8266)
    assert not mpy_loadable(b"M\x05\x00\x1f", MPY_ESP32)
