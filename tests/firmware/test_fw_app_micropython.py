"""hipdrop_fw.app on a real MicroPython interpreter (tests/firmware/fw_mpy_app.py): boot
without an IMU, the per-sample hook without allocation, backfill, a heap-sized ring."""

from pathlib import Path

import pytest
from fw_support import assert_passed, assert_ran_to_the_end, run_micropython

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
    return run_micropython(HERE / "fw_mpy_app.py", HERE / "mpy_radio.py")


def test_run_succeeds(mpy_result):
    assert_ran_to_the_end(mpy_result)


@pytest.mark.parametrize("name", CHECKS)
def test_check(mpy_result, name):
    assert_passed(mpy_result, name)
