"""The wheel ships the firmware, and an installed package finds it without the source tree."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_the_firmware_and_the_command(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(tmp_path.glob("hipdrop-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    firmware = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "firmware").rglob("*.py"))
    for path in firmware:
        assert f"hipdrop/{path}" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        "from hipdrop.vsensor.firmware import firmware_dir, firmware_module; "
        "print(firmware_dir()); print(firmware_module('packet').__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
    ).stdout.split()
    assert out[0] == str(target / "hipdrop" / "firmware")
    assert out[1].startswith(str(target))
