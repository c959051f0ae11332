"""Live stream assembly: order, de-duplicate, unwrap and gap-check decoded sample packets.

``StreamAssembler.push`` takes raw notifications in any order, with duplicates and
reboots, and returns the samples that became releasable, in sample order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._boot_stream import BootStream, Piece
from ._unwrap import unwrap_serial
from .decode import Decoded, decode_packets

# About 1.3 s at 200 Hz (18 full packets at MTU 247). BLE delivers notifications of one
# link in order, so the window only delays output while there is a hole: a hole is
# declared a gap once held data reach this many samples beyond it.
DEFAULT_REORDER_WINDOW_SAMPLES = 256


@dataclass(frozen=True, eq=False)
class Samples:
    """Released samples, per-sample arrays of length N.

    ``boot``; ``sample_index`` (int64, unwrapped ``seq + i``); ``device_time_s`` (float64,
    unwrapped device clock, s); ``acc_ms2`` (N, 3) m/s^2; ``gyr_dps`` (N, 3) deg/s;
    ``tilt_deg`` (N, 2) roll and pitch in degrees, NaN when unavailable; ``rate_hz``
    (nominal rate of the sample's packet); ``recovered`` (True for samples released
    behind the in-order cursor: filled gaps, or data older than the first packet seen).
    Ordered by boot (in the order boots were first seen), then sample index.
    """

    boot: np.ndarray
    sample_index: np.ndarray
    device_time_s: np.ndarray
    acc_ms2: np.ndarray
    gyr_dps: np.ndarray
    tilt_deg: np.ndarray
    rate_hz: np.ndarray
    recovered: np.ndarray

    def __len__(self) -> int:
        return len(self.sample_index)


_FIELDS = (
    "boot",
    "sample_index",
    "device_time_s",
    "acc_ms2",
    "gyr_dps",
    "tilt_deg",
    "rate_hz",
)


def _empty_samples() -> Samples:
    cols = _block_columns(0)
    return Samples(**cols, recovered=np.zeros(0, bool))


def _block_columns(n: int) -> dict[str, np.ndarray]:
    return {
        "boot": np.zeros(n, np.uint16),
        "sample_index": np.zeros(n, np.int64),
        "device_time_s": np.zeros(n),
        "acc_ms2": np.zeros((n, 3)),
        "gyr_dps": np.zeros((n, 3)),
        "tilt_deg": np.zeros((n, 2)),
        "rate_hz": np.zeros(n),
    }


class StreamAssembler:
    """Turns batches of stream notifications into ordered, gap-checked samples.

    Parameters
    ----------
    reorder_window_samples
        How far (in samples) held data may reach beyond a hole before the hole is declared
        a gap and the held data are released. Default ``DEFAULT_REORDER_WINDOW_SAMPLES``.

    Counters: ``errors`` (decoder rejects by §8 name, plus ``duplicate``), ``duplicates``,
    ``samples_released`` (all, including recovered), ``samples_recovered``,
    ``gaps_declared``.
    """

    def __init__(self, reorder_window_samples: int = DEFAULT_REORDER_WINDOW_SAMPLES) -> None:
        if reorder_window_samples < 0:
            raise ValueError("reorder_window_samples must be >= 0")
        self.reorder_window_samples = reorder_window_samples
        self.errors: Counter = Counter()
        self.samples_released = 0
        self.samples_recovered = 0
        self._streams: dict[int, BootStream] = {}

    @property
    def duplicates(self) -> int:
        return self.errors["duplicate"]

    @property
    def gaps_declared(self) -> int:
        return sum(stream.gaps_declared for stream in self._streams.values())

    def gaps(self) -> list[tuple[int, int, int]]:
        """Declared missing ranges ``(boot, start, end)``, end exclusive, in stream order."""
        return [(s.boot, a, b) for s in self._ordered() for a, b in s.gaps]

    def push(self, packets: Sequence[bytes]) -> Samples:
        """Decode and place a batch of notifications; return the newly releasable samples."""
        decoded = decode_packets(packets)
        self.errors.update(decoded.errors)
        self._place(decoded)
        newest = max((s.rank for s in self._streams.values()), default=0)
        for stream in self._streams.values():
            # a boot followed by a newer one gets no more live data: release it all
            stream.release(self.reorder_window_samples if stream.rank == newest else -1)
        return self._collect()

    def flush(self) -> Samples:
        """End of stream: declare every remaining hole a gap and release all held samples."""
        for stream in self._streams.values():
            stream.release(-1)
        return self._collect()

    def _ordered(self) -> list[BootStream]:
        return sorted(self._streams.values(), key=lambda s: s.rank)

    def _stream(self, boot: int) -> BootStream:
        if boot not in self._streams:
            self._streams[boot] = BootStream(boot, len(self._streams))
        return self._streams[boot]

    def _place(self, decoded: Decoded) -> None:
        if decoded.n_packets == 0:
            return
        streams, start, t0_us = self._unwrap(decoded)
        block = _make_block(decoded, start, t0_us)
        first_row = np.cumsum(decoded.count) - decoded.count
        for p in sorted(range(len(streams)), key=lambda p: (streams[p].rank, start[p])):
            piece = Piece(start[p], start[p] + int(decoded.count[p]), block, int(first_row[p]))
            if streams[p].place(piece) == 0:
                self.errors["duplicate"] += 1

    def _unwrap(self, decoded: Decoded) -> tuple[list[BootStream], list[int], list[int]]:
        """Per packet, in arrival order: its boot stream, unwrapped start index and t0 (us)."""
        streams, starts, times = [], [], []
        for boot, seq, ticks, rate in zip(
            decoded.boot.tolist(),
            decoded.seq.tolist(),
            decoded.t0_ticks_us.tolist(),
            decoded.rate_hz.tolist(),
            strict=True,
        ):
            stream = self._stream(boot)
            anchor = seq if stream.seq_anchor is None else stream.seq_anchor
            stream.seq_anchor = start = unwrap_serial(seq, anchor)
            streams.append(stream)
            starts.append(start)
            times.append(stream.clock.unwrap(start, ticks, rate))
        return streams, starts, times

    def _collect(self) -> Samples:
        parts = []
        for stream in self._ordered():
            parts.extend(sorted(stream.take(), key=lambda item: item[0].start))
        if not parts:
            return _empty_samples()
        out = {name: np.concatenate([_rows(piece, name) for piece, _ in parts]) for name in _FIELDS}
        recovered = np.concatenate(
            [np.full(piece.end - piece.start, flag) for piece, flag in parts]
        )
        self.samples_released += len(recovered)
        self.samples_recovered += int(recovered.sum())
        return Samples(**out, recovered=recovered)


def _rows(piece: Piece, name: str) -> np.ndarray:
    return piece.block[name][piece.lo : piece.lo + piece.end - piece.start]


def _make_block(decoded: Decoded, start: list[int], t0_us: list[int]) -> dict[str, np.ndarray]:
    """Per-sample arrays of a whole batch, computed in one vectorised pass."""
    pkt = decoded.sample_packet
    offset = decoded.sample_offset
    t0_s = np.asarray(t0_us, dtype=np.float64) / 1e6
    return {
        "boot": decoded.boot[pkt],
        "sample_index": np.asarray(start, dtype=np.int64)[pkt] + offset,
        "device_time_s": t0_s[pkt] + offset / decoded.rate_hz[pkt],
        "acc_ms2": decoded.acc_ms2,
        "gyr_dps": decoded.gyr_dps,
        "tilt_deg": decoded.tilt_deg,
        "rate_hz": decoded.rate_hz[pkt],
    }
