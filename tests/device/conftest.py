"""A fake board on a pseudo-terminal (``board``, ``port``) for ``hipdrop device flash``.

mpremote runs for real, as a subprocess, and opens the pty's slave side like any serial port;
the board behind it (``fake_board``, ``fake_serial``) speaks MicroPython's REPL protocol and
runs what it is sent.
"""

import pytest
from device_support import FIRMWARE
from fake_board import Board
from fake_serial import FakeSerialPort


@pytest.fixture
def board():
    return Board(mpy_sources=FIRMWARE)


@pytest.fixture
def port(board):
    serial_port = FakeSerialPort(board)
    yield serial_port
    serial_port.close()
