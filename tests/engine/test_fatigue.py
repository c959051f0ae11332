"""Fatigue onset on simulated long runs (seeds not used for tuning) and no alarm when steady."""

import pytest

from hipdrop.engine.analyze import analyze
from hipdrop.engine.inputs import ImuData
from hipdrop.sim import scenario


def _analyze(rec):
    data = ImuData(rec.time_s, rec.acc_ms2, rec.gyr_dps, rec.spec.rate_hz, None, rec.name, ())
    return analyze(data)


@pytest.mark.parametrize("seed", [31, 32])
def test_onset_found_near_the_truth_on_the_drifting_side(seed):
    rec = scenario("long_run", seed=seed)
    fatigue = _analyze(rec)["fatigue"]
    assert fatigue["onset_s"] is not None, fatigue["evidence"]
    assert abs(fatigue["onset_s"] - rec.truth.fatigue_onset_s) < 6 * 60
    assert fatigue["side"] in ("L", "both")  # the simulated runner's left stance drifts most


@pytest.mark.parametrize("seed", [41, 42])
def test_no_alarm_in_a_steady_hour(seed):
    doc = _analyze(scenario("steady_long_run", seed=seed))
    assert doc["fatigue"]["onset_s"] is None, doc["fatigue"]["evidence"]
    assert "no sustained rise" in doc["fatigue"]["evidence"]
    assert [e for e in doc["events"] if e["type"] == "clip_moved"] == []


def test_short_runs_are_not_assessed():
    doc = _analyze(scenario("treadmill_quick", seed=3))
    assert doc["fatigue"]["onset_s"] is None
    assert doc["fatigue"]["evidence"].startswith("not assessed")
