"""Link faults on demand, so the host's recovery can be tested: ``kind@time_s[:seconds]``.

| kind         | effect                                                                 |
|--------------|------------------------------------------------------------------------|
| `drop`       | notifications sent in [t, t + seconds) are lost                        |
| `disconnect` | the link is down for [t, t + seconds): its notifications never arrive  |
| `dup`        | the first notification at or after t arrives twice                     |
| `reorder`    | the first notification at or after t arrives after the one following it |
| `corrupt`    | one byte of the first notification at or after t is flipped            |
| `reboot`     | the device restarts at t (new boot counter; handled by the sensor)     |
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from ..errors import HipdropError
from .device import Notification

KINDS = ("drop", "disconnect", "dup", "reorder", "corrupt", "reboot")
_SPANS = ("drop", "disconnect")
_ONE_SHOTS = ("dup", "reorder", "corrupt")


@dataclass(frozen=True)
class Fault:
    kind: str
    at_s: float
    seconds: float = 0.0

    def covers(self, t_s):
        return self.kind in _SPANS and self.at_s <= t_s < self.at_s + self.seconds


def parse_faults(text: str) -> list[Fault]:
    """Parse ``"drop@20:1.5,dup@30,reboot@80"``; a clear error for anything else."""
    faults = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            kind, _, when = item.partition("@")
            at, _, seconds = when.partition(":")
            fault = Fault(kind, float(at), float(seconds) if seconds else 0.0)
        except ValueError:
            raise HipdropError(f"cannot read fault {item!r}: write kind@time_s[:seconds]") from None
        if kind not in KINDS:
            raise HipdropError(f"unknown fault kind {kind!r}: choose from {', '.join(KINDS)}")
        if kind in _SPANS and fault.seconds <= 0:
            raise HipdropError(f"fault {item!r} needs a duration: {kind}@{at}:SECONDS")
        faults.append(fault)
    return sorted(faults, key=lambda f: f.at_s)


def reboot_times(faults: Iterable[Fault]) -> list[float]:
    return [f.at_s for f in faults if f.kind == "reboot"]


def inject(
    notifications: Iterable[Notification], faults: Iterable[Fault]
) -> Iterator[Notification]:
    """The notifications as the host receives them with the link faults applied."""
    spans = [f for f in faults if f.kind in _SPANS]
    one_shots = [f for f in faults if f.kind in _ONE_SHOTS]
    held = None
    for note in notifications:
        if any(f.covers(note.host_time_s) for f in spans):
            continue
        due = {f.kind for f in one_shots if f.at_s <= note.host_time_s}
        one_shots = [f for f in one_shots if f.at_s > note.host_time_s]
        if "corrupt" in due:
            note = _corrupted(note)
        if "reorder" in due and held is None:
            held = note  # it arrives after the next one
            continue
        yield note
        if "dup" in due:
            yield note
        if held is not None:
            yield replace(held, host_time_s=note.host_time_s)
            held = None
    if held is not None:
        yield held


def _corrupted(note: Notification) -> Notification:
    data = bytearray(note.data)
    data[len(data) // 2] ^= 0x5A
    return replace(note, data=bytes(data))
