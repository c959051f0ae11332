"""Record from the virtual sensor over the virtual BLE link, and check what was stored."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hipdrop.link.recorder import Recorder, RecordOptions
from hipdrop.sim import scenario
from hipdrop.store import Store
from hipdrop.vsensor.air_sensor import with_idle_tail
from hipdrop.vsensor.faults import parse_faults
from hipdrop.vsensor.virtual_time import run_virtual
from hipdrop.vsensor.world import SimWorld

ACC_LSB = 16 * 9.80665 / 32768 / 2  # half a count of the scenarios' ±16 g accelerometer


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
    sent = with_idle_tail(recording, 60.0).acc_ms2  # the board lies still after the run
    offset = _offset(sent, acc[:8])
    want = sent[offset + index - index[0]]
    error = np.abs(want - acc).max()
    assert error <= ACC_LSB, f"boot {boot}: stored samples differ from the sensor's by {error}"
    return offset, len(index)


def _offset(acc_ms2, first):
    """Where the run of samples ``first`` starts in ``acc_ms2``."""
    n = len(first)
    windows = np.lib.stride_tricks.sliding_window_view(acc_ms2, (n, 3))[:, 0]
    errors = np.abs(windows - first).max(axis=(1, 2))
    return int(np.argmin(errors))


class Interrupted(Exception):
    """Raised by a progress callback to cut a download short."""


def stop_after(fraction):
    """A progress callback that interrupts a download once ``fraction`` of it has arrived."""

    def progress(_name, done, total):
        if done >= fraction * total:
            raise Interrupted

    return progress


def sync_sim(db, world_options=None, record=None, interrupt_at=None, keep=False,
             name="treadmill_quick", seed=0):  # fmt: skip
    """Optionally record a session (``record``: faults text) then sync the same sensor."""
    from hipdrop.link.radio import Radio
    from hipdrop.link.sync import sync_sensor

    recording = scenario(name, seed)
    world_options = dict(world_options or {})
    faults = parse_faults(record or "")

    async def main():
        untethered = record is None
        async with SimWorld(recording, faults, untethered=untethered, **world_options) as world:
            radio = Radio(world.backends, world.clock, world.finished, simulated=True)
            with Store.open(db) as store:
                if untethered:
                    await world.finished.wait()
                else:
                    await Recorder(store, world.backends, world.clock, RecordOptions(),
                                   stop=world.finished).run()  # fmt: skip
                progress = stop_after(interrupt_at) if interrupt_at else (lambda *a: None)
                try:
                    first = await sync_sensor(store, radio, keep=keep, progress=progress)
                except Interrupted:
                    first = None
                again = await sync_sensor(store, radio, progress=lambda *p: resumed_from.append(p))
                return first, again

    resumed_from = []  # progress of the second sync: (name, done, total)
    return recording, run_virtual(main()), resumed_from
