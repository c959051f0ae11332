"""The simulator's physics, checked against first principles rather than its own shapes."""

from dataclasses import replace

import numpy as np
import pytest

from hipdrop.errors import HipdropError
from hipdrop.sim import rotation
from hipdrop.sim.activities import RUN, Bout, Session
from hipdrop.sim.kinematics import G_MS2
from hipdrop.sim.recording import simulate
from hipdrop.sim.scenarios import scenario
from hipdrop.sim.sensor import SensorSpec

IDEAL = SensorSpec(acc_range_g=16, gyr_range_dps=2000, mount_deg=(0.0, 0.0, 0.0))


@pytest.fixture(scope="module")
def ideal_run():
    session = Session((Bout("stand", 5), Bout("run", 30, RUN), Bout("stand", 3)))
    return simulate(session, IDEAL, seed=3)


def _world_force(rec):
    return rotation.rotate(rec.sensor.sensor_quat, rec.acc_ms2)


def test_mean_vertical_specific_force_over_each_running_step_is_g(ideal_run):
    rec = ideal_run
    fz = _world_force(rec)[:, 2]
    running = [s for s in rec.truth.steps if s.activity == "run"]
    means = []
    for this, nxt in zip(running, running[1:]):
        inside = (rec.time_s >= this.t_ic_s) & (rec.time_s < nxt.t_ic_s)
        means.append(fz[inside].mean())
    assert len(means) > 50
    np.testing.assert_allclose(means, G_MS2, rtol=0.03)


def test_flight_phase_is_free_fall(ideal_run):
    rec = ideal_run
    force = np.linalg.norm(rec.acc_ms2, axis=1)
    steps = [s for s in rec.truth.steps if s.activity == "run"]
    flight = np.zeros(len(rec), bool)
    for this, nxt in zip(steps, steps[1:]):
        flight |= (rec.time_s > this.t_stance_end_s + 0.01) & (rec.time_s < nxt.t_ic_s - 0.01)
    assert flight.sum() > 500
    assert np.abs(force[flight]).max() < 0.05 * G_MS2


def test_stance_loads_two_to_three_g(ideal_run):
    peak = np.linalg.norm(ideal_run.acc_ms2, axis=1).max() / G_MS2
    assert 2.0 < peak < 3.5


def test_still_and_upright_reads_plus_g_on_z():
    rec = simulate(Session((Bout("stand", 3),)), IDEAL, seed=1)
    np.testing.assert_allclose(rec.acc_ms2[:, 2].mean(), G_MS2, atol=0.02)
    np.testing.assert_allclose(rec.acc_ms2[:, :2].mean(axis=0), 0, atol=0.05)


@pytest.mark.parametrize("name", ["treadmill_quick", "band_walk_set", "side_plank_hold"])
def test_exact_integration_of_the_gyro_recovers_the_true_orientation(name):
    rec = scenario(name, seed=4)
    spec = replace(rec.spec, gyr_range_dps=2000)
    dt = 1.0 / (spec.rate_hz * (1 + spec.rate_error))
    exact_rates = rotation.body_rates(rec.sensor.sensor_quat, dt)
    q = rotation.integrate_body_rates(rec.sensor.sensor_quat[0], exact_rates, dt)
    err = np.degrees(
        np.linalg.norm(
            rotation.to_rotvec(rotation.multiply(rotation.conjugate(q), rec.sensor.sensor_quat)),
            axis=1,
        )
    )
    assert err.max() < 1e-6
    # the measured gyro is exactly that rate with the stated scale error, warm-up bias and noise
    bias = np.asarray(spec.gyr_bias_dps) + np.outer(
        rec.sensor.temperature_c - 25.0, spec.gyr_tempco_dps_per_c
    )
    model = np.degrees(exact_rates) * (1 + spec.gyr_scale_error) + bias
    residual = rec.gyr_dps - model
    quantum = rec.spec.gyr_range_dps / 32768
    assert np.abs(residual.mean(axis=0)).max() < 0.01
    assert residual.std() == pytest.approx(np.hypot(spec.gyr_noise_dps, quantum / 12**0.5), rel=0.1)


def test_truth_drop_is_the_peak_of_true_roll_in_stance(ideal_run):
    rec = ideal_run
    roll = rec.pelvis_euler_deg[:, 2]
    for step in rec.truth.steps[5:40]:
        inside = (rec.time_s >= step.t_ic_s) & (rec.time_s <= step.t_stance_end_s)
        sign = 1 if step.side == "L" else -1
        assert step.pelvic_drop_deg == pytest.approx((sign * roll[inside]).max())
        peak_at = rec.time_s[inside][np.argmax(sign * roll[inside])]
        fraction = (peak_at - step.t_ic_s) / (step.t_stance_end_s - step.t_ic_s)
        assert 0.35 < fraction < 0.55


def test_steps_alternate_and_drop_follows_the_runner():
    session = Session((Bout("stand", 2), Bout("run", 40, replace(RUN, drop_deg=(6.0, 2.0)))))
    rec = simulate(session, IDEAL, seed=9)
    sides = [s.side for s in rec.truth.steps]
    assert all(a != b for a, b in zip(sides, sides[1:]))
    left = np.mean([s.pelvic_drop_deg for s in rec.truth.steps if s.side == "L"])
    right = np.mean([s.pelvic_drop_deg for s in rec.truth.steps if s.side == "R"])
    assert left == pytest.approx(6.0, abs=0.4) and right == pytest.approx(2.0, abs=0.4)


def test_fatigue_raises_drop_after_onset():
    rec = scenario("long_run", seed=5)
    onset = rec.truth.fatigue_onset_s
    before = [s.pelvic_drop_deg for s in rec.truth.steps if onset - 1200 < s.t_ic_s < onset]
    late = [s.pelvic_drop_deg for s in rec.truth.steps if s.t_ic_s > onset + 900]
    assert np.mean(late) - np.mean(before) > 1.5


def test_same_seed_same_samples_other_seed_other_runner():
    a, b, c = (scenario("treadmill_quick", seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.sensor.acc_counts, b.sensor.acc_counts)
    assert a.spec.mount_deg != c.spec.mount_deg


def test_saturation_and_int16_quantisation():
    spec = replace(IDEAL, acc_range_g=2, gyr_range_dps=250)
    rec = simulate(Session((Bout("run", 10, RUN),)), spec, seed=2)
    assert rec.sensor.acc_counts.max() == 32767
    step = 2 * G_MS2 / 32768
    np.testing.assert_allclose(rec.acc_ms2 / step, np.round(rec.acc_ms2 / step), atol=1e-6)


def test_mounting_rotates_gravity_into_the_sensor_axes():
    spec = replace(IDEAL, mount_deg=(0.0, 0.0, 180.0))  # worn upside down
    rec = simulate(Session((Bout("stand", 2),)), spec, seed=1)
    assert rec.acc_ms2[:, 2].mean() == pytest.approx(-G_MS2, abs=0.05)


def test_clip_event_changes_the_mounting_abruptly():
    rec = scenario("long_run", seed=6)
    t_event = rec.truth.clip_events_s[0]
    i = np.searchsorted(rec.time_s, t_event)
    before = rotation.to_euler_zyx_deg(rec.sensor.sensor_quat[i - 400])
    after = rotation.to_euler_zyx_deg(rec.sensor.sensor_quat[i + 400])
    assert abs(after[1] - before[1]) > 3


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(HipdropError, match="treadmill_quick"):
        scenario("marathon_on_mars")
