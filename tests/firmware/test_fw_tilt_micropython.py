"""Tilt-filter and ring-buffer checks on a real MicroPython interpreter (WebAssembly port)."""

from pathlib import Path

import fw_checks_tilt
from fw_support import FIRMWARE, micropython_run_tests, run_micropython

HERE = Path(__file__).parent
MPY_ONLY = [
    "check_ring_push_allocates_nothing",
    "check_tilt_update_allocates_nothing_between_steps",
    "check_tilt_step_allocates",
    "check_calibrator_add_allocates_nothing",
]

mpy_result, test_run_succeeds, test_check = micropython_run_tests(
    HERE / "fw_mpy_tilt.py",
    HERE / "fw_checks_tilt.py",
    checks=[n for n, _ in fw_checks_tilt.CHECKS] + MPY_ONLY,
    timeout_s=120,
)


def test_bench_tilt_runs_on_micropython(tmp_path):
    """The maker's benchmark script runs (here it times the WebAssembly port, not an ESP32)."""
    entry = tmp_path / "bench_entry.py"
    entry.write_text("import bench_tilt\nbench_tilt.N = 200\nbench_tilt.main()\n")
    result = run_micropython(entry, FIRMWARE / "bench_tilt.py", timeout_s=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all("us/update" in line for line in lines), result.stdout
    assert "bytes/update" in lines[0]
