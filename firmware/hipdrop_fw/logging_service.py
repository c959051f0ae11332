"""The app's persistence: boot counter, calibration, untethered log and the LOG_* commands.

``App`` delegates here when it is given a filesystem adapter (``flashlog.OsFs(os, open)`` on
the board, ``hipdrop.vsensor.fake_flash.FakeFlash`` in tests). Files on ``fs``:

- ``/boot_count``: the boot counter as decimal text (protocol §3: its own file, never reset
  by erasing logs; the same file ``main.py`` kept before, so a board's count carries on);
- ``/calibration``: the last successful CALIBRATE response payload (``<5h``, 10 bytes);
- ``/log/NNNNN.hdl``: the logs (``flashlog``).

Logging: a sample packet finished while the app does not stream is appended to the open
log; with no central connected the first such packet starts a log. ``START`` closes it, so
it can be listed, read and erased (protocol §5, §6). A ``LOG_READ`` answers the size, then
``pump`` sends up to ``chunks_per_poll`` log chunks per main-loop step, so sampling never
waits on a read.
"""

import struct

from hipdrop_fw import control, flashlog, packet
from hipdrop_fw import protocol as p

BOOT_FILE = "/boot_count"
CAL_FILE = "/calibration"
_CAL_FMT = "<5h"
_CAL_SIZE = 10
_MASK16 = 0xFFFF
_CHUNK_OVERHEAD = 14  # log chunk header and CRC (protocol §6)


def next_boot(fs, boot=None):
    """Persist and return the boot counter: ``boot`` if given, else the stored one + 1."""
    if boot is None:
        try:
            with fs.open(BOOT_FILE, "rb") as f:
                boot = int(f.read().decode().strip() or "0") + 1
        except (OSError, ValueError):
            boot = 1
    boot &= _MASK16
    try:
        with fs.open(BOOT_FILE, "wb") as f:
            f.write(str(boot).encode())
        flashlog._sync(fs)
    except OSError:
        pass  # the count still serves this boot
    return boot


class LogService:
    """Persistence for one boot; ``peripheral`` answers LOG_LIST and carries the chunks."""

    def __init__(self, fs, board, peripheral, chunks_per_poll=6):
        self.fs = fs
        self.board = board
        self.chunks_per_poll = chunks_per_poll
        self.peripheral = peripheral
        self.log = flashlog.FlashLog(fs)
        self.recovered_bytes = 0
        try:
            self.recovered_bytes = self.log.recover()
        except (OSError, ValueError):
            self.log.fault = p.FAULT_FLASH_ERROR
        self._packer = None
        self._packer_payload = 0
        self._read = None  # [log_id, offset, end] of the running LOG_READ

    # -- calibration -------------------------------------------------------------------

    def load_calibration(self):
        """The persisted CALIBRATE payload (5 ints), or None."""
        try:
            with self.fs.open(CAL_FILE, "rb") as f:
                data = f.read()
        except OSError:
            return None
        if len(data) != _CAL_SIZE:
            return None
        return struct.unpack(_CAL_FMT, data)

    def save_calibration(self, cal):
        try:
            with self.fs.open(CAL_FILE, "wb") as f:
                f.write(struct.pack(_CAL_FMT, *cal))
            flashlog._sync(self.fs)
        except OSError:
            self.log.fault = p.FAULT_FLASH_ERROR

    # -- logging -----------------------------------------------------------------------

    def on_packet(self, pkt, connected, boot, unix_s, rate_code, fs_code):
        """A finished sample packet the app does not stream: log it. ``unix_s()`` gives the
        wall-clock time, asked only when a log starts (it allocates a big int)."""
        log = self.log
        if not log.logging:
            if connected or log.fault == p.FAULT_FLASH_FULL:
                return
            t0 = pkt[8] | pkt[9] << 8 | pkt[10] << 16 | pkt[11] << 24
            if not log.start(boot, unix_s(), t0, rate_code, fs_code, self.board):
                return
        log.append(pkt)

    def close(self):
        """Close the open log (a host started streaming; low battery)."""
        self.log.close()

    def fault(self):
        return self.log.fault

    def fill_permille(self):
        try:
            return self.log.fill_permille()
        except OSError:
            return 0

    def link_down(self):
        self._read = None

    # -- LOG_LIST, LOG_READ, LOG_ERASE -------------------------------------------------

    def handlers(self):
        return {
            p.OP_LOG_LIST: self._list,
            p.OP_LOG_READ: self._read_cmd,
            p.OP_LOG_ERASE: self._erase,
        }

    def _list(self, token, args):
        per = self.peripheral
        try:
            entries = self.log.list()
        except OSError:
            return p.RESULT_IO_ERROR
        first = args[0]
        cap = control.log_list_capacity(per.payload_max)
        page = entries[first : first + cap]
        per.respond(p.OP_LOG_LIST, token, p.RESULT_OK, (len(entries), first, len(page)), page)
        return None

    def _read_cmd(self, token, args):
        log_id, offset, length = args
        if self._read is not None:
            return p.RESULT_BUSY
        if log_id not in self.log.ids():
            return p.RESULT_NO_SUCH_LOG
        if log_id == self.log.log_id and self.log.logging:
            return p.RESULT_BUSY
        info = self.log.info(log_id)
        if info is None:
            return p.RESULT_IO_ERROR
        size = info[3]
        end = min(size, offset + length)
        if end > offset:
            payload_max = self.peripheral.payload_max
            if self._packer is None or self._packer_payload != payload_max:
                self._packer = packet.LogChunkPacker(payload_max)
                self._packer_payload = payload_max
            self._read = [log_id, offset, end]
        return p.RESULT_OK, (size,)

    def pump(self):
        """Send up to ``chunks_per_poll`` chunks of the running LOG_READ."""
        rd = self._read
        budget = self.chunks_per_poll
        while rd is not None and budget:
            result, chunk = self.log.read_chunk(rd[0], rd[1], rd[2] - rd[1], self._packer)
            if result != p.RESULT_OK or chunk is None:
                self._read = None  # erased or unreadable: the host sees the short read
                return
            n = len(chunk) - _CHUNK_OVERHEAD
            if n <= 0 or not self.peripheral.notify_stream(chunk):
                if n <= 0:
                    self._read = None
                return  # refused: the same chunk is read again next poll
            rd[1] += n
            budget -= 1
            if rd[1] >= rd[2]:
                self._read = None
                return

    def _erase(self, token, args):
        log_id, crc = args
        if self._read is not None and self._read[0] == log_id:
            return p.RESULT_BUSY
        return self.log.erase(log_id, crc)
