"""Helpers of the protocol tests: the reference encoder, the vectors, synthetic streams."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"


def _load_reference():
    """tests/vectors/generate.py, the independent reference encoder, as a module."""
    name = "hipdrop_vectors_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, VECTORS_DIR / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


reference = _load_reference()


def load_vectors() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(VECTORS_DIR.glob("*.json"))}


@dataclass
class Stream:
    """A synthetic stream: packets in send order and the truth behind them."""

    packets: list[bytes]
    starts: np.ndarray  # unwrapped first sample index of each packet
    counts: np.ndarray
    records: np.ndarray  # (n, 8) int16, row k = sample index first_index + k
    first_index: int
    t0_true_us: np.ndarray  # unwrapped true device time of each packet's first sample


def sample_records(first_index: int, n: int) -> np.ndarray:
    """Records that identify their sample: acc x, y hold the low and high 15 bits."""
    k = np.arange(first_index, first_index + n, dtype=np.int64)
    records = np.zeros((n, 8), np.int16)
    records[:, 0] = k & 0x7FFF
    records[:, 1] = (k >> 15) & 0x7FFF
    records[:, 2] = 8192
    records[:, 3:6] = (k % 2000 - 1000)[:, None]
    records[:, 6:8] = (k % 3000 - 1500)[:, None]
    return records


def build_stream(
    n_samples,
    *,
    boot=1,
    first_index=0,
    per_packet=14,
    rate_code=3,
    clock_error=0.0,
    t0_start_us=0,
    ptype=1,
) -> Stream:
    """Packets of a stream of ``n_samples``; the IMU runs ``clock_error`` fast of nominal."""
    rate_hz = reference.RATE_HZ[rate_code]
    records = sample_records(first_index, n_samples)
    rows = np.arange(0, n_samples, per_packet)
    starts = first_index + rows
    counts = np.minimum(per_packet, n_samples - rows)
    t0_true = np.round(t0_start_us + rows * 1e6 / (rate_hz * (1 + clock_error))).astype(np.int64)
    packets = [
        reference.sample_packet(
            boot,
            int(s) % 2**32,
            int(t) % 2**30,
            records[r : r + c].tobytes(),
            ptype=ptype,
            rate_code=rate_code,
        )
        for s, r, c, t in zip(starts, rows, counts, t0_true, strict=True)
    ]
    return Stream(packets, starts, counts, records, first_index, t0_true)
