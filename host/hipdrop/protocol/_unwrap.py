"""Unwrapping of the sequence counter and the device clock (docs/protocol.md §3)."""

from __future__ import annotations

from bisect import bisect_left

from .constants import SEQ_MODULUS, TICKS_WRAP_US

# A new clock anchor is kept only this many samples away from the existing ones, which
# bounds memory on long streams; the prediction error over 256 samples is negligible.
_ANCHOR_SPACING_SAMPLES = 256


def unwrap_serial(value: int, anchor: int, modulus: int = SEQ_MODULUS) -> int:
    """The unwrapped integer congruent to ``value`` nearest to ``anchor`` (serial arithmetic).

    A forward jump of less than half the modulus is forward.
    """
    half = modulus // 2
    return anchor + (value - anchor + half) % modulus - half


class ClockUnwrapper:
    """Unwraps ``t0_ticks_us`` (wrapping at 2**30 us) of one boot.

    Each packet is unwrapped against the nearest packet already placed: the number of wraps
    is the one that best matches the elapsed time predicted from the sample-index
    difference and the nominal rate.
    """

    def __init__(self) -> None:
        self._index: list[int] = []
        self._time_us: list[int] = []

    def unwrap(self, sample_index: int, ticks_us: int, rate_hz: float) -> int:
        """Unwrapped device time of ``sample_index`` in microseconds; remembers the anchor."""
        if not self._index:
            self._index.append(sample_index)
            self._time_us.append(ticks_us)
            return ticks_us
        k = self._nearest(sample_index)
        anchor_index, anchor_us = self._index[k], self._time_us[k]
        predicted_us = anchor_us + (sample_index - anchor_index) * 1e6 / rate_hz
        wraps = round((predicted_us - ticks_us) / TICKS_WRAP_US)
        time_us = ticks_us + wraps * TICKS_WRAP_US
        if abs(sample_index - anchor_index) >= _ANCHOR_SPACING_SAMPLES:
            at = bisect_left(self._index, sample_index)
            self._index.insert(at, sample_index)
            self._time_us.insert(at, time_us)
        return time_us

    def _nearest(self, sample_index: int) -> int:
        at = bisect_left(self._index, sample_index)
        if at == len(self._index):
            return at - 1
        if at > 0 and sample_index - self._index[at - 1] <= self._index[at] - sample_index:
            return at - 1
        return at
