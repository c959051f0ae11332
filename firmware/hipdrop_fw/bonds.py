"""Bond keys kept in flash, so a paired host stays bonded across reboots.

MicroPython's ``bluetooth`` module does not persist bonds itself: the stack hands each secret
to the application (``_IRQ_SET_SECRET``: sec_type, key, value; value None deletes) and asks for
them back (``_IRQ_GET_SECRET``: sec_type, index, key; with key None, the index'th secret of
that type, which the stack uses to load them all at start-up). ``BondStore`` answers both from
RAM and writes the file from the main loop (``save``), never inside the IRQ: a flash write
there would stall the radio.

File ``/bonds``: records ``sec_type u8, key length u8, value length u16, key, value``, then the
CRC-32 of all of it; a damaged file is ignored (the host pairs again), never a crash. At most
``MAX_SECRETS`` are kept; the oldest go first.
"""

import struct
from binascii import crc32

from hipdrop_fw import flashlog

BONDS_FILE = "/bonds"
MAX_SECRETS = 24  # NimBLE writes 2-3 per bonded peer: about 8 hosts
_HEAD = "<BBH"
_HEAD_SIZE = 4


class BondStore:
    """The stack's secrets for ``fs`` (a ``flashlog`` filesystem adapter)."""

    def __init__(self, fs, path=BONDS_FILE):
        self.fs = fs
        self.path = path
        self.dirty = False
        self.secrets = []  # [sec_type, key, value], oldest first
        self._load()

    def _load(self):
        try:
            with self.fs.open(self.path, "rb") as f:
                data = f.read()
        except OSError:
            return
        if len(data) < 4 or crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
            return
        at, end = 0, len(data) - 4
        while at + _HEAD_SIZE <= end:
            sec_type, n_key, n_value = struct.unpack_from(_HEAD, data, at)
            at += _HEAD_SIZE
            key = bytes(data[at : at + n_key])
            value = bytes(data[at + n_key : at + n_key + n_value])
            at += n_key + n_value
            self.secrets.append([sec_type, key, value])

    def get(self, sec_type, index, key):
        """``_IRQ_GET_SECRET``: the value for ``key``, or the ``index``'th one when ``key`` is
        None; None when there is none."""
        if key is None:
            found = [s for s in self.secrets if s[0] == sec_type]
            return found[index][2] if index < len(found) else None
        key = bytes(key)
        for s in self.secrets:
            if s[0] == sec_type and s[1] == key:
                return s[2]
        return None

    def set(self, sec_type, key, value):
        """``_IRQ_SET_SECRET``: store (or with ``value`` None, delete) a secret; False when
        there was nothing to delete."""
        key = bytes(key)
        kept = [s for s in self.secrets if not (s[0] == sec_type and s[1] == key)]
        removed = len(kept) != len(self.secrets)
        if value is None and not removed:
            return False
        if value is not None:
            kept.append([sec_type, key, bytes(value)])
        self.secrets = kept[-MAX_SECRETS:]
        self.dirty = True
        return True

    def save(self):
        """Write the file if the secrets changed (call from the main loop); False on an I/O
        error (kept dirty: the next call tries again)."""
        if not self.dirty:
            return True
        body = bytearray()
        for sec_type, key, value in self.secrets:
            body += struct.pack(_HEAD, sec_type, len(key), len(value)) + key + value
        body += struct.pack("<I", crc32(body))
        try:
            with self.fs.open(self.path, "wb") as f:
                f.write(body)
            flashlog._sync(self.fs)
        except OSError:
            return False
        self.dirty = False
        return True
