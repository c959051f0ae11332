"""RAM ring buffer of recent samples for backfill after a disconnect (protocol §3, §5).

Holds the last ``capacity`` 16-byte sample records (the packet's record layout) with, per
record, its sample index (``seq``) and its device time (``ticks_us``, below 2³⁰, so a small
int on the ESP32: no big int per sample). 24 bytes per sample, all preallocated; ``push``
allocates nothing while ``seq`` < 2³⁰ (62 days at 200 Hz since boot).

Backfill: ``request(from_seq, to_seq)`` clips the requested range [from, to) (serial-number
arithmetic: ``from > to`` is a range across the 2³² wrap) to what is held and answers the
result code of the BACKFILL response (``OK``, ``PARTIAL`` or ``RANGE_UNAVAILABLE``) with
``first``/``end``; ``packets(...)`` then re-packs that range into type-0x02 packets through a
``SamplePacker`` at the current MTU. A packet never spans a hole in ``seq`` (FIFO overflow
gaps are already gaps on the host side; such a packet is flagged ``FIFO_OVERFLOW``), and its
``t0`` is the held time of its first sample.

Rate or full-scale changes (SET_RATE) must ``clear`` the buffer: it holds one rate.
"""

import struct
from array import array

from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const

_RECORD = const(16)
BYTES_PER_SAMPLE = const(24)
"""16-byte record + u32 seq + u32 ticks_us."""
_MASK = 0xFFFFFFFF
_TILT_FIELD = const(12)
_RECORD_FMT = "<8h"
_UNAVAILABLE = p.TILT_UNAVAILABLE


def capacity_for_heap(free_bytes, reserve):
    """Samples a buffer may hold in ``free_bytes`` (``gc.mem_free()``) keeping ``reserve``."""
    return max(0, (free_bytes - reserve) // BYTES_PER_SAMPLE)


class RingBuffer:
    """The last ``capacity`` samples in push order."""

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._data = memoryview(bytearray(_RECORD * capacity))
        self._seq = array("I", bytes(4 * capacity))
        self._t = array("I", bytes(4 * capacity))
        self.clear()

    def clear(self):
        """Forget every sample."""
        self._head = 0  # next slot to write
        self.count = 0

    def push(self, record, seq, t_us):
        """Store one 16-byte ``record`` (bytes-like) with its sample index and device time."""
        head = self._head
        at = head * _RECORD
        self._data[at : at + _RECORD] = record
        self._seq[head] = seq
        self._t[head] = t_us
        head += 1
        self._head = 0 if head == self.capacity else head
        if self.count < self.capacity:
            self.count += 1

    def _slot(self, i):
        """Slot of the ``i``-th oldest held sample."""
        s = self._head - self.count + i
        return s + self.capacity if s < 0 else s

    def span(self):
        """(first_seq, end_seq) held, end exclusive; (0, 0) when empty. May contain holes."""
        if not self.count:
            return 0, 0
        first = self._seq[self._slot(0)]
        return first, (self._seq[self._slot(self.count - 1)] + 1) & _MASK

    def _index_at_or_after(self, seq):
        """Index of the oldest held sample whose seq is ≥ ``seq`` (count if none)."""
        first = self._seq[self._slot(0)]
        want = (seq - first) & _MASK
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if (self._seq[self._slot(mid)] - first) & _MASK < want:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def request(self, from_seq, to_seq):
        """Clip [from_seq, to_seq) to what is held: (result, first, end) for the response."""
        if not self.count:
            return p.RESULT_RANGE_UNAVAILABLE, 0, 0
        held_first, held_end = self.span()
        lo = _signed(from_seq - held_first)  # offsets from the oldest held sample
        hi = lo + ((to_seq - from_seq) & _MASK)
        a, b = max(lo, 0), min(hi, (held_end - held_first) & _MASK)
        if a >= b:
            return p.RESULT_RANGE_UNAVAILABLE, 0, 0
        result = p.RESULT_OK if (a, b) == (lo, hi) else p.RESULT_PARTIAL
        return result, (held_first + a) & _MASK, (held_first + b) & _MASK

    def packets(self, packer, first, end, boot, rate_code, fs_code):
        """Yield type-0x02 packets (views into ``packer``'s buffer) of the held [first, end).

        Send each before asking for the next: they share the packer's buffer.
        """
        if not self.count:
            return
        base = self._seq[self._slot(0)]
        stop = (end - base) & _MASK
        i = self._index_at_or_after(first)
        prev = None
        while i < self.count and (self._seq[self._slot(i)] - base) & _MASK < stop:
            i, prev = self._fill(packer, i, stop, base, prev, boot, rate_code, fs_code)
            yield packer.finish()

    def _fill(self, packer, i, stop, base, prev, boot, rate_code, fs_code):
        """Pack contiguous samples from held index ``i``; return (next index, last seq)."""
        slot = self._slot(i)
        seq = self._seq[slot]
        gap = prev is not None and seq != (prev + 1) & _MASK
        flags = p.FLAG_FIFO_OVERFLOW if gap else 0
        if struct.unpack_from("<h", self._data, slot * _RECORD + _TILT_FIELD)[0] == _UNAVAILABLE:
            flags |= p.FLAG_TILT_UNSETTLED
        packer.start(p.TYPE_BACKFILL, boot, seq, self._t[slot], rate_code, fs_code, flags)
        while True:
            full = packer.add(*struct.unpack_from(_RECORD_FMT, self._data, slot * _RECORD))
            i += 1
            prev = seq
            if full or i >= self.count:
                return i, prev
            slot = self._slot(i)
            seq = self._seq[slot]
            if seq != (prev + 1) & _MASK or (seq - base) & _MASK >= stop:
                return i, prev


def _signed(x):
    """``x`` mod 2³² as a signed 32-bit offset."""
    x &= _MASK
    return x - (_MASK + 1) if x & 0x80000000 else x
