"""Raw packets: the exact bytes the device sent, kept so a session can be replayed.

``UNIQUE (session_id, boot, seq)`` lets ``INSERT OR IGNORE`` drop a packet the store already
holds, so a duplicate never reaches the table. The ``boots`` table keeps, per session and device
boot, the sequence range seen and the samples stored, for the completeness figure of
``hipdrop sessions`` without reading the packets.
"""

import struct
from collections.abc import Iterable, Iterator

ORIGINS = ("live", "backfill", "log")
_HEADER = struct.Struct("<xxHII")  # boot, seq, t0_ticks_us (docs/protocol.md §3)
_COUNT_OFFSET = 14

_INSERT = (
    "INSERT OR IGNORE INTO packets (session_id, boot, seq, t0_ticks, host_rx_s, origin, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_BOOT_UPSERT = """
INSERT INTO boots (session_id, boot, first_seq, end_seq, samples, last_rx_s)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (session_id, boot) DO UPDATE SET
    first_seq = min(first_seq, excluded.first_seq),
    end_seq = max(end_seq, excluded.end_seq),
    samples = samples + excluded.samples,
    last_rx_s = CASE WHEN last_rx_s IS NULL THEN excluded.last_rx_s
                     ELSE max(last_rx_s, coalesce(excluded.last_rx_s, last_rx_s)) END
"""


def row_from_packet(payload, host_rx_s, origin):
    """The ``add_packets`` row of a sample packet: boot, seq and t0 read from its header."""
    boot, seq, t0_ticks = _HEADER.unpack_from(payload)
    return boot, seq, t0_ticks, host_rx_s, origin, bytes(payload)


def add(conn, sid, rows: Iterable) -> int:
    """Insert the new rows; returns how many were new. The caller commits."""
    ranges: dict[int, list] = {}
    execute = conn.execute
    new = 0
    for boot, seq, t0_ticks, host_rx_s, origin, payload in rows:
        if origin not in ORIGINS:
            raise ValueError(f"packet origin {origin!r} is not one of {', '.join(ORIGINS)}")
        payload = bytes(payload)
        if not execute(_INSERT, (sid, boot, seq, t0_ticks, host_rx_s, origin, payload)).rowcount:
            continue
        new += 1
        count = payload[_COUNT_OFFSET] if len(payload) > _COUNT_OFFSET else 0
        _widen(ranges, boot, seq, count, host_rx_s)
    for boot, (first, end, samples, last_rx) in ranges.items():
        execute(_BOOT_UPSERT, (sid, boot, first, end, samples, last_rx))
    return new


def _widen(ranges, boot, seq, count, host_rx_s):
    r = ranges.get(boot)
    if r is None:
        ranges[boot] = [seq, seq + count, count, host_rx_s]
        return
    r[0], r[1], r[2] = min(r[0], seq), max(r[1], seq + count), r[2] + count
    if host_rx_s is not None:
        r[3] = host_rx_s if r[3] is None else max(r[3], host_rx_s)


def rows(conn, sid) -> Iterator[tuple]:
    """(boot, seq, t0_ticks, host_rx_s, origin, payload) in insertion order."""
    yield from conn.execute(
        "SELECT boot, seq, t0_ticks, host_rx_s, origin, payload FROM packets"
        " WHERE session_id = ? ORDER BY id",
        (sid,),
    )
