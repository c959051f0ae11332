"""An in-memory flash filesystem with power-cut injection, for the firmware's flash log.

It offers what ``hipdrop_fw.flashlog`` uses of MicroPython's ``os`` and file objects:
``open`` (modes ``rb``/``wb``/``ab``), ``listdir``, ``mkdir``, ``remove``, ``rename``,
``stat`` (size at index 6), ``statvfs`` (block size, blocks, free blocks) and ``sync``; files
have ``write``, ``read``, ``readinto``, ``seek``, ``flush``, ``close`` and work as context
managers.

Durability model (documented in docs/firmware.md, "Untethered logging"): what a file holds
after a power cut is what was committed — by ``flush``, ``close`` or the filesystem's
``sync`` — as LittleFS commits a file copy-on-write. ``torn_bytes`` models a filesystem
that does not (FAT on a microSD card): that many bytes of the uncommitted tail survive a
cut as well. ``cut_power_after(n)`` lets ``n`` more bytes be written; every write after
that vanishes (a write that crosses the limit keeps its first part); ``remount()`` returns
the filesystem as the next boot finds it. Writes beyond the capacity raise
``OSError(28)`` (ENOSPC), as MicroPython does.
"""

from __future__ import annotations

import errno

BLOCK_SIZE = 4096


class _File:
    def __init__(self, fs: FakeFlash, path: str, data: bytearray, writable: bool):
        self._fs, self._path, self._data, self._writable = fs, path, data, writable
        self._pos = len(data) if writable else 0
        self.closed = False

    def write(self, buf) -> int:
        if not self._writable:
            raise OSError(errno.EBADF, "not open for writing")
        buf = bytes(buf)
        self._fs._charge(len(buf))
        keep = self._fs._allow(len(buf))
        self._data += buf[:keep]
        self._pos = len(self._data)
        return len(buf)

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else min(len(self._data), self._pos + n)
        out = bytes(self._data[self._pos : end])
        self._pos = end
        return out

    def readinto(self, buf) -> int:
        chunk = self.read(len(buf))
        memoryview(buf)[: len(chunk)] = chunk
        return len(chunk)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._data))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def flush(self) -> None:
        if self._writable:
            self._fs._commit(self._path)

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeFlash:
    """A flat in-memory filesystem of ``capacity_bytes`` (whole ``BLOCK_SIZE`` blocks)."""

    def __init__(self, capacity_bytes: int = 6 * 1024 * 1024, torn_bytes: int = 0):
        self.capacity_bytes = capacity_bytes
        self.torn_bytes = torn_bytes
        self.dirs: set[str] = {""}
        self.live: dict[str, bytearray] = {}  # what the running device sees
        self.durable: dict[str, bytes] = {}  # what survives a power cut
        self.bytes_written = 0
        self.flushes = 0
        self._budget: int | None = None  # bytes still written before the cut

    # -- power cuts --------------------------------------------------------------------

    def cut_power_after(self, n_bytes_written: int) -> None:
        """Let ``n_bytes_written`` more bytes reach the files; later writes vanish."""
        self._budget = n_bytes_written

    @property
    def power_cut(self) -> bool:
        return self._budget is not None and self._budget <= 0

    def remount(self) -> FakeFlash:
        """The filesystem as the next boot finds it: committed bytes (+ ``torn_bytes``)."""
        fs = FakeFlash(self.capacity_bytes, self.torn_bytes)
        fs.dirs = set(self.dirs)
        for path, data in self.live.items():
            durable = self.durable.get(path)
            if durable is None:
                continue
            extra = data[len(durable) : len(durable) + self.torn_bytes]
            fs.live[path] = bytearray(durable + extra)
            fs.durable[path] = bytes(fs.live[path])
        return fs

    def _allow(self, n: int) -> int:
        if self._budget is None:
            return n
        keep = max(0, min(n, self._budget))
        self._budget -= n
        return keep

    def _charge(self, n: int) -> None:
        if self._used() + n > self.capacity_bytes:
            raise OSError(errno.ENOSPC, "no space left on device")
        self.bytes_written += n

    def _commit(self, path: str) -> None:
        self.flushes += 1
        if not self.power_cut and path in self.live:
            self.durable[path] = bytes(self.live[path])

    def _used(self) -> int:
        blocks = sum(-(-len(d) // BLOCK_SIZE) for d in self.live.values())
        return (blocks + len(self.dirs)) * BLOCK_SIZE

    # -- the os-like interface ---------------------------------------------------------

    @staticmethod
    def _norm(path: str) -> str:
        return path.strip("/")

    def open(self, path: str, mode: str = "rb") -> _File:
        key = self._norm(path)
        parent = key.rpartition("/")[0]
        if "r" in mode:
            if key not in self.live:
                raise OSError(errno.ENOENT, path)
            return _File(self, key, self.live[key], writable=False)
        if parent not in self.dirs:
            raise OSError(errno.ENOENT, parent)
        if "w" in mode or key not in self.live:
            self.live[key] = bytearray()
            if not self.power_cut:
                self.durable.setdefault(key, b"")
                if "w" in mode:
                    self.durable[key] = b""
        return _File(self, key, self.live[key], writable=True)

    def listdir(self, path: str = "/") -> list[str]:
        key = self._norm(path)
        if key not in self.dirs:
            raise OSError(errno.ENOENT, path)
        prefix = key + "/" if key else ""
        paths = [p for p in list(self.live) + list(self.dirs) if p.startswith(prefix) and p]
        return sorted({p[len(prefix) :] for p in paths if "/" not in p[len(prefix) :]})

    def mkdir(self, path: str) -> None:
        key = self._norm(path)
        if key in self.dirs or key in self.live:
            raise OSError(errno.EEXIST, path)
        self.dirs.add(key)

    def remove(self, path: str) -> None:
        key = self._norm(path)
        if key not in self.live:
            raise OSError(errno.ENOENT, path)
        del self.live[key]
        if not self.power_cut:
            self.durable.pop(key, None)

    def rename(self, old: str, new: str) -> None:
        a, b = self._norm(old), self._norm(new)
        if a not in self.live:
            raise OSError(errno.ENOENT, old)
        self.live[b] = self.live.pop(a)
        if not self.power_cut:
            self.durable[b] = self.durable.pop(a, b"")

    def stat(self, path: str) -> tuple[int, ...]:
        key = self._norm(path)
        if key in self.dirs:
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        if key not in self.live:
            raise OSError(errno.ENOENT, path)
        return (0x8000, 0, 0, 0, 0, 0, len(self.live[key]), 0, 0, 0)

    def statvfs(self, path: str = "/") -> tuple[int, ...]:
        total = self.capacity_bytes // BLOCK_SIZE
        free = max(0, total - self._used() // BLOCK_SIZE)
        return (BLOCK_SIZE, BLOCK_SIZE, total, free, free, 0, 0, 0, 0, 255)

    def sync(self) -> None:
        for path in self.live:
            self._commit(path)
