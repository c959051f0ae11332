"""The firmware checks on a real MicroPython interpreter (WebAssembly port under node)."""

from pathlib import Path

import fw_checks
import fw_imu_checks
import pytest
from fw_support import (
    FIRMWARE_VECTORS,
    VECTORS,
    assert_passed,
    assert_ran_to_the_end,
    run_micropython,
)

HERE = Path(__file__).parent
MPY_ONLY = [
    "check_add_allocates_nothing",
    "check_bytes_of_finished_packet",
    "check_sample_path_allocates_nothing",
]
SHARED = [n for n, _ in fw_checks.CHECKS + fw_imu_checks.CHECKS]


@pytest.fixture(scope="module")
def mpy_result():
    """One MicroPython start runs every check (a node start costs ~0.25 s)."""
    files = [HERE / n for n in ("fw_checks.py", "fw_imu_checks.py", "fw_vectors.py")]
    return run_micropython(HERE / "fw_mpy_main.py", *files, VECTORS)


def test_run_succeeds(mpy_result):
    assert_ran_to_the_end(mpy_result)


@pytest.mark.parametrize("name", SHARED + MPY_ONLY)
def test_check(mpy_result, name):
    assert_passed(mpy_result, name)


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
