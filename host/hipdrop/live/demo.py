"""``hipdrop demo``: a simulated run from the virtual sensor, through the protocol, to the host.

The host end is the protocol's stream assembler feeding the live gait engine; the store and the
dashboard join the same loop in later versions. Samples recovered late (out of order) are
counted but not fed to the causal engine.
"""

from dataclasses import dataclass, field

import numpy as np

from ..engine import _pipeline as pipeline
from ..engine.stream import GaitStream
from ..protocol import StreamAssembler
from ..sim import scenario
from ..vsensor import VirtualSensor, inject, parse_faults
from ..vsensor.faults import reboot_times
from .pacing import paced


@dataclass
class Tally:
    """What has arrived so far, and whether it is what the sensor sent."""

    samples: int = 0
    recovered: int = 0
    mismatched: int = 0
    boots: set = field(default_factory=set)
    steps: list = field(default_factory=list)


def run_demo(name, seed, realtime, faults_text, every_s, out=print):
    faults = parse_faults(faults_text)
    recording = scenario(name, seed)
    sensor = VirtualSensor(recording, reboots_s=reboot_times(faults))
    assembler = StreamAssembler()
    engine = GaitStream()
    tally = Tally()
    out(
        f"demo: {name} (seed {seed}), {recording.time_s[-1]:.0f} s at "
        f"{recording.spec.rate_hz:.0f} Hz from the virtual sensor"
        + (f", faults: {faults_text}" if faults else "")
    )
    next_line = every_s
    for note in paced(inject(sensor.notifications(), faults), realtime):
        _count(assembler.push([note.data]), recording, sensor, tally, engine)
        if note.host_time_s >= next_line:
            out(_progress(note.host_time_s, tally, assembler))
            next_line += every_s
    _count(assembler.flush(), recording, sensor, tally, engine)
    out(_progress(recording.time_s[-1], tally, assembler))
    out(_summary(tally, assembler))
    return 0 if tally.mismatched == 0 else 1


def _count(samples, recording, sensor: VirtualSensor, tally: Tally, engine: GaitStream):
    """Tally arrivals, check each against what the sensor packed, feed the in-order ones."""
    if not len(samples):
        return
    live = ~samples.recovered
    tally.steps.extend(
        engine.feed(samples.device_time_s[live], samples.acc_ms2[live], samples.gyr_dps[live])
    )
    tally.samples += len(samples)
    tally.recovered += int(samples.recovered.sum())
    tally.boots.update(int(b) for b in np.unique(samples.boot))
    sent = recording.acc_ms2[sensor.recording_index(samples.boot, samples.sample_index)]
    tally.mismatched += int((np.abs(sent - samples.acc_ms2) > 1e-9).any(axis=1).sum())


def _lost(assembler):
    return sum(end - start for _, start, end in assembler.gaps())


def _progress(t_s, tally, assembler):
    rejected = sum(v for k, v in assembler.errors.items() if k != "duplicate")
    return (
        f"  t={t_s:7.1f} s | samples {tally.samples:>9,} | lost {_lost(assembler):>6,} "
        f"| recovered {tally.recovered:>6,} | rejected packets {rejected:>3} "
        f"| steps {len(tally.steps):>6,} {_recent_drop(tally.steps)}"
    )


def _recent_drop(steps, last=20):
    """Median drop of the last steps per stance side (from neutral, else from contact)."""
    recent = np.array(steps[-last:]) if steps else np.zeros((0, pipeline.STEP_FIELDS))
    parts = []
    for sign, name in ((1, "L"), (-1, "R")):
        rows = recent[recent[:, pipeline.SIDE] == sign]
        drop = rows[:, pipeline.PELVIC_DROP]
        if len(rows) and np.isnan(drop).all():
            drop = rows[:, pipeline.DROP_FROM_CONTACT]
        if len(rows):
            parts.append(f"{name} {np.nanmedian(drop):4.1f}°")
    return "| drop " + " ".join(parts) if parts else ""


def _summary(tally, assembler):
    lines = [
        f"received {tally.samples:,} samples over {len(tally.boots)} boot(s); "
        f"{tally.mismatched} differ from what the sensor sent"
    ]
    for boot, start, end in assembler.gaps():
        lines.append(f"  gap: boot {boot}, samples [{start:,}, {end:,}) = {end - start} missing")
    for kind, count in sorted(assembler.errors.items()):
        lines.append(f"  {kind}: {count} packet(s)")
    return "\n".join(lines)
