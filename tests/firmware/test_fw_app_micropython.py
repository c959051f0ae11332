"""hipdrop_fw.app on a real MicroPython interpreter (tests/firmware/fw_mpy_app.py): boot
without an IMU, the per-sample hook without allocation, backfill, a heap-sized ring."""

from pathlib import Path

from fw_support import micropython_run_tests

HERE = Path(__file__).parent
CHECKS = [
    "check_backfill_streams_the_ring",
    "check_boot_without_imu_advertises_with_the_fault",
    "check_ring_sized_from_the_heap",
    "check_sample_hook_allocates_nothing_between_tilt_steps",
    "check_time_sync_and_cue",
]

mpy_result, test_run_succeeds, test_check = micropython_run_tests(
    HERE / "fw_mpy_app.py", HERE / "mpy_radio.py", checks=CHECKS
)
