"""``hipdrop device flash`` end to end: real mpremote, a fake board on a pty."""

import pytest
from device_support import FIRMWARE, firmware_files, quick_timeouts, run_flash, running_board
from fake_serial import FakeSerialPort

from hipdrop.device.board_fs import BoardFs
from hipdrop.device.flash import Tools
from hipdrop.errors import HipdropError


def test_a_fresh_board_gets_exactly_the_firmware_and_its_profile(board, port):
    board.boot()  # MicroPython's REPL, an empty filesystem
    lines = run_flash(port, "diy_esp32")
    assert board.files() == firmware_files("diy_esp32")
    assert board.mode == "app" and board.app_board == "diy_esp32"  # main.py ran it from /lib
    assert "keep: nothing there yet" in "\n".join(lines)


def test_an_update_keeps_calibration_counter_and_logs_and_removes_stale_modules(board, port):
    before = running_board(board)
    board.put("/lib/hipdrop_fw/retired.py", "x = 1")  # gone from the new version
    board.put("/lib/hipdrop_fw/imu/retired.mpy", b"M\x06\x00\x1f")
    board.put("/lib/hipdrop_fw/notes.txt", "mine")  # not code: stays
    board.put("/lib/other/module.py", "y = 2")  # another package: stays
    board.put("/lib/hipdrop_fw/app.py", "# an older app.py")
    board.boot()
    lines = run_flash(port, "diy_esp32")
    files = board.files()
    kept = {p: before[p] for p in ("/calibration", "/boot_count", "/crash.txt")}
    assert {p: files[p] for p in kept} == kept
    assert board.is_dir("/log")
    assert "/lib/hipdrop_fw/retired.py" not in files
    assert "/lib/hipdrop_fw/imu/retired.mpy" not in files
    assert files["/lib/hipdrop_fw/notes.txt"] == b"mine"
    assert files["/lib/other/module.py"] == b"y = 2"
    expected = firmware_files("diy_esp32")
    assert {p: files[p] for p in expected} == expected
    assert board.app_board == "diy_esp32" and "/hold.txt" not in files
    text = "\n".join(lines)
    assert "keep (never written): /boot_count, /calibration, /crash.txt, /log (0 logs)" in text
    assert "hold the running app" in text


def test_unsynced_logs_refuse_the_flash_and_leave_the_board_running(board, port):
    before = running_board(board, logs=2)
    with pytest.raises(HipdropError, match=r"2 unsynced log\(s\).*`hipdrop sync`.*--force"):
        run_flash(port)
    assert board.files() == before
    assert board.mode == "app"  # restarted after the probe stopped it


def test_force_flashes_over_unsynced_logs_and_keeps_them(board, port):
    before = running_board(board, "diy_esp32", logs=2)
    run_flash(port, "m5stickc_plus2", force=True)
    files = board.files()
    logs = [p for p in before if p.startswith("/log/")]
    assert {p: files[p] for p in logs} == {p: before[p] for p in logs}
    assert files["/board.txt"] == b"m5stickc_plus2" and board.app_board == "m5stickc_plus2"


def test_dry_run_prints_the_plan_and_changes_nothing(board, port):
    before = running_board(board, logs=0)
    board.put("/lib/hipdrop_fw/retired.py", "x = 1")
    before = board.files()
    lines = run_flash(port, "diy_esp32", dry_run=True)
    assert board.files() == before and board.mode == "app"
    text = "\n".join(lines)
    size = (FIRMWARE / "hipdrop_fw" / "app.py").stat().st_size
    assert f"/lib/hipdrop_fw/app.py{size:>{53 - len('/lib/hipdrop_fw/app.py')},} B" in text
    assert "remove stale firmware files: /lib/hipdrop_fw/retired.py" in text
    assert "keep (never written): /boot_count, /calibration" in text
    assert "write /board.txt: diy_esp32" in text
    assert lines[-1].startswith("dry run: nothing was changed")


def test_dry_run_with_unsynced_logs_shows_the_plan_then_refuses(board, port):
    running_board(board, logs=1)
    lines = []
    with pytest.raises(HipdropError, match="unsynced"):
        run_flash(port, lines=lines, dry_run=True)
    assert f"copy {len(firmware_files()) - 1} files" in "\n".join(lines)
    assert board.mode == "app"


def test_without_raw_paste_mpremote_falls_back_to_the_raw_repl(board, tmp_path):
    """(A whole flash this way takes 16 s: mpremote sleeps 10 ms per 256 bytes.)"""
    board.boot()
    board.put("/log/00001.hdl", b"HDLG")
    plain = FakeSerialPort(board, raw_paste=False)
    try:
        fs = BoardFs(plain.path)
        assert fs.probe().logs() == ["/log/00001.hdl"]
        (tmp_path / "x.py").write_text("x = 1\n" * 100)
        fs.mpremote([["fs", "cp", str(tmp_path / "x.py"), ":/x.py"]], "copying")
    finally:
        plain.close()
    assert board.files()["/x.py"] == b"x = 1\n" * 100
    assert plain.received.count(b"\x05A\x01") == 2  # asked once per connection, refused


def test_a_silent_port_is_a_clear_error(board, port):
    board.mode = "silent"  # no MicroPython there (a factory firmware, a wrong port)
    tools = Tools(board_fs=quick_timeouts, sleep=lambda s: None, settle_s=0)
    with pytest.raises(HipdropError, match="no answer from the board .* within 3 s"):
        run_flash(port, tools=tools)


def test_an_old_firmware_that_ignores_hold_fails_clearly_when_its_watchdog_fires(board, port):
    board.put("/main.py", "import machine\nmachine.I2C(0)\n")  # starts the app, no hold.txt
    board.boot()
    with pytest.raises(HipdropError, match="while copying the firmware"):
        run_flash(port, tools=Tools(board_fs=quick_timeouts, sleep=lambda s: None, settle_s=0))
    assert board.boots > 2  # the watchdog reset it mid-copy
    assert board.is_file("/hold.txt")  # a run of the new firmware's flash would finish it
