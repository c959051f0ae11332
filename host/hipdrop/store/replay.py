"""Replay a session's packets into samples on the session clock.

The stored payloads go through the protocol's :class:`StreamAssembler` in the order they were
received (then ``flush``), exactly as live. Each boot's device clock is mapped to host time:

1. by its ``clocks`` row (``host = offset_s + scale × device_time_s``, written by the recorder's
   clock map: the packets' earliest arrivals and the drift between the clocks), else
2. by the live packets' arrival: ``offset = min(host_rx_s − device time of the packet's last
   sample)``, scale 1 — a packet cannot arrive before its last sample was taken, so the fastest
   one bounds the link latency — else
3. end to end after the previous boot (the first boot starts at the session's start).

``time_s`` is host time − ``started_at``, and samples are sorted by it.
"""

from dataclasses import dataclass

import numpy as np

from ..protocol import StreamAssembler

_BATCH = 4096
_SEQ_MOD = 2**32


@dataclass(frozen=True, eq=False)
class SessionSamples:
    """A session's samples, sorted by ``time_s`` (s since the session's start, host clock).

    ``acc_ms2`` (n, 3) m/s², ``gyr_dps`` (n, 3) deg/s in the sensor's axes as worn; ``boot`` and
    ``sample_index`` name each sample on the device; ``notes`` say how the clocks were mapped.
    """

    time_s: np.ndarray
    acc_ms2: np.ndarray
    gyr_dps: np.ndarray
    boot: np.ndarray
    sample_index: np.ndarray
    rate_hz: np.ndarray
    notes: tuple[str, ...]
    gaps: tuple[tuple[int, int, int], ...]
    """Missing ranges (boot, start, end) of sample indices, end exclusive."""

    def __len__(self):
        return len(self.time_s)


def replay(packet_rows, clocks: dict, started_at: float) -> SessionSamples:
    """Samples of ``packet_rows`` (boot, seq, host_rx_s, origin, payload, in rowid order)."""
    packet_rows = list(packet_rows)
    assembler = StreamAssembler()
    parts = [
        assembler.push([row[4] for row in packet_rows[i : i + _BATCH]])
        for i in range(0, len(packet_rows), _BATCH)
    ]
    parts.append(assembler.flush())
    cols = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _COLUMNS}
    time_s, notes = _session_times(cols, packet_rows, clocks, started_at)
    order = np.argsort(time_s, kind="stable")
    return SessionSamples(
        time_s=time_s[order],
        acc_ms2=cols["acc_ms2"][order],
        gyr_dps=cols["gyr_dps"][order],
        boot=cols["boot"][order],
        sample_index=cols["sample_index"][order],
        rate_hz=cols["rate_hz"][order],
        notes=tuple(notes),
        gaps=tuple(assembler.gaps()),
    )


_COLUMNS = ("boot", "sample_index", "device_time_s", "acc_ms2", "gyr_dps", "rate_hz")


def _session_times(cols, packet_rows, clocks, started_at):
    """Every sample's host time − ``started_at`` (s; computed without forming the large unix
    time, which would round to 0.24 µs), and a note per boot on how its clock was mapped."""
    time_s = np.empty(len(cols["boot"]))
    notes, chain_from = [], 0.0
    for boot in _boots_in_order(cols["boot"]):
        mask = cols["boot"] == boot
        device_s = _sample_clock(cols["sample_index"][mask], cols["device_time_s"][mask])
        offset, scale, how = _clock(boot, cols, mask, packet_rows, clocks)
        offset = chain_from - device_s.min() if offset is None else offset - started_at
        time_s[mask] = offset + scale * device_s
        notes.append(f"boot {boot}: clock {how}")
        chain_from = time_s[mask].max() + 1.0 / cols["rate_hz"][mask][-1]
    return time_s, notes


def _sample_clock(index, device_s):
    """The device times of a boot's samples on a line through their sample indices.

    Each packet's ``t0`` is the device's estimate of its first sample's time, a few hundred µs
    off (more while its sampling clock settles after a boot), so consecutive packets can
    overlap by a sample; the IMU's sample clock is steady, so the least-squares line through
    (index, time) keeps the times in sample order and removes that jitter.
    """
    if len(index) < 2:
        return device_s
    x = (index - index[0]).astype(np.float64)
    slope, intercept = np.polyfit(x, device_s, 1)
    return intercept + slope * x


def _boots_in_order(boot):
    """Boot counters in the order the assembler first released them."""
    values, first = np.unique(boot, return_index=True)
    return [int(b) for b in values[np.argsort(first)]]


def _clock(boot, cols, mask, packet_rows, clocks):
    """(offset_s, scale, how) for one boot; offset None means: chain after the previous boot."""
    if boot in clocks:
        offset, scale = clocks[boot]
        return offset, scale, "from the recorder's clock map (arrival times, drift-corrected)"
    offset = _arrival_offset(boot, cols, mask, packet_rows)
    if offset is not None:
        return offset, 1.0, "from packet arrival times (no time sync stored)"
    return None, 1.0, "unknown: placed after the previous boot"


def _arrival_offset(boot, cols, mask, packet_rows):
    """min(host_rx_s − device time of the packet's last sample) over the boot's live packets."""
    mine = [row for row in packet_rows if row[0] == boot]
    if not mine:
        return None
    start = _unwrap([row[1] for row in mine])
    counts = np.array([row[4][14] if len(row[4]) > 14 else 0 for row in mine])
    live = np.array([row[2] is not None and row[3] == "live" for row in mine]) & (counts > 0)
    if not live.any():
        return None
    order = np.argsort(cols["sample_index"][mask], kind="stable")
    index, device_s = cols["sample_index"][mask][order], cols["device_time_s"][mask][order]
    last = (start + counts - 1)[live]
    at = np.clip(np.searchsorted(index, last), 0, len(index) - 1)
    found = index[at] == last
    if not found.any():
        return None
    rx = np.array([row[2] for row in mine], dtype=float)[live]
    return float(np.min(rx[found] - device_s[at[found]]))


def _unwrap(seq):
    """Sequence numbers unwrapped like the assembler: each against the one before it."""
    seq = np.asarray(seq, dtype=np.int64)
    step = (np.diff(seq) + _SEQ_MOD // 2) % _SEQ_MOD - _SEQ_MOD // 2
    return np.concatenate([seq[:1], seq[0] + np.cumsum(step)])
