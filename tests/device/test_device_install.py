"""``--firmware-image``: the esptool commands, and the flash around them.

esptool itself never runs here: it needs an ESP32 in its ROM bootloader. What is tested is
the commands the flash builds (``install_commands``), that it runs them in order through the
``Tools.esptool`` boundary, and what it does before (refusal, what to write back) and after
(wait for MicroPython, write back, copy) against a fake board that ``FakeEsptool`` erases
and "installs".
"""

import sys

import pytest
from device_support import (
    FakeEsptool,
    esp32_image,
    firmware_files,
    quick_timeouts,
    run_flash,
    running_board,
)

from hipdrop.device import esptool_step
from hipdrop.device.flash import Tools
from hipdrop.errors import HipdropError


def test_the_commands_erase_then_write_at_0x1000(tmp_path):
    image = tmp_path / "ESP32_GENERIC-SPIRAM-20250415-v1.25.0.bin"
    erase, write = esptool_step.install_commands("/dev/ttyUSB0", image)
    base = [sys.executable, "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0"]
    assert erase == base + ["erase-flash"]
    assert write == base + ["--baud", "460800", "write-flash", "0x1000", str(image)]


def test_an_image_is_checked_before_anything_runs(tmp_path):
    assert esptool_step.check_image(esp32_image(tmp_path / "ok.bin")) == 1_600_000
    with pytest.raises(HipdropError, match="no firmware image at"):
        esptool_step.check_image(tmp_path / "missing.bin")
    app_only = tmp_path / "micropython.bin"  # the app alone (for 0x10000) has no table
    app_only.write_bytes(b"\xe9" + bytes(100_000))
    with pytest.raises(HipdropError, match="not a whole ESP32 firmware image"):
        esptool_step.check_image(app_only)


def test_a_failing_esptool_is_a_message():
    with pytest.raises(HipdropError, match=r"esptool failed \(exit status 2\).*erase-flash"):
        esptool_step.install([["python", "-m", "esptool", "erase-flash"]], lambda args: 2)


def test_a_new_board_gets_micropython_then_the_firmware(board, port, tmp_path):
    board.mode = "silent"  # the factory firmware: no MicroPython answers
    esptool = FakeEsptool(board)
    tools = Tools(board_fs=quick_timeouts, esptool=esptool, sleep=lambda s: None, settle_s=0)
    image = esp32_image(tmp_path / "ESP32_GENERIC-SPIRAM.bin")
    lines = run_flash(port, tools=tools, image=image)
    assert [c[-1] if "erase-flash" in c else c[-3:] for c in esptool.commands] == [
        "erase-flash",
        ["write-flash", "0x1000", str(image)],
    ]
    assert board.files() == firmware_files() | {"/boot.py": board.files()["/boot.py"]}
    assert board.app_board == "m5stickc_plus2"
    text = "\n".join(lines)
    assert "no MicroPython answered" in text and "erase-flash" in text and "0x1000" in text


def test_a_reinstall_writes_back_the_calibration_and_boot_counter(board, port, tmp_path):
    before = running_board(board)
    esptool = FakeEsptool(board)
    tools = Tools(esptool=esptool, sleep=lambda s: None, settle_s=0)
    lines = run_flash(port, tools=tools, image=esp32_image(tmp_path / "mp.bin"))
    files = board.files()
    assert files["/calibration"] == before["/calibration"]
    assert files["/boot_count"] == before["/boot_count"]
    assert "/crash.txt" not in files  # erased with the flash, not worth keeping
    assert len(esptool.commands) == 2 and board.app_board == "m5stickc_plus2"
    assert "write back after the install: /boot_count (2 B), /calibration (10 B)" in lines


def test_unsynced_logs_refuse_before_esptool_runs_and_force_erases_them(board, port, tmp_path):
    before = running_board(board, logs=1)
    esptool = FakeEsptool(board)
    tools = Tools(esptool=esptool, sleep=lambda s: None, settle_s=0)
    image = esp32_image(tmp_path / "mp.bin")
    with pytest.raises(HipdropError, match="this flash erases them"):
        run_flash(port, tools=tools, image=image)
    assert esptool.commands == [] and board.files() == before
    lines = run_flash(port, tools=tools, image=image, force=True)
    assert not [p for p in board.files() if p.startswith("/log/")]
    assert "LOST: 1 unsynced log(s), erased with the flash (--force)" in lines


def test_an_esptool_failure_says_what_the_erase_may_have_taken(board, port, tmp_path):
    running_board(board)
    tools = Tools(esptool=lambda args: 1, sleep=lambda s: None, settle_s=0)
    with pytest.raises(HipdropError, match=r"esptool failed .* /boot_count = b'41'"):
        run_flash(port, tools=tools, image=esp32_image(tmp_path / "mp.bin"))


def test_mpy_files_the_new_micropython_cannot_read_still_get_the_calibration_back(
    board, port, tmp_path
):
    before = running_board(board)
    esptool = FakeEsptool(board, mpy=5)
    tools = Tools(esptool=esptool, sleep=lambda s: None, settle_s=0)
    with pytest.raises(HipdropError, match="--mpy: "):
        run_flash(port, tools=tools, image=esp32_image(tmp_path / "mp.bin"), mpy=True)
    assert board.files()["/calibration"] == before["/calibration"]
    assert board.files()["/boot_count"] == before["/boot_count"]


def test_a_dry_run_with_an_image_runs_no_esptool(board, port, tmp_path):
    board.boot()
    esptool = FakeEsptool(board)
    tools = Tools(esptool=esptool, sleep=lambda s: None, settle_s=0)
    lines = run_flash(port, tools=tools, image=esp32_image(tmp_path / "mp.bin"), dry_run=True)
    assert esptool.commands == [] and board.files() == {}
    assert any("write-flash 0x1000" in line for line in lines)


def test_micropython_that_never_answers_after_the_install_is_an_error(board, port, tmp_path):
    board.boot()

    def esptool_that_bricks(args):
        board.mode = "silent"
        return 0

    tools = Tools(board_fs=quick_timeouts, esptool=esptool_that_bricks, sleep=lambda s: None,
                  settle_s=0, attempts=2)  # fmt: skip
    with pytest.raises(HipdropError, match="MicroPython did not answer after the install"):
        run_flash(port, tools=tools, image=esp32_image(tmp_path / "mp.bin"))
