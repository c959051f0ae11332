"""hipdrop_fw.app on a real MicroPython interpreter (tests/firmware/fw_mpy_app.py): boot
without an IMU, the per-sample hook without allocation, backfill, a heap-sized ring."""

from pathlib import Path

import pytest
from fw_support import run_micropython

HERE = Path(__file__).parent
CHECKS = [
    "check_backfill_streams_the_ring",
    "check_boot_without_imu_advertises_with_the_fault",
    "check_ring_sized_from_the_heap",
    "check_sample_hook_allocates_nothing_between_tilt_steps",
    "check_time_sync_and_cue",
]


@pytest.fixture(scope="module")
def mpy_result():
    """One MicroPython start runs every check (a node start costs ~0.25 s)."""
    return run_micropython(HERE / "fw_mpy_app.py")


def test_run_succeeds(mpy_result):
    assert mpy_result.returncode == 0, mpy_result.stdout + mpy_result.stderr
    assert mpy_result.stdout.splitlines()[-1] == "DONE"


@pytest.mark.parametrize("name", CHECKS)
def test_check(mpy_result, name):
    assert f"ok {name}" in mpy_result.stdout.splitlines(), mpy_result.stdout + mpy_result.stderr
