"""Tilt-filter and ring-buffer checks on a real MicroPython interpreter (WebAssembly port)."""

from pathlib import Path

import fw_checks_tilt
import pytest
from fw_support import FIRMWARE, assert_passed, assert_ran_to_the_end, run_micropython

HERE = Path(__file__).parent
MPY_ONLY = [
    "check_ring_push_allocates_nothing",
    "check_tilt_update_allocates_nothing_between_steps",
    "check_tilt_step_allocates",
    "check_calibrator_add_allocates_nothing",
]


@pytest.fixture(scope="module")
def mpy_result():
    """One MicroPython start runs every check."""
    return run_micropython(HERE / "fw_mpy_tilt.py", HERE / "fw_checks_tilt.py", timeout_s=120)


def test_run_succeeds(mpy_result):
    assert_ran_to_the_end(mpy_result)


@pytest.mark.parametrize("name", [n for n, _ in fw_checks_tilt.CHECKS] + MPY_ONLY)
def test_check(mpy_result, name):
    assert_passed(mpy_result, name)


def test_bench_tilt_runs_on_micropython(tmp_path):
    """The maker's benchmark script runs (here it times the WebAssembly port, not an ESP32)."""
    entry = tmp_path / "bench_entry.py"
    entry.write_text("import bench_tilt\nbench_tilt.N = 200\nbench_tilt.main()\n")
    result = run_micropython(entry, FIRMWARE / "bench_tilt.py", timeout_s=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all("us/update" in line for line in lines), result.stdout
    assert "bytes/update" in lines[0]
