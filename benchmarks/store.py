"""Session store speed and size: how fast packets go in, how big an hour is, replay and export.

    .venv/bin/python benchmarks/store.py [--minutes 90]

A simulated stream at 200 Hz and at 100 Hz, 14 samples per packet (MTU 247), built by the
firmware's own packer, goes into a fresh database the way the recorder writes it: one
``add_packets`` call per notification, the clock map and a commit once per second of data.
Then the same session is replayed into samples (``Store.samples``) and exported as CSV, and the
whole ``hipdrop export`` command is timed on the 200 Hz session, first when it must analyse the
session, then with the results stored. Prints one table; times vary with the machine and its
disk, the ratios to real time are what to compare (docs/benchmarks.md).
"""

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hipdrop.store import Store, row_from_packet
from hipdrop.store.export import export
from hipdrop.vsensor.firmware import firmware_module

PER_PACKET = 14
RATE_CODES = {200: 3, 100: 1}
STARTED_AT = 1_700_000_000.0


def packets(rate_hz, minutes):
    """Packets of ``minutes`` of a running-like signal, grouped by second of data."""
    pack = firmware_module("packet").SamplePacker(20 + 16 * PER_PACKET)
    n = int(minutes * 60 * rate_hz)
    t = np.arange(n) / rate_hz
    counts = np.column_stack(
        [np.sin(2 * math.pi * 1.45 * t + k) * (3000 + 500 * k) for k in range(6)]
        + [np.zeros(n), np.zeros(n)]
    ).astype(int)
    seconds = [[] for _ in range(math.ceil(n / rate_hz))]
    for seq in range(0, n - PER_PACKET + 1, PER_PACKET):
        pack.start(1, 1, seq, int(seq * 1e6 / rate_hz) % 2**30, RATE_CODES[rate_hz], 0x11)
        for row in counts[seq : seq + PER_PACKET].tolist():
            pack.add(*row)
        host = STARTED_AT + (seq + PER_PACKET) / rate_hz + 0.01
        seconds[int(seq // rate_hz)].append(row_from_packet(bytes(pack.finish()), host, "live"))
    return seconds


def ingest(db, seconds):
    """Write like the recorder; returns (wall seconds, session id)."""
    start = time.perf_counter()
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="demo")
        for rows in seconds:
            for row in rows:
                store.add_packets(sid, [row])
            store.set_clock(sid, 1, STARTED_AT + 0.01, 1.0)
            store.commit()
        store.finish_session(sid, STARTED_AT + len(seconds))
    return time.perf_counter() - start, sid


def replay_and_export(db, sid, folder):
    """(replay seconds, export seconds, samples)."""
    with Store.open(db, readonly=True) as store:
        start = time.perf_counter()
        samples = store.samples(sid)
        replay_s = time.perf_counter() - start
    start = time.perf_counter()
    export(samples, {"steps": [], "minutes": []}, Path(folder) / "run.csv")
    return replay_s, time.perf_counter() - start, len(samples)


def export_command(db, folder):
    """Wall seconds of ``hipdrop export 1``: analysing first, then with stored results."""
    argv = [sys.executable, "-m", "hipdrop.cli", "export", "1", "--db", str(db)]
    times = []
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run(
            [*argv, "--out", str(Path(folder) / "cli.csv")], check=True, capture_output=True
        )
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=90.0)
    args = parser.parse_args()
    print(
        f"{args.minutes:g} simulated minutes per rate, {PER_PACKET} samples per packet (MTU 247), "
        "one commit per second of data\n"
    )
    print(
        f"{'rate':>6s} {'packets':>8s} {'ingest s':>9s} {'samples/s':>10s} {'packets/s':>10s} "
        f"{'x real':>7s} {'MB/h':>6s} {'replay s':>9s} {'export s':>9s}"
    )
    for rate_hz in (200, 100):
        seconds = packets(rate_hz, args.minutes)
        n_packets = sum(len(rows) for rows in seconds)
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "bench.db"
            ingest_s, sid = ingest(db, seconds)
            mb_per_h = db.stat().st_size / 1e6 / (args.minutes / 60)
            replay_s, export_s, n_samples = replay_and_export(db, sid, folder)
            if rate_hz == 200:
                command_s = export_command(db, folder)
        print(
            f"{rate_hz:>4d}Hz {n_packets:>8,} {ingest_s:>9.2f} {n_samples / ingest_s:>10,.0f} "
            f"{n_packets / ingest_s:>10,.0f} {args.minutes * 60 / ingest_s:>7,.0f} "
            f"{mb_per_h:>6.1f} {replay_s:>9.2f} {export_s:>9.2f}"
        )
    print(
        f"\n`hipdrop export` of the 200 Hz session (whole command): {command_s[0]:.2f} s analysing "
        f"it first, {command_s[1]:.2f} s with its results stored"
    )


if __name__ == "__main__":
    main()
