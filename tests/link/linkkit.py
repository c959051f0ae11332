"""Record from the virtual sensor over the virtual BLE link, and check what was stored."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hipdrop.link.recorder import Recorder, RecordOptions
from hipdrop.sim import scenario
from hipdrop.store import Store
from hipdrop.vsensor.faults import parse_faults
from hipdrop.vsensor.virtual_time import run_virtual
from hipdrop.vsensor.world import SimWorld

ACC_LSB = 8 * 9.80665 / 32768  # the reference board's ±8 g accelerometer


@dataclass
class Recorded:
    db: object
    session_id: int
    stats: dict
    gaps: list
    events: list
    recording: object


def record_sim(db, name="treadmill_quick", seed=0, faults="", minutes=None, recording=None,
               **world_options) -> Recorded:  # fmt: skip
    recording = scenario(name, seed) if recording is None else recording
    events = []

    async def main():
        async with SimWorld(recording, parse_faults(faults), **world_options) as world:
            with Store.open(db) as store:
                recorder = Recorder(
                    store, world.backends, world.clock, RecordOptions(minutes=minutes),
                    stop=world.finished, on_event=lambda kind, text: events.append(kind),
                )  # fmt: skip
                sid = await recorder.run()
                return sid, recorder.stats(), recorder.unrecoverable

    sid, stats, gaps = run_virtual(main())
    return Recorded(db, sid, stats, gaps, events, recording)


def stored_samples(db, session_id):
    with Store.open(db, readonly=True) as store:
        return store.samples(session_id)


def check_against_recording(samples, recording, boot):
    """The boot's samples are consecutive sample indices and each equals the recording's
    sample at one fixed offset (to the accelerometer's resolution); (first index, count)."""
    mine = samples.boot == boot
    index = samples.sample_index[mine]
    acc = samples.acc_ms2[mine]
    assert np.all(np.diff(index) == 1), "sample indices are not consecutive"
    offset = _offset(recording.acc_ms2, acc[:8])
    want = recording.acc_ms2[offset + index - index[0]]
    error = np.abs(want - acc).max()
    assert error <= ACC_LSB, f"boot {boot}: stored samples differ from the sensor's by {error}"
    return offset, len(index)


def _offset(acc_ms2, first):
    """Where the run of samples ``first`` starts in ``acc_ms2``."""
    n = len(first)
    windows = np.lib.stride_tricks.sliding_window_view(acc_ms2, (n, 3))[:, 0]
    errors = np.abs(windows - first).max(axis=(1, 2))
    return int(np.argmin(errors))
