"""``hipdrop device``: exit status 2 and a message (never a traceback), ports, light start-up."""

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from device_support import running_board

from hipdrop.cli import build_parser, main
from hipdrop.device import ports
from hipdrop.errors import HipdropError


def test_a_dry_run_through_the_command_line(board, port, capsys):
    running_board(board)
    assert main(["device", "flash", "--board", "diy_esp32", "--port", port.path, "--dry-run"]) == 0
    port.wait_idle()
    out = capsys.readouterr().out
    assert "write /board.txt: diy_esp32" in out and "dry run: nothing was changed" in out


def test_unsynced_logs_exit_2_with_the_reason(board, port, capsys):
    running_board(board, logs=1)
    assert main(["device", "flash", "--board", "m5stickc_plus2", "--port", port.path]) == 2
    port.wait_idle()
    err = capsys.readouterr().err
    assert err.startswith("hipdrop: the board holds 1 unsynced log(s)") and "Traceback" not in err


def test_a_missing_port_exits_2(capsys):
    assert main(["device", "flash", "--board", "diy_esp32", "--port", "/dev/no-such-tty"]) == 2
    assert "no serial port /dev/no-such-tty" in capsys.readouterr().err


def test_a_missing_extra_names_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "mpremote" else real(name)
    )
    assert main(["device", "flash", "--board", "diy_esp32", "--port", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "needs mpremote" in err and "pip install 'hipdrop[device]'" in err


def test_an_unknown_board_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["device", "flash", "--board", "pico"])
    assert exit_info.value.code == 2 and "invalid choice: 'pico'" in capsys.readouterr().err


def usb(device, vid=0x1A86, pid=0x55D4):
    return SimpleNamespace(device=device, vid=vid, pid=pid, description="USB Single Serial")


def test_the_only_usb_port_is_chosen_and_several_must_be_named():
    internal = usb("/dev/ttyS0", None, None)
    assert ports.choose_port(None, [internal, usb("/dev/ttyACM0")]) == "/dev/ttyACM0"
    with pytest.raises(HipdropError, match="no USB serial port found"):
        ports.choose_port(None, [internal])
    with pytest.raises(HipdropError, match=r"several .*/dev/ttyACM0, /dev/ttyUSB0.*--port"):
        ports.choose_port(None, [usb("/dev/ttyACM0"), usb("/dev/ttyUSB0")])
    assert ports.choose_port("COM3", []) == "COM3"  # not a path: mpremote says if it is wrong


def test_list_ports(monkeypatch):
    monkeypatch.setattr(ports, "serial_ports", lambda: [usb("/dev/ttyACM0")])
    lines = []
    assert ports.print_ports(lines.append) == 0
    assert lines == ["/dev/ttyACM0         USB 1a86:55d4  USB Single Serial"]


def test_device_help_stays_light():
    code = (
        "import sys\nfrom hipdrop.cli import main\n"
        "try: main(['device', 'flash', '--help'])\nexcept SystemExit: pass\n"
        "print([m for m in ('numpy', 'mpremote', 'serial', 'esptool') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_documented_commands_parse():
    doc = (Path(__file__).parents[2] / "docs" / "firmware.md").read_text()
    commands = re.findall(r"^\s*(hipdrop device [^\n`]+)$", doc, re.MULTILINE)
    assert len(commands) >= 3
    for command in commands:
        args = build_parser().parse_args(shlex.split(command)[1:])
        assert args.run.__name__.startswith("_run_device")
