"""Accuracy against ground truth: simulator seeds not used for tuning, and the shared real data.

These are regression floors: each asserted figure sits a margin below what the engine measures
today (docs/benchmarks.md), so a change that makes it worse fails.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from hipdrop.engine import _pipeline as pipeline
from hipdrop.engine.evaluate import match_contacts
from hipdrop.engine.stream import GaitStream
from hipdrop.sim import scenario


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_running_on_unseen_simulator_seeds(seed):
    rec = scenario("treadmill_quick", seed=seed)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = rec.truth.steps
    ref_t = np.array([s.t_ic_s for s in truth])
    pairs = match_contacts(ref_t, steps[:, pipeline.T_IC])
    f1 = 2 * len(pairs) / (len(steps) + len(truth))
    side_ok = np.mean([(steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L") for i, j in pairs])
    cpd_err = [steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg for i, j in pairs]
    dfc_err = [
        steps[i, pipeline.DROP_FROM_CONTACT] - truth[j].drop_from_contact_deg for i, j in pairs
    ]
    assert f1 > 0.98
    assert side_ok > 0.97
    assert np.sqrt(np.nanmean(np.square(cpd_err))) < 1.0
    assert np.sqrt(np.mean(np.square(dfc_err))) < 0.8


def _score(shared_data, folder, tmp_path, *options):
    """Run ``hipdrop analyze --json`` (with ``options``) on every recording and score with the
    shared scorer."""
    refs = json.loads((shared_data / folder / "references.json").read_text())
    out = tmp_path / folder
    out.mkdir()
    for rec in refs["recordings"]:
        csv = shared_data / folder / f"{rec['rec_id']}.csv"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hipdrop.cli",
                "analyze",
                str(csv),
                "--json",
                str(out / f"{rec['rec_id']}.json"),
                *options,
            ],
            check=True,
            capture_output=True,
        )
    scorer = shared_data.parent / "tools" / "score_real.py"
    result = subprocess.run(
        [sys.executable, str(scorer), str(shared_data / folder), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def test_real_treadmill_run(shared_data, tmp_path):
    score = _score(shared_data, "fukuchi_run", tmp_path)
    assert score["f1"] >= 0.97
    assert score["side_acc"] >= 0.97
    assert score["drop_rmse_deg"] <= 1.1


def test_real_walking(shared_data, tmp_path):
    score = _score(shared_data, "mobgap_lab", tmp_path)
    # measured 0.632 and 1.000 (docs/analysis.md); contacts stay below the target (F1 0.85):
    # walking contacts are the open part of issue 4
    assert score["f1"] >= 0.61
    assert score["side_acc"] >= 0.98


@pytest.mark.parametrize(
    ("axes", "f1_floor", "side_floor", "note"),
    [
        ("x=-x,y=-y,z=z", 0.55, 0.89, "back to front"),  # measured 0.578 and 0.919
        ("x=y,y=-x,z=z", 0.60, 0.92, "sideways"),  # 0.635 and 0.950 (0.53, 0.72 unturned)
        ("x=-y,y=x,z=z", 0.56, 0.92, "sideways"),  # 0.592 and 0.954
    ],
)
def test_real_walking_worn_turned(shared_data, tmp_path, axes, f1_floor, side_floor, note):
    """The same walks as if the sensor had been clipped on turned about the vertical (back to
    front, or by 90° either way): walking turns the forward axis to its mean braking vector
    within the first dozen steps; the steps before the turn are lost or mislabelled."""
    score = _score(shared_data, "mobgap_lab", tmp_path, "--axes", axes)
    assert score["f1"] >= f1_floor
    assert score["side_acc"] >= side_floor
    document = json.loads((tmp_path / "mobgap_lab" / "HA_001_Test11_Trial1.json").read_text())
    assert any(e["type"] == "forward_turned" for e in document["events"])
    assert any(note in text for text in document["notes"])


def test_walking_right_after_a_run():
    """The walking detector rests while running and starts afresh when the run ends, so the
    first walking steps are not judged against running's swing (10 of 18 found before)."""
    from hipdrop.sim import REALISTIC, WALK, Bout, Session, simulate

    session = Session((Bout("stand", 10), Bout("run", 60), Bout("walk", 40, WALK)))
    rec = simulate(session, REALISTIC, seed=21)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    first_walk = np.array([s.t_ic_s for s in rec.truth.steps if 70 <= s.t_ic_s < 80])
    assert len(first_walk) >= 15
    assert len(match_contacts(first_walk, steps[:, pipeline.T_IC])) >= 0.75 * len(first_walk)


@pytest.mark.parametrize("seed", [404, 505])
def test_walking_on_unseen_simulator_seeds(seed):
    from dataclasses import replace

    from hipdrop.sim import REALISTIC, WALK, Bout, Session, simulate

    session = Session((Bout("stand", 10), Bout("walk", 90, WALK), Bout("stand", 5)))
    rec = simulate(session, replace(REALISTIC, mount_deg=(5.0, 14.0, -2.0)), seed=seed)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    assert 2 * len(pairs) / (len(steps) + len(truth)) > 0.97
    side_ok = np.mean([(steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L") for i, j in pairs])
    assert side_ok > 0.9
    assert set(steps[:, pipeline.ACTIVITY]) == {2.0}


@pytest.mark.parametrize("seed", [32, 33])
def test_a_clip_reseated_mid_run_leaves_left_and_right_level(seed):
    """The 100-minute run whose clip is re-seated at 75 min (turned 20–40° on the waistband,
    tilted by a few degrees): the move is found, the neutral re-anchored, and left against
    right stays level (the half-difference of their drop errors was 5.4° on these seeds
    while the move went unnoticed)."""
    rec = scenario("long_run", seed=seed)
    stream = GaitStream()
    steps = stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    (reseat_s,) = rec.truth.clip_events_s
    moves = [t for t, code in stream.events if code == pipeline.EV_CLIP_MOVED]
    assert len(moves) == 1 and reseat_s <= moves[0] < reseat_s + 15.0
    truth = rec.truth.steps
    pairs = np.array(match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC]))
    error = steps[pairs[:, 0], pipeline.PELVIC_DROP] - [
        truth[j].pelvic_drop_deg for j in pairs[:, 1]
    ]
    after = steps[pairs[:, 0], pipeline.T_IC] > reseat_s + 120.0
    left = steps[pairs[:, 0], pipeline.SIDE] > 0
    half_difference = (error[after & left].mean() - error[after & ~left].mean()) / 2
    assert abs(half_difference) < 1.0
