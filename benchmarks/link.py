"""The whole link, end to end: the firmware on Bumble's stack → bleak → the store, on simulated
time. How many times faster than real time it records, and what a walk-away costs.

    .venv/bin/python benchmarks/link.py [--minutes 30]

Each row records a simulated run (``steady_long_run``, cut to ``--minutes``) through
``hipdrop record``'s code path on the virtual link into a fresh database: the firmware's App
on the register-level IMU model, its BLE module on Bumble, the host's bleak code, the ingest.
The link itself has no radio timing model, so the rates measure this computer's cost of the
chain (firmware simulation included), not BLE. Ratios are what to compare between rows.
"""

import argparse
import logging
import tempfile
import time
from pathlib import Path

from hipdrop.link.recorder import Recorder, RecordOptions
from hipdrop.sim import scenario
from hipdrop.store import Store
from hipdrop.vsensor.virtual_time import run_virtual
from hipdrop.vsensor.world import SimWorld

CASES = (
    ("no faults", ""),
    ("a 30 s walk-away every 10 min", "disconnect@300:30,disconnect@900:30,disconnect@1500:30"),
)


def record(db, recording, faults, minutes):
    from hipdrop.vsensor.faults import parse_faults

    async def main():
        async with SimWorld(recording, parse_faults(faults)) as world:
            with Store.open(db) as store:
                recorder = Recorder(store, world.backends, world.clock,
                                    RecordOptions(minutes=minutes))  # fmt: skip
                await recorder.run()
                return recorder.stats()

    start = time.perf_counter()
    stats = run_virtual(main())
    return time.perf_counter() - start, stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    logging.getLogger("bumble").setLevel(logging.ERROR)
    recording = scenario("steady_long_run", 0)
    print(f"{'case':34s} {'wall s':>7s} {'× real time':>11s} {'samples/s':>10s} "
          f"{'recovered':>9s} {'lost':>5s} {'MB/h':>6s}")  # fmt: skip
    for name, faults in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            wall, stats = record(db, recording, faults, args.minutes)
            size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        hours = args.minutes / 60
        print(f"{name:34s} {wall:7.1f} {args.minutes * 60 / wall:11.0f} "
              f"{stats['samples'] / wall:10,.0f} {stats['recovered']:9,} {stats['lost']:5,} "
              f"{size_mb / hours:6.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
