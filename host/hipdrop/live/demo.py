"""``hipdrop demo``: a simulated run from the virtual sensor, through the protocol, to the host.

For now the host end is the protocol's stream assembler; later stages (engine, store,
dashboard) join the same loop.
"""

from dataclasses import dataclass, field

import numpy as np

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


def run_demo(name, seed, realtime, faults_text, every_s, out=print):
    faults = parse_faults(faults_text)
    recording = scenario(name, seed)
    sensor = VirtualSensor(recording, reboots_s=reboot_times(faults))
    assembler = StreamAssembler()
    tally = Tally()
    out(
        f"demo: {name} (seed {seed}), {recording.time_s[-1]:.0f} s at "
        f"{recording.spec.rate_hz:.0f} Hz from the virtual sensor"
        + (f", faults: {faults_text}" if faults else "")
    )
    next_line = every_s
    for note in paced(inject(sensor.notifications(), faults), realtime):
        _count(assembler.push([note.data]), recording, sensor, tally)
        if note.host_time_s >= next_line:
            out(_progress(note.host_time_s, tally, assembler))
            next_line += every_s
    _count(assembler.flush(), recording, sensor, tally)
    out(_progress(recording.time_s[-1], tally, assembler))
    out(_summary(tally, assembler))
    return 0 if tally.mismatched == 0 else 1


def _count(samples, recording, sensor: VirtualSensor, tally: Tally):
    """Tally arrivals and check each sample against the counts the sensor packed."""
    if not len(samples):
        return
    tally.samples += len(samples)
    tally.recovered += int(samples.recovered.sum())
    tally.boots.update(int(b) for b in np.unique(samples.boot))
    index = sensor.recording_index(samples.boot, samples.sample_index)
    scale = recording.spec.acc_range_g * 9.80665 / 32768
    sent = recording.sensor.acc_counts[index] * scale
    tally.mismatched += int((np.abs(sent - samples.acc_ms2) > 1e-9).any(axis=1).sum())


def _lost(assembler):
    return sum(end - start for _, start, end in assembler.gaps())


def _progress(t_s, tally, assembler):
    return (
        f"  t={t_s:7.1f} s | samples {tally.samples:>9,} | lost {_lost(assembler):>6,} "
        f"| recovered {tally.recovered:>6,} | rejected packets "
        f"{sum(v for k, v in assembler.errors.items() if k != 'duplicate'):>3}"
    )


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
