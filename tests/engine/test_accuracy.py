"""Accuracy against ground truth: simulator seeds not used for tuning, and the shared real data.

These are regression floors: each asserted figure sits a margin below what the engine measures
today (docs/benchmarks.md), so a change that makes it worse fails.
"""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from hipdrop.engine import _pipeline as pipeline
from hipdrop.engine.evaluate import match_contacts
from hipdrop.engine.result import turning
from hipdrop.engine.stream import GaitStream
from hipdrop.sim import REALISTIC, RUN, WALK, Bout, Session, Turn, rotation, scenario, simulate


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


def _score(shared_data, folder, tmp_path, *options, data=None):
    """Run ``hipdrop analyze --json`` (with ``options``) on every recording of ``folder`` (in
    ``data``, by default the shared data) and score with the shared scorer."""
    data = data or shared_data
    refs = json.loads((data / folder / "references.json").read_text())
    out = tmp_path / folder
    out.mkdir()
    for rec in refs["recordings"]:
        csv = data / folder / f"{rec['rec_id']}.csv"
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
        [sys.executable, str(scorer), str(data / folder), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def test_real_treadmill_run(shared_data, tmp_path):
    """Measured: F1 1.000, left/right 1.000, contacts 2.4 ms after the force plate's, drops from
    contact 0.334° RMS off (−0.24° on average). Contacts from the tangent of the rising edge,
    with the roll read at the sample after: 14.2 ms, 0.708° (−0.63°). On a treadmill the runner
    does not turn: no step is ``turning`` (the strides' turns stay within 4 °/s)."""
    score = _score(shared_data, "fukuchi_run", tmp_path)
    assert score["f1"] >= 0.97
    assert score["side_acc"] >= 0.97
    assert abs(score["bias_ms"]) <= 5.0
    assert score["drop_rmse_deg"] <= 0.4
    (doc,) = [json.loads(path.read_text()) for path in (tmp_path / "fukuchi_run").glob("*.json")]
    turns = [abs(s["turn_dps"]) for s in doc["steps"] if s["turn_dps"] is not None]
    assert len(turns) >= len(doc["steps"]) - 1 and max(turns) < 5.0
    assert not any(s["turning"] for s in doc["steps"])


@pytest.mark.parametrize(
    ("axes", "side_floor", "drop_ceiling"),
    [
        ("x=y,y=-x,z=z", 0.99, 0.4),  # measured 1.000 and 0.294° (0.330° live)
        ("x=-y,y=x,z=z", 0.99, 0.4),  # 1.000 and 0.294° (1.000 and 0.334° live)
        ("x=-x,y=-y,z=z", 0.99, 0.4),  # 1.000 and 0.308° (1.000 and 0.406° live)
    ],
)
def test_real_run_worn_turned(shared_data, tmp_path, axes, side_floor, drop_ceiling):
    """The treadmill run as if worn turned about the vertical. Live, its first 1.5 s are measured
    about the board's nominal x (turned round after 0.5 s when the braking evidence is against
    it), then the learned heading takes over; the whole-file analysis reads the run again with
    the learned heading from the start (the figures live are in brackets). Every step is
    measured in the axes of its verdict: with the axes of each sample's time, the step that
    straddled the change mixed two frames (its drop 17° off when worn turned by 90°)."""
    score = _score(shared_data, "fukuchi_run", tmp_path, "--axes", axes)
    assert score["f1"] >= 0.97
    assert score["side_acc"] >= side_floor
    assert score["drop_rmse_deg"] <= drop_ceiling


def test_real_run_from_an_accelerometer_that_reads_minus_g(shared_data, tmp_path):
    """The treadmill run as Apple's Core Motion would record it: acceleration, reading −1 g
    upward at rest. Read as specific force it is the mirror image of a runner, every side
    swapped (left/right 0.104), which the data cannot reveal; the notes say how to read it, and
    ``--acc-unit=-m/s2`` gives the run back."""

    def negate(samples, rec):
        samples[:, 1:4] *= -1.0
        return samples

    data = _rewritten(shared_data, tmp_path, negate, "fukuchi_run")
    score = _score(shared_data, "fukuchi_run", tmp_path, "--acc-unit=-m/s2", data=data)
    assert score["f1"] >= 0.97 and score["side_acc"] >= 0.97 and score["drop_rmse_deg"] <= 0.4
    csv = next((data / "fukuchi_run").glob("*.csv"))
    summary = subprocess.run(
        [sys.executable, "-m", "hipdrop.cli", "analyze", str(csv)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "analyse again with --acc-unit=-g or -m/s2" in summary


def test_real_walking(shared_data, tmp_path):
    score = _score(shared_data, "mobgap_lab", tmp_path)
    # measured 0.634 and 0.986 (docs/analysis.md); contacts stay below the target (F1 0.85):
    # walking contacts are the open part of issue 4
    assert score["f1"] >= 0.61
    assert score["side_acc"] >= 0.98


@pytest.mark.parametrize("rate_hz", [40.0, 50.0])
@pytest.mark.parametrize("seed", [202, 303])
def test_running_contacts_at_a_low_sample_rate(seed, rate_hz):
    """At 40–50 Hz the tangent through the two samples of a landing's rising edge, once that
    edge has slowed, reaches back past the flight; it may reach back at most 40 ms. Every
    contact is then within 25 ms of the truth (it reached back up to 80 ms: 52–61 ms early)."""
    rec = scenario("treadmill_quick", seed=seed, rate_hz=rate_hz)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = np.array([s.t_ic_s for s in rec.truth.steps])
    pairs = match_contacts(truth, steps[:, pipeline.T_IC], tol_s=0.2)
    assert len(pairs) == len(truth) == len(steps)
    errors = [steps[i, pipeline.T_IC] - truth[j] for i, j in pairs]
    assert np.max(np.abs(errors)) < 0.025


@pytest.mark.parametrize("seed", [101, 202])
def test_a_run_that_starts_at_a_contact(seed):
    """A recording cut 10 ms after a landing: that contact's rise began before the data, so it is
    not reported (the walking detector, which has no settling time any more, found it 25 ms late
    in the real treadmill run, which starts that way); the next contact is the first step."""
    rec = scenario("treadmill_quick", seed=seed)
    contacts = np.array([s.t_ic_s for s in rec.truth.steps])
    cut = rec.time_s >= contacts[40] + 0.01
    steps = GaitStream().feed(rec.time_s[cut], rec.acc_ms2[cut], rec.gyr_dps[cut])
    assert abs(steps[0, pipeline.T_IC] - contacts[41]) < 0.02


def _rewritten(shared_data, tmp_path, rewrite, folder="mobgap_lab"):
    """Copies of a folder's real recordings (the walks by default) beside their references, each
    recording's samples (time, acc, gyr columns) passed through ``rewrite(samples, recording)``;
    returns the root."""
    source, copies = shared_data / folder, tmp_path / "rewritten" / folder
    copies.mkdir(parents=True)
    refs_text = (source / "references.json").read_text()
    (copies / "references.json").write_text(refs_text)
    for rec in json.loads(refs_text)["recordings"]:
        csv = source / f"{rec['rec_id']}.csv"
        header = csv.read_text().split("\n", 1)[0]
        samples = rewrite(np.loadtxt(csv, delimiter=",", skiprows=1), rec)
        np.savetxt(copies / csv.name, samples, "%.6f", ",", header=header, comments="")
    return copies.parent


def test_real_run_with_packets_lost(shared_data, tmp_path):
    """The real treadmill run with 5 % of its 7-sample packets (70 ms at 100 Hz) lost, as a
    live recording without backfill has them: each hole is bridged from the stride before.
    Measured: F1 0.980, left/right 1.000, from contact 0.43° RMS (0.33° with none lost). With
    the contacts read from the tangent of the rising edge: F1 0.994, 0.75°; bridged by the mean
    rate of each hole's two ends as well, left/right 0.987 and 1.11°."""

    def lose_packets(samples, rec):
        packet = np.arange(len(samples)) // 7
        kept = np.random.default_rng(len(samples)).uniform(size=packet.max() + 1) >= 0.05
        kept = kept[packet]
        kept[:200] = True
        return samples[kept]

    data = _rewritten(shared_data, tmp_path, lose_packets, "fukuchi_run")
    score = _score(shared_data, "fukuchi_run", tmp_path, data=data)
    assert score["f1"] >= 0.97
    assert score["side_acc"] >= 0.99
    assert score["drop_rmse_deg"] <= 0.5


def test_real_run_with_gaps(shared_data, tmp_path):
    """The real treadmill run with six gaps of 0.3–1 s (a radio out of reach, live, without
    backfill), one every 4 s: after each the tilt is read from the strides before, and the
    sides' alternation carries over. Every step found has its side right, and the drops from
    contact read 0.38° RMS off (0.33° with no gap). With the tilt corrected afresh and the
    alternation started over after each gap, one step took the wrong side (its drop 7° off:
    1.20° RMS in all); with the tilt bridged alone, one too (0.97°). Over 16 such draws: a
    wrong side in 6 / 6 / 0 of them, drops 0.39–1.20° / 0.36–0.98° / 0.36–0.38°."""

    def cut_gaps(samples, rec):
        rng = np.random.default_rng(4)
        kept = np.ones(len(samples), bool)
        for start in np.arange(4.0, 28.0, 4.0) + rng.uniform(0.0, 1.0, 6):
            end = start + rng.uniform(0.3, 1.0)
            kept &= (samples[:, 0] < start) | (samples[:, 0] >= end)
        return samples[kept]

    data = _rewritten(shared_data, tmp_path, cut_gaps, "fukuchi_run")
    score = _score(shared_data, "fukuchi_run", tmp_path, data=data)
    assert score["side_acc"] == 1.0
    assert score["drop_rmse_deg"] <= 0.5


def test_real_walks_cut_to_start_mid_walk(shared_data, tmp_path):
    """Each walk cut to start 0.3 s before its first reference contact, as recordings that
    start mid-walk do: F1 0.632 (0.580 while the detector reported nothing in its first 2 s)."""

    def cut(samples, rec):
        contacts = rec["initial_contacts"]
        start_s = contacts[0]["t_ic"] - 0.3 if contacts else 0.0
        return samples[samples[:, 0] >= start_s]

    data = _rewritten(shared_data, tmp_path, cut)
    score = _score(shared_data, "mobgap_lab", tmp_path, data=data)
    assert score["f1"] >= 0.61


def test_real_walks_at_1000_hz(shared_data, tmp_path):
    """The walks resampled to 1000 Hz, the highest rate the engine takes: the braking check
    still reaches back over a slow rise (F1 0.623, left/right 1.000). With 256 samples kept the
    check went blind there: F1 0.635 → 0.618 and left/right 0.993 → 0.986, measured before the
    bias read at rest changed (``_rest_bias``, F1 0.635 → 0.623); the left/right floor holds it."""

    def resample(samples, rec):
        t = np.arange(samples[0, 0], samples[-1, 0], 0.001)
        return np.column_stack([t] + [np.interp(t, samples[:, 0], c) for c in samples[:, 1:].T])

    data = _rewritten(shared_data, tmp_path, resample)
    score = _score(shared_data, "mobgap_lab", tmp_path, data=data)
    assert score["f1"] >= 0.615 and score["side_acc"] >= 0.99


@pytest.mark.parametrize("degrees", [10.0, 20.0, -30.0])
def test_real_walks_worn_slightly_turned(shared_data, tmp_path, degrees):
    """The walks as if the clip sat turned on the waistband by a few tens of degrees, less than
    walking's own correction needs (60°): the sides hold (0.992, 0.992 and 0.963 with the
    trunk's sideways fall as evidence; 0.937, 0.935 and 0.940 with the gyro's rates alone).
    At −30° the first walking step of HA_001_Test5_Trial2 is a near coin toss (0.55) since
    a feature's evidence counts in full only from four steps (``_side.SETTLED_STEPS``), and it
    comes out wrong: 0.970 before."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    to_sensor = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])

    def turn(samples, rec):
        samples[:, 1:4] = samples[:, 1:4] @ to_sensor.T
        samples[:, 4:7] = samples[:, 4:7] @ to_sensor.T
        return samples

    data = _rewritten(shared_data, tmp_path, turn)
    score = _score(shared_data, "mobgap_lab", tmp_path, data=data)
    assert score["side_acc"] >= 0.96


@pytest.mark.parametrize(
    ("axes", "f1_floor", "side_floor", "note"),
    [
        ("x=-x,y=-y,z=z", 0.59, 0.97, "back to front"),  # measured 0.609 and 0.985
        ("x=y,y=-x,z=z", 0.61, 0.98, "sideways"),  # 0.631 and 0.993 (0.53, 0.72 unturned)
        ("x=-y,y=x,z=z", 0.61, 0.98, "sideways"),  # 0.628 and 0.993
    ],
)
def test_real_walking_worn_turned(shared_data, tmp_path, axes, f1_floor, side_floor, note):
    """The same walks as if the sensor had been clipped on turned about the vertical (back to
    front, or by 90° either way). Walking turns the forward axis to its mean braking vector
    within the first dozen steps, and the whole-file analysis then reads the recording again
    with that forward from the start: the steps before the turn are no longer lost or
    mislabelled (F1 0.572, 0.635, 0.592 and left/right 0.951, 0.972, 0.962 without it)."""
    score = _score(shared_data, "mobgap_lab", tmp_path, "--axes", axes)
    assert score["f1"] >= f1_floor
    assert score["side_acc"] >= side_floor
    document = json.loads((tmp_path / "mobgap_lab" / "HA_001_Test11_Trial1.json").read_text())
    assert any("read again with it from the start" in text for text in document["notes"])
    assert any(note in text for text in document["notes"])


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_walking_right_after_a_run(seed):
    """The walking detector rests while running and starts afresh when the run ends, so the
    first walking steps are not judged against running's swing (10 of 18 found before that);
    it needs no settling time, and the interval from the run's last contact does not teach it
    the walking step time (14–15 of 18 before those two)."""
    from hipdrop.sim import REALISTIC, WALK, Bout, Session, simulate

    session = Session((Bout("stand", 10), Bout("run", 60), Bout("walk", 40, WALK)))
    rec = simulate(session, REALISTIC, seed=seed)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    first_walk = np.array([s.t_ic_s for s in rec.truth.steps if 70 <= s.t_ic_s < 80])
    assert len(first_walk) >= 15
    assert len(match_contacts(first_walk, steps[:, pipeline.T_IC])) >= len(first_walk) - 1


def test_walking_through_dropouts():
    """A live stream that loses 0.5 s every 10 s (a weak radio link): the walking detector
    starts afresh after each gap with no settling time, so the steps come back at once (0.749
    of them were found while it reported nothing for 2 s after each gap; 0.929 now)."""
    from hipdrop.sim import REALISTIC, WALK, Bout, Session, simulate

    rec = simulate(Session((Bout("stand", 5), Bout("walk", 120, WALK))), REALISTIC, seed=2)
    kept = np.ones(len(rec.time_s), bool)
    for start in np.arange(15.0, 120.0, 10.0):
        kept &= (rec.time_s < start) | (rec.time_s >= start + 0.5)
    steps = GaitStream().feed(rec.time_s[kept], rec.acc_ms2[kept], rec.gyr_dps[kept])
    at = np.searchsorted(rec.time_s, [s.t_ic_s for s in rec.truth.steps])
    truth = np.array([s.t_ic_s for s, k in zip(rec.truth.steps, at) if kept[k]])
    assert len(match_contacts(truth, steps[:, pipeline.T_IC])) >= 0.9 * len(truth)


@pytest.mark.parametrize("seed", [720, 721])
def test_a_walk_from_the_first_sample(seed):
    """A recording that starts mid-walk: its first steps are found too (the first three were
    lost while the detector reported nothing in its first 2 s)."""
    from hipdrop.sim import REALISTIC, WALK, Bout, Session, simulate

    rec = simulate(Session((Bout("walk", 30, WALK), Bout("stand", 3))), REALISTIC, seed=seed)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = np.array([s.t_ic_s for s in rec.truth.steps])
    pairs = match_contacts(truth, steps[:, pipeline.T_IC])
    assert len(pairs) == len(truth) == len(steps)
    assert min(j for _, j in pairs) == 0


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


@pytest.mark.parametrize("seed", [1, 2])
def test_lateral_step_ups_keep_their_sides(seed):
    """Sideways steps move the trunk sideways for their own reasons: walking's sideways-force
    evidence counts only while the steps brake forward, so the step-up's sides come from the
    rates (with the force they named 9 of 10 and 4 of 5 right)."""
    rec = scenario("lateral_step_up", seed=seed)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    assert len(pairs) >= 5
    assert all((steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L") for i, j in pairs)


@pytest.mark.parametrize("seed", [32, 33])
def test_a_clip_reseated_mid_run_leaves_left_and_right_level(seed):
    """The 100-minute run whose clip is re-seated at 75 min (turned 20–40° on the waistband,
    tilted by a few degrees): the move is found, the neutral re-anchored, and left against
    right stays level (the half-difference of their drop errors was 5.4° on these seeds
    while the move went unnoticed)."""
    rec = scenario("long_run", seed=seed)
    (reseat_s,) = rec.truth.clip_events_s
    moves, half_difference = _clip_moves_and_left_right_bias(rec, after_s=reseat_s + 120.0)
    assert len(moves) == 1 and reseat_s <= moves[0] < reseat_s + 15.0
    assert abs(half_difference) < 1.0


def _clip_moves_and_left_right_bias(rec, after_s):
    """The clip moves the engine reports in a simulated recording, and the half-difference of
    its left- and right-stance drop errors (against the truth) for the steps after ``after_s``:
    what a wrongly carried neutral does to left against right."""
    stream = GaitStream()
    steps = stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    moves = [t for t, code in stream.events if code == pipeline.EV_CLIP_MOVED]
    truth = rec.truth.steps
    pairs = np.array(match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC]))
    error = steps[pairs[:, 0], pipeline.PELVIC_DROP] - [
        truth[j].pelvic_drop_deg for j in pairs[:, 1]
    ]
    after = steps[pairs[:, 0], pipeline.T_IC] > after_s
    left = steps[pairs[:, 0], pipeline.SIDE] > 0
    return moves, (error[after & left].mean() - error[after & ~left].mean()) / 2


@pytest.mark.parametrize("seed", [61, 62])
def test_a_clip_reseated_during_a_stop_is_carried_once(seed):
    """The runner stops, stands still and re-seats the clip (turned 20–40°, tilted a few
    degrees), then runs on: the neutral taken while standing already holds the new mounting, so
    no clip move is flagged and left against right stays level. Compared with the running
    before the stop, the re-seat was carried a second time: a half-difference of 1.8° and 6.3°
    on these seeds for the rest of the run."""
    from hipdrop.sim import REALISTIC, Bout, ClipEvent, Session, simulate

    rng = np.random.default_rng(seed)
    mount = (rng.uniform(-180, 180), rng.uniform(10, 20), rng.uniform(-4, 4))
    reseat = ClipEvent(230.0, (mount[0] + rng.uniform(20, 40), mount[1] - 6.0, mount[2] + 3.0))
    stop = (Bout("stand", 15), Bout("run", 200), Bout("stand", 30), Bout("run", 200))
    spec = dataclasses.replace(REALISTIC, mount_deg=mount, clip_events=(reseat,))
    moves, half_difference = _clip_moves_and_left_right_bias(
        simulate(Session(stop), spec, seed=seed), after_s=300.0
    )
    assert moves == []
    assert abs(half_difference) < 0.5


def test_a_clip_reseated_during_a_walk_break_is_found_once():
    """The runner walks for 30 s, re-seats the clip meanwhile without standing still, and runs
    on: only running is watched, so the move is found once, when the running resumes (the walk
    itself is none), and left against right stays level."""
    from hipdrop.sim import REALISTIC, WALK, Bout, ClipEvent, Session, simulate

    rng = np.random.default_rng(61)
    mount = (rng.uniform(-180, 180), rng.uniform(10, 20), rng.uniform(-4, 4))
    reseat = ClipEvent(235.0, (mount[0] + rng.uniform(20, 40), mount[1] - 6.0, mount[2] + 3.0))
    bouts = (Bout("stand", 20), Bout("run", 200), Bout("walk", 30, WALK), Bout("run", 300))
    spec = dataclasses.replace(REALISTIC, mount_deg=mount, clip_events=(reseat,))
    moves, half_difference = _clip_moves_and_left_right_bias(
        simulate(Session(bouts), spec, seed=61), after_s=400.0
    )
    assert len(moves) == 1 and 250.0 <= moves[0] < 265.0
    assert abs(half_difference) < 0.5


@pytest.mark.parametrize("seed", [51, 52])
def test_walk_breaks_in_a_run_are_no_clip_moves(seed):
    """Run–walk intervals: the pelvis tilts 8° forward running and 2° walking, a change of
    posture the clip watch read as a clip move at every walk break (and carried the neutral
    with it). Only running is watched now."""
    from hipdrop.sim import REALISTIC, RUN, WALK, Bout, Session, simulate

    run = dataclasses.replace(RUN, anterior_tilt_deg=8.0)
    walk = dataclasses.replace(WALK, anterior_tilt_deg=2.0)
    intervals = (Bout("stand", 15),) + (Bout("run", 120, run), Bout("walk", 45, walk)) * 2
    moves, half_difference = _clip_moves_and_left_right_bias(
        simulate(Session(intervals), REALISTIC, seed=seed), after_s=0.0
    )
    assert moves == []
    assert abs(half_difference) < 0.5


def test_a_long_climb_is_no_clip_move():
    """90 s uphill, the pelvis tilted 8° further forward (and a faster cadence, a slower
    pace): a pitch, not a clip move. While any 4° counted, the climb read as a clip move at its
    start and another at its end."""
    from hipdrop.sim import REALISTIC, RUN, Bout, Session, simulate

    run = dataclasses.replace(RUN, cadence_spm=170.0)
    climb = dataclasses.replace(run, anterior_tilt_deg=13.0, cadence_spm=174.0, speed_mps=2.4)
    bouts = (Bout("stand", 15), Bout("run", 200, run), Bout("run", 90, climb))
    bouts += (Bout("run", 200, run),)
    moves, half_difference = _clip_moves_and_left_right_bias(
        simulate(Session(bouts), REALISTIC, seed=71), after_s=0.0
    )
    assert moves == []
    assert abs(half_difference) < 0.5


def test_real_walks_have_no_clip_move(shared_data):
    """The real walks and daily activities (sensor on a belt, never re-seated): walking,
    standing about and turning hold the pelvis at other tilts than each other, and MS_001's
    and HA_001's changes from walking to standing swaying read as three clip moves before only
    running was watched."""
    from hipdrop.engine.inputs import read_csv

    folder = shared_data / "mobgap_lab"
    for csv in sorted(folder.glob("*.csv")):
        rec = read_csv(csv)
        stream = GaitStream()
        stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
        moves = [t for t, code in stream.events if code == pipeline.EV_CLIP_MOVED]
        assert moves == [], csv.name


@pytest.mark.parametrize("seed, yaw_deg", [(41, 0.0), (42, 40.0), (44, 150.0)])
def test_the_pelvis_reads_level_again_after_a_stop(seed, yaw_deg):
    """The gyro bias read during an 8-s stop leaves out the stop's edges and its sway
    (``_rest_bias``): over the 10 s of running after it, the pelvis angles are as far from the
    truth as before the stop (within 0.08° in pitch and 0.15° in roll here). The movement's first
    fraction of a second, taken for bias, left them 1.2° off in pitch and up to 1.2° in roll."""
    session = Session(
        (Bout("stand", 10.0), Bout("run", 60.0, RUN), Bout("stand", 8.0), Bout("run", 30.0, RUN))
    )
    spec = dataclasses.replace(REALISTIC, mount_deg=(yaw_deg, 15.0, -4.0))
    rec = simulate(session, spec, seed=seed)
    stream = GaitStream(angles=True)
    stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    error = stream.angles - rec.pelvis_euler_deg[:, [2, 1]]  # (roll, pitch)
    before = error[(rec.time_s > 55) & (rec.time_s < 68)].mean(axis=0)
    after = error[(rec.time_s > 80) & (rec.time_s < 90)].mean(axis=0)
    assert abs(after[1] - before[1]) < 0.3
    assert abs(after[0]) < 0.3


@pytest.mark.parametrize("bias_dps", [(3.0, 0.0, 0.0), (-2.0, 2.0, 1.5)])
def test_a_gyro_bias_leaves_left_and_right_level_after_a_short_stand(bias_dps):
    """A gyro bias of a few °/s, as an uncalibrated MEMS gyro has, and a 5-s stand before the
    run: the first neutral is the force's direction there. Taken from the filter's up, which
    lags it by the bias until the bias is read, the 3 °/s roll bias left the neutral 1.0° off
    in roll: the left-stance drops read 1.02° low and the right-stance ones 1.06° high on
    average (now 0.03° and 0.08°); the other bias 0.63° and 0.60° the other way (now 0.01° and
    0.05°)."""
    session = Session((Bout("stand", 5.0), Bout("run", 60.0, RUN)))
    spec = dataclasses.replace(REALISTIC, gyr_bias_dps=bias_dps, gyr_tempco_dps_per_c=(0, 0, 0))
    rec = simulate(session, spec, seed=11)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    error = np.array([steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg for i, j in pairs])
    left = np.array([truth[j].side == "L" for _, j in pairs])
    assert len(pairs) > 150
    assert abs(error[left].mean()) < 0.15 and abs(error[~left].mean()) < 0.15


def test_the_real_run_learns_forward_along_the_pelvis(shared_data):
    """Forward is the axis of the pelvis's step-alternating rotation: on the real treadmill run
    it lies within a degree of the board's x, where the markers that define the reference's
    obliquity put forward. The principal axis of the horizontal force, used before, lay 14.9°
    off (the trunk's sideways accelerations there are nearly as large as its fore-aft ones)."""
    from hipdrop.engine.inputs import read_csv

    data = read_csv(shared_data / "fukuchi_run" / "RBDS001_runT25.csv")
    stream = GaitStream()
    stream.feed(data.time_s, data.acc_ms2, data.gyr_dps)
    c1, c2 = stream.learned_forward
    assert abs(np.degrees(np.arctan2(c2, c1))) < 3.0


@pytest.mark.parametrize("yaw_deg", [123.0, -50.0])
def test_a_ringing_clip_does_not_turn_the_learned_forward(yaw_deg):
    """A clip that rings after each impact (1.5° per g about its own pitch axis, 28 Hz) adds a
    rotation of its own to the pelvis's; with a roll alternation of 2° a side, read from 20-ms
    heading samples, it turned the learned forward 9° toward the ringing's axis. Compared over
    40 ms, forward stays within 3° of the pelvis's (0.6–1.4°)."""
    run = dataclasses.replace(RUN, drop_deg=(2.0, 2.0))
    spec = dataclasses.replace(REALISTIC, mount_deg=(yaw_deg, -1.0, -13.0), ringing_deg=1.5)
    rec = simulate(Session((Bout("stand", 10.0), Bout("run", 50.0, run))), spec, seed=7)
    stream = GaitStream()
    stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    k = np.searchsorted(rec.time_s, 55.0)
    pelvis_forward = rotation.from_euler_zyx_deg(rec.pelvis_euler_deg[k, 0], 0.0, 0.0)
    sensor_to_world = rec.sensor.sensor_quat[k]
    true = rotation.rotate(
        rotation.conjugate(sensor_to_world), rotation.rotate(pelvis_forward, np.array([1.0, 0, 0]))
    )
    up, forward = np.array(stream.mounting.up), np.array(stream.mounting.forward)
    level = true - up * (true @ up)
    cos_off = level @ forward / np.linalg.norm(level)
    assert np.degrees(np.arccos(min(cos_off, 1.0))) < 3.0


@pytest.mark.parametrize("seed, yaw_deg", [(71, 0.0), (72, -60.0), (73, 100.0)])
def test_a_run_restarted_after_a_stop_starts_on_the_right_leg(seed, yaw_deg):
    """The first step after a stop, found as a walking contact before the first flight, is
    judged on its early stance as running steps are: its side and drop are right (within 0.5°).
    Judged on the stand before it, its side was a coin toss, and then its drop was the rise of
    the other side (≈ 3.5° off)."""
    bouts = [Bout("stand", 10.0), Bout("run", 15.0, RUN)]
    for stop_s in (8.0, 5.0, 12.0, 6.0, 9.0, 4.0):
        bouts += [Bout("stand", stop_s), Bout("run", 8.0, RUN)]
    spec = dataclasses.replace(REALISTIC, mount_deg=(yaw_deg, 12.0, 3.0))
    rec = simulate(Session(tuple(bouts)), spec, seed=seed)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = rec.truth.steps
    pairs = dict(match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC]))
    restarts = np.cumsum([b.duration_s for b in bouts])[2::2]  # where each stop ends
    for start in restarts:
        j = min(j for j, s in enumerate(truth) if s.t_ic_s >= start)
        i = next(i for i, jj in pairs.items() if jj == j)
        assert (steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L"), start
        assert abs(steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg) < 0.5, start


@pytest.mark.parametrize("seed, yaw_deg", [(6, -86.0), (7, -86.0), (8, 100.0)])
def test_walking_keeps_its_sides_when_forward_turns(seed, yaw_deg):
    """A walk at 96 steps/min with the clip turned on the waistband: after a dozen steps walking
    turns forward to the way it brakes. The roll rate and the sideways force are then read about
    new axes, and the side filter forgets what it had learned of them; centred on their old
    means they named 9–12 sides in a row wrongly, at confidences up to 1.0."""
    walk = dataclasses.replace(WALK, cadence_spm=96.0)
    spec = dataclasses.replace(REALISTIC, mount_deg=(yaw_deg, 17.0, 4.0), ringing_deg=0.2)
    rec = simulate(Session((Bout("stand", 10.0), Bout("walk", 40.0, walk))), spec, seed=seed)
    stream = GaitStream()
    steps = np.concatenate([stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps), stream.finish()])
    assert any(code == pipeline.EV_FORWARD_TURNED for _, code in stream.events)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    right = [(steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L") for i, j in pairs]
    assert len(pairs) > 50 and np.mean(right) >= 0.95


def _run_with_turns(seed, yaw_deg):
    """Five minutes of running with a 90° or 180° turn every 20–40 s (90° in 1.5–3 s, 180° in
    2–4 s: street corners and out-and-back turns), the clip turned by ``yaw_deg``, and the
    turns: (start, end) in seconds."""
    rng = np.random.default_rng(seed)
    turns, t = [], 30.0
    while t < 290.0:
        angle = float(rng.choice([-180.0, 180.0, 90.0, -90.0]))
        duration = rng.uniform(2.0, 4.0) if abs(angle) == 180.0 else rng.uniform(1.5, 3.0)
        turns.append(Turn(t, duration, angle))
        t += rng.uniform(20.0, 40.0)
    session = Session((Bout("stand", 10.0), Bout("run", 300.0, RUN)), turns=tuple(turns))
    spec = dataclasses.replace(REALISTIC, mount_deg=(yaw_deg, 15.0, -3.0))
    return simulate(session, spec, seed=seed), [
        (x.start_s, x.start_s + x.duration_s) for x in turns
    ]


@pytest.mark.parametrize("seed, yaw_deg", [(81, -120.0), (82, 104.0), (83, 30.0)])
def test_running_through_turns(seed, yaw_deg):
    """A turn leans the runner into it (up to 45° at 3 m/s in a 2.5-s about-turn), and the
    average force holds the centripetal force. Measured on these three runs: drops during the
    turns 0.4–0.9° RMS off, in the 10 s after 0.3–0.6°, elsewhere 0.2°; every side right.
    Before: the tilt, corrected toward the centripetal force left in the average, read the 10 s
    after the turns 0.8–1.5° off, and a side at the height of an about-turn could come out
    wrong (seed 81: the turns 6.9° off)."""
    rec, turns = _run_with_turns(seed, yaw_deg)
    steps = np.concatenate(
        [(stream := GaitStream()).feed(rec.time_s, rec.acc_ms2, rec.gyr_dps), stream.finish()]
    )
    truth = [s for s in rec.truth.steps if s.t_ic_s > 20.0]
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    during, after = [], []
    for i, j in pairs:
        assert (steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L"), truth[j].t_ic_s
        error = steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg
        t = truth[j].t_ic_s
        if any(start - 0.3 <= t <= end for start, end in turns):
            during.append(error)
        elif any(end < t <= end + 10.0 for _, end in turns):
            after.append(error)
    assert np.sqrt(np.mean(np.square(during))) < 1.2
    assert np.sqrt(np.mean(np.square(after))) < 0.8


def test_steps_in_turns_are_turning_and_the_means_leave_them_out():
    """The whole-file document of a run through turns: the steps during the turns are
    ``turning`` (all but the turns' gentle ends), none elsewhere, and their lean, read as drop,
    leaves the per-side means and the summary. Measured: 93 % turning during the turns, none
    elsewhere; the mean drops 0.06 / 0.16° off the straight steps' truth, 0.69 / 0.77° with the
    turning steps in (on two other runs 0.15–0.22° and 0.06–0.14°: there the turns to either
    side cancelled)."""
    from hipdrop.engine.analyze import analyze
    from hipdrop.engine.inputs import ImuData
    from hipdrop.engine.summary import summary_text

    rec, turns = _run_with_turns(85, -150.0)
    data = ImuData(rec.time_s, rec.acc_ms2, rec.gyr_dps, rec.spec.rate_hz, None, "turns")
    doc = analyze(data)
    steps = [s for s in doc["steps"] if s["t_ic"] > 20.0 and s["activity"] == "run"]
    in_turn = [any(a - 0.3 <= s["t_ic"] <= b for a, b in turns) for s in steps]
    turning = [s["turning"] for s in steps]
    flagged = [f for f, inside in zip(turning, in_turn) if inside]
    assert np.mean(flagged) > 0.8
    assert not any(f for f, inside in zip(turning, in_turn) if not inside)
    truth = [s for s in rec.truth.steps if s.t_ic_s > 20.0]
    for side in ("L", "R"):
        straight = [
            s.pelvic_drop_deg
            for s in truth
            if s.side == side and not any(a - 0.3 <= s.t_ic_s <= b for a, b in turns)
        ]
        ours = [s["pelvic_drop_deg"] for s in steps if s["side"] == side and not s["turning"]]
        assert abs(np.mean(ours) - np.mean(straight)) < 0.3
    assert f"{sum(s['turning'] for s in doc['steps'])} steps in turns left out" in (
        summary_text(doc)
    )


def test_on_a_track_the_bends_read_as_the_straights():
    """A 400 m track at 3 m/s: bends of 38 s turning 5 °/s, where the runner leans 1.6° into
    the bend (the simulated bend eases in and out: 7 °/s at its height). The gravity reference
    follows the lean over its time constant (the turn is too slow to pause it), so a bend's
    steps read as the straight's, the lean left out, and hardly any is ``turning`` (1 of 468,
    at 11 °/s); against the level (the simulator's truth) the bend's left-stance drops are
    1.5–1.7° smaller and its right-stance drops 1.5° larger. Measured: each side's median drop on
    the bends 0.28 / 0.31° from the straights'."""
    bend_s, straight_s = 115.0 / RUN.speed_mps, 85.0 / RUN.speed_mps
    starts = np.arange(30.0, 300.0, bend_s + straight_s)
    session = Session(
        (Bout("stand", 10.0), Bout("run", 300.0, RUN)),
        turns=tuple(Turn(t, bend_s, 180.0) for t in starts),
    )
    spec = dataclasses.replace(REALISTIC, mount_deg=(70.0, 15.0, -3.0))
    rec = simulate(session, spec, seed=95)
    stream = GaitStream()
    steps = np.concatenate([stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps), stream.finish()])
    steps = steps[steps[:, pipeline.T_IC] > 30.0]
    on_bend = np.array([any(a <= t <= a + bend_s for a in starts) for t in steps[:, pipeline.T_IC]])
    assert on_bend.sum() > 200 and turning(steps).sum() <= 2
    for side in (1.0, -1.0):
        drops = steps[steps[:, pipeline.SIDE] == side, pipeline.PELVIC_DROP]
        bend = on_bend[steps[:, pipeline.SIDE] == side]
        assert abs(np.median(drops[bend]) - np.median(drops[~bend])) < 0.4


@pytest.mark.parametrize("seed, yaw_deg", [(91, -100.0), (92, 40.0)])
def test_running_through_gaps(seed, yaw_deg):
    """Gaps of 0.3–1 s every 15 s (a radio out of reach, live): the pelvis turns unseen through
    each. After it the average force starts afresh and the tilt is corrected as at the start for
    3 s, without the gyro bias learning from that error. Measured on these two runs: drops over
    the 6 s after the gaps 1.13 / 1.16° RMS off (from the second second on 0.27 / 0.30°),
    0.08 / 0.13° elsewhere. With the average carried over the gap: 1.77 / 1.99° (1.09 / 1.25°
    from the second second on) and 0.24 / 0.25°; before the bias rule, 2.8–3.1° and 0.70–0.72°
    (the bias integral took up each gap's error and spread it over the next 20 s)."""
    spec = dataclasses.replace(REALISTIC, mount_deg=(yaw_deg, 15.0, 2.0))
    rec = simulate(Session((Bout("stand", 10.0), Bout("run", 120.0, RUN))), spec, seed=seed)
    rng = np.random.default_rng(seed)
    gaps = [(start, start + rng.uniform(0.3, 1.0)) for start in np.arange(30.0, 125.0, 15.0)]
    kept = np.ones(len(rec.time_s), dtype=bool)
    for start, end in gaps:
        kept &= (rec.time_s < start) | (rec.time_s >= end)
    stream = GaitStream()
    steps = np.concatenate(
        [stream.feed(rec.time_s[kept], rec.acc_ms2[kept], rec.gyr_dps[kept]), stream.finish()]
    )
    truth = [s for s in rec.truth.steps if s.t_ic_s > 20.0 and s.activity == "run"]
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    after, settled, elsewhere = [], [], []
    for i, j in pairs:
        error = steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg
        since = [truth[j].t_ic_s - end for _, end in gaps if 0.0 <= truth[j].t_ic_s - end <= 6.0]
        (after if since else elsewhere).append(error)
        if since and since[0] >= 1.0:
            settled.append(error)
    assert np.sqrt(np.mean(np.square(after))) < 1.5
    assert np.sqrt(np.mean(np.square(settled))) < 0.5
    assert np.sqrt(np.mean(np.square(elsewhere))) < 0.2


@pytest.mark.parametrize("seed", [101, 102, 103])
def test_running_with_packets_lost(seed):
    """5 % of the 14-sample packets lost at random (a hole of 70 ms every 1.4 s on average),
    live: each hole is bridged from the stride before, and after it the tilt is corrected as at
    the start. Measured: drops 0.39 / 0.48 / 0.65° RMS off (0.12 / 0.09 / 0.06° with none lost,
    after the first 20 s); bridged by the mean rate of the hole's two ends, 0.71 / 0.95 /
    0.87°, and corrected at the running gain after the holes as well, 1.22 / 1.60 / 1.20°."""
    rec = scenario("treadmill_quick", seed=seed)
    packet = np.arange(len(rec.time_s)) // 14
    kept = (np.random.default_rng(seed).uniform(size=packet.max() + 1) >= 0.05)[packet]
    kept[:3000] = True  # the stand and the start of the run whole
    stream = GaitStream()
    steps = np.concatenate(
        [stream.feed(rec.time_s[kept], rec.acc_ms2[kept], rec.gyr_dps[kept]), stream.finish()]
    )
    truth = [s for s in rec.truth.steps if s.t_ic_s > 20.0]
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    errors = [steps[i, pipeline.PELVIC_DROP] - truth[j].pelvic_drop_deg for i, j in pairs]
    assert len(pairs) > 0.98 * len(truth)
    assert np.sqrt(np.nanmean(np.square(errors))) < 0.8
