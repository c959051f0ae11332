"""Per-boot bookkeeping of the stream assembler: held samples, release cursor, gaps.

Invariant: every sample index in ``[origin, cursor)`` is either released or inside one of
``gaps``; samples at or after ``cursor`` are held until the cursor reaches them.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass

from ._unwrap import ClockUnwrapper


@dataclass(frozen=True)
class Piece:
    """Samples ``[start, end)`` of one boot, stored at rows ``lo...`` of a batch ``block``."""

    start: int
    end: int
    block: dict  # column name -> per-sample array of the batch
    lo: int

    def part(self, start: int, end: int) -> Piece:
        return Piece(start, end, self.block, self.lo + start - self.start)


class BootStream:
    """The sample sequence of one boot: placement, release in order, gap declaration."""

    def __init__(self, boot: int, rank: int) -> None:
        self.boot = boot
        self.rank = rank
        self.seq_anchor: int | None = None
        self.clock = ClockUnwrapper()
        self.origin: int | None = None
        self.cursor: int | None = None
        self.gaps: list[tuple[int, int]] = []
        self.gaps_declared = 0
        self._starts: list[int] = []
        self._held: dict[int, Piece] = {}
        self.released: list[tuple[Piece, bool]] = []  # (piece, recovered) since last take

    def place(self, piece: Piece) -> int:
        """Place a packet's samples; returns how many of them were new."""
        if self.origin is None:
            self.origin = self.cursor = piece.start
        new = 0
        if piece.start < self.origin:
            old_origin = self.origin
            new += self._before_origin(piece)
            if piece.end <= old_origin:
                return new
            piece = piece.part(old_origin, piece.end)
        if piece.start < self.cursor:
            new += self._recover(piece.part(piece.start, min(piece.end, self.cursor)))
        if piece.end > self.cursor:
            new += self._hold(piece.part(max(piece.start, self.cursor), piece.end))
        return new

    def _before_origin(self, piece: Piece) -> int:
        """Samples older than anything seen: release them; a hole up to the origin is a gap."""
        end = min(piece.end, self.origin)
        self.released.append((piece.part(piece.start, end), True))
        if end < self.origin:
            self._add_gap(end, self.origin)
        self.origin = piece.start
        return end - piece.start

    def _add_gap(self, start: int, end: int) -> None:
        self.gaps_declared += 1
        if self.gaps and self.gaps[0][0] == end:  # only ever added at the front or the back
            self.gaps[0] = (start, self.gaps[0][1])
        elif self.gaps and start < self.gaps[0][0]:
            self.gaps.insert(0, (start, end))
        else:
            self.gaps.append((start, end))

    def _recover(self, piece: Piece) -> int:
        """Release the part of a late piece that falls in declared gaps; shrink or split them."""
        new = 0
        kept: list[tuple[int, int]] = []
        for start, end in self.gaps:
            lo, hi = max(start, piece.start), min(end, piece.end)
            if lo >= hi:
                kept.append((start, end))
                continue
            self.released.append((piece.part(lo, hi), True))
            new += hi - lo
            kept.extend(gap for gap in ((start, lo), (hi, end)) if gap[0] < gap[1])
        self.gaps = kept
        return new

    def _hold(self, piece: Piece) -> int:
        """Hold the samples of a piece that are not held yet."""
        new = 0
        for start, end in self._unheld(piece.start, piece.end):
            insort(self._starts, start)
            self._held[start] = piece.part(start, end)
            new += end - start
        return new

    def _unheld(self, start: int, end: int) -> list[tuple[int, int]]:
        """Sub-ranges of ``[start, end)`` not covered by held pieces."""
        holes = []
        pos = start
        k = max(bisect_right(self._starts, start) - 1, 0)
        while k < len(self._starts) and self._starts[k] < end:
            held = self._held[self._starts[k]]
            if held.start > pos:
                holes.append((pos, held.start))
            pos = max(pos, held.end)
            k += 1
        if pos < end:
            holes.append((pos, end))
        return holes

    def release(self, window_samples: int) -> None:
        """Release held samples in order from the cursor.

        A hole at the cursor is declared a gap once the held data reach more than
        ``window_samples`` beyond it; a negative window releases everything (flush).
        """
        while self._starts:
            first = self._starts[0]
            if first != self.cursor:
                if self._held[self._starts[-1]].end - self.cursor <= window_samples:
                    return
                self._add_gap(self.cursor, first)
            piece = self._held.pop(first)
            del self._starts[0]
            self.released.append((piece, False))
            self.cursor = piece.end

    def take(self) -> list[tuple[Piece, bool]]:
        released, self.released = self.released, []
        return released
