"""Paths, tool checks and the MicroPython runner shared by the firmware tests."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
VECTORS = REPO / "tests" / "vectors"
MPY_DIR = REPO / "tests" / "mpy"
STUBS = REPO / ".tools" / "stubs"
# Every golden vector but the host decoder's bad packets involves the firmware.
FIRMWARE_VECTORS = [
    f for f in sorted(VECTORS.glob("*.json")) if json.loads(f.read_text())["kind"] != "bad_packet"
]
G_MS2 = 9.80665
SETUP_HINT = "run `./dev test` once, which installs it"

# The firmware package imports as on the device: `from hipdrop_fw import protocol`.
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))


def require_micropython():
    """Fail (never skip) when node or the MicroPython WebAssembly port is missing."""
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: the firmware tests run MicroPython under node")
    if not (MPY_DIR / "node_modules" / "@micropython").is_dir():
        pytest.fail(
            f"MicroPython WebAssembly port missing in {MPY_DIR / 'node_modules'}: {SETUP_HINT} "
            f"(or `npm ci --prefix tests/mpy`)"
        )


def run_micropython(entry, *files, timeout_s=60):
    """Run ``entry`` on MicroPython with ``files`` (files or folders) and the check reporter
    (``mpy_report.py``) beside it."""
    require_micropython()
    files = (*files, Path(__file__).with_name("mpy_report.py"))
    cmd = ["node", str(MPY_DIR / "run.mjs"), str(entry), *map(str, files)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)


def assert_ran_to_the_end(result):
    """The MicroPython run exited 0 and its reporter printed DONE."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "DONE", result.stdout + result.stderr


def assert_passed(result, name):
    """The reporter printed ``ok NAME`` for this check."""
    assert f"ok {name}" in result.stdout.splitlines(), result.stdout + result.stderr


def micropython_run_tests(entry, *files, checks, timeout_s=60):
    """The tests of one MicroPython run of ``entry`` (one node start runs every check, ~0.25 s
    each): a module fixture with its result, a test that it ran to the end, and one test per
    name in ``checks``. A test module assigns the three to module names of the same names."""

    @pytest.fixture(scope="module")
    def mpy_result():
        return run_micropython(entry, *files, timeout_s=timeout_s)

    def test_run_succeeds(mpy_result):
        assert_ran_to_the_end(mpy_result)

    @pytest.mark.parametrize("name", checks)
    def test_check(mpy_result, name):
        assert_passed(mpy_result, name)

    return mpy_result, test_run_succeeds, test_check


def require_stubs():
    """Fail (never skip) when the ESP32 MicroPython stubs are missing."""
    if not (STUBS / "stdlib" / "VERSIONS").is_file():
        pytest.fail(
            f"ESP32 MicroPython stubs missing in {STUBS}: {SETUP_HINT} (or `.venv/bin/python "
            f"-m pip install --target .tools/stubs -r firmware/stubs-requirements.txt`)"
        )


def read_all(imu, chip, seconds, step_s=0.03):
    """Run the chip model ``seconds``, reading the FIFO every ``step_s``: (n, 6) board-axis
    counts."""
    buf = bytearray(imu.fifo_size)
    out = [0] * 6
    rows = []
    for _ in range(round(seconds / step_s)):
        chip.advance(step_s)
        for i in range(imu.read_fifo(buf)):
            imu.unpack(buf, i, out)
            rows.append(list(out))
    return np.array(rows).reshape(-1, 6)


def still_board(n, seed=0, noise=True):
    """(acc m/s², gyr deg/s) in board axes of a board lying still, z up, with sensor noise."""
    rng = np.random.default_rng(seed)
    acc = np.tile([0.3, -0.2, G_MS2], (n, 1))
    gyr = np.tile([0.5, -0.4, 0.2], (n, 1))
    if noise:
        acc = acc + rng.normal(0, 0.02, (n, 3))
        gyr = gyr + rng.normal(0, 0.1, (n, 3))
    return acc, gyr
