"""Engine benchmarks: speed, orientation filters against published peers, accuracy on the simulator.

    .venv/bin/python -m pip install --target .tools/peers imufusion ahrs   # once, optional
    .venv/bin/python benchmarks/engine.py [--quick] [--skip-peers]

Prints three groups of tables (docs/benchmarks.md has a full run and how to read it):

a. speed — whole-file ``GaitStream().feed`` of the 100-minute ``long_run`` and its first three
   kernels alone, the cost of one 14-sample packet when streaming, the first-run JIT cost
   against a warm Numba cache, and a complete ``hipdrop analyze`` of a 100-minute CSV with its
   parts;
b. orientation — tilt error and the per-step CPD error it causes, hipdrop's filter against
   imufusion and ahrs on simulated running with realistic sensor errors (the true contacts and
   the true pelvis axes are given to every filter, so only the filter differs);
c. accuracy — the whole engine on simulator seeds not used for tuning.

Times vary with the machine and its load; compare ratios.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _filters
import _stages
import numpy as np
from _timing import best_of

from hipdrop.engine import _pipeline as pipeline
from hipdrop.engine.analyze import analyze
from hipdrop.engine.evaluate import match_contacts
from hipdrop.engine.inputs import ImuData, read_csv
from hipdrop.engine.stream import GaitStream
from hipdrop.sim import (
    REALISTIC,
    WALK,
    Bout,
    SensorSpec,
    Session,
    rotation,
    scenario,
    simulate,
    write_csv,
)

ROOT = Path(__file__).resolve().parents[1]
PACKET_SAMPLES = 14
SETTLE_S = 20.0
MATCH_S = 0.05


def _rms(x):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.sqrt(np.mean(x * x))) if len(x) else float("nan")


# -- a. speed ---------------------------------------------------------------------------------


def _feed_whole(rec):
    return GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)


def _packet_costs_us(rec, start_s, seconds):
    """Feed ``start_s`` s in one piece, then ``seconds`` s in 14-sample packets, timing each."""
    stream = GaitStream()
    i0 = int(np.searchsorted(rec.time_s, start_s))
    i1 = int(np.searchsorted(rec.time_s, start_s + seconds))
    stream.feed(rec.time_s[:i0], rec.acc_ms2[:i0], rec.gyr_dps[:i0])
    costs = []
    for i in range(i0, i1 - PACKET_SAMPLES + 1, PACKET_SAMPLES):
        j = i + PACKET_SAMPLES
        t, acc, gyr = rec.time_s[i:j], rec.acc_ms2[i:j], rec.gyr_dps[i:j]
        begin = time.perf_counter_ns()
        stream.feed(t, acc, gyr)
        costs.append((time.perf_counter_ns() - begin) / 1000.0)
    return np.array(costs)


_FIRST_RUN = """
import time
start = time.perf_counter()
import numpy as np
from hipdrop.engine.stream import GaitStream
imported = time.perf_counter()
d = np.load({path!r})
GaitStream().feed(d["t"], d["acc"], d["gyr"])
done = time.perf_counter()
print(imported - start, done - imported)
"""


def _start_costs(rec, workdir):
    """Two fresh interpreters sharing an empty NUMBA_CACHE_DIR: cold, then cached."""
    n = int(round(_filters.sample_rate_hz(rec)))
    data = workdir / "one_second.npz"
    np.savez(data, t=rec.time_s[:n], acc=rec.acc_ms2[:n], gyr=rec.gyr_dps[:n])
    env = {**os.environ, "NUMBA_CACHE_DIR": str(workdir / "numba_cache")}
    code = _FIRST_RUN.format(path=str(data))
    rows = []
    for label in ("cold (empty cache)", "cached"):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
        imp, feed = (float(x) for x in out.stdout.split())
        rows.append((label, imp, feed))
    return rows


def _cli_costs(rec, workdir, repeat):
    csv = workdir / f"{rec.name}.csv"
    write_csv(rec, csv)
    out = workdir / "out.json"
    cmd = [str(ROOT / ".venv" / "bin" / "hipdrop"), "analyze", str(csv), "--json", str(out)]
    total, _ = best_of(repeat, lambda: subprocess.run(cmd, check=True, capture_output=True))
    parse, data = best_of(repeat, lambda: read_csv(csv))
    engine, _ = best_of(repeat, lambda: analyze(data))
    return csv.stat().st_size, total, parse, engine


def _print_stages(stages, whole, n):
    """Each kernel alone, and what the rest of the feed (whole − kernels) costs."""
    print(f"{'kernels alone, same samples':34s} {'best s':>8s} {'ns/sample':>10s} {'of feed':>8s}")
    rest = ("rest: contacts, steps, the loop", whole - sum(stages.values()))
    for label, seconds in (*stages.items(), rest):
        print(f"{label:34s} {seconds:>8.3f} {seconds / n * 1e9:>10.1f} {seconds / whole:>8.0%}")
    print()


def speed_tables(args, workdir):
    rec = scenario("treadmill_quick" if args.quick else "long_run", seed=0)
    duration = float(rec.time_s[-1])
    GaitStream().feed(rec.time_s[:2000], rec.acc_ms2[:2000], rec.gyr_dps[:2000])  # warm-up
    whole, steps = best_of(args.repeat, lambda: _feed_whole(rec))
    print(f"\n## a. Speed — {rec.name} seed 0: {len(rec):,} samples, {duration / 60:.1f} min\n")
    print(f"{'whole-file feed':34s} {'best s':>8s} {'samples/s':>12s} {'x real time':>12s}")
    print(
        f"{f'GaitStream().feed (best of {args.repeat})':34s} {whole:>8.3f} "
        f"{len(rec) / whole:>12,.0f} {duration / whole:>12,.0f}"
    )
    walk = simulate(Session((Bout("stand", 10), Bout("walk", 60 if args.quick else 600, WALK))),
                    REALISTIC, seed=3)  # fmt: skip
    walk_s, walk_steps = best_of(args.repeat, lambda: _feed_whole(walk))
    label = f"a {float(walk.time_s[-1]) / 60:.0f}-minute walk, same"
    print(
        f"{label:34s} {walk_s:>8.3f} {len(walk) / walk_s:>12,.0f} "
        f"{float(walk.time_s[-1]) / walk_s:>12,.0f}"
    )
    print(f"({len(steps):,} and {len(walk_steps):,} steps found)\n")
    _print_stages(_stages.stage_times(rec, args.repeat), whole, len(rec))

    seconds = 10.0 if args.quick else 60.0
    start_s = 15.0 if args.quick else 300.0
    costs = _packet_costs_us(rec, start_s, seconds)
    budget_us = PACKET_SAMPLES / _filters.sample_rate_hz(rec) * 1e6
    p50, p99 = np.percentile(costs, [50, 99])
    print(
        f"{'streaming, 14-sample packets':34s} {'calls':>8s} {'p50 µs':>8s} {'p99 µs':>8s} "
        f"{'max µs':>8s} {'p50 µs/sample':>14s} {'p99 % of 70 ms':>15s}"
    )
    print(
        f"{f'feed() per packet, {seconds:.0f} s of data':34s} {len(costs):>8,} {p50:>8.1f} "
        f"{p99:>8.1f} {costs.max():>8.1f} {p50 / PACKET_SAMPLES:>14.2f} "
        f"{100 * p99 / budget_us:>14.3f}%\n"
    )

    print(
        f"{'start-up (fresh interpreter)':34s} {'import s':>9s} {'first feed 1 s':>15s} "
        f"{'total s':>8s}"
    )
    for label, imp, feed in _start_costs(rec, workdir):
        print(f"{label:34s} {imp:>9.2f} {feed:>15.2f} {imp + feed:>8.2f}")

    size, total, parse, engine = _cli_costs(rec, workdir, args.cli_repeat)
    print(
        f"\n`hipdrop analyze FILE --json OUT`, {size / 1e6:.0f} MB CSV, warm cache, "
        f"best of {args.cli_repeat}"
    )
    print(f"{'part':34s} {'s':>8s} {'share':>7s}")
    other = total - parse - engine
    for label, value in (
        ("whole command (subprocess)", total),
        ("  read_csv (parse)", parse),
        ("  analyze (engine + document)", engine),
        ("  rest (start-up, imports, JSON)", other),
    ):
        print(f"{label:34s} {value:>8.2f} {100 * value / total:>6.0f}%")


# -- b. orientation filters -------------------------------------------------------------------


def _truth_frames(rec):
    """True world up, pelvis left and pelvis up, all in sensor axes, per sample."""
    q_sensor = rec.sensor.sensor_quat
    yaw, pitch, roll = rec.pelvis_euler_deg.T
    q_pelvis = rotation.from_euler_zyx_deg(yaw, pitch, roll)
    sensor_in_pelvis = rotation.multiply(rotation.conjugate(q_pelvis), q_sensor)
    to_sensor = rotation.conjugate(sensor_in_pelvis)
    up = rotation.rotate(rotation.conjugate(q_sensor), np.array([0.0, 0.0, 1.0]))
    left = rotation.rotate(to_sensor, np.array([0.0, 1.0, 0.0]))
    pelvis_up = rotation.rotate(to_sensor, np.array([0.0, 0.0, 1.0]))
    return up, left, pelvis_up


def _tilt_deg(up_est, up_true):
    up_est = up_est / np.linalg.norm(up_est, axis=1, keepdims=True)
    cross = np.linalg.norm(np.cross(up_est, up_true), axis=1)
    return np.degrees(np.arctan2(cross, np.sum(up_est * up_true, axis=1)))


def _step_errors(rec, roll_deg):
    """(estimated peak, true CPD) per running step after the settling time."""
    rows = []
    for s in rec.truth.steps:
        if s.activity != "run" or s.t_ic_s < SETTLE_S:
            continue
        i0 = np.searchsorted(rec.time_s, s.t_ic_s)
        i1 = np.searchsorted(rec.time_s, s.t_stance_end_s, "right")
        side = 1.0 if s.side == "L" else -1.0
        rows.append((float(np.max(side * roll_deg[i0:i1])), s.pelvic_drop_deg))
    return np.array(rows)


def score_filter(rec, frames, up_est):
    up, left, pelvis_up = frames
    keep = rec.time_s >= SETTLE_S
    tilt = _tilt_deg(up_est, up)[keep]
    roll = np.degrees(np.arctan2(np.sum(up_est * left, 1), np.sum(up_est * pelvis_up, 1)))
    return tilt, _step_errors(rec, roll)


def convention_check(names):
    """Every filter on a still, tilted, error-free sensor: the up vector must come out right."""
    rec = simulate(Session((Bout("stand", 20),)), SensorSpec(mount_deg=(30.0, 25.0, -35.0)))
    up = _truth_frames(rec)[0]
    print("\nConvention check — still sensor, mounting yaw 30° pitch 25° roll −35°, no errors:")
    print(f"{'filter':20s} {'tilt error after 10 s, deg (max)':>34s}  verdict")
    ok = {}
    for name in names:
        run, _ = _filters.FILTERS[name]
        err = _tilt_deg(run(rec), up)[rec.time_s >= 10.0].max()
        ok[name] = err < 1.0
        print(f"{name:20s} {err:>34.3f}  {'ok' if ok[name] else 'WRONG CONVENTION: excluded'}")
    return [n for n in names if ok[n]]


def _filter_names(args):
    names, missing = [], {}
    for name, (_, module) in _filters.FILTERS.items():
        reason = "skipped (--skip-peers)" if args.skip_peers and module else None
        reason = reason or _filters.available(module)
        if reason:
            missing[name] = reason
        else:
            names.append(name)
    return names, missing


def orientation_tables(args):
    names, missing = _filter_names(args)
    names = convention_check(names)
    groups = {"treadmill_quick": (1, 2, 3), "steady_run": (1, 2)}
    if args.quick:
        groups = {"treadmill_quick": (1,)}
    for group, seeds in groups.items():
        recs = [scenario(group, seed=s) for s in seeds]
        frames = [_truth_frames(r) for r in recs]
        results = {
            "truth (scoring check)": [score_filter(r, f, f[0]) for r, f in zip(recs, frames)]
        }
        cost = {}
        for name in names:
            run = _filters.FILTERS[name][0]
            start = time.perf_counter()
            ups = [run(r) for r in recs]
            cost[name] = (time.perf_counter() - start) / sum(len(r) for r in recs) * 1e6
            results[name] = [score_filter(r, f, u) for r, f, u in zip(recs, frames, ups)]
        _print_orientation(group, seeds, recs, results, cost, missing)


def _print_orientation(group, seeds, recs, results, cost, missing):
    n_steps = sum(len(_step_errors(r, np.zeros(len(r)))) for r in recs)
    print(
        f"\n## b. Orientation — {group}, seeds {', '.join(map(str, seeds))}, REALISTIC sensor "
        f"errors; tilt after {SETTLE_S:.0f} s, CPD over {n_steps:,} true running steps\n"
    )
    print(
        f"{'filter':22s} {'tilt med':>8s} {'tilt p95':>8s} {'CPD RMS':>8s} {'CPD bias':>8s} "
        f"{'r(CPD)':>7s} {'tilt ×ours':>10s} {'CPD ×ours':>9s} {'µs/sample':>10s}"
    )
    summary = {}
    for name, parts in results.items():
        tilt = np.concatenate([p[0] for p in parts])
        steps = np.concatenate([p[1] for p in parts])
        err = steps[:, 0] - steps[:, 1]
        r = np.corrcoef(steps[:, 0], steps[:, 1])[0, 1] if np.std(steps[:, 0]) > 0 else np.nan
        summary[name] = (np.median(tilt), np.percentile(tilt, 95), _rms(err), np.mean(err), r)
    ours = summary.get("hipdrop")
    for name, (med, p95, rms, bias, r) in summary.items():
        tilt_x = f"{med / ours[0]:.1f}" if ours and name != "truth (scoring check)" else ""
        cpd_x = f"{rms / ours[2]:.1f}" if ours and name != "truth (scoring check)" else ""
        us = f"{cost[name]:.2f}" if name in cost else ""
        print(
            f"{name:22s} {med:>8.2f} {p95:>8.2f} {rms:>8.2f} {bias:>+8.2f} {r:>7.2f} "
            f"{tilt_x:>10s} {cpd_x:>9s} {us:>10s}"
        )
    for name, reason in missing.items():
        print(f"{name:22s} {reason}")


# -- c. accuracy ------------------------------------------------------------------------------


def _accuracy(rec, whole_file=False):
    """Table c's measures of the live engine's steps, or of the whole-file analysis's."""
    steps = _analysed(rec) if whole_file else _feed_whole(rec)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    side_ok = [(steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L") for i, j in pairs]
    cpd = [steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg for i, j in pairs]
    dfc = [steps[i, pipeline.DROP_FROM_CONTACT] - truth[j].drop_from_contact_deg for i, j in pairs]
    timing = [steps[i, pipeline.T_IC] - truth[j].t_ic_s for i, j in pairs]
    return len(truth), len(steps), len(pairs), side_ok, cpd, dfc, timing


def _analysed(rec):
    """The whole-file analysis's steps (``analyze``), in the step records' columns table c reads."""
    data = ImuData(rec.time_s, rec.acc_ms2, rec.gyr_dps, _filters.sample_rate_hz(rec), None, "", ())
    steps = analyze(data)["steps"]
    records = np.full((len(steps), pipeline.STEP_FIELDS), np.nan)
    for row, step in zip(records, steps):
        row[pipeline.T_IC] = step["t_ic"]
        row[pipeline.SIDE] = 1.0 if step["side"] == "L" else -1.0
        row[pipeline.PELVIC_DROP] = step["pelvic_drop_deg"]  # None becomes nan
        row[pipeline.DROP_FROM_CONTACT] = step["drop_from_contact_deg"]
    return records


def accuracy_table(args):
    runs = [("treadmill_quick", s) for s in (101, 102, 103, 104, 105)] + [("steady_run", 11)]
    if args.quick:
        runs = runs[:2]
    print(
        f"\n## c. Engine accuracy on unseen simulator seeds (contacts matched within "
        f"{MATCH_S * 1000:.0f} ms)\n"
    )
    print(
        f"{'recording':22s} {'true':>6s} {'found':>6s} {'F1':>6s} {'L/R':>6s} "
        f"{'CPD RMSE':>9s} {'DFC RMSE':>9s} {'IC bias ms':>10s}"
    )
    pooled, whole = [0, 0, 0, [], [], [], []], [0, 0, 0, [], [], [], []]
    for name, seed in runs:
        rec = scenario(name, seed=seed)
        live = _accuracy(rec)
        _accuracy_row(f"{name} {seed}", *live)
        for total, measures in ((pooled, live), (whole, _accuracy(rec, whole_file=True))):
            for k, value in enumerate(measures):
                total[k] += value
    _accuracy_row("all", *pooled)
    _accuracy_row("all, whole file", *whole)


def _accuracy_row(label, n_true, n_found, n_pairs, side_ok, cpd, dfc, timing):
    f1 = 2 * n_pairs / (n_true + n_found)
    print(
        f"{label:22s} {n_true:>6,} {n_found:>6,} {f1:>6.3f} {np.mean(side_ok):>6.3f} "
        f"{_rms(cpd):>9.2f} {_rms(dfc):>9.2f} {1000 * np.mean(timing):>+10.1f}"
    )


# -- main -------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small recordings: a smoke run")
    parser.add_argument("--skip-peers", action="store_true", help="only hipdrop's filter in b")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the whole-file feed")
    parser.add_argument("--cli-repeat", type=int, default=2, help="best of N for the CLI run")
    parser.add_argument("--only", choices=["speed", "orientation", "accuracy"])
    args = parser.parse_args()
    _filters.add_peers_path()
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, numba "
        f"{__import__('numba').__version__}, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="hipdrop-bench-") as tmp:
        if args.only in (None, "speed"):
            speed_tables(args, Path(tmp))
    if args.only in (None, "orientation"):
        orientation_tables(args)
    if args.only in (None, "accuracy"):
        accuracy_table(args)


if __name__ == "__main__":
    main()
