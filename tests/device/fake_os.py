"""MicroPython's ``os`` and ``open`` over the firmware tests' in-memory flash (``FakeFlash``).

``FakeFlash`` already offers what the firmware's flash log uses; this adds what mpremote's
commands and ``main.py`` use on top: ``ilistdir`` (name, type, inode, size), ``rmdir``,
``getcwd``, text-mode files, and LittleFS's refusal to make a directory whose parent is
missing. The working directory is always ``/``, as after an ESP32 boot.
"""

import errno
import io

from hipdrop.vsensor.fake_flash import FakeFlash

DIR = 0x4000
FILE = 0x8000


class BoardOs:
    """The board's ``os`` module: ``FakeFlash``'s ``stat``, ``remove``, ``rename``,
    ``statvfs`` and ``sync`` as they are, and the rest below."""

    _AS_IS = ("stat", "remove", "rename", "statvfs", "sync")

    def __init__(self, flash: FakeFlash):
        self.flash = flash
        for name in self._AS_IS:
            setattr(self, name, getattr(flash, name))

    def listdir(self, path="/"):
        return self.flash.listdir(path or "/")

    def ilistdir(self, path="/"):
        base = (path or "/").rstrip("/")
        for name in self.listdir(path):
            st = self.flash.stat(base + "/" + name)
            yield (name, st[0], 0, st[6])

    def mkdir(self, path):
        parent = path.rstrip("/").rpartition("/")[0]
        if parent and self.flash.stat(parent)[0] != DIR:
            raise OSError(errno.ENOTDIR, parent)
        self.flash.mkdir(path)

    def rmdir(self, path):
        if self.flash.stat(path)[0] != DIR:
            raise OSError(errno.ENOTDIR, path)
        if self.listdir(path):
            raise OSError(errno.ENOTEMPTY, path)
        self.flash.dirs.discard(path.strip("/"))

    def getcwd(self):
        return "/"


def board_open(flash: FakeFlash):
    """The board's ``open``: binary files from ``FakeFlash``, text files wrapped around them."""

    def open_(path, mode="r"):
        binary = flash.open(path, mode.replace("t", "").replace("b", "") + "b")
        return binary if "b" in mode else _Text(binary, mode)

    return open_


class _Text:
    def __init__(self, binary, mode):
        self._binary = binary
        self._reader = io.StringIO(binary.read().decode()) if "r" in mode else None

    def read(self, n=-1):
        return self._reader.read(n)

    def readline(self):
        return self._reader.readline()

    def write(self, text):
        return self._binary.write(text.encode())

    def close(self):
        self._binary.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
