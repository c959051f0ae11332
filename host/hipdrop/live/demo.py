"""``hipdrop demo``: the whole chain with no hardware, recorded into the demo session store.

The virtual sensor runs the firmware on Bumble's BLE stack; the host finds it, pairs and
records it over its real bleak code path (``hipdrop record --sim``), feeds the live gait
engine from the stream, prints progress every few simulated seconds, and at the end stores,
analyses and summarises the session — in the demo database unless ``--db`` names another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine import _pipeline as pipeline
from ..engine.result import turning
from ..engine.stream import GaitStream
from ..engine.summary import summary_text
from ..link.radio import run_link
from ..link.recording import record
from ..paths import user_data_dir
from ..store import Store

DEMO_DB = "demo.db"


def demo_db_path():
    """The demo's own session database, apart from the user's real sessions."""
    return user_data_dir() / DEMO_DB


@dataclass
class LiveView:
    """Prints what the recorder sees, with the live engine's steps, every ``every_s``."""

    every_s: float
    out: object = print
    engine: GaitStream = field(default_factory=GaitStream)
    steps: list = field(default_factory=list)
    _next_s: float = 0.0

    def samples(self, samples) -> None:
        live = ~samples.recovered  # the causal engine takes the stream in order
        if live.any():
            self.steps.extend(self.engine.feed(
                samples.device_time_s[live], samples.acc_ms2[live], samples.gyr_dps[live]
            ))  # fmt: skip

    def state(self, state) -> None:
        if state.elapsed_s + 1e-9 < self._next_s:
            return
        self._next_s = state.elapsed_s + self.every_s
        self.out(
            f"  t={state.elapsed_s:7.1f} s | samples {state.samples:>9,} | lost {state.lost:>6,} "
            f"| recovered {state.recovered:>6,} | rejected packets {state.rejected:>4} "
            f"| steps {len(self.steps):>6,} {_recent_drop(self.steps)}"
        )

    def event(self, kind: str, text: str) -> None:
        self.out(f"  {kind}: {text}")


def _recent_drop(steps, last=20):
    """Median drop of the last steps per stance side (from neutral, else from contact), those
    in turns left out."""
    recent = np.array(steps[-last:]) if steps else np.zeros((0, pipeline.STEP_FIELDS))
    recent = recent[~turning(recent)]
    parts = []
    for sign, name in ((1, "L"), (-1, "R")):
        rows = recent[recent[:, pipeline.SIDE] == sign]
        drop = rows[:, pipeline.PELVIC_DROP]
        if len(rows) and np.isnan(drop).all():
            drop = rows[:, pipeline.DROP_FROM_CONTACT]
        if len(rows):
            parts.append(f"{name} {np.nanmedian(drop):4.1f}°")
    return "| drop " + " ".join(parts) if parts else ""


@dataclass
class DemoArgs:
    """What ``record`` reads from the command line, for the demo's run."""

    sim: str
    seed: int
    faults: str
    device: str | None = None
    minutes: float | None = None
    athlete: str | None = "demo runner"
    notes: str | None = "hipdrop demo"
    tag: list = field(default_factory=list)
    realtime: bool = False


def run_demo(name, seed, realtime, faults, every_s, db=None, out=print) -> int:
    path = db or demo_db_path()
    out(f"demo: {name} (seed {seed}) from the virtual sensor over a virtual BLE link"
        + (f", faults: {faults}" if faults else ""))  # fmt: skip
    view = LiveView(every_s, out)
    with Store.open(path) as store:
        args = DemoArgs(name, seed, faults, realtime=realtime)
        recorder = run_link(lambda: record(store, args, view, view.samples), name, realtime)
        out(f"live engine: {len(view.steps):,} steps")
        out(summary_text(store.analyse(recorder.session_id)))
    out(f"stored as session {recorder.session_id} in {path} (`hipdrop sessions --db {path}`)")
    return 0
