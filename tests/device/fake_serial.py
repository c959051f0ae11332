"""A fake board on a pseudo-terminal: MicroPython's REPL protocol, byte for byte, served in a
thread on the pty's master side; mpremote opens the slave side as its serial port.

The protocol (MicroPython's ``shared/runtime/pyexec.c``, what mpremote's
``transport_serial.py`` expects):

- friendly REPL: Ctrl-A enters the raw REPL (``raw REPL; CTRL-B to exit\\r\\n>``); Ctrl-C
  interrupts a running program; Ctrl-D soft-resets (and runs main.py again).
- raw REPL: bytes gather into a line; Ctrl-D ends it: ``OK``, then the command's stdout,
  ``\\x04``, its stderr, ``\\x04`` and the ``>`` prompt. Ctrl-D on an empty line soft-resets
  (``OK\\r\\nMPY: soft reboot\\r\\n`` and the raw banner again, main.py not run). Ctrl-C
  clears the line, Ctrl-B goes back to the friendly REPL.
- raw-paste (``\\x05A\\x01``): ``R\\x01`` and the window size (u16 little-endian); the device
  sends ``\\x01`` each time it has read a window; the host's Ctrl-D ends the data and is
  acknowledged with ``\\x04``; then stdout ``\\x04`` stderr ``\\x04`` ``>``. With
  ``raw_paste=False`` the device answers ``R\\x00`` (understood, not supported) and mpremote
  falls back to the raw REPL.
"""

import errno
import os
import select
import struct
import threading
import time
import tty

from fake_modules import BANNER

CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E = 1, 2, 3, 4, 5
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
WINDOW = 256  # MICROPY_REPL_STDIN_BUFFER_MAX on the ESP32 port


class FakeSerialPort:
    """Serves ``board`` on a pty until ``close()``; ``path`` is the port to give mpremote."""

    def __init__(self, board, raw_paste=True):
        self.board = board
        self.raw_paste = raw_paste
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # kept open: the port exists between mpremote runs
        self.path = os.ttyname(self._slave)
        self.received = bytearray()
        self._line = bytearray()
        self._paste = None  # [data, window left] while in raw-paste mode
        self._stop = threading.Event()
        board.emit = self._write
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self._slave)

    def wait_idle(self, timeout_s=5.0):
        """Wait until every byte the host sent has been handled (mpremote does not wait for
        the answer to its last command, e.g. ``reset``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.board.lock:
                if not select.select([self.master], [], [], 0)[0]:
                    return
            time.sleep(0.01)
        raise TimeoutError("the fake board is still busy")

    def _write(self, data):
        if data:
            os.write(self.master, data)

    def _serve(self):
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                continue
            self.received += data
            with self.board.lock:
                for c in data:
                    self._byte(c)

    def _byte(self, c):
        mode = self.board.mode
        if mode == "app" and c == CTRL_C:
            self.board.interrupt()
        elif mode == "repl":
            self._friendly(c)
        elif mode == "raw":
            self._raw(c) if self._paste is None else self._pasted(c)

    def _friendly(self, c):
        if c == CTRL_A:
            self._enter_raw()
        elif c in (CTRL_C, ord("\r")):
            self._write(b"\r\n>>> ")
        elif c == CTRL_D:
            self._write(b"MPY: soft reboot\r\n")
            self.board.boot(noise=False)

    def _enter_raw(self):
        self.board.mode = "raw"
        self._line.clear()
        self._write(RAW_BANNER)

    def _raw(self, c):
        if c == CTRL_A and bytes(self._line) == b"\x05A":
            self._start_paste()
        elif c == CTRL_A:
            self._enter_raw()
        elif c == CTRL_B:
            self.board.mode = "repl"
            self._write(b"\r\n" + BANNER)
        elif c == CTRL_C:
            self._line.clear()
        elif c == CTRL_D:
            self._end_line()
        else:
            self._line.append(c)

    def _end_line(self):
        self._write(b"OK")
        source, self._line = bytes(self._line), bytearray()
        if source:
            self._execute(source)
        elif self.board.soft_reset():
            self._write(b"\r\nMPY: soft reboot\r\n" + RAW_BANNER)

    def _start_paste(self):
        self._line.clear()
        if not self.raw_paste:
            self._write(b"R\x00")
            return
        self._paste = [bytearray(), WINDOW]
        self._write(b"R\x01" + struct.pack("<H", WINDOW))

    def _pasted(self, c):
        data, left = self._paste
        if c in (CTRL_C, CTRL_D):
            self._paste = None
            self._write(b"\x04")
            if c == CTRL_D:
                self._execute(bytes(data))
            else:
                self._write(b"\x04KeyboardInterrupt: \r\n\x04>")
            return
        data.append(c)
        self._paste[1] = left - 1
        if self._paste[1] == 0:
            self._paste[1] = WINDOW
            self._write(b"\x01")

    def _execute(self, source):
        result = self.board.command(source.decode())
        if result is not None:  # None: the board reset (machine.reset, watchdog)
            out, err = result
            self._write(out + b"\x04" + err + b"\x04>")
