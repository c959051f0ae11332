"""The fake board speaks MicroPython's REPL protocol byte for byte (docs.micropython.org,
"MicroPython REPL: raw mode and raw-paste mode"), before any mpremote is trusted on it."""

import os
import select
import struct
import time

import pytest
from fake_serial import RAW_BANNER, FakeSerialPort

from hipdrop.device import board_fs


@pytest.fixture
def tty(board):
    board.boot()
    serial_port = FakeSerialPort(board)
    fd = os.open(serial_port.path, os.O_RDWR | os.O_NOCTTY)
    yield fd
    os.close(fd)
    serial_port.close()


def exchange(fd, data, until, timeout_s=5.0):
    """Send ``data``; the bytes received up to and including ``until``."""
    os.write(fd, data)
    got = b""
    deadline = time.monotonic() + timeout_s
    while not got.endswith(until):
        assert select.select([fd], [], [], max(0, deadline - time.monotonic()))[0], got
        got += os.read(fd, 1)
    return got


def enter_raw(fd):
    return exchange(fd, b"\r\x01", RAW_BANNER)


def test_raw_repl_runs_a_command_and_separates_its_error(tty):
    enter_raw(tty)
    assert exchange(tty, b"print(6 * 7)\x04", b">") == b"OK42\r\n\x04\x04>"
    answer = exchange(tty, b"import os\nos.stat('/nope')\x04", b"\x04>")
    assert answer.startswith(b"OK\x04Traceback")
    assert answer.endswith(b"OSError: [Errno 2] ENOENT\r\n\x04>")


def test_ctrl_d_on_an_empty_line_soft_resets_and_forgets(tty):
    enter_raw(tty)
    exchange(tty, b"x = 1\x04", b">")
    assert exchange(tty, b"\x04", RAW_BANNER) == b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER
    assert b"NameError" in exchange(tty, b"print(x)\x04", b"\x04>")


def test_raw_paste_grants_windows_and_acknowledges_the_end(tty):
    enter_raw(tty)
    header = exchange(tty, b"\x05A\x01", b"R\x01") + os.read(tty, 2)
    window = struct.unpack("<H", header[-2:])[0]
    source = b"s = 0\n" + b"s += 1\n" * (window // 7 + 1) + b"print(s)\n"
    granted = exchange(tty, source[:window], b"\x01")  # one window read: another granted
    assert granted == b"\x01"
    answer = exchange(tty, source[window:] + b"\x04", b">")
    assert answer == f"\x04{window // 7 + 1}\r\n\x04\x04>".encode()


def test_ctrl_b_returns_to_the_friendly_repl(tty):
    enter_raw(tty)
    assert exchange(tty, b"\x02", b">>> ").startswith(b"\r\nMicroPython v1.25.0")


def test_an_unreadable_probe_answer_is_an_error():
    with pytest.raises(Exception, match="not understood"):
        board_fs.parse_probe("Traceback ...\nMemoryError\n")
