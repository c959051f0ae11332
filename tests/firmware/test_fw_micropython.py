"""The firmware checks on a real MicroPython interpreter (WebAssembly port under node)."""

from pathlib import Path

import fw_checks
import fw_imu_checks
import pytest
from fw_support import (
    FIRMWARE_VECTORS,
    VECTORS,
    assert_passed,
    micropython_run_tests,
    run_micropython,
)

HERE = Path(__file__).parent
MPY_ONLY = [
    "check_add_allocates_nothing",
    "check_bytes_of_finished_packet",
    "check_sample_path_allocates_nothing",
]
SHARED = [n for n, _ in fw_checks.CHECKS + fw_imu_checks.CHECKS]

mpy_result, test_run_succeeds, test_check = micropython_run_tests(
    HERE / "fw_mpy_main.py",
    *(HERE / n for n in ("fw_checks.py", "fw_imu_checks.py", "fw_vectors.py")),
    VECTORS,
    checks=SHARED + MPY_ONLY,
)


@pytest.mark.parametrize("path", FIRMWARE_VECTORS, ids=[f.name for f in FIRMWARE_VECTORS])
def test_vector(mpy_result, path):
    assert_passed(mpy_result, f"vector {path.name}")


def test_runner_fails_when_python_raises(tmp_path):
    entry = tmp_path / "raises.py"
    entry.write_text("import sys\nprint(sys.implementation.name)\nraise ValueError('boom')\n")
    result = run_micropython(entry)
    assert result.returncode == 1
    assert result.stdout == "micropython\n"
    assert "ValueError: boom" in result.stderr


def test_runner_sees_firmware_and_files(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("42")
    entry = tmp_path / "entry.py"
    entry.write_text(
        "from hipdrop_fw import protocol\n"
        "print(protocol.__file__, open('/work/data/x.txt').read())\n"
    )
    result = run_micropython(entry, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "/lib/hipdrop_fw/protocol.py 42\n"
