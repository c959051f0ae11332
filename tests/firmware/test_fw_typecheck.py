"""mypy checks the firmware against the ESP32 MicroPython stubs (firmware/mypy.ini)."""

import subprocess
import sys

from fw_support import FIRMWARE, require_stubs

CONFIG = FIRMWARE / "mypy.ini"


def mypy(*targets):
    require_stubs()
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *map(str, targets)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_firmware_type_checks():
    result = mypy(FIRMWARE / "hipdrop_fw", FIRMWARE / "main.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrong_calls_are_caught_and_override_wins(tmp_path):
    """A deliberately wrong module in a hipdrop_fw package fails; firmware/stubs overrides."""
    pkg = tmp_path / "hipdrop_fw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "probe.py").write_text(
        "import bluetooth\n"
        "from machine import I2C\n"
        "\n"
        "def notify(ble: bluetooth.BLE, i2c: I2C):\n"
        "    ble.gatts_notify(0, 5)\n"  # fine per MicroPython docs, wrong in upstream stubs
        "    ble.gatts_notify(0, 5, b'xy')\n"
        "    i2c.read_mem(0x68, 0x3B, 14)\n"  # no such method
        "    reveal_type(ble.gatts_notify)\n"
    )
    result = mypy(pkg)
    out = result.stdout
    assert result.returncode == 1, out
    assert 'probe.py:7: error: "I2C" has no attribute "read_mem"' in out
    assert "def (int, int, " in out  # the local firmware/stubs/bluetooth.pyi signature
    assert out.count("probe.py") == 2, out  # only read_mem and reveal_type
