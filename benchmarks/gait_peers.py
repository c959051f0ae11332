"""Initial contacts and left/right: hipdrop against the open lower-back gait peers, same files.

Each peer lives in its own venv, outside the project (install once; PyPI only):

    python3 -m venv .tools/peers-gait-venv && .tools/peers-gait-venv/bin/pip install mobgap
    python3 -m venv .tools/skdh-venv && .tools/skdh-venv/bin/pip install scikit-digital-health
    ~/.pyenv/versions/3.6.15/bin/python3.6 -m venv .tools/gaitpy-venv
    .tools/gaitpy-venv/bin/python -m pip install "pip==21.3.1"
    .tools/gaitpy-venv/bin/pip install --prefer-binary \
        --only-binary numpy,scipy,pandas,statsmodels,scikit-learn,PyWavelets gaitpy

    .venv/bin/python benchmarks/gait_peers.py [--only mobgap_lab|fukuchi_run|sim|long_run]

A peer runs in a subprocess of its own venv through ``benchmarks/_peer_driver_<peer>.py``
(CSV in, initial contacts and where offered left/right out; the drivers' docstrings say how
axes and units are converted). hipdrop runs as ``.venv/bin/hipdrop analyze CSV --json OUT``,
and in this process too, for its compute time (``analyze`` of the parsed file, after a warm-up
call): the peers' compute times likewise leave out reading the file and importing.
``long_run`` is the speed comparison the engine's benchmark names: the simulated 100-minute
200 Hz run, every method on the same recording in the same run.
Every method gets the whole recording, no bouts. Scoring is ``../shared/tools/score_real.py``
itself: F1 at 50 ms inside the reference bouts ±0.5 s, timing bias, left/right accuracy of
matched contacts. A peer whose venv is missing is listed as not installed.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hipdrop.engine.analyze import analyze
from hipdrop.engine.inputs import read_csv
from hipdrop.engine.plausible import check_plausible

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DATA = ROOT.parent / "shared" / "data"
SCORER = ROOT.parent / "shared" / "tools" / "score_real.py"
HIPDROP = ROOT / ".venv" / "bin" / "hipdrop"
PEERS = {  # driver name: venv
    "mobgap": ROOT / ".tools" / "peers-gait-venv",
    "skdh": ROOT / ".tools" / "skdh-venv",
    "gaitpy": ROOT / ".tools" / "gaitpy-venv",
}
SIMULATED = {"sim": ("treadmill_quick", 7), "long_run": ("long_run", 0)}


# -- data sets --------------------------------------------------------------------------------


def _real_set(folder):
    ref = json.loads((folder / "references.json").read_text())
    return folder, [folder / f"{r['rec_id']}.csv" for r in ref["recordings"]]


def _sim_set(workdir, label):
    """Simulate one scenario and write it with a references.json the scorer reads."""
    folder = workdir / label
    folder.mkdir()
    name, seed = SIMULATED[label]
    csv = folder / f"{name}_{seed}.csv"
    cmd = [str(HIPDROP), "simulate", name, "--seed", str(seed), "--out", str(csv)]
    subprocess.run(cmd, check=True, capture_output=True)
    truth = json.loads(csv.with_suffix(".truth.json").read_text())
    ics = [{"t_ic": s["t_ic_s"], "side": s["side"]} for s in truth["steps"]]
    rec = {"rec_id": csv.stem, "initial_contacts": ics}
    (folder / "references.json").write_text(json.dumps({"recordings": [rec]}))
    return folder, [csv]


def data_sets(args, workdir):
    sets = {
        "mobgap_lab": lambda: _real_set(DATA / "mobgap_lab"),
        "fukuchi_run": lambda: _real_set(DATA / "fukuchi_run"),
        "sim": lambda: _sim_set(workdir, "sim"),
        "long_run": lambda: _sim_set(workdir, "long_run"),
    }
    return {k: make() for k, make in sets.items() if args.only in (None, k)}


# -- running the methods ----------------------------------------------------------------------


def run_hipdrop(csvs, out_dir):
    """hipdrop's CLI per file, straight into score_real's layout (the wall time), and its
    ``analyze`` in this process (the compute time, summed over files)."""
    res = out_dir / "hipdrop"
    res.mkdir()
    begin = time.perf_counter()
    for csv in csvs:
        cmd = [str(HIPDROP), "analyze", str(csv), "--json", str(res / f"{csv.stem}.json")]
        subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - begin
    compute = sum(_compute_s(csv) for csv in csvs)
    return {"hipdrop": {"wall_s": wall, "compute_s": compute, "lr": True}}


def _compute_s(csv):
    data = check_plausible(read_csv(csv))
    analyze(data)  # warm-up: Numba's cache, the allocator
    begin = time.perf_counter()
    analyze(data)
    return time.perf_counter() - begin


def _driver_output(peer, csv, workdir):
    out = workdir / f"{peer}-{csv.stem}.json"
    python = PEERS[peer] / "bin" / "python"
    cmd = [str(python), str(HERE / f"_peer_driver_{peer}.py"), str(csv), str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.read_text())


def _write_steps(path, method):
    sides = method["side"] or [None] * len(method["t_ic"])
    steps = [{"t_ic": t, "side": s} for t, s in zip(method["t_ic"], sides)]
    path.write_text(json.dumps({"steps": steps}))


def run_peer(peer, csvs, out_dir):
    """One driver process per file; per method: compute time and the shared process time."""
    times = {}
    for csv in csvs:
        begin = time.perf_counter()
        doc = _driver_output(peer, csv, out_dir)
        wall = time.perf_counter() - begin
        for name, method in doc["methods"].items():
            res = out_dir / name
            res.mkdir(exist_ok=True)
            _write_steps(res / f"{csv.stem}.json", method)
            t = times.setdefault(name, {"wall_s": 0.0, "compute_s": 0.0, "lr": True})
            t["lr"] = method["side"] is not None
            t["wall_s"] += wall
            t["compute_s"] += method["compute_s"]
    return times


def score(folder, res_dir):
    cmd = [sys.executable, str(SCORER), str(folder), str(res_dir)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- tables -----------------------------------------------------------------------------------


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def _ratio(value, ours):
    return f"{value / ours:.2f}" if value is not None and ours else "—"


def print_table(label, scores, times, missing):
    n_ref = next(iter(scores.values()))["ref_contacts"]
    print(f"\n## {label} — {n_ref} reference contacts\n")
    print(
        f"{'method':26s} {'F1':>6s} {'prec':>6s} {'recall':>6s} {'bias ms':>8s} {'L/R':>6s} "
        f"{'F1 ×hd':>7s} {'L/R ×hd':>8s} {'compute s':>10s} {'time ×hd':>9s} {'process s':>10s}"
    )
    ours = scores["hipdrop"]
    for name, s in scores.items():
        t = times[name]
        print(
            f"{name:26s} {s['f1']:>6.3f} {s['precision']:>6.3f} {s['recall']:>6.3f} "
            f"{_fmt(s['bias_ms'], '+8.1f'):>8s} {_fmt(s['side_acc'], '.3f'):>6s} "
            f"{_ratio(s['f1'], ours['f1']):>7s} {_ratio(s['side_acc'], ours['side_acc']):>8s} "
            f"{_fmt(t['compute_s'], '.2f'):>10s} "
            f"{_ratio(t['compute_s'], times['hipdrop']['compute_s']):>9s} {t['wall_s']:>10.2f}"
        )
    for peer, reason in missing.items():
        print(f"{peer:26s} {reason}")


def compare(label, folder, csvs, workdir, missing):
    out_dir = workdir / f"results-{label}"
    out_dir.mkdir()
    times = run_hipdrop(csvs, out_dir)
    for peer in PEERS:
        if peer not in missing:
            times.update(run_peer(peer, csvs, out_dir))
    scores = {name: score(folder, out_dir / name) for name in times}
    for name, t in times.items():
        if not t["lr"]:  # the scorer counts a missing side as wrong; this method offers none
            scores[name]["side_acc"] = None
    print_table(label, scores, times, missing)


def missing_peers():
    return {
        peer: f"not installed: no {venv.relative_to(ROOT)} (see this script's docstring)"
        for peer, venv in PEERS.items()
        if not (venv / "bin" / "python").exists()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["mobgap_lab", "fukuchi_run", "sim", "long_run"])
    args = parser.parse_args()
    missing = missing_peers()
    print(
        "compute s: in the method's own process, summed over files, without reading the file "
        "and importing (hipdrop: analyze after a warm-up call); time ×hd: that over hipdrop's; "
        "process s: whole subprocess wall time incl. interpreter start and imports (mobgap's "
        "three detectors and McCamley share one process per file; hipdrop's is the CLI)."
    )
    with tempfile.TemporaryDirectory(prefix="hipdrop-peers-") as tmp:
        for label, (folder, csvs) in data_sets(args, Path(tmp)).items():
            compare(label, folder, csvs, Path(tmp), missing)


if __name__ == "__main__":
    main()
