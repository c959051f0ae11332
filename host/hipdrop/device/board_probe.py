"""Runs ON THE BOARD (MicroPython, sent by ``mpremote run``); the host never imports it.

``board_fs.BoardFs.probe`` appends one call, ``probe(walk, small)``: it lists ``/``, the
directories on the way to those in ``walk``, and those in ``walk`` recursively, reads the
small files in ``small``, and prints one line ``HIPDROP-PROBE <repr>`` of
``(version, mpy, [(path, size or -1 for a directory)], {path: bytes})``.
One exec, one connection: quick, before a running app's watchdog resets the board.
"""

import os
import sys


def _walk(path, walk, out):
    try:
        entries = list(os.ilistdir(path))
    except OSError:
        return
    for entry in entries:
        full = path.rstrip("/") + "/" + entry[0]
        is_dir = entry[1] & 0x4000
        size = -1 if is_dir else (entry[3] if len(entry) > 3 else os.stat(full)[6])
        out.append((full, size))
        if is_dir and any(_related(full, w) for w in walk):
            _walk(full, walk, out)


def _related(path, root):
    """``path`` is ``root``, below it, or on the way to it."""
    return path == root or path.startswith(root + "/") or root.startswith(path + "/")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read(64)
    except OSError:
        return None


def probe(walk, small):
    files = []
    _walk("/", walk, files)
    contents = {}
    for path in small:
        data = _read(path)
        if data is not None:
            contents[path] = data
    impl = sys.implementation
    info = (tuple(impl.version), getattr(impl, "_mpy", 0), files, contents)
    print("HIPDROP-PROBE " + repr(info))
