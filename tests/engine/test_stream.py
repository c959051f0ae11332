"""The engine as a stream: any chunking gives the whole-file steps; verdicts come out early."""

import dataclasses

import numpy as np
import pytest

from hipdrop.engine import _pipeline as pipeline
from hipdrop.engine.evaluate import match_contacts
from hipdrop.engine.stream import STEP_COLUMNS, GaitStream
from hipdrop.sim import REALISTIC, WALK, Bout, Session, scenario, simulate


@pytest.fixture(scope="module")
def long_recording():
    return scenario("steady_run", seed=11)


def _whole(rec):
    stream = GaitStream()
    return np.concatenate([stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps), stream.finish()])


def _cut(rec, at_s):
    """Feed ``rec`` up to ``at_s`` (s), then finish: (steps fed, steps finish returned)."""
    keep = rec.time_s < at_s
    stream = GaitStream()
    fed = stream.feed(rec.time_s[keep], rec.acc_ms2[keep], rec.gyr_dps[keep])
    return fed, stream.finish()


def _chunked(rec, sizes):
    stream, parts, start = GaitStream(), [], 0
    for size in sizes:
        stop = min(start + size, len(rec))
        parts.append(
            stream.feed(rec.time_s[start:stop], rec.acc_ms2[start:stop], rec.gyr_dps[start:stop])
        )
        start = stop
        if start == len(rec):
            break
    parts.append(stream.finish())
    return np.concatenate(parts)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_chunkings_give_the_whole_file_steps(long_recording, seed):
    whole = _whole(long_recording)
    sizes = np.random.default_rng(seed).integers(1, 600, size=len(long_recording))
    chunked = _chunked(long_recording, sizes)
    assert len(whole) > 3000 and len(chunked) == len(whole)
    np.testing.assert_array_equal(chunked[:, pipeline.T_IC], whole[:, pipeline.T_IC])
    np.testing.assert_allclose(chunked, whole, atol=1e-9, equal_nan=True)


def test_packet_sized_chunks_match_too(long_recording):
    rec = scenario("treadmill_quick", seed=5)
    np.testing.assert_allclose(
        _chunked(rec, [14] * (len(rec) // 14 + 1)), _whole(rec), atol=1e-9, equal_nan=True
    )


def test_each_verdict_is_out_within_100_ms_of_the_next_contact(long_recording):
    steps = _whole(long_recording)
    closed = ~np.isnan(steps[:, pipeline.STEP_TIME])  # by their next contact
    next_contact = steps[closed, pipeline.T_IC] + steps[closed, pipeline.STEP_TIME]
    latency = steps[closed, pipeline.T_VERDICT] - next_contact
    assert latency.max() < 0.1
    assert latency.min() >= 0
    overdue = steps[~closed]
    assert len(overdue) < 0.01 * len(steps)
    assert (overdue[:, pipeline.T_VERDICT] - overdue[:, pipeline.T_IC] <= pipeline.MAX_STEP_S).all()


def test_the_last_step_before_a_stop_is_reported_once_overdue():
    session = Session((Bout("stand", 10), Bout("walk", 30, WALK), Bout("stand", 10)))
    rec = simulate(session, REALISTIC, seed=12)
    steps = _whole(rec)
    last_truth = rec.truth.steps[-1].t_ic_s
    (at,) = np.flatnonzero(np.abs(steps[:, pipeline.T_IC] - last_truth) < 0.05)
    last = steps[at]
    assert np.isnan(last[pipeline.STEP_TIME])  # no next contact in time: closed as overdue
    usual = np.median(steps[:at, pipeline.STEP_TIME])
    waited = last[pipeline.T_VERDICT] - last[pipeline.T_IC]
    assert waited == pytest.approx(pipeline.OVERDUE_STEPS * usual, abs=0.05)
    assert not np.isnan(last[pipeline.DROP_FROM_CONTACT])
    assert np.isnan(steps[:at, pipeline.STEP_TIME]).sum() == 0
    # after it at most the stop's own closing step (the walker's feet coming together)
    assert len(steps) - at - 1 <= 1


def test_finish_reports_the_last_running_step_once_its_stance_is_in_the_data():
    rec = scenario("treadmill_quick", seed=6)
    truth = rec.truth.steps[40]
    fed, last = _cut(rec, truth.t_stance_end_s + 0.03)  # in the flight after that stance
    assert len(last) == 1 and abs(last[0, pipeline.T_IC] - truth.t_ic_s) < 0.01
    assert fed[-1, pipeline.T_IC] < last[0, pipeline.T_IC]  # its predecessor was fed
    contact_s = truth.t_stance_end_s - truth.t_ic_s
    assert last[0, pipeline.CONTACT_TIME] == pytest.approx(contact_s, abs=0.02)
    assert np.isnan(last[0, pipeline.STEP_TIME])
    assert last[0, pipeline.SIDE] == (1 if truth.side == "L" else -1)
    drop = last[0, pipeline.DROP_FROM_CONTACT]
    assert drop == pytest.approx(truth.drop_from_contact_deg, abs=1.5)
    _, mid_stance = _cut(rec, truth.t_ic_s + 0.06)  # its stance not over: nothing to measure
    assert len(mid_stance) == 0


def test_finish_reports_the_last_walking_step_one_usual_step_long():
    session = Session((Bout("stand", 10), Bout("walk", 30, WALK)))
    rec = simulate(session, REALISTIC, seed=13)
    truth, following = rec.truth.steps[30], rec.truth.steps[31]
    fed, last = _cut(rec, following.t_ic_s + 0.05)  # the next contact is not confirmed yet
    assert len(last) == 1 and abs(last[0, pipeline.T_IC] - truth.t_ic_s) < 0.05
    assert np.isnan(last[0, pipeline.STEP_TIME])
    assert not np.isnan(last[0, pipeline.DROP_FROM_CONTACT])
    assert last[0, pipeline.SIDE] == (1 if truth.side == "L" else -1)
    assert len(_cut(rec, truth.t_ic_s + 0.2)[1]) == 0  # cut a contact's confirmation too soon


def test_columns_are_documented():
    assert len(STEP_COLUMNS) == pipeline.STEP_FIELDS


def test_a_device_restart_mid_run_does_not_stop_the_steps():
    rec = scenario("treadmill_quick", seed=6)
    half = len(rec) // 2
    restarted = rec.time_s.copy()
    restarted[half:] -= restarted[half] - 0.5  # the device clock starts again near zero
    stream = GaitStream()
    first = stream.feed(restarted[:half], rec.acc_ms2[:half], rec.gyr_dps[:half])
    second = stream.feed(restarted[half:], rec.acc_ms2[half:], rec.gyr_dps[half:])
    expected = sum(s.t_ic_s > rec.time_s[half] + 1.0 for s in rec.truth.steps)
    assert len(first) > 100 and len(second) >= expected - 3
    # reported as a gap, not bridged: the clock stepped back
    assert pipeline.EV_GAP in {code for _, code in stream.events}


def test_packet_timestamp_jitter_is_not_a_gap():
    """A device stamps each packet when it reads its FIFO: late by about a sample period,
    so consecutive timestamps can even step back a little. That must not break the steps."""
    rec = scenario("treadmill_quick", seed=9)
    late = np.repeat(np.random.default_rng(0).uniform(0, 0.0065, len(rec) // 14 + 1), 14)
    jittered = rec.time_s + late[: len(rec)]
    assert (np.diff(jittered) <= 0).any()
    clean, shaken = _whole(rec), GaitStream()
    steps = shaken.feed(jittered, rec.acc_ms2, rec.gyr_dps)
    codes = {code for _, code in shaken.events}
    assert pipeline.EV_GAP not in codes and pipeline.EV_GAP_BRIDGED not in codes
    assert abs(len(steps) - len(clean)) <= 2
    n = min(len(steps), len(clean))
    assert np.median(np.abs(steps[:n, pipeline.T_IC] - clean[:n, pipeline.T_IC])) < 0.006


def test_a_run_whose_first_contact_came_before_any_flight_starts_with_an_other_step():
    """Standing, then running: the first contact is found by the walking detector (no flight
    yet); its next contact is a running one, so it is the run's first step, labelled other
    (0) rather than walk — a treadmill session has no walking step."""
    rec = scenario("treadmill_quick", seed=0)
    steps = _whole(rec)
    activities = steps[:, pipeline.ACTIVITY]
    assert list(np.unique(activities)) == [0.0, 1.0]
    (first_other,) = np.flatnonzero(activities == 0)
    assert first_other == 0 and steps[0, pipeline.T_IC] < rec.truth.steps[1].t_ic_s


@pytest.mark.parametrize("rate_hz", [25.0, 30.0])
def test_low_sample_rates_keep_every_step(rate_hz):
    """At 25 or 30 Hz a minute of walking holds more steps than one per 20 samples, the size
    of the feed's first output buffer (so would running at 180 steps/min at 50 Hz): the kernel
    stops before overfilling it and the stream carries on with another. (It used to write past
    the buffer's end: 91 of 108 walking steps at 25 Hz, and a corrupted heap.) The angles of
    every sample are kept on the way."""
    spec = dataclasses.replace(REALISTIC, rate_hz=rate_hz)
    rec = simulate(Session((Bout("walk", 60, WALK),)), spec, seed=700)
    stream = GaitStream(angles=True)
    steps = stream.feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = np.array([s.t_ic_s for s in rec.truth.steps])
    assert len(truth) > len(rec.time_s) // 20 + 4
    assert len(match_contacts(truth, steps[:, pipeline.T_IC])) >= len(truth) - 2
    assert stream.angles.shape == (len(rec.time_s), 2) and np.isfinite(stream.angles).all()
    np.testing.assert_allclose(_chunked(rec, [7] * len(rec)), _whole(rec), equal_nan=True)


def test_the_kernel_stops_before_its_outputs_are_full():
    """``process`` given room for only a few steps takes the samples up to the point where one
    more could overfill it, and says how many it took; fed the rest, it gives the steps of one
    call with room to spare."""
    rec = scenario("treadmill_quick", seed=5)
    t, acc, gyr = rec.time_s, rec.acc_ms2, rec.gyr_dps
    state, start, parts = pipeline.new_state(), 0, []
    while start < len(t):
        steps, events = np.zeros((5, pipeline.STEP_FIELDS)), np.zeros((8, 2))
        part = (t[start:], acc[start:], gyr[start:])
        n_steps, _, taken = pipeline.process(*state, *part, np.zeros((0, 2)), steps, events)
        assert n_steps <= 5 - pipeline.STEPS_PER_SAMPLE + 1 and taken > 0
        parts.append(steps[:n_steps])
        start += taken
    assert len(parts) > 50
    np.testing.assert_array_equal(np.concatenate(parts), GaitStream().feed(t, acc, gyr))


def test_slow_walking_at_1000_hz_fits_the_step_buffer():
    """At 1000 Hz a step buffer of 1024 samples held 1 s, less than a step at 80 steps/min
    with the 200 ms before its contact: no step at all was reported. It holds 4 s now."""
    spec = dataclasses.replace(REALISTIC, rate_hz=1000.0)
    slow = dataclasses.replace(WALK, cadence_spm=80.0, contact_time_s=0.9)
    rec = simulate(Session((Bout("stand", 3), Bout("walk", 30, slow))), spec, seed=1)
    steps = GaitStream().feed(rec.time_s, rec.acc_ms2, rec.gyr_dps)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([s.t_ic_s for s in truth]), steps[:, pipeline.T_IC])
    assert len(pairs) >= len(truth) - 2
    assert all((steps[i, pipeline.SIDE] > 0) == (truth[j].side == "L") for i, j in pairs)
