"""The plan: what is copied, kept, removed and written back, decided from the board's files."""

from pathlib import Path

from hipdrop.device import layout
from hipdrop.device.plan import EMPTY, BoardState, describe, make_plan, unsynced_refusal
from hipdrop.device.sources import Source

HERE = Path(__file__)
SOURCES = [
    Source(HERE, "/main.py"),
    Source(HERE, "/lib/hipdrop_fw/__init__.py"),
    Source(HERE, "/lib/hipdrop_fw/imu/mpu6886.py"),
]
OLD_BOARD = BoardState(
    {
        "/main.py": 10,
        "/boot_count": 2,
        "/calibration": 10,
        "/log": -1,
        "/log/00003.hdl": 900,
        "/log/notes.txt": 5,
        "/lib": -1,
        "/lib/hipdrop_fw": -1,
        "/lib/hipdrop_fw/__init__.py": 1,
        "/lib/hipdrop_fw/old.py": 1,
        "/lib/hipdrop_fw/imu": -1,
        "/lib/hipdrop_fw/imu/mpu6886.mpy": 1,
        "/lib/hipdrop_fw/readme.txt": 1,
        "/lib/other.py": 1,
    },
    {"/boot_count": b"41", "/calibration": bytes(10)},
)


def test_a_fresh_board_gets_every_directory_and_file():
    plan = make_plan(SOURCES, EMPTY, "diy_esp32", "/dev/x")
    assert plan.mkdirs == ["/lib", "/lib/hipdrop_fw", "/lib/hipdrop_fw/imu"]
    assert plan.copies == SOURCES
    assert plan.removals == [] and plan.kept == [] and not plan.hold and not plan.install


def test_an_update_removes_only_stale_package_code_and_keeps_the_data():
    plan = make_plan(SOURCES, OLD_BOARD, "diy_esp32", "/dev/x")
    assert plan.mkdirs == []
    assert plan.removals == ["/lib/hipdrop_fw/imu/mpu6886.mpy", "/lib/hipdrop_fw/old.py"]
    assert plan.kept == ["/boot_count", "/calibration", "/log"]
    assert plan.logs == ["/log/00003.hdl"] and plan.hold and plan.restored == {}


def test_an_install_plans_for_an_empty_board_and_writes_back_the_small_files():
    install = [["esptool", "erase-flash"], ["esptool", "write-flash", "0x1000", "mp.bin"]]
    plan = make_plan(SOURCES, EMPTY, "m5stickc_plus2", "/dev/x", install, 1_600_000, OLD_BOARD)
    assert plan.install == install and not plan.hold and plan.kept == [] and plan.removals == []
    assert plan.restored == {"/boot_count": b"41", "/calibration": bytes(10)}
    assert plan.logs == ["/log/00003.hdl"]
    text = "\n".join(describe(plan))
    assert "install MicroPython (1,600,000 B image; erases the whole flash)" in text
    assert "esptool write-flash 0x1000 mp.bin" in text and "LOST: 1 unsynced" in text


def test_an_install_on_a_board_that_did_not_answer_restores_nothing():
    plan = make_plan(SOURCES, EMPTY, "m5stickc_plus2", "/dev/x", [["esptool"]], 1, None)
    assert plan.restored == {} and plan.logs == []


def test_only_hdl_files_in_the_log_directory_are_logs():
    assert OLD_BOARD.logs() == ["/log/00003.hdl"]
    assert BoardState({"/log": -1, "/log/x.txt": 1}).logs() == []


def test_refusal_names_the_logs_the_sync_and_the_override():
    message = unsynced_refusal(OLD_BOARD, force=False, installing=False)
    assert "1 unsynced log(s) (/log/00003.hdl)" in message
    assert "`hipdrop sync`" in message and "--force" in message
    assert unsynced_refusal(OLD_BOARD, force=True, installing=False) is None
    assert unsynced_refusal(EMPTY, force=False, installing=True) is None
    assert unsynced_refusal(None, force=False, installing=True) is None
    many = BoardState({f"/log/{i:05d}.hdl": 1 for i in range(5)})
    assert "and 2 more" in unsynced_refusal(many, force=False, installing=True)


def test_the_description_lists_every_file_with_its_size_and_the_last_step():
    lines = describe(make_plan(SOURCES, OLD_BOARD, "diy_esp32", "/dev/x"))
    size = HERE.stat().st_size
    assert sum(line.endswith(f"{size:>8,} B") for line in lines) == len(SOURCES)
    assert lines[-1] == f"last: remove {layout.HOLD_FILE} and reset: the board starts hipdrop"
    assert "keep (never written): /boot_count, /calibration, /log (1 logs)" in lines
