"""A recording's session in the store: opened (or resumed), its events, closed honestly.

The recorder's connection logic lives in :mod:`.recorder`; this keeps what it writes about the
session: the session row, link events on the session clock, and at the end the gaps that could
not be recovered, the restarts of the sensor, the numbers, and the state.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import HipdropError
from .find import Sighting
from .ingest import Ingest


class SessionRecord:
    """The store side of one ``hipdrop record`` run (see the module docstring)."""

    def __init__(self, store, clock: Callable[[], float], on_samples=None, on_event=None):
        self.store, self.clock = store, clock
        self.on_samples, self.on_event = on_samples, on_event
        self.session_id: int | None = None
        self.ingest: Ingest | None = None
        self.started_s = 0.0
        self.unrecoverable: list[tuple[int, int, int]] = []
        self.resumed = False
        self._boots_seen: set[int] = set()

    def open(self, options, sighting: Sighting) -> None:
        """A new session, or ``options.resume``: the interrupted one, from the same sensor."""
        if options.resume is not None:
            self._resume(options.resume, sighting)
            return
        self.started_s = self.clock()
        self.session_id = self.store.create_session(
            started_at=self.started_s, source=options.source, athlete=options.athlete,
            device=sighting.address, device_name=sighting.name, firmware=sighting.firmware,
            protocol_version=sighting.protocol_version, notes=options.notes, tags=options.tags,
        )  # fmt: skip
        self.store.commit()
        self.ingest = Ingest(self.store, self.session_id, self.on_samples)

    def _resume(self, ref, sighting: Sighting) -> None:
        session_id = self.store.resolve(ref)
        info = self.store.session(session_id)
        if info.device and info.device.casefold() != sighting.address.casefold():
            raise HipdropError(
                f"session {session_id} was recorded from {info.device}, not from "
                f"{sighting.name} ({sighting.address}): resume it with that sensor (--device)"
            )
        self.store.reopen_session(session_id)
        self.session_id, self.started_s, self.resumed = session_id, info.started_at, True
        self.ingest = Ingest(self.store, session_id, self.on_samples)
        self.ingest.prime(payload for *_, payload in self.store.packets(session_id))
        self._boots_seen = set(self.ingest.tally.boots)

    def event(self, kind: str, text: str, detail: dict | None = None) -> None:
        """A link event, stored at its time on the session clock and shown to the user."""
        self.store.add_event(self.session_id, kind, self.clock() - self.started_s, detail)
        if self.on_event is not None:
            self.on_event(kind, text)

    def note_restarts(self) -> None:
        """A boot counter not seen before means the sensor restarted (or this is the first)."""
        for boot in sorted(self.ingest.tally.boots - self._boots_seen):
            if self._boots_seen:
                self.event("reboot", f"the sensor restarted (boot {boot}): the moments of the "
                           "restart are missing", {"boot": boot})  # fmt: skip
            self._boots_seen.add(boot)

    def close(self, stats: Callable[[], dict]) -> bool:
        """End the session with the recorder's ``stats()`` once every held sample is out;
        False (and the session deleted) when nothing was recorded."""
        now = self.clock()
        self.ingest.finish(now)
        self.note_restarts()
        if not self.resumed and not self.ingest.tally.stored:
            self.store.delete_session(self.session_id)
            return False
        self.unrecoverable = self.ingest.gaps()
        for boot, start, end in self.unrecoverable:
            detail = {"boot": boot, "start": start, "end": end, "samples": end - start}
            self.store.add_event(self.session_id, "gap", None, detail)
        rate = self.ingest.tally.nominal_rate_hz or None
        self.store.update_session(self.session_id, stats=stats(), sample_rate_hz=rate)
        self.store.finish_session(self.session_id, ended_at=now, complete=True)
        self.store.commit()
        return True
