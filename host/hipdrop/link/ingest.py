"""From notifications to the session store: order, de-duplicate, count, map the clock.

:class:`Ingest` is the recorder's synchronous core, free of Bluetooth: every stream
notification goes through the protocol's :class:`~hipdrop.protocol.StreamAssembler`; a packet
that decodes and brings new samples is written to the store with its exact bytes, so
corrupted, duplicated and reordered notifications never reach the store twice or damaged.
Released live samples feed the device→host clock map; the store commits about once a second
(a crash loses at most that second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..protocol import PacketType, Samples, StreamAssembler
from ..store import row_from_packet
from .clock import ClockMap

COMMIT_EVERY_S = 1.0


@dataclass
class Tally:
    """What the link has delivered so far."""

    packets: int = 0
    stored: int = 0
    rejected: int = 0
    duplicates: int = 0
    samples: int = 0
    recovered: int = 0
    nominal_rate_hz: float = 0.0
    boots: set = field(default_factory=set)
    rate_window: list = field(default_factory=list)  # (host time, samples) of recent packets

    def rate_hz(self, now_s: float, span_s: float = 5.0) -> float:
        """Samples per second received over the last ``span_s`` seconds."""
        self.rate_window = [(t, n) for t, n in self.rate_window if t > now_s - span_s]
        if not self.rate_window:
            return 0.0
        return sum(n for _, n in self.rate_window) / span_s


class Ingest:
    """Notifications of one session into ``store`` (session ``session_id``).

    ``on_samples(samples)`` receives the samples released in order (recovered ones marked),
    e.g. for a live gait engine.
    """

    def __init__(self, store, session_id: int, on_samples: Callable[[Samples], None] | None = None):
        self.store = store
        self.session_id = session_id
        self.on_samples = on_samples
        self.assembler = StreamAssembler()
        self.clock = ClockMap()
        self.tally = Tally()
        self._last_commit_s: float | None = None

    def prime(self, payloads) -> None:
        """Take in packets already stored (a resumed session), so that what is missing
        between them and the new stream is seen as a gap and asked for."""
        batch = []
        for payload in payloads:
            batch.append(payload)
            if len(batch) == 4096:
                self.assembler.push(batch)
                batch = []
        self.assembler.push(batch)

    def packet(self, data: bytes, host_rx_s: float) -> None:
        """One stream notification, received at ``host_rx_s`` (host clock, Unix seconds)."""
        self.tally.packets += 1
        errors_before = sum(self.assembler.errors.values())
        released = self.assembler.push([data])
        errors_after = sum(self.assembler.errors.values())
        if errors_after == errors_before:
            self._store(data, host_rx_s)
        self.tally.duplicates = self.assembler.duplicates
        self.tally.rejected = errors_after - self.tally.duplicates
        self._released(released, host_rx_s)
        self._maybe_commit(host_rx_s)

    def _store(self, data: bytes, host_rx_s: float) -> None:
        """Keep a live packet with its arrival time, a backfilled one without (it arrived
        late: its arrival says nothing of the clocks)."""
        live = data[1] == PacketType.LIVE
        row = row_from_packet(data, host_rx_s if live else None, "live" if live else "backfill")
        self.tally.stored += self.store.add_packets(self.session_id, [row])
        self.tally.boots.add(row[0])

    def _released(self, samples: Samples, host_rx_s: float) -> None:
        if not len(samples):
            return
        self.tally.samples += len(samples)
        self.tally.recovered += int(samples.recovered.sum())
        self.tally.nominal_rate_hz = float(samples.rate_hz[-1])
        self.tally.rate_window.append((host_rx_s, len(samples)))
        live = np.flatnonzero(~samples.recovered)
        if len(live):
            first = live[0]
            self.clock.observe(
                int(samples.boot[first]), float(samples.device_time_s[first]), host_rx_s
            )
        if self.on_samples is not None:
            self.on_samples(samples)

    def _maybe_commit(self, now_s: float) -> None:
        if self._last_commit_s is None or now_s - self._last_commit_s >= COMMIT_EVERY_S:
            self.commit(now_s)

    def commit(self, now_s: float) -> None:
        """Write the clock maps and commit what has arrived."""
        for boot, clock in self.clock.boots.items():
            self.store.set_clock(self.session_id, boot, clock.offset_s, clock.scale)
        self.store.commit()
        self._last_commit_s = now_s

    def finish(self, now_s: float) -> None:
        """End of the session: release every held sample, declare the rest gaps, commit."""
        self._released(self.assembler.flush(), now_s)
        self.commit(now_s)

    def gaps(self) -> list[tuple[int, int, int]]:
        """Missing ranges ``(boot, start, end)`` in unwrapped sample indices."""
        return self.assembler.gaps()

    def lost(self) -> int:
        return sum(end - start for _, start, end in self.gaps())
