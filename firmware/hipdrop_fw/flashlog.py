"""Untethered log to flash, power-cut safe (docs/firmware.md, "Untethered logging").

With no host connected the app hands ``FlashLog.append`` each finished sample packet (the
exact protocol bytes, CRC included). One file per log, ``<root>/NNNNN.hdl`` (``NNNNN`` the
log id, 1–65535), a sequence of records::

    kind u8 | length u16 | body (length bytes) | crc32 u32 of kind, length and body

    kind 'H' (0x48) header, first: magic b"HDLG", format u8, boot u16, start_unix_s u32
                    (0 = RTC never set), start_ticks_us u32, rate_code u8, fs_code u8,
                    board name (UTF-8, the rest of the body)
    kind 'P' (0x50) a sample packet stored as is
    kind 'D' (0x44) a sample packet compressed by ``logcodec`` (decodes to the exact bytes)
    kind 'C' (0x43) a sample packet chained to the previous 'P'/'D'/'C' record's packet
                    (``logcodec.encode_next``; format 2): count u8 first, then residuals
    kind 'E' (0x45) end, last: n_samples u32, n_packets u32 — written by ``close``/``recover``

Format 2 adds 'C' records; a format-1 file is a format-2 file without them, so one reader
reads both. A 'C' record is only written when the previous packet record starts in the same
block (``BLOCK`` bytes of the file, counted from each block write): the first packet
record starting in a block is always 'P' or 'D', so a reader that skips a lost or corrupt
record and resynchronises loses at most the packets up to the next block's first packet.

Records are gathered in a preallocated block (``BLOCK`` bytes); a full block is written with
one ``f.write``, then ``f.flush()`` and ``os.sync()``: a power cut loses at most the block
being filled (≈ 3 s at 200 Hz compressed) and never touches bytes written before. On boot
``recover`` checks the newest file record by record, cuts it after the last whole record
whose CRC matches (a torn tail on a filesystem that does not commit atomically) and closes
it. LittleFS (MicroPython's default on the ESP32) commits a file at ``flush``/``close``
copy-on-write, so there a cut only ever loses the unflushed tail.

The filesystem is passed in: an object with ``open(path, mode)``, ``listdir``, ``remove``,
``stat``, ``statvfs``, ``mkdir`` and ``rename`` like MicroPython's ``os`` (``OsFs`` wraps ``os`` and
``open`` on the device; the tests use ``hipdrop.vsensor.fake_flash``); ``sync()`` is called
when it has one.
"""

import struct
from binascii import crc32

from hipdrop_fw import logcodec
from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const

MAGIC = b"HDLG"
FORMAT_VERSION = const(2)
BLOCK = const(4096)
KIND_HEADER = const(0x48)
KIND_PACKET = const(0x50)
KIND_DELTA = const(0x44)
KIND_CHAINED = const(0x43)
KIND_END = const(0x45)
RECORD_OVERHEAD = const(7)  # kind, length, crc32
RESERVE_BLOCKS = const(4)  # kept free for the end record and filesystem metadata
_HEAD_FMT = "<4sBHIIBB"
_HEAD_SIZE = const(17)
_END_FMT = "<II"
_MAX_NAME = const(32)
_MAX_PACKET = const(16 + 16 * 255 + 4)
_MAX_RECORD = const(_MAX_PACKET + 7)
_SUFFIX = ".hdl"
_KINDS = (KIND_HEADER, KIND_PACKET, KIND_DELTA, KIND_CHAINED, KIND_END)
_ENOSPC = const(28)


class OsFs:
    """The device's filesystem for ``FlashLog``: MicroPython's ``os`` plus ``open``."""

    def __init__(self, os_module, open_fn):
        self._os = os_module
        self.open = open_fn
        self.listdir = os_module.listdir
        self.remove = os_module.remove
        self.stat = os_module.stat
        self.statvfs = os_module.statvfs
        self.mkdir = os_module.mkdir
        self.rename = os_module.rename

    def sync(self):
        if hasattr(self._os, "sync"):
            self._os.sync()


def log_name(log_id):
    return f"{log_id:05d}{_SUFFIX}"


def records(data):
    """Yield ``(kind, start, end)`` of each whole, CRC-valid record of ``data`` (body slice).

    Stops at the first torn or corrupt record; ``end + 4`` of the last one yielded is the
    valid length of the file.
    """
    mv = memoryview(data)
    at = 0
    while at + RECORD_OVERHEAD <= len(mv):
        kind, n = mv[at], mv[at + 1] | mv[at + 2] << 8
        end = at + 3 + n
        if end + 4 > len(mv) or kind not in _KINDS:
            return
        if crc32(mv[at:end]) != struct.unpack_from("<I", mv, end)[0]:
            return
        yield kind, at + 3, end
        at = end + 4


def parse_header(body):
    """(format, boot, start_unix_s, start_ticks_us, rate_code, fs_code, board) of a header."""
    magic, fmt, boot, unix_s, ticks, rate, fs = struct.unpack_from(_HEAD_FMT, body, 0)
    if magic != MAGIC:
        raise ValueError("not a hipdrop log")
    return fmt, boot, unix_s, ticks, rate, fs, bytes(body[_HEAD_SIZE:]).decode()


def packets(data):
    """Yield every logged sample packet of a log file's bytes, as the exact protocol bytes.

    Reads formats 1 and 2; raises ValueError for a 'C' record with no packet before it.
    """
    mv = memoryview(data)
    prev = None
    for kind, start, end in records(data):
        if kind == KIND_PACKET:
            prev = bytes(mv[start:end])
        elif kind == KIND_DELTA:
            scratch = bytearray(_MAX_PACKET)
            prev = bytes(scratch[: logcodec.decode(mv[start:end], scratch)])
        elif kind == KIND_CHAINED:
            if prev is None:
                raise ValueError("chained packet without a previous one")
            scratch = bytearray(_MAX_PACKET)
            prev = bytes(scratch[: logcodec.decode_next(mv[start:end], prev, scratch)])
        else:
            continue
        yield prev


class FlashLog:
    """Logs under ``root`` on ``fs``; at most one log open for writing.

    ``compress`` stores packets through ``logcodec`` (raw when that does not pay).
    ``fault`` is ``FAULT_NONE``, ``FAULT_FLASH_FULL`` (logging stopped, the log closed) or
    ``FAULT_FLASH_ERROR``.
    """

    def __init__(self, fs, root="/log", compress=True, block=BLOCK):
        self.fs = fs
        self.root = root
        self.compress = compress
        self.fault = p.FAULT_NONE
        self._block = memoryview(bytearray(block))
        self._fill = 0
        self._rec = memoryview(bytearray(_MAX_RECORD))
        self._prev = memoryview(bytearray(_MAX_PACKET))  # last packet logged (for 'C')
        self._prev_len = 0  # 0: the next packet starts a chain
        self._prev_block = 0  # ``_blocks`` when the last packet record started
        self._blocks = 0  # block writes of the open log
        self._f = None
        self._full = False
        self.log_id = 0
        self.n_samples = 0
        self.n_packets = 0
        self.size = 0  # bytes of the open log, buffered ones included
        if root.strip("/") not in _listdir(fs, "/"):
            fs.mkdir(root)

    # -- listing and space -------------------------------------------------------------

    def ids(self):
        """Log ids on flash, oldest first."""
        out = []
        for name in _listdir(self.fs, self.root):
            if name.endswith(_SUFFIX) and name[: -len(_SUFFIX)].isdigit():
                out.append(int(name[: -len(_SUFFIX)]))
        out.sort()
        return out

    def path(self, log_id):
        return self.root + "/" + log_name(log_id)

    def info(self, log_id):
        """(log_id, start_unix_s, n_samples, size_bytes) as LOG_LIST lists it, or None."""
        if log_id == self.log_id and self._f is not None:
            return log_id, self._start_unix_s, self.n_samples, self.size
        try:
            size = self.fs.stat(self.path(log_id))[6]
            with self.fs.open(self.path(log_id), "rb") as f:
                head = f.read(RECORD_OVERHEAD + _HEAD_SIZE)
                f.seek(max(0, size - RECORD_OVERHEAD - 8))
                tail = f.read()
        except OSError:
            return None
        unix_s = struct.unpack_from("<I", head, 3 + 7)[0] if len(head) >= 14 else 0
        n = 0
        ended = len(tail) == RECORD_OVERHEAD + 8 and tail[0] == KIND_END
        if ended and crc32(tail[:11]) == struct.unpack_from("<I", tail, 11)[0]:
            n = struct.unpack_from("<I", tail, 3)[0]
        return log_id, unix_s, n, size

    def list(self):
        """LOG_LIST entries of every log, oldest first."""
        out = []
        for i in self.ids():
            entry = self.info(i)
            if entry is not None:
                out.append(entry)
        return out

    def free_bytes(self):
        st = self.fs.statvfs(self.root)
        return st[0] * st[4]

    def fill_permille(self):
        """Filesystem fill for the status packet's ``log_fill_permille`` (0–1000)."""
        st = self.fs.statvfs(self.root)
        total = st[2]
        return 1000 - (st[4] * 1000) // total if total else 1000

    # -- writing -----------------------------------------------------------------------

    def start(self, boot, start_unix_s, start_ticks_us, rate_code, fs_code, board):
        """Open a new log and write its header record; True if logging runs."""
        if self._f is not None:
            self.close()
        if self.free_bytes() < (RESERVE_BLOCKS + 1) * len(self._block):
            self.fault = p.FAULT_FLASH_FULL
            return False
        ids = self.ids()
        self.log_id = ids[-1] % 0xFFFF + 1 if ids else 1
        try:
            self._f = self.fs.open(self.path(self.log_id), "wb")
        except OSError:
            self.fault = p.FAULT_FLASH_ERROR
            return False
        self.fault = p.FAULT_NONE
        self._full = False
        self._start_unix_s = start_unix_s
        self._fill = self.size = self.n_samples = self.n_packets = 0
        self._prev_len = self._blocks = 0
        name = board.encode()[:_MAX_NAME]
        body = self._rec[3:]
        struct.pack_into(_HEAD_FMT, body, 0, MAGIC, FORMAT_VERSION, boot, start_unix_s,
                         start_ticks_us, rate_code, fs_code)  # fmt: skip
        body[_HEAD_SIZE : _HEAD_SIZE + len(name)] = name
        return self._put(KIND_HEADER, _HEAD_SIZE + len(name))

    @property
    def logging(self):
        return self._f is not None

    def append(self, packet):
        """Log one sample packet (bytes-like, CRC included); False once logging stopped."""
        if self._f is None:
            return False
        n = 0
        kind = KIND_CHAINED
        chain = self.compress and self._prev_len and self._prev_block == self._blocks
        if chain:
            n = logcodec.encode_next(packet, self._prev[: self._prev_len], self._rec[3:])
        if not n and self.compress:
            n = logcodec.encode(packet, self._rec[3:])
            kind = KIND_DELTA
        if n:  # the packet is valid (length, CRC): the next one may chain to it
            self._prev_len = len(packet)
            self._prev[: self._prev_len] = packet
        else:
            self._prev_len = 0
        if not n or n >= len(packet):
            n = len(packet)
            self._rec[3 : 3 + n] = packet
            kind = KIND_PACKET
        self._prev_block = self._blocks
        if not self._put(kind, n):
            return False
        self.n_packets += 1
        self.n_samples += packet[14]
        if self._full:
            self.close()
            self.fault = p.FAULT_FLASH_FULL
            return False
        return True

    def _put(self, kind, n):
        """Seal the record whose body is at ``_rec[3:3+n]`` and add it to the block."""
        rec = self._rec
        rec[0] = kind
        rec[1] = n & 0xFF
        rec[2] = n >> 8
        struct.pack_into("<I", rec, 3 + n, crc32(rec[: 3 + n]))
        total = n + RECORD_OVERHEAD
        done = 0
        while done < total:
            room = len(self._block) - self._fill
            take = min(room, total - done)
            self._block[self._fill : self._fill + take] = rec[done : done + take]
            self._fill += take
            done += take
            if self._fill == len(self._block) and not self._write_block(self._fill):
                return False
        self.size += total
        return True

    def _write_block(self, n):
        """Write the block's first ``n`` bytes, flush and sync; False (and close) on failure."""
        try:
            self._f.write(self._block[:n])  # type: ignore[union-attr]
            self._f.flush()  # type: ignore[union-attr]
            _sync(self.fs)
        except OSError as e:
            full = e.args and e.args[0] == _ENOSPC
            self._stop(p.FAULT_FLASH_FULL if full else p.FAULT_FLASH_ERROR)
            return False
        self._fill = 0
        self._blocks += 1
        if self.free_bytes() < RESERVE_BLOCKS * len(self._block):
            self._full = True  # the reserve takes the end record; append closes the log
        return True

    def sync(self):
        """Write the partly filled block now (e.g. before a risky moment); True if done."""
        if self._f is None or not self._fill:
            return self._f is not None
        return self._write_block(self._fill)

    def close(self):
        """Write what is buffered and the end record, close the file (low battery: call this)."""
        if self._f is None:
            return
        struct.pack_into(_END_FMT, self._rec, 3, self.n_samples, self.n_packets)
        if self._put(KIND_END, 8) and self._fill:
            self._write_block(self._fill)
        self._close_file()

    def _stop(self, fault):
        """Logging stops with ``fault``: keep what is on flash, close the file."""
        self.fault = fault
        self._fill = 0
        self._close_file()

    def _close_file(self):
        f, self._f = self._f, None
        if f is not None:
            try:
                f.close()
                _sync(self.fs)
            except OSError:
                self.fault = p.FAULT_FLASH_ERROR

    # -- after a reboot ----------------------------------------------------------------

    def recover(self):
        """Check the newest log after a boot: cut a torn tail, add the end record if missing.

        Returns the number of bytes cut (0 when the log was closed cleanly or none exists).
        """
        ids = self.ids()
        if not ids:
            return 0
        path = self.path(ids[-1])
        with self.fs.open(path, "rb") as f:
            data = f.read()
        good, n_samples, n_packets, ended = _scan(data)
        if ended and good == len(data):
            return 0
        self._rewrite(path, data, good, n_samples, n_packets, ended)
        return len(data) - good

    def _rewrite(self, path, data, good, n_samples, n_packets, ended):
        """Keep ``data[:good]`` (LittleFS cannot truncate in place) and end it."""
        if good == 0:
            self.fs.remove(path)
            return
        tmp = path + ".tmp"
        with self.fs.open(tmp, "wb") as f:
            f.write(memoryview(data)[:good])
            if not ended:
                end = bytearray(RECORD_OVERHEAD + 8)
                end[0], end[1], end[2] = KIND_END, 8, 0
                struct.pack_into(_END_FMT, end, 3, n_samples, n_packets)
                struct.pack_into("<I", end, 11, crc32(end[:11]))
                f.write(end)
            f.flush()
        self.fs.remove(path)
        self.fs.rename(tmp, path)
        _sync(self.fs)

    # -- LOG_READ / LOG_ERASE ----------------------------------------------------------

    def read_chunk(self, log_id, offset, length, packer):
        """Fill a LOG_READ chunk: ``(result, chunk or None)``; chunk ends at ``offset+length``.

        Reads at most ``packer.capacity`` bytes from ``offset`` into ``packer.data``.
        """
        if log_id == self.log_id and self._f is not None:
            return p.RESULT_BUSY, None
        try:
            with self.fs.open(self.path(log_id), "rb") as f:
                f.seek(offset)
                n = f.readinto(packer.data[: min(length, packer.capacity)])
        except OSError:
            return (p.RESULT_NO_SUCH_LOG if log_id not in self.ids() else p.RESULT_IO_ERROR), None
        return p.RESULT_OK, packer.finish(log_id, offset, n or 0)

    def checksum(self, log_id):
        """CRC-32 of the whole log file, read a block at a time."""
        crc = 0
        buf = self._block if self._f is None else memoryview(bytearray(1024))
        with self.fs.open(self.path(log_id), "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    return crc
                crc = crc32(buf[:n], crc)

    def erase(self, log_id, crc):
        """LOG_ERASE: remove the log only if ``crc`` is the CRC-32 of the flash copy."""
        if log_id not in self.ids():
            return p.RESULT_NO_SUCH_LOG
        if log_id == self.log_id and self._f is not None:
            return p.RESULT_BUSY
        try:
            if self.checksum(log_id) != crc:
                return p.RESULT_CHECKSUM_MISMATCH
            self.fs.remove(self.path(log_id))
            _sync(self.fs)
        except OSError:
            return p.RESULT_IO_ERROR
        if self.fault == p.FAULT_FLASH_FULL:
            self.fault = p.FAULT_NONE
        return p.RESULT_OK


def _scan(data):
    """(valid length, n_samples, n_packets, ended) of a log file's bytes."""
    good = n_samples = n_packets = 0
    ended = False
    mv = memoryview(data)
    for kind, start, end in records(data):
        if kind == KIND_HEADER and start != 3 or kind != KIND_HEADER and good == 0:
            break
        if kind in (KIND_PACKET, KIND_DELTA):
            n_packets += 1
            n_samples += mv[start + 14]
        elif kind == KIND_CHAINED:
            n_packets += 1
            n_samples += mv[start]
        good = end + 4
        if kind == KIND_END:
            ended = True
            break
    return good, n_samples, n_packets, ended


def _listdir(fs, path):
    try:
        return fs.listdir(path)
    except OSError:
        return []


def _sync(fs):
    if hasattr(fs, "sync"):
        fs.sync()
