"""Lossless, cheap compression of one sample packet (docs/protocol.md §3) for the flash log.

A packet of ``count`` samples becomes: its 16-byte header, its first 16-byte sample record,
then per channel (acc x, y, z, gyr x, y, z, roll, pitch) one mode byte and the channel's
``count - 1`` residuals, zigzag-coded and bit-packed LSB first in ``width`` bits each,
padded to a whole byte. The mode byte is ``order << 5 | width``: order 1 predicts a value
by the previous one, order 2 by the linear extrapolation of the two previous ones (the
first residual of an order-2 channel is order 1); the encoder keeps the order with the
smaller largest residual, and ``width`` (0–16) is the bit length of that largest residual.
Residuals wrap modulo 2¹⁶, so every int16 input round-trips and width never exceeds 16.

The packet's CRC-32 is not stored: decoding re-seals the rebuilt bytes, which equal the
logged packet exactly (``encode`` refuses a packet whose CRC does not match, and the log
then stores it raw). Pure integer work, no allocation per packet beyond the caller's
buffers; small ints only (the bit accumulator stays below 2²⁴).

Measured on simulated running (docs/firmware.md, "Untethered logging: capacity").
"""

import struct
from binascii import crc32

from hipdrop_fw.compat import const

_HEADER = const(16)
_RECORD = const(16)
_CHANNELS = const(8)
_COUNT_AT = const(14)
_CRC = const(4)
MAX_ENCODED = const(16 + 16 + 8 * (1 + 2 * 254))
"""Largest encoded body (count 255, every channel at 16 bits): the scratch size to allocate."""


def _wrap(x):
    """``x`` as an int16 (modulo 2¹⁶)."""
    return ((x + 0x8000) & 0xFFFF) - 0x8000


def _i16(b, at):
    """The little-endian int16 at ``b[at]`` (no tuple allocated, unlike ``unpack_from``)."""
    x = b[at] | b[at + 1] << 8
    return x - 0x10000 if x & 0x8000 else x


def _zigzag(r):
    return (r << 1) if r >= 0 else ((-r) << 1) - 1


def _unzigzag(z):
    return (z >> 1) if not z & 1 else -((z + 1) >> 1)


def _residual(order, prev2, prev1, x, first):
    """Residual of ``x`` given the two previous values (order 2 falls back at ``first``)."""
    if order == 1 or first:
        return _wrap(x - prev1)
    return _wrap(x - 2 * prev1 + prev2)


def _channel_mode(mv, count, c):
    """(order, width) that codes channel ``c`` of the packet's samples in the fewest bits."""
    at = _HEADER + 2 * c
    v0 = _i16(mv, at)
    v1 = v0
    m1 = m2 = 0
    for i in range(1, count):
        x = _i16(mv, at + _RECORD * i)
        z1 = _zigzag(_wrap(x - v1))
        z2 = z1 if i == 1 else _zigzag(_wrap(x - 2 * v1 + v0))
        if z1 > m1:
            m1 = z1
        if z2 > m2:
            m2 = z2
        v0, v1 = v1, x
    return (1, _bits(m1)) if m1 <= m2 else (2, _bits(m2))


def _bits(z):
    n = 0
    while z:
        z >>= 1
        n += 1
    return n


def encode(packet, out):
    """Encode a sample ``packet`` (bytes-like, CRC included) into ``out``; return the length.

    Returns 0 when the packet should be stored raw: its CRC is wrong, its length does not
    match its count, or it has a single sample.
    """
    n = len(packet)
    if n < _HEADER + _RECORD + _CRC:
        return 0
    count = packet[_COUNT_AT]
    if count < 2 or n != _HEADER + _RECORD * count + _CRC:
        return 0
    if crc32(memoryview(packet)[: n - _CRC]) != struct.unpack_from("<I", packet, n - _CRC)[0]:
        return 0
    out[: _HEADER + _RECORD] = packet[: _HEADER + _RECORD]
    at = _HEADER + _RECORD
    for c in range(_CHANNELS):
        order, width = _channel_mode(packet, count, c)
        out[at] = order << 5 | width
        at = _pack_channel(packet, count, c, order, width, out, at + 1)
    return at


def _pack_channel(mv, count, c, order, width, out, at):
    """Bit-pack channel ``c``'s residuals at ``out[at:]``; return the end offset."""
    if not width:
        return at
    base = _HEADER + 2 * c
    v0 = v1 = _i16(mv, base)
    acc = nbits = 0
    for i in range(1, count):
        x = _i16(mv, base + _RECORD * i)
        acc |= _zigzag(_residual(order, v0, v1, x, i == 1)) << nbits
        nbits += width
        while nbits >= 8:
            out[at] = acc & 0xFF
            acc >>= 8
            nbits -= 8
            at += 1
        v0, v1 = v1, x
    if nbits:
        out[at] = acc
        at += 1
    return at


def decode(body, out):
    """Rebuild the packet of an encoded ``body`` into ``out``; return its length (CRC sealed).

    Raises ValueError if ``body`` is inconsistent (its length does not match its modes).
    """
    if len(body) < _HEADER + _RECORD:
        raise ValueError("encoded packet too short")
    count = body[_COUNT_AT]
    out[: _HEADER + _RECORD] = body[: _HEADER + _RECORD]
    at = _HEADER + _RECORD
    for c in range(_CHANNELS):
        if at >= len(body):
            raise ValueError("encoded packet truncated")
        mode = body[at]
        at = _unpack_channel(body, at + 1, count, c, mode >> 5, mode & 0x1F, out)
    if at != len(body):
        raise ValueError("encoded packet length mismatch")
    end = _HEADER + _RECORD * count
    struct.pack_into("<I", out, end, crc32(memoryview(out)[:end]))
    return end + _CRC


def _unpack_channel(body, at, count, c, order, width, out):
    """Rebuild channel ``c`` from its residuals at ``body[at:]``; return the end offset."""
    if order not in (1, 2) or width > 16:
        raise ValueError("bad channel mode")
    need = ((count - 1) * width + 7) // 8
    if at + need > len(body):
        raise ValueError("encoded packet truncated")
    base = _HEADER + 2 * c
    v0 = v1 = struct.unpack_from("<h", out, base)[0]
    acc = nbits = 0
    mask = (1 << width) - 1
    for i in range(1, count):
        while nbits < width:
            acc |= body[at] << nbits
            at += 1
            nbits += 8
        r = _unzigzag(acc & mask)
        acc >>= width
        nbits -= width
        x = _wrap(r + v1) if order == 1 or i == 1 else _wrap(r + 2 * v1 - v0)
        struct.pack_into("<h", out, base + _RECORD * i, x)
        v0, v1 = v1, x
    return at


# -- chained mode (log format 2): a packet predicted from the previous logged packet ------
#
# Body: count u8 | t0 residual (zigzag LEB128) | 8 mode bytes | one bitstream. The header is
# predicted from the previous packet ``prev``: version, type, boot, rate_code, fs_code and
# flags equal, seq = prev.seq + prev.count, t0 = prev.t0 + prev.count × period (mod 2³⁰),
# and only t0's deviation from that is stored. Each channel's ``count`` values continue the
# previous packet's (order 1 from its last value, order 2 from its last two), so no sample
# is stored whole; the residuals of all channels share one bitstream (LSB first, one pad at
# the end). ``encode_next`` returns 0 when the header does not follow (first packet of a
# log, a gap, a flag, rate or boot change, a bad CRC): the log then stores it intra.

_SAME = (0, 1, 2, 3, 12, 13, 15)
_T0_MASK = const(0x3FFFFFFF)
_RATE_HZ = {1: 100, 2: 104, 3: 200, 4: 208}  # protocol.RATE_HZ
MAX_CHAINED = const(1 + 5 + 8 + 2 * 8 * 255 + 1)
"""Largest chained body (count 255, every channel at 16 bits)."""


def _valid(packet):
    """The packet's sample count if its length and CRC are right, else 0."""
    n = len(packet)
    if n < _HEADER + _RECORD + _CRC:
        return 0
    count = packet[_COUNT_AT]
    if not count or n != _HEADER + _RECORD * count + _CRC:
        return 0
    if crc32(memoryview(packet)[: n - _CRC]) != struct.unpack_from("<I", packet, n - _CRC)[0]:
        return 0
    return count


def _predicted_t0(prev):
    """(seq, t0) the packet after ``prev`` should carry, or None for an unknown rate."""
    hz = _RATE_HZ.get(prev[12])
    if hz is None:
        return None
    count = prev[_COUNT_AT]
    seq = (struct.unpack_from("<I", prev, 4)[0] + count) & 0xFFFFFFFF
    t0 = (struct.unpack_from("<I", prev, 8)[0] + count * 1000000 // hz) & _T0_MASK
    return seq, t0


def encode_next(packet, prev, out):
    """Encode ``packet`` as the successor of the valid packet ``prev`` into ``out``.

    Returns the length, or 0 when ``packet`` does not follow ``prev`` (store it intra).
    """
    count = _valid(packet)
    if not count:
        return 0
    for i in _SAME:
        if packet[i] != prev[i]:
            return 0
    pred = _predicted_t0(prev)
    if pred is None or struct.unpack_from("<I", packet, 4)[0] != pred[0]:
        return 0
    r = ((struct.unpack_from("<I", packet, 8)[0] - pred[1] + 0x20000000) & _T0_MASK) - 0x20000000
    out[0] = count
    at = 1
    z = _zigzag(r)
    while z >= 0x80:
        out[at] = (z & 0x7F) | 0x80
        z >>= 7
        at += 1
    out[at] = z
    modes = at + 1
    at = modes + _CHANNELS
    pc = prev[_COUNT_AT]
    acc = nbits = 0
    for c in range(_CHANNELS):
        base = _HEADER + 2 * c
        last = base + _RECORD * (pc - 1)
        h1 = _i16(prev, last)
        h0 = _i16(prev, last - _RECORD) if pc > 1 else h1
        # choose the order: one pass for both largest residuals
        v0, v1 = h0, h1
        m1 = m2 = 0
        for i in range(count):
            x = _i16(packet, base + _RECORD * i)
            z1 = _zigzag(_wrap(x - v1))
            z2 = _zigzag(_wrap(x - 2 * v1 + v0))
            if z1 > m1:
                m1 = z1
            if z2 > m2:
                m2 = z2
            v0, v1 = v1, x
        order, width = (1, _bits(m1)) if m1 <= m2 else (2, _bits(m2))
        out[modes + c] = order << 5 | width
        if not width:
            continue
        v0, v1 = h0, h1
        for i in range(count):
            x = _i16(packet, base + _RECORD * i)
            r = _wrap(x - v1) if order == 1 else _wrap(x - 2 * v1 + v0)
            acc |= _zigzag(r) << nbits
            nbits += width
            while nbits >= 8:
                out[at] = acc & 0xFF
                acc >>= 8
                nbits -= 8
                at += 1
            v0, v1 = v1, x
    if nbits:
        out[at] = acc
        at += 1
    return at


def decode_next(body, prev, out):
    """Rebuild the packet of a chained ``body`` that followed packet ``prev`` into ``out``.

    Returns its length (CRC sealed); raises ValueError if ``body`` is inconsistent.
    """
    nb = len(body)
    if nb < 1 + 1 + _CHANNELS:
        raise ValueError("chained packet too short")
    count = body[0]
    pred = _predicted_t0(prev)
    if not count or pred is None:
        raise ValueError("bad chained packet")
    at = z = shift = 0
    while True:
        at += 1
        if at >= nb or shift > 28:
            raise ValueError("chained packet truncated")
        z |= (body[at] & 0x7F) << shift
        shift += 7
        if not body[at] & 0x80:
            break
    out[:_HEADER] = prev[:_HEADER]
    out[_COUNT_AT] = count
    struct.pack_into("<I", out, 4, pred[0])
    struct.pack_into("<I", out, 8, (pred[1] + _unzigzag(z)) & _T0_MASK)
    modes = at + 1
    at = modes + _CHANNELS
    if at > nb:
        raise ValueError("chained packet truncated")
    pc = prev[_COUNT_AT]
    acc = nbits = 0
    for c in range(_CHANNELS):
        mode = body[modes + c]
        order, width = mode >> 5, mode & 0x1F
        if order not in (1, 2) or width > 16:
            raise ValueError("bad channel mode")
        base = _HEADER + 2 * c
        last = base + _RECORD * (pc - 1)
        v1 = _i16(prev, last)
        v0 = _i16(prev, last - _RECORD) if pc > 1 else v1
        mask = (1 << width) - 1
        for i in range(count):
            if width:
                while nbits < width:
                    if at >= nb:
                        raise ValueError("chained packet truncated")
                    acc |= body[at] << nbits
                    at += 1
                    nbits += 8
                r = _unzigzag(acc & mask)
                acc >>= width
                nbits -= width
            else:
                r = 0
            x = _wrap(r + v1) if order == 1 else _wrap(r + 2 * v1 - v0)
            struct.pack_into("<h", out, base + _RECORD * i, x)
            v0, v1 = v1, x
    if at != nb or nbits >= 8:
        raise ValueError("chained packet length mismatch")
    end = _HEADER + _RECORD * count
    struct.pack_into("<I", out, end, crc32(memoryview(out)[:end]))
    return end + _CRC
