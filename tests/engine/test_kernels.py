"""The engine's Numba kernels against independent pure-Python references (``reference.py``).

Three layers: each kernel and its reference driven side by side over simulated and real data
(same inputs, tight tolerances); edge cases (still, upside down, no running, a gap, nothing);
and the orientation filter's accuracy against the simulator's true orientation.

Simulated recordings are shifted to start at ``T0_S`` (a stream's clock need not start at zero);
``test_process_matches_reference_from_time_zero`` covers a recording that does.
"""

import math
from dataclasses import replace

import numpy as np
import pytest
import reference as ref

from hipdrop.engine import _pipeline as pipeline
from hipdrop.engine import _vec
from hipdrop.engine.calibration import _mounting as mount
from hipdrop.engine.calibration import _still as still
from hipdrop.engine.contacts import _detector as contacts
from hipdrop.engine.evaluate import match_contacts
from hipdrop.engine.orientation import _filter as orientation
from hipdrop.engine.steps import _measure as measure
from hipdrop.engine.steps import _side as side
from hipdrop.engine.stream import STEP_COLUMNS, GaitStream
from hipdrop.sim import REALISTIC, Bout, SensorSpec, Session, Turn, rotation, scenario, simulate
from hipdrop.sim.activities import WALK

T0_S = 10.0
FILTER_RTOL = 1e-9
STAND_SPEC = replace(REALISTIC, mount_deg=(0.0, 15.0, 0.0))


class Signals:
    """t (s), acc (m/s²), gyr (deg/s) as C-contiguous float arrays."""

    def __init__(self, t, acc, gyr):
        self.t, self.acc, self.gyr = (np.ascontiguousarray(x, dtype=float) for x in (t, acc, gyr))

    @classmethod
    def of(cls, rec, start=0, stop=None, t0=T0_S):
        part = slice(start, stop)
        return cls(rec.time_s[part] + t0, rec.acc_ms2[part], rec.gyr_dps[part])

    def __len__(self):
        return len(self.t)

    def dt(self):
        gaps = np.diff(self.t, prepend=self.t[0] - np.median(np.diff(self.t)))
        return gaps.tolist()


@pytest.fixture(scope="module")
def quick():
    return scenario("treadmill_quick", 0)


@pytest.fixture(scope="module")
def sim_run(quick):
    """8 s standing then 12 s running: still → run, a neutral and a learned heading."""
    return Signals.of(quick, 400, 4400)


@pytest.fixture(scope="module")
def real_run(shared_data):
    """A real treadmill run (100 Hz, 30 s, running from the first sample)."""
    table = np.loadtxt(
        shared_data / "fukuchi_run" / "RBDS001_runT25.csv", delimiter=",", skiprows=1
    )
    return Signals(table[:, 0] + T0_S, table[:, 1:4], table[:, 4:7])


def turned_walk(yaw_deg):
    """10 s standing then 40 s walking with the sensor turned by ``yaw_deg`` about its z axis
    (180: worn back to front; ±90: sideways): walking turns the nominal forward to it."""
    session = Session((Bout("stand", 10), Bout("walk", 40, WALK)))
    spec = replace(REALISTIC, mount_deg=(yaw_deg, 15.0, 0.0))
    return Signals.of(simulate(session, spec, seed=8))


@pytest.fixture(scope="module", params=["sim", "real"])
def signals(request):
    return request.getfixturevalue({"sim": "sim_run", "real": "real_run"}[request.param])


def drive_kernels(s: Signals):
    """Run the kernels sample by sample in the pipeline's order; keep every input and output."""
    st_still, st_ori = np.zeros(still.STATE_SIZE), np.zeros(orientation.STATE_SIZE)
    st_mount, st_con = np.zeros(mount.STATE_SIZE), np.zeros(contacts.STATE_SIZE)
    rows = {
        k: []
        for k in ("still", "ori_st", "up", "running", "mount_st", "fv", "forward", "left")
        + ("contact",)
    }
    last_ic = math.nan
    for k, dt in enumerate(s.dt()):
        is_still = still.still_step(st_still, s.acc[k], s.gyr[k], dt)
        orientation.orientation_step(st_ori, s.acc[k], s.gyr[k], dt, is_still)
        up = np.array(orientation.up_in_sensor(st_ori))
        running = contacts.running(st_con, s.t[k])
        mount.mounting_step(st_mount, up, s.acc[k], s.gyr[k], s.t[k], dt, is_still, running)
        fv = float(s.acc[k] @ up)
        forward, left = pipeline._level_forces(st_mount, up, s.acc[k], fv)
        contact = contacts.contact_step(st_con, s.t[k], fv, forward, left, not is_still)
        if contact[1] == contacts.RUN:  # as the pipeline does, at each running contact
            mount.note_step(st_mount, contact[0] - last_ic)
        if contact[1]:
            last_ic = contact[0]
        for key, value in zip(
            rows, (is_still, st_ori, up, running, st_mount, fv, forward, left, contact)
        ):
            rows[key].append(value.copy() if isinstance(value, np.ndarray) else value)
    return {key: np.array(value) for key, value in rows.items()}


@pytest.fixture(scope="module")
def driven(signals):
    return signals, drive_kernels(signals)


def samples(s: Signals):
    """(t, acc, gyr, dt) per sample as plain Python values."""
    return zip(s.t.tolist(), s.acc.tolist(), s.gyr.tolist(), s.dt())


# -- _vec ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quats():
    rng = np.random.default_rng(7)
    q = rng.standard_normal((50, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True), rng.standard_normal((50, 3))


def test_rotate_and_up_in_sensor_agree_with_quaternion_algebra(quats):
    for q, v in zip(*quats):
        got = _vec.rotate(q, v)
        np.testing.assert_allclose(got, rotation.rotate(q, v), rtol=0, atol=1e-14)
        np.testing.assert_allclose(got, ref.q_rotate(q, v), rtol=0, atol=1e-14)
        np.testing.assert_allclose(_vec.rotate_back(q, got), v, rtol=0, atol=1e-14)
        np.testing.assert_allclose(
            _vec.up_in_sensor(q),
            rotation.rotate(rotation.conjugate(q), [0, 0, 1]),
            rtol=0,
            atol=1e-14,
        )


def test_multiply_and_renormalise(quats):
    q = quats[0]
    for a, b in zip(q, q[::-1]):
        np.testing.assert_allclose(_vec.multiply(a, b), rotation.multiply(a, b), atol=1e-15)
        for stray in (1e-15, -1e-12, 4e-9):  # exact to an ulp while |q|² is within 1e-8 of 1
            np.testing.assert_allclose(_vec.renormalise(a * (1 + stray)), a, rtol=0, atol=3e-16)


@pytest.mark.parametrize("scale", [0.0, 1e-9, 0.01, 0.17, 0.1999999, 0.2, 0.3, 3.0])
def test_from_rotvec_is_exact_on_both_sides_of_the_series_threshold(quats, scale):
    """Below ``SERIES_MAX_RAD`` a truncated series stands in for cos and sin: as exact."""
    for axis in quats[1]:
        r = scale * axis / np.linalg.norm(axis)
        got = _vec.from_rotvec(*r)
        np.testing.assert_allclose(got, rotation.from_rotvec(r), rtol=0, atol=3e-16)
        assert sum(x * x for x in got) == pytest.approx(1.0, abs=5e-16)


def test_level_from_gravity_turns_the_force_up_without_heading(quats):
    for f in [*quats[1], (0, 0, 9.8), (0, 0, -9.8), (1e-14, 0, -9.8), (9.8, 0, 0)]:
        q = np.array(_vec.level_from_gravity(np.asarray(f, float)))
        f_world = rotation.rotate(q, f)
        np.testing.assert_allclose(f_world, [0, 0, np.linalg.norm(f)], atol=1e-12)
        assert q[3] == pytest.approx(0.0, abs=1e-15)  # rotation axis horizontal: no heading
        np.testing.assert_allclose(q, ref.level_from_gravity(f), atol=1e-13)
    assert _vec.level_from_gravity(np.zeros(3)) == (1.0, 0.0, 0.0, 0.0)  # no reference: any q


# -- per-kernel side by side -----------------------------------------------------------------------


def test_still_step_matches_reference(signals):
    state, model = np.zeros(still.STATE_SIZE), ref.Still()
    for _, acc, gyr, dt in samples(signals):
        got = still.still_step(state, np.array(acc), np.array(gyr), dt)
        assert got == model.step(acc, gyr, dt)
        assert state[still.QUIET_S] == pytest.approx(model.quiet_s, rel=1e-12, abs=1e-12)


def test_a_rest_leaves_the_mean_of_its_inside_as_bias():
    """The still detector ends a rest late: here the last 0.3 s reported still already turn at
    3 °/s (a lean forward before the first stride). And standing sways: the pelvis rolls by
    ±0.3°, which the gyro and the accelerometer both see. The bias left when the rest ends is
    the gyro's mean over the rest's inside blocks (the first and the last whole block of 0.5 s
    left out) less the sway that gravity shows, kernel and reference alike. A one-second average
    of the last moments, as before, left 0.8 °/s of the lean in the bias, and the plain mean of
    the inside 0.14 °/s of sway."""
    rate_hz, true_bias = 200, np.array([0.6, -0.4, 0.3])
    t = np.arange(5 * rate_hz) / rate_hz
    phase = 2 * np.pi * 0.1 * t  # a slow sway: 0.6° of roll from the rest's start to its end
    roll = np.radians(0.3) * np.cos(phase)
    roll_rate_dps = -0.3 * 2 * np.pi * 0.1 * np.sin(phase)
    gyr = true_bias + np.outer(roll_rate_dps, [1.0, 0.0, 0.0])
    gyr[-60:, 1] += 3.0
    acc = 9.80665 * np.column_stack([0 * t, np.sin(roll), np.cos(roll)])  # up, seen rolled
    state, model, dt = np.zeros(orientation.STATE_SIZE), ref.Orientation(), 1.0 / rate_hz
    samples = [(True, a, g) for a, g in zip(acc, gyr)] + [(False, acc[-1], gyr[-1])]
    for still_now, a, g in samples:
        orientation.orientation_step(state, tuple(a), tuple(g), dt, still_now)
        model.step(tuple(a), tuple(g), dt, still_now)
    left = np.degrees(state[orientation.BIAS : orientation.BIAS + 3])
    np.testing.assert_allclose(left, np.degrees(model.bias), rtol=0, atol=1e-9)
    np.testing.assert_allclose(left, true_bias, rtol=0, atol=0.01)
    plain_mean = gyr[100:900].mean(axis=0)
    assert abs(plain_mean[0] - true_bias[0]) > 0.1  # the sway, which the kernel takes out


def test_a_short_rest_leaves_the_bias_as_it_was():
    """A rest of less than three blocks has no inside: the bias is kept from before it (here
    zero; the tilt correction of the one moving sample moves it by a few µ°/s)."""
    state = np.zeros(orientation.STATE_SIZE)
    acc, dt = (0.0, 0.0, 9.80665), 0.005
    for k in range(251):  # 1.25 s still, the last 0.5 s already turning at 3 °/s
        turning = (0.0, 3.0 if k >= 150 else 0.0, 0.0)
        orientation.orientation_step(state, acc, turning, dt, k < 250)
    left = np.degrees(state[orientation.BIAS : orientation.BIAS + 3])
    np.testing.assert_allclose(left, 0.0, rtol=0, atol=1e-3)


def test_orientation_step_matches_reference(driven):
    s, k = driven
    model = ref.Orientation()
    quats, biases = [], []
    for (_, acc, gyr, dt), is_still in zip(samples(s), k["still"].tolist()):
        model.step(acc, gyr, dt, is_still)
        quats.append(model.q)
        biases.append(model.bias)
    np.testing.assert_allclose(
        k["ori_st"][:, orientation.Q : orientation.Q + 4], quats, rtol=0, atol=FILTER_RTOL
    )
    np.testing.assert_allclose(
        k["ori_st"][:, orientation.BIAS : orientation.BIAS + 3],
        biases,
        rtol=FILTER_RTOL,
        atol=1e-13,
    )


def test_contact_step_matches_reference(driven):
    s, k = driven
    model = ref.Contacts()
    found = []
    columns = ("fv", "forward", "left", "still")
    for t, fv, forward, left, is_still in zip(s.t.tolist(), *(k[c].tolist() for c in columns)):
        found.append(model.step(t, fv, forward, left, not is_still))
    got = [(t, int(kind)) for t, kind in k["contact"] if kind]
    want = [(t, kind) for t, kind in found if kind]
    assert got == want  # identical times, to the last bit
    assert len(got) > 25


def walk_contacts(rec, forward_of=lambda s, f: f):
    """Contacts (time, kind) of the detector fed the true vertical, forward and left force of a
    recording that walks along world x after 3 s of standing (kernel and reference alike)."""
    s = Signals.of(rec)
    world = rotation.rotate(rec.sensor.sensor_quat, rec.acc_ms2)
    fv, forward = world[:, 2].tolist(), forward_of(s, world[:, 0]).tolist()
    state, model = np.zeros(contacts.STATE_SIZE), ref.Contacts()
    got, want = [], []
    for t, f, a, left in zip(s.t.tolist(), fv, forward, world[:, 1].tolist()):
        moving = t > T0_S + 3.0
        got.append(contacts.contact_step(state, t, f, a, left, moving))
        want.append(model.step(t, f, a, left, moving))
    got = [(t, int(kind)) for t, kind in got if kind]
    assert got == [(t, kind) for t, kind in want if kind]
    return got


@pytest.mark.parametrize("t_landing", [1.003, 1.0075])
def test_a_landing_is_where_its_edge_left_the_flight(t_landing):
    """A soft landing at 100 Hz: the vertical force rises fast to 0.55 g over 20 ms, then slowly
    to 1 g. The contact is where the edge crossed 0.05 g above the flight, read between the two
    samples either side (0.4 / 0.2 ms before the landing), kernel and reference alike. The
    tangent at the crossing of 0.6 g, on the slow part, reached back its whole 40 ms: 13 /
    7.5 ms before the landing."""
    t = np.arange(0.0, 1.3, 0.01)
    knees = [0.0, t_landing, t_landing + 0.02, t_landing + 0.08, 2.0]
    fv = np.interp(t, knees, [0.0, 0.0, 0.55 * contacts.G_MS2, contacts.G_MS2, contacts.G_MS2])
    state, model = np.zeros(contacts.STATE_SIZE), ref.Contacts()
    got, want = [], []
    for t_k, f in zip(t.tolist(), fv.tolist()):
        got.append(contacts.contact_step(state, t_k, f, 0.0, 0.0, True))
        want.append(model.step(t_k, f, 0.0, 0.0, True))
    landings = [t_k for t_k, kind in got if kind]
    assert landings == [t_k for t_k, kind in want if kind]
    assert len(landings) == 1
    assert abs(landings[0] - t_landing) < 0.001


def test_running_contacts_match_reference_at_50_hz():
    """Below 100 Hz the stance end's tangent is held to 40 ms, not four samples, and a landing's
    crossing is read between samples (kernel and reference alike, to the last bit); the landings
    stay within 25 ms of the truth."""
    rec = scenario("treadmill_quick", seed=303, rate_hz=50.0)
    fv = rotation.rotate(rec.sensor.sensor_quat, rec.acc_ms2)[:, 2].tolist()
    state, model = np.zeros(contacts.STATE_SIZE), ref.Contacts()
    got, want = [], []
    for t, f in zip(rec.time_s.tolist(), fv):
        got.append(contacts.contact_step(state, t, f, 0.0, 0.0, True))
        want.append(model.step(t, f, 0.0, 0.0, True))
    runs = [t for t, kind in got if kind == contacts.RUN]
    assert runs == [t for t, kind in want if kind == contacts.RUN]
    truth = np.array([s.t_ic_s for s in rec.truth.steps])
    pairs = match_contacts(truth, runs, tol_s=0.2)
    assert len(pairs) >= len(truth) - 1  # the run's first contact has no flight before it
    assert max(abs(runs[i] - truth[j]) for i, j in pairs) < 0.025


@pytest.fixture(scope="module")
def walk_rec():
    return simulate(Session((Bout("stand", 3), Bout("walk", 10, WALK))), STAND_SPEC, seed=4)


def test_contact_step_matches_reference_while_walking(walk_rec):
    got = walk_contacts(walk_rec)
    assert {kind for _, kind in got} == {contacts.WALK}
    assert len(got) == pytest.approx(len(walk_rec.truth.steps), abs=2)


def test_walking_read_about_a_forward_turned_50_degrees_keeps_both_legs():
    """A clip turned 50° on the waistband (too little for walking to turn forward): the forward
    force mixes in the trunk's sideways force, which turns with the legs, and one leg's contacts
    fell short of the braking check (every right contact lost). Once the mean braking vector
    shows the way of walking, the fall is read along it (kernel and reference alike)."""
    rec = simulate(Session((Bout("stand", 3), Bout("walk", 40, WALK))), STAND_SPEC, seed=9)
    world = rotation.rotate(rec.sensor.sensor_quat, rec.acc_ms2)
    c, s = np.cos(np.radians(50.0)), np.sin(np.radians(50.0))
    forward, left = c * world[:, 0] + s * world[:, 1], c * world[:, 1] - s * world[:, 0]
    state, model = np.zeros(contacts.STATE_SIZE), ref.Contacts()
    got, want = [], []
    for t, f, a, b in zip(
        rec.time_s.tolist(), world[:, 2].tolist(), forward.tolist(), left.tolist()
    ):
        got.append(contacts.contact_step(state, t, f, a, b, t > 3.0))
        want.append(model.step(t, f, a, b, t > 3.0))
    found = [t for t, kind in got if kind]
    assert found == [t for t, kind in want if kind]
    later = [s for s in rec.truth.steps if s.t_ic_s > 15.0]  # a dozen steps in
    pairs = match_contacts(np.array([s.t_ic_s for s in later]), found)
    assert len(pairs) >= len(later) - 1
    assert {later[j].side for _, j in pairs} == {"L", "R"}


def test_a_rise_without_braking_is_no_walking_step(walk_rec):
    """In forward walking, a vertical rise whose forward force does not fall is a bump."""
    steps = walk_contacts(walk_rec)
    t_hidden = steps[len(steps) // 2][0]

    def no_braking_there(s, forward):
        near = np.abs(s.t - t_hidden) < 0.2
        return np.where(near, forward[near].max(), forward)  # flat: no fall around that contact

    assert walk_contacts(walk_rec, no_braking_there) == [s for s in steps if s[0] != t_hidden]


NO_FEATURES = (0.0, 0.0, math.nan)
NO_NEXT = (math.nan, NO_FEATURES)


def test_a_missed_walking_step_keeps_the_sides_right():
    """Two usual step times after the last labelled step, the same leg lands again."""
    state = np.zeros(side.STATE_SIZE)
    for n in range(20):  # walking: a left stance shows negative rates before contact
        features = (-5.0 if n % 2 == 0 else 5.0, 0.0, math.nan)
        side.side_step(state, 0.5 * n, 0.5, features, -1.0, *NO_NEXT)
    assert side.side_step(state, 0.5 * 19 + 1.0, 0.5, NO_FEATURES, -1.0, *NO_NEXT) < 0.5


@pytest.mark.parametrize("pause_steps", [4, 5, 12])
def test_after_a_pause_the_alternation_says_nothing(pause_steps):
    """More than three usual step times after the last step (a stop), which leg lands next is
    not known from the parity of the pause: without evidence of its own the step is a coin toss,
    where the parity used to make it 97 % one side (and the wrong one as often as not)."""
    state = np.zeros(side.STATE_SIZE)
    for n in range(20):  # walking: a left stance shows negative rates before contact
        features = (-5.0 if n % 2 == 0 else 5.0, 0.0, math.nan)
        side.side_step(state, 0.5 * n, 0.5, features, -1.0, *NO_NEXT)
    no_evidence = (state[1], 0.0, math.nan)  # the rates the earlier steps averaged
    t_ic = 0.5 * (19 + pause_steps)
    assert side.side_step(state, t_ic, 0.5, no_evidence, -1.0, *NO_NEXT) == pytest.approx(0.5)


def _side_sequence(look_ahead, seed=3, n_steps=80):
    """Kernel and reference over the same noisy alternating steps (a reset at 30 and 60, a 3-s
    pause before step 40; running before step 50, walking after, with the force feature only
    when walking); returns the kernel's probabilities of the true side."""
    rng = np.random.default_rng(seed)
    signs = np.where(np.arange(n_steps + 1) < 50, 1.0, -1.0)
    rates = [
        (
            sign * rng.normal(4.0 if n % 2 == 0 else -4.0, 3.0) + 1.5,
            rng.normal(0, 10) - 2.0,
            math.nan if sign > 0 else rng.normal(-0.3 if n % 2 == 0 else 0.3, 0.4) + 0.2,
        )
        for n, sign in enumerate(signs)
    ]
    t = 0.5 * np.arange(n_steps + 1) + np.where(np.arange(n_steps + 1) >= 40, 3.0, 0.0)  # a pause
    state, model = np.zeros(side.STATE_SIZE), ref.Side()
    probabilities = []
    for n, sign in enumerate(signs[:n_steps]):
        if n in (30, 60):
            side.reset(state)
            model.reset()
        ahead = (t[n + 1], rates[n + 1]) if look_ahead else None
        got = side.side_step(state, t[n], 0.5, rates[n], sign, *(ahead or NO_NEXT))
        assert got == pytest.approx(model.step(t[n], 0.5, rates[n], sign, ahead), rel=1e-12)
        probabilities.append(got)
    p = np.array(probabilities)
    return np.where(np.arange(n_steps) % 2 == 0, p, 1 - p)


def test_side_step_matches_reference():
    right = _side_sequence(look_ahead=False)
    assert right[0] == 0.5  # no evidence from the first step: a step has no mean to be centred on
    assert (right[10:30] > 0.5).all() and np.median(right[10:30]) > 0.95  # learns alternation


def test_side_look_ahead_matches_reference():
    filtered, smoothed = _side_sequence(look_ahead=False), _side_sequence(look_ahead=True)
    assert np.mean(smoothed > 0.5) > np.mean(filtered > 0.5)


def test_side_look_ahead_names_an_ambiguous_step_from_the_next_one():
    """After a stop, a first step without evidence of its own takes the side opposite to a
    clear next step; without the look-ahead it stays a coin toss."""
    state = np.zeros(side.STATE_SIZE)
    for n in range(20):  # walking: a left stance shows negative rates before contact
        features = (-5.0 if n % 2 == 0 else 5.0, 0.0, math.nan)
        side.side_step(state, 0.5 * n, 0.5, features, -1.0, *NO_NEXT)
    side.reset(state)
    blind = state.copy()
    no_evidence = (state[1], 0.0, math.nan)  # the rates the earlier steps averaged
    next_left = (30.5, (-15.0, 0.0, math.nan))  # three times the usual swing
    p_left = side.side_step(state, 30.0, 0.5, no_evidence, -1.0, *next_left)
    assert p_left < 0.1  # right, since the next one is clearly left
    assert side.side_step(blind, 30.0, 0.5, no_evidence, -1.0, *NO_NEXT) == pytest.approx(0.5)


@pytest.mark.parametrize("turn_dps", [0.0, 8.0, -35.0, 90.0])
def test_stride_turn_is_the_stride_mean_and_the_side_reads_it_beyond_a_dead_band(turn_dps):
    """Steps alternate ±30 °/s of yaw about the runner's turn: over a stride (two steps) the
    alternation cancels and the turn is left; the side reads it less the ±10 °/s dead band.
    Without the step before it (the first of a recording, after a step closed without its
    next contact, or one not measured) there is no turn."""
    state, model = np.zeros(side.STATE_SIZE), ref.Side()
    mean = turn_dps - 30.0 * 2 / 122  # over 60 samples at +30 °/s and 62 at −30 °/s
    beyond = mean - np.clip(mean, -side.TURN_DEADBAND_DPS, side.TURN_DEADBAND_DPS)
    for n in range(6):
        yaw = turn_dps + (30.0 if n % 2 == 0 else -30.0)
        samples = 60 + 2 * (n % 2)
        measures = np.array([yaw, float(samples)])
        t_ic, t_next = 0.3 * n, 0.3 * (n + 1)
        got = side.stride_turn(state, t_ic, t_next, measures, 0)
        want = model.stride_turn(t_ic, t_next, [yaw] * samples)
        if n == 0:
            assert math.isnan(got) and math.isnan(want)
            assert side.turn_beyond_dead_band(got) == ref.turn_beyond_dead_band(want) == 0.0
            continue
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        assert got == pytest.approx(mean, rel=1e-12, abs=1e-12)
        assert side.turn_beyond_dead_band(got) == pytest.approx(beyond, rel=1e-12, abs=1e-12)
        assert ref.turn_beyond_dead_band(want) == pytest.approx(beyond, rel=1e-12, abs=1e-12)
    restarted = side.stride_turn(state, 5.0, math.nan, np.array([turn_dps + 30.0, 60.0]), 0)
    assert math.isnan(restarted)  # the step before ended elsewhere
    after_open_end = side.stride_turn(state, 5.3, 5.6, np.array([turn_dps, 60.0]), 0)
    assert math.isnan(after_open_end)  # the step before had no next contact


def test_measure_matches_reference(quick):
    rec = quick
    n = pipeline.RING_SAMPLES + 500  # wraps the ring
    ring = np.zeros((pipeline.RING_SAMPLES, measure.CHANNELS))
    ring[:, measure.T] = -np.inf
    c, s = np.cos(np.radians(25.0)), np.sin(np.radians(25.0))  # pelvis axes turned and tilted
    forward, left, up_axis = (c, s, 0.0), (-s * 0.96, c * 0.96, 0.28), (s * 0.28, -c * 0.28, 0.96)
    roll = np.radians(rec.pelvis_euler_deg[4000 : 4000 + n, 2])
    # world up (a unit vector, as the filter's), rolled and with some pitch
    ups = [
        tuple(
            np.sin(r) * np.cos(0.2) * np.array(left)
            + np.cos(r) * np.cos(0.2) * np.array(up_axis)
            + np.sin(0.2) * np.array(forward)
        )
        for r in roll
    ]
    t = rec.time_s[4000 : 4000 + n]
    gyr, acc = rec.gyr_dps[4000 : 4000 + n], rec.acc_ms2[4000 : 4000 + n]
    head = 0
    for k in range(n):
        head = measure.push(ring, head, t[k], ups[k], tuple(gyr[k]), tuple(acc[k]), acc[k, 2])
    rows = [
        (t[k], ups[k], tuple(gyr[k]), tuple(acc[k]), acc[k, 2]) for k in range(n - len(ring), n)
    ]
    axes = (forward, left, up_axis)
    steps = [s for s in rec.truth.steps if t[0] < s.t_ic_s < t[-1]]
    cases = [(a.t_ic_s, a.t_stance_end_s, b.t_ic_s) for a, b in zip(steps, steps[1:])]
    cases += [(t[-1] - 0.3, t[-1] - 0.5, t[-1])]  # stance end before the contact
    out = np.zeros(measure.N_MEASURES)
    checked = 0
    for t_ic, t_end, t_next in cases:
        ok = measure.measure(ring, head, axes, t_ic, t_end, t_next, True, out)
        want = ref.measure(rows, axes, t_ic, t_end, t_next)
        assert ok == (want is not None), t_ic
        if want is None:
            continue
        checked += 1
        np.testing.assert_allclose(
            out,
            [
                want["roll_ic"],
                want["roll_max"],
                want["roll_min"],
                want["roll_range"],
                *want["run_rates"],
                *want["walk_rates"],
                want["impact_g"],
                np.mean(want["step_yaw"]),  # the yaw rate over the whole step
                len(want["step_yaw"]),
            ],
            rtol=1e-12,
            atol=1e-12,
        )
        running = out.copy()
        measure.measure(ring, head, axes, t_ic, t_end, t_next, False, running)
        np.testing.assert_array_equal(running[measure.STEP_YAW :], out[measure.STEP_YAW :])
    assert checked > 10
    too_old = t[0] - 1.0, t[0] - 0.8, t[0] + 0.3
    assert not measure.measure(ring, head, axes, *too_old, True, out)


def test_mounting_step_matches_reference(driven):
    s, k = driven
    model = ref.Mounting()
    last_ic = math.nan
    for j, (t, acc, gyr, dt) in enumerate(samples(s)):
        still_now, running = bool(k["still"][j]), bool(k["running"][j])
        model.step(k["up"][j].tolist(), acc, gyr, t, dt, still_now, running)
        t_ic, kind = k["contact"][j]
        if kind == contacts.RUN:
            model.note_step(t_ic - last_ic)
        if kind:
            last_ic = t_ic
        m = k["mount_st"][j]
        np.testing.assert_allclose(m[mount.UP : mount.UP + 3], model.up, rtol=0, atol=1e-9)
        np.testing.assert_allclose(
            m[mount.FORWARD : mount.FORWARD + 3], model.forward, rtol=0, atol=1e-9
        )
        assert (m[mount.HAS_NEUTRAL] > 0.5, m[mount.FLIPPED] > 0.5) == (
            model.has_neutral,
            model.flipped,
        )
        learned = m[mount.LEARNED_FORWARD : mount.LEARNED_FORWARD + 2]
        np.testing.assert_allclose(learned, model.learned or (0.0, 0.0), rtol=0, atol=1e-9)
        first = m[mount.FIRST_NEUTRAL : mount.FIRST_NEUTRAL + 3]
        np.testing.assert_allclose(first, model.first_neutral or (0.0,) * 3, rtol=0, atol=1e-9)
    assert model._axis_shown()  # the learned heading was compared too
    assert model.learned is not None
    assert (model.first_neutral is not None) == model.has_neutral  # none in the real run


STEP_HZ = 2.8


def _running_rate(t, up, forward):
    """The pelvis's rotation while running (deg/s, sensor frame): its roll about forward
    alternates from step to step (a stride's period), its tilt about left repeats every step."""
    left = np.cross(up, forward)
    w = 2 * np.pi * STEP_HZ
    return 40.0 * np.cos(w * t / 2) * forward + 30.0 * np.cos(w * t) * left


def _start_stepping(state, model):
    """The pipeline tells the mounting kernel the running step time at each contact."""
    mount.note_step(state, 1.0 / STEP_HZ)
    model.note_step(1.0 / STEP_HZ)


def _clip_moved_run(dt=0.01, move_at_s=20.0, end_s=40.0, tilt_deg=10.0):
    """Synthetic running mounting inputs, worn turned by 90° (forward = sensor +y): vertical
    force bouncing at 2.8 Hz with braking-then-propulsion along forward. At ``move_at_s`` the
    clip rolls by ``tilt_deg`` about sensor y (the forward axis), turning up and the force with
    it. Yields (t, up, acc, gyr, true forward) in the sensor frame."""
    tilt = rotation.from_rotvec([0.0, np.radians(tilt_deg), 0.0])
    w = 2 * np.pi * STEP_HZ
    for k in range(int(end_s / dt)):
        t = k * dt
        up, forward = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
        if t >= move_at_s:
            up, forward = rotation.rotate(tilt, up), rotation.rotate(tilt, forward)
        acc = up * (ref.G_MS2 + 6.0 * np.sin(w * t)) - forward * 3.0 * np.cos(w * t)
        yield t, up, acc, _running_rate(t, up, forward), forward


def test_clip_move_keeps_the_learned_forward_axis():
    """After a confirmed clip move the axes are carried over and the learned heading kept: the
    forward axis is not reset to the board's nominal x while a new heading is learned (1.5 s
    watched here: a step and the axis's HEADING_MIN_S take about 0.5 s)."""
    dt = 0.01
    state, model = np.zeros(mount.STATE_SIZE), ref.Mounting()
    _start_stepping(state, model)
    moved, after = [], []
    for t, up, acc, gyr, forward in _clip_moved_run(dt):
        mount.mounting_step(state, up, acc, gyr, t, dt, False, True)
        model.step(up.tolist(), acc.tolist(), gyr.tolist(), t, dt, False, True)
        got = state[mount.FORWARD : mount.FORWARD + 3]
        np.testing.assert_allclose(got, model.forward, rtol=0, atol=1e-9)
        np.testing.assert_allclose(state[mount.UP : mount.UP + 3], model.up, rtol=0, atol=1e-9)
        assert np.isnan(state[mount.CLIP_MOVED_AT]) == np.isnan(model.clip_moved_at)
        if not np.isnan(state[mount.CLIP_MOVED_AT]):
            moved.append(state[mount.CLIP_MOVED_AT])
        if moved and t < moved[0] + mount.CLIP_CONFIRM_S + 1.5:
            after.append((got.copy(), forward))
        if 5.0 < t < 20.0:  # learned before the move: sensor +y, not the nominal x
            assert got @ forward > 0.999
    assert len(moved) == 1 and 20.0 <= moved[0] < 21.0
    assert after  # from the confirming sample to 1.5 s after it
    for got, forward in after:
        assert abs(got[0]) < 1e-3  # nominal x would be (1, 0, 0)
        assert got @ forward > 0.999  # the carried, learned axis
    assert model.run_s > 30.0  # the heading statistics were not restarted


def test_a_seeded_nominal_forward_holds_from_the_first_sample():
    """A second reading of a recording worn turned by 90° starts with the forward the first
    reading learned (``seed``): the axes are right before any heading is learned, and
    the forward it learns again is the same."""
    dt = 0.01
    state, model = np.zeros(mount.STATE_SIZE), ref.Mounting(nominal=(0.0, 1.0))
    mount.seed(state, nominal=(0.0, 1.0))
    _start_stepping(state, model)
    for t, up, acc, gyr, forward in _clip_moved_run(dt, move_at_s=100.0, end_s=10.0):
        mount.mounting_step(state, up, acc, gyr, t, dt, False, True)
        model.step(up.tolist(), acc.tolist(), gyr.tolist(), t, dt, False, True)
        got = state[mount.FORWARD : mount.FORWARD + 3]
        np.testing.assert_allclose(got, model.forward, rtol=0, atol=1e-9)
        assert got @ forward > 0.99  # unseeded, the board's x: 90° off for the first 1.5 s
    learned = state[mount.LEARNED_FORWARD : mount.LEARNED_FORWARD + 2]
    np.testing.assert_allclose(learned, model.learned, rtol=0, atol=1e-9)
    assert learned @ np.array([0.0, 1.0]) > 0.999


def test_a_seeded_neutral_holds_from_the_first_sample(driven):
    """A second reading that knows the neutral from the start (``seed``): the pelvis up axis is
    that neutral before the first still period (not the moving average), as in the reference."""
    s, k = driven
    neutral = tuple(k["mount_st"][-1][mount.UP : mount.UP + 3])
    state, model = np.zeros(mount.STATE_SIZE), ref.Mounting(neutral=neutral)
    mount.seed(state, neutral=neutral)
    for j, (t, acc, gyr, dt) in enumerate(samples(s)):
        up, still, running = tuple(k["up"][j]), bool(k["still"][j]), bool(k["running"][j])
        mount.mounting_step(state, up, tuple(acc), tuple(gyr), t, dt, still, running, False)
        model.step(list(up), acc, gyr, t, dt, still, running)
        np.testing.assert_allclose(state[mount.UP : mount.UP + 3], model.up, rtol=0, atol=1e-9)
        np.testing.assert_allclose(
            state[mount.FORWARD : mount.FORWARD + 3], model.forward, rtol=0, atol=1e-9
        )
        assert state[mount.HAS_NEUTRAL] == 1.0
        if j == 0:
            np.testing.assert_allclose(state[mount.UP : mount.UP + 3], neutral, rtol=0, atol=0)


def _reseated_run(
    twist_deg,
    tilt_deg,
    dt=0.01,
    move_at_s=100.0,
    end_s=200.0,
    lean_deg=8.0,
    braking=1.0,
    stand=(0.0, 3.0),
    walk=(0.0, 0.0, 0.0),
    climb=(0.0, 0.0, 0.0),
):
    """Synthetic mounting inputs: standing still over ``stand`` (from, to; s), else running
    leant forward by ``lean_deg`` (bouncing vertical force, braking-then-propulsion along the
    way), the sensor clipped on turned by 60° and pitched by 10°. Over ``walk`` (from, to,
    lean) the wearer moves without running, leant by that lean instead; over ``climb`` (from,
    to, lean) runs leant by that lean. At ``move_at_s`` the
    clip is re-seated: turned by ``twist_deg`` about its own z axis and tilted by ``tilt_deg``
    about its own x axis, and the forward force takes the sign ``braking`` (−1:
    propulsion-then-braking, as if running backwards). Yields (t, still, running, up, acc, gyr,
    the neutral up now) in the sensor frame."""
    mounted = rotation.from_euler_zyx_deg(60.0, 10.0, 0.0)  # sensor in pelvis
    reseat = rotation.from_euler_zyx_deg(twist_deg, 0.0, tilt_deg)
    reseated = rotation.multiply(mounted, reseat)  # turned about the sensor's own axes
    w = 2 * np.pi * STEP_HZ
    for k in range(int(end_s / dt)):
        t = k * dt
        q = rotation.conjugate(reseated if t >= move_at_s else mounted)  # pelvis → sensor
        neutral = rotation.rotate(q, np.array([0.0, 0.0, 1.0]))
        if stand[0] <= t < stand[1] or t < 3.0:
            yield t, True, False, neutral, neutral * ref.G_MS2, np.zeros(3), neutral
            continue
        walking, climbing = walk[0] <= t < walk[1], climb[0] <= t < climb[1]
        lean = math.radians(walk[2] if walking else climb[2] if climbing else lean_deg)
        up = rotation.rotate(q, np.array([-math.sin(lean), 0, math.cos(lean)]))
        forward = rotation.rotate(q, np.array([math.cos(lean), 0, math.sin(lean)]))
        sign = braking if t >= move_at_s else 1.0
        acc = up * (ref.G_MS2 + 6.0 * np.sin(w * t)) - sign * forward * 3.0 * np.cos(w * t)
        yield t, False, not walking, up, acc, _running_rate(t, up, forward), neutral


def _watch_mounting(samples, dt=0.01):
    """Feed ``_reseated_run`` samples to the mounting kernel and the reference alike, checking
    that their axes agree; returns the clip moves flagged, the neutral's error at the end (deg)
    and the forward axes."""
    state, model = np.zeros(mount.STATE_SIZE), ref.Mounting()
    _start_stepping(state, model)
    moved, forwards = [], []
    for t, still_now, running, up, acc, gyr, neutral in samples:
        mount.mounting_step(state, up, acc, gyr, t, dt, still_now, running)
        model.step(up.tolist(), acc.tolist(), gyr.tolist(), t, dt, still_now, running)
        got_up, forward = state[mount.UP : mount.UP + 3], state[mount.FORWARD : mount.FORWARD + 3]
        np.testing.assert_allclose(got_up, model.up, rtol=0, atol=1e-9)
        np.testing.assert_allclose(forward, model.forward, rtol=0, atol=1e-9)
        assert np.isnan(state[mount.CLIP_MOVED_AT]) == np.isnan(model.clip_moved_at)
        if not np.isnan(state[mount.CLIP_MOVED_AT]):
            moved.append(state[mount.CLIP_MOVED_AT])
        forwards.append(forward.copy())
        error_deg = np.degrees(np.arccos(min(got_up @ neutral, 1.0)))
    return moved, error_deg, forwards


@pytest.mark.parametrize(("twist_deg", "tilt_deg"), [(30.0, 0.0), (-25.0, 3.0), (0.0, 8.0)])
def test_a_reseated_clip_re_anchors_the_neutral(twist_deg, tilt_deg):
    """A re-seat is found by the tilt of the sensor's view of up or, when that tilt is small
    (the −25° twist and 3° tilt move it by 3.9°), by the turn of the learned forward; 60 s later the
    neutral is carried over by (posture, forward) before and after — kernel and reference
    alike, and to within 0.3° of the truth (carried by the tilt alone it was 0.4–3.8° off)."""
    moved, error_deg, _ = _watch_mounting(_reseated_run(twist_deg, tilt_deg))
    assert len(moved) == 1 and 100.0 <= moved[0] < 115.0
    assert error_deg < 0.3


def test_a_heading_that_flips_round_is_no_clip_move():
    """The braking evidence turned round (the forward force's phase reversed) flips the learned
    forward by 180° in one update: the heading's ambiguity, not a twisted clip. No move is
    flagged and the neutral stays where it was (a re-anchoring would turn it half round)."""
    moved, error_deg, headings = _watch_mounting(_reseated_run(0.0, 0.0, braking=-1.0))
    assert moved == []
    assert headings[int(99.0 / 0.01)] @ headings[-1] < -0.99  # the heading did flip round
    assert error_deg < 0.3


@pytest.mark.parametrize(("twist_deg", "tilt_deg"), [(30.0, 0.0), (0.0, 8.0)])
def test_a_clip_reseated_while_standing_is_no_clip_move(twist_deg, tilt_deg):
    """Running, then a stop: moving about upright while the clip is re-seated, standing still
    for 10 s, then running on. The neutral taken while standing holds the new mounting, so
    neither watch flags a move (both start again at a neutral) and the neutral ends within
    0.3° of the truth — kernel and reference alike. Before, the re-seat was carried a second
    time."""
    stop = {"stand": (103.0, 113.0), "walk": (98.0, 103.0, 0.0)}
    samples = _reseated_run(twist_deg, tilt_deg, move_at_s=101.0, end_s=250.0, **stop)
    moved, error_deg, _ = _watch_mounting(samples)
    assert moved == []
    assert error_deg < 0.3


def test_a_climb_is_no_clip_move():
    """Running leant 8° forward, then 60 s leant 15° (a climb), then 8° again: the sensor's
    view of up turns by 7° about the pelvis's left axis, a pitch that leaves the roll alone, so
    no move is flagged (two were, one at each end of the climb, while any 4° counted)."""
    samples = _reseated_run(0.0, 0.0, move_at_s=1e9, end_s=170.0, climb=(60.0, 120.0, 15.0))
    moved, error_deg, _ = _watch_mounting(samples)
    assert moved == []
    assert error_deg < 0.3


def test_a_change_of_posture_off_running_is_no_clip_move():
    """Running leant 8° forward, then 30 s of moving without running (a walk break) upright,
    then running again: only running is watched, so the walk's posture is no clip move."""
    samples = _reseated_run(0.0, 0.0, move_at_s=1e9, end_s=140.0, walk=(60.0, 90.0, 0.0))
    moved, error_deg, _ = _watch_mounting(samples)
    assert moved == []
    assert error_deg < 0.3


def test_real_run_has_no_clip_move(real_run):
    """A real treadmill run from the first sample, sensor never touched: no clip_moved event
    (the filter settling at the start is not a clip move)."""
    s = real_run
    stream = GaitStream()
    stream.feed(s.t, s.acc, s.gyr)
    codes = [int(code) for _, code in stream.events]
    assert pipeline.EV_CLIP_MOVED == 3
    assert pipeline.EV_CLIP_MOVED not in codes, stream.events


# -- the whole loop --------------------------------------------------------------------------------


def reference_steps(s: Signals):
    """The reference pipeline's steps for the whole of ``s``, the last one closed by finish."""
    model = ref.Pipeline()
    model.feed(s.t, s.acc, s.gyr)
    model.finish()
    steps = np.array([[d[c] for c in STEP_COLUMNS] for d in model.steps]).reshape(
        -1, pipeline.STEP_FIELDS
    )
    return model, steps


def stream_steps(stream, s: Signals):
    """The kernels' steps for the whole of ``s``, the last one closed by finish."""
    return np.concatenate([stream.feed(s.t, s.acc, s.gyr), stream.finish()])


def assert_same_steps(got, want):
    assert got.shape == want.shape
    for column in (pipeline.SIDE, pipeline.ACTIVITY):
        np.testing.assert_array_equal(got[:, column], want[:, column])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_process_matches_reference_pipeline(signals):
    stream = GaitStream(angles=True)
    got = stream_steps(stream, signals)
    model, want = reference_steps(signals)
    assert_same_steps(got, want)
    assert len(got) > 25
    np.testing.assert_allclose(
        np.reshape(stream.events, (-1, 2)), np.reshape(model.events, (-1, 2)), rtol=1e-12
    )
    np.testing.assert_allclose(stream.angles, model.angles, rtol=0, atol=1e-9)


def _as_the_reference_does(rec, kept):
    """(the signals, the stream, its steps) for the ``kept`` samples of ``rec``, once the
    kernels' steps and per-sample angles are checked against the reference pipeline's."""
    s = Signals(rec.time_s[kept], rec.acc_ms2[kept], rec.gyr_dps[kept])
    stream = GaitStream(angles=True)
    got = stream_steps(stream, s)
    model, want = reference_steps(s)
    assert_same_steps(got, want)
    np.testing.assert_allclose(stream.angles, model.angles, rtol=0, atol=1e-9)
    return s, stream, got


def _periodic_ring(rate_hz, stride_s, seconds, jitter=0.0, lost=(0.0, 0.0)):
    """A ring buffer and its rows (the reference's) of a gyro and a world up repeating every
    ``stride_s``, its last row at ``seconds``, the samples in ``lost`` (start, end) left out;
    the rate at time t is returned too, and the up at time t as ``rate.up``."""

    def rate(t):
        phase = 2 * np.pi * t / stride_s
        return (40 * np.sin(phase), 25 * np.sin(2 * phase + 1), 60 * np.cos(phase))

    def up(t):  # the pelvis rolls ±5° once a stride and pitches ±3° twice
        phase = 2 * np.pi * t / stride_s
        roll, pitch = np.radians(5 * np.sin(phase)), np.radians(3 * np.sin(2 * phase))
        return (-np.sin(pitch), np.sin(roll) * np.cos(pitch), np.cos(roll) * np.cos(pitch))

    rate.up = up

    ring = np.zeros((pipeline.RING_SAMPLES, measure.CHANNELS))
    ring[:, measure.T] = -np.inf
    rows = ref.deque(
        [(-math.inf, (0.0, 0.0, 1.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0)] * len(ring),
        maxlen=len(ring),
    )
    head = 0
    for t in np.arange(0.0, seconds + 1e-9, 1.0 / rate_hz):
        if lost[0] <= t < lost[1]:
            continue
        g = tuple(float(x) for x in rate(t + jitter * np.sin(7 * t)))
        u = tuple(float(x) for x in up(t + jitter * np.sin(7 * t)))
        head = measure.push(ring, head, t, u, g, (0.0, 0.0, 9.8), 9.8)
        rows.append((t, u, g, (0.0, 0.0, 9.8), 9.8))
    return ring, rows, head, rate


@pytest.mark.parametrize(
    "jitter, earlier_hole, bridged",
    [
        (0.0, (0.0, 0.0), True),
        (0.004, (0.0, 0.0), True),  # strides a little irregular
        (0.0, (9.6, 9.67), True),  # an earlier hole between the stride back and now
        (0.0, (9.12, 9.46), False),  # an earlier hole where the stride back would be read
    ],
)
def test_a_hole_is_bridged_from_the_stride_before(jitter, earlier_hole, bridged):
    """A gyro repeating every 0.7 s (a stride) with a 70-ms hole: the rates one stride back,
    matched and ramped onto the hole's ends, turn the estimate as the lost samples did, where
    the mean of the two ends is degrees off; with the stride known only to 5 % the match finds
    it. No stride, a stride further back than the data, a stride that is not the signal's (no
    close match at 0.45 s), or an earlier hole where the stride back would be read: the ends'
    mean. Kernel and reference alike."""
    from hipdrop.engine import _bridge as bridge

    rate_hz, stride_s = 200.0, 0.7
    ring, rows, head, rate = _periodic_ring(rate_hz, stride_s, 10.0, jitter, earlier_hole)
    t_after = 10.0 + 15 / rate_hz  # 14 samples lost
    g_after = tuple(float(x) for x in rate(t_after + jitter * np.sin(7 * t_after)))
    span = t_after - 10.0
    lost = np.arange(10.0 + 1 / rate_hz, t_after + 1e-9, 1 / rate_hz)
    true = np.mean([rate(t + jitter * np.sin(7 * t)) for t in lost], axis=0)
    ends = 0.5 * (np.array(g_after) + np.array(rows[-1][2]))
    for stride in (stride_s, stride_s * 1.05, 0.0, 15.0, 0.45):
        got = np.array(bridge.bridged_rate(ring, head, g_after, span, stride))
        want = np.array(ref.bridged_rate(rows, g_after, span, stride))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
        if bridged and stride in (stride_s, stride_s * 1.05):
            assert np.linalg.norm(got - true) < 0.2 * np.linalg.norm(ends - true)
        else:
            np.testing.assert_allclose(got, ends, rtol=1e-12)


@pytest.mark.parametrize("jitter", [0.0, 0.004])
@pytest.mark.parametrize("span", [0.5, 1.2, 2.0])  # one, two and three strides back
def test_a_gap_reads_the_tilt_from_the_strides_before(span, jitter):
    """A gyro and a tilt repeating every 0.7 s (a stride), and a gap of 0.5–2 s: the up read at
    the matched phase of the strides before is the tilt after the gap, within 0.3° (the tilt
    swings ±5°), with the stride known only to 5 % and strides a little irregular; the match
    lies whole strides back (the same leg then as now). No stride, or one further back than the
    data: none (nan). Kernel and reference alike."""
    from hipdrop.engine import _bridge as bridge

    rate_hz, stride_s = 200.0, 0.7
    ring, rows, head, rate = _periodic_ring(rate_hz, stride_s, 10.0, jitter)
    t_after = 10.0 + span
    g_after = tuple(float(x) for x in rate(t_after + jitter * np.sin(7 * t_after)))
    true_up = rate.up(t_after + jitter * np.sin(7 * t_after))
    for stride in (stride_s, stride_s * 1.05, 0.0, 15.0):
        got, lag_s = bridge.bridged_up(ring, head, g_after, span, stride)
        want, want_lag_s = ref.bridged_up(rows, g_after, span, stride)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)
        assert lag_s == want_lag_s or np.isnan(lag_s) and np.isnan(want_lag_s)
        if stride in (stride_s, stride_s * 1.05):
            off_deg = np.degrees(np.arccos(min(np.dot(got, true_up), 1.0)))
            assert off_deg < 0.3
            strides = lag_s / stride_s  # whole strides back, the gap and the sample after in
            assert round(strides) * stride_s > span
            assert strides == pytest.approx(round(strides), abs=0.02)
        else:
            assert np.isnan(got).all() and np.isnan(lag_s)


def test_gaps_while_running_are_bridged_as_the_reference_does():
    """Gaps of 0.6, 1.3 and 2.2 s in a run (a radio out of reach): the tilt after each is read
    from the strides before it, so the pelvis angles over the first second after the gaps are
    within 0.8° RMS of the truth in roll and 0.5° in pitch (measured 0.48° and 0.20°; corrected
    afresh after each gap, as before, 2.1° and 3.3°). Kernel and reference alike."""
    rec = scenario("treadmill_quick", seed=103)
    gaps = ((30.0, 30.6), (40.0, 41.3), (50.0, 52.2))
    kept = rec.time_s < 60.0
    for start, end in gaps:
        kept &= (rec.time_s < start) | (rec.time_s >= end)
    gapped, stream, _ = _as_the_reference_does(rec, kept)
    assert [t for t, code in stream.events if code == pipeline.EV_GAP_BRIDGED] == [
        gapped.t[gapped.t >= end][0] for _, end in gaps
    ]
    after = np.zeros(len(gapped.t), bool)
    for _, end in gaps:
        after |= (gapped.t >= end) & (gapped.t < end + 1.0)
    error = stream.angles[after] - rec.pelvis_euler_deg[kept][after][:, [2, 1]]
    roll_rms, pitch_rms = np.sqrt(np.mean(error**2, axis=0))
    assert roll_rms < 0.8
    assert pitch_rms < 0.5


def test_gaps_while_walking_carry_the_sides_over():
    """A walk with gaps of 0.6 and 0.9 s: bridged, the sides' alternation and the walking step
    time carry over each gap, and every step's side is right. Started over, the first step
    after the first gap (20.7 s) took the wrong side on its own evidence (so did one in 3 of
    12 such walks). Kernel and reference alike."""
    spec = replace(REALISTIC, mount_deg=(0.0, 12.0, 0.0))
    rec = simulate(Session((Bout("stand", 5), Bout("walk", 31, WALK))), spec, seed=7)
    kept = np.ones(len(rec.time_s), bool)
    for start, end in ((20.0, 20.6), (32.0, 32.9)):
        kept &= (rec.time_s < start) | (rec.time_s >= end)
    _, _, got = _as_the_reference_does(rec, kept)
    truth = rec.truth.steps
    pairs = match_contacts(np.array([x.t_ic_s for x in truth]), got[:, pipeline.T_IC])
    assert len(pairs) >= 0.9 * len(truth)
    assert any(20.6 < truth[j].t_ic_s < 21.2 for _, j in pairs)  # the first step after the gap
    for i, j in pairs:
        assert got[i, pipeline.SIDE] == (1 if truth[j].side == "L" else -1)


def test_lost_packets_are_bridged_as_the_reference_does():
    """2 % of the 14-sample packets of a run lost (holes of 70 ms, under the 0.25-s gap): the
    estimate turns over each hole by the rates of the stride before, matched to the ones around
    the hole, and the tilt is then corrected as at the start (kernel and reference alike); the
    pitch stays within 0.5° RMS of the truth (0.37°; 0.71° turned by the mean rate of the hole's
    two ends, 0.85° with that and corrected at the running gain after the holes, and integrated
    at the last sample's rate it was 2.9° off)."""
    rec = scenario("treadmill_quick", seed=103)
    packet = np.arange(len(rec.time_s)) // 14
    kept = np.random.default_rng(5).uniform(size=packet.max() + 1) >= 0.02
    kept = kept[packet] & (rec.time_s < 70.0)
    kept[:3000] = True  # the stand and the start of the run whole
    holed, stream, _ = _as_the_reference_does(rec, kept)
    pitch_error = stream.angles[:, 1] - rec.pelvis_euler_deg[kept, 1]
    running = holed.t > 20.0
    assert np.sqrt(np.mean(pitch_error[running] ** 2)) < 0.5


def test_a_run_through_turns_matches_the_reference():
    """A run with a 180° turn in 2.5 s and a 90° one in 2 s: the tilt correction pauses in each
    and the average force starts again from the vertical after it, and the side's yaw rate is
    read less the stride's turn (kernel and reference alike)."""
    run = Session(
        (Bout("stand", 8.0), Bout("run", 30.0)),
        turns=(Turn(18.0, 2.5, 180.0), Turn(30.0, 2.0, -90.0)),
    )
    rec = simulate(run, replace(REALISTIC, mount_deg=(-120.0, 15.0, 2.0), rate_hz=100.0), seed=4)
    turning = Signals.of(rec)
    stream = GaitStream(angles=True)
    got = stream_steps(stream, turning)
    model, want = reference_steps(turning)
    assert_same_steps(got, want)
    np.testing.assert_allclose(stream.angles, model.angles, rtol=0, atol=1e-9)
    assert len(got) > 60


@pytest.mark.parametrize(("yaw_deg", "verdict"), [(180.0, "back_to_front"), (-90.0, "sideways")])
def test_process_matches_reference_worn_turned(yaw_deg, verdict):
    walk = turned_walk(yaw_deg)
    stream = GaitStream()
    got = stream_steps(stream, walk)
    model, want = reference_steps(walk)
    assert_same_steps(got, want)
    assert stream.events == model.events
    turned = [t for t, code in stream.events if code == pipeline.EV_FORWARD_TURNED]
    assert len(turned) == 1 and turned[0] < T0_S + 10.0 + 15.0  # within 15 s of walking
    assert getattr(stream.mounting, verdict)
    assert stream.mounting.back_to_front != stream.mounting.sideways


@pytest.mark.parametrize(
    "along, across, contacts_seen, run_s, turned_deg",
    [
        (-1.0, 0.0, 12, 0.0, 180.0),  # back to front
        (0.0, -1.2, 12, 0.0, -90.0),  # turned on the waistband
        (0.5, 1.0, 12, 0.0, 63.4),
        (0.6, 0.9, 12, 0.0, 0.0),  # 56°: near enough
        (0.0, 0.45, 12, 0.0, 0.0),  # too faint
        (-2.0, 0.0, 11, 0.0, 0.0),  # too soon
        (-2.0, 0.0, 30, 5.0, 0.0),  # running decided
    ],
)
def test_walking_direction_matches_reference(along, across, contacts_seen, run_s, turned_deg):
    """A clear mean braking vector far off forward turns the nominal forward to it, unless
    running decided."""
    state, model = np.zeros(mount.STATE_SIZE), ref.Mounting()
    state[mount._NOMINAL] = 1.0  # as after the first sample
    state[mount._AXIS_WAIT_S] = mount.HEADING_MIN_S
    state[mount._RUN_S] = model.run_s = run_s
    state[mount._STEP_S] = model.step_s = 0.35  # running showed its axis after 0.5 s
    angle = mount.walking_direction(state, along, across, contacts_seen)
    assert np.degrees(angle) == pytest.approx(turned_deg, abs=0.1)
    assert model.walking_direction(along, across, contacts_seen) == angle
    mount._update_heading(state)
    heading = state[mount._HEADING_C : mount._HEADING_C + 2]
    np.testing.assert_allclose(heading, model._heading(), atol=1e-12)
    np.testing.assert_allclose(heading, [np.cos(angle), np.sin(angle)], atol=1e-12)


def test_first_sample_is_not_running():
    """An unstarted detector (state all zeros) is not running, whatever the time: otherwise a
    recording starting at t < 1 s would feed a "running" sample to the heading estimate."""
    state = np.zeros(contacts.STATE_SIZE)
    assert not contacts.running(state, 0.0)
    assert not contacts.running(state, 0.5)
    assert not ref.Contacts().running(0.0)
    contacts.contact_step(state, 0.0, 9.8, 0.0, 0.0, False)  # started, no flight yet
    assert not contacts.running(state, 0.005)


def test_process_matches_reference_from_time_zero(quick):
    s = Signals.of(quick, 0, 4000, t0=0.0)
    stream = GaitStream(angles=True)
    stream.feed(s.t, s.acc, s.gyr)
    model, _ = reference_steps(s)
    np.testing.assert_allclose(stream.angles, model.angles, rtol=0, atol=1e-6)


# -- edge cases ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standing():
    return simulate(Session((Bout("stand", 8),)), STAND_SPEC, seed=1)


def test_still_sensor(standing):
    rec = standing
    s = Signals.of(rec)
    k = drive_kernels(s)
    assert GaitStream().feed(s.t, s.acc, s.gyr).shape == (0, pipeline.STEP_FIELDS)
    assert not any(kind for _, kind in k["contact"])
    assert k["still"][-int(2 / 0.005) :].all()  # still to the end once found
    truth = REALISTIC.gyr_bias_dps + np.multiply(
        REALISTIC.gyr_tempco_dps_per_c, rec.sensor.temperature_c[-1] - 25.0
    )
    bias_dps = np.degrees(k["ori_st"][-1, orientation.BIAS : orientation.BIAS + 3])
    np.testing.assert_allclose(bias_dps, truth, atol=0.12)  # learned while still (τ 1 s)
    gravity = s.acc[-int(2 / 0.005) :].mean(axis=0)  # the last 2 s, all still
    true_up = rotation.rotate(rotation.conjugate(rec.sensor.sensor_quat[-1]), [0, 0, 1])
    assert _angle_deg(k["up"][-1], gravity) < 0.2  # the filter's up is the measured gravity
    assert _angle_deg(k["up"][-1], true_up) < 1.0  # off by the accelerometer's bias only


def test_still_sensor_is_still_soon_after_hold_s(standing):
    """Still once quiet for HOLD_S, and quiet within a few windows of the start: the moving
    statistics start from the first sample, not from zero (var of |f| ≈ g would be huge)."""
    s = Signals.of(standing)
    k = drive_kernels(s)
    first = np.argmax(k["still"])
    quiet_s = sum(s.dt()[: first + 1])  # the first sample counts its own interval too
    assert still.HOLD_S <= quiet_s <= still.HOLD_S + 3 * still.WINDOW_S  # ≈ HOLD_S today
    assert k["still"][np.argmax(k["still"]) :].all()


def test_upside_down_sensor_standing():
    rec = simulate(Session((Bout("stand", 8),)), SensorSpec(mount_deg=(0.0, 0.0, 180.0)), seed=5)
    s = Signals.of(rec)
    k = drive_kernels(s)
    true_up = rotation.rotate(rotation.conjugate(rec.sensor.sensor_quat[-1]), [0, 0, 1])
    assert _angle_deg(k["up"][-1], true_up) < 0.2
    assert _angle_deg(k["up"][-1], [0, 0, -1]) < 2.0
    stream = GaitStream(angles=True)
    assert stream.feed(s.t, s.acc, s.gyr).shape == (0, pipeline.STEP_FIELDS)
    assert np.abs(stream.angles[s.t > T0_S + 6, 0]).max() < 0.5  # pelvis roll ≈ 0
    assert stream.mounting.upside_down and stream.mounting.has_neutral


def test_upside_down_sensor_running_gives_the_same_steps():
    """An ideal sensor rolled 180° reads (x, −y, −z) of the upright one: same steps, up flipped."""
    session = Session((Bout("stand", 8), Bout("run", 12), Bout("stand", 4)))
    runs = [
        Signals.of(simulate(session, SensorSpec(mount_deg=(0.0, 0.0, roll)), seed=5))
        for roll in (0.0, 180.0)
    ]
    np.testing.assert_array_equal(runs[1].acc, runs[0].acc * [1, -1, -1])
    upright, flipped = (drive_kernels(s)["up"] for s in runs)
    np.testing.assert_allclose(flipped, upright * [1, -1, -1], rtol=0, atol=1e-9)
    steps = [GaitStream().feed(s.t, s.acc, s.gyr) for s in runs]
    assert len(steps[0]) > 25
    assert_same_steps(steps[1], steps[0])


def test_no_running_gives_no_steps():
    rec = simulate(
        Session((Bout("stand", 6), Bout("run", 1.0), Bout("stand", 4))), STAND_SPEC, seed=2
    )
    assert rec.truth.steps == []
    s = Signals.of(rec)
    assert GaitStream().feed(s.t, s.acc, s.gyr).shape == (0, pipeline.STEP_FIELDS)


def test_single_step_gives_at_most_that_step():
    """One running step between two stands: its landing back on two feet is the only contact
    after it, so at most one record, and it is that step."""
    rec = simulate(
        Session((Bout("stand", 6), Bout("run", 1.5), Bout("stand", 4))), STAND_SPEC, seed=2
    )
    assert len(rec.truth.steps) == 1
    s = Signals.of(rec)
    steps = GaitStream().feed(s.t, s.acc, s.gyr)
    assert len(steps) <= 1
    for step in steps:
        assert step[pipeline.T_IC] == pytest.approx(rec.truth.steps[0].t_ic_s + T0_S, abs=0.08)


@pytest.mark.parametrize("phase_s", [0.0, 0.09, 0.18, 0.27])
def test_gap_is_reported_and_no_step_spans_it(quick, phase_s):
    s = Signals.of(quick, 0, 6000)
    start = T0_S + 20.0 + phase_s
    keep = (s.t < start) | (s.t >= start + 0.5)
    s = Signals(s.t[keep], s.acc[keep], s.gyr[keep])
    before, after = s.t[s.t < start][-1], s.t[s.t >= start][0]
    stream = GaitStream()
    steps = stream.feed(s.t, s.acc, s.gyr)
    assert (after, pipeline.EV_GAP_BRIDGED) in stream.events  # bridged from the strides before
    ends = steps[:, pipeline.T_IC] + steps[:, pipeline.STEP_TIME]
    assert not ((steps[:, pipeline.T_IC] < after) & (ends > before)).any()
    assert ((ends < before) & (ends > before - 1)).any()  # steps right up to it …
    assert ((steps[:, pipeline.T_IC] > after) & (steps[:, pipeline.T_IC] < after + 1)).any()
    # … and the reference pipeline (contacts start over at a gap) agrees across it
    part = Signals(s.t[2500:5000], s.acc[2500:5000], s.gyr[2500:5000])
    assert part.t[0] < before < after < part.t[-1]
    stream = GaitStream()
    got = stream_steps(stream, part)
    model, want = reference_steps(part)
    assert_same_steps(got, want)
    assert model.events == stream.events


def test_a_step_whose_stance_ends_before_a_gap_is_kept(quick):
    """Data that stop in a running step's flight (a radio dropout) hold its whole stance: the
    step is closed as at a recording's end (it used to be forgotten with the gap)."""
    s = Signals.of(quick, 0, 6000)
    step = next(x for x in quick.truth.steps if x.t_ic_s > 20.0)
    start = T0_S + step.t_stance_end_s + 0.04  # in the flight after its stance
    keep = (s.t < start) | (s.t >= start + 0.5)
    steps = GaitStream().feed(s.t[keep], s.acc[keep], s.gyr[keep])
    (i,) = np.flatnonzero(np.abs(steps[:, pipeline.T_IC] - (step.t_ic_s + T0_S)) < 0.03)
    assert np.isnan(steps[i, pipeline.STEP_TIME])
    contact_s = step.t_stance_end_s - step.t_ic_s
    assert steps[i, pipeline.CONTACT_TIME] == pytest.approx(contact_s, abs=0.03)
    assert steps[i, pipeline.SIDE] == (1 if step.side == "L" else -1)


def test_empty_input_changes_nothing(real_run):
    stream = GaitStream(angles=True)
    empty = stream.feed(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))
    assert (
        empty.shape == (0, pipeline.STEP_FIELDS)
        and stream.angles.shape == (0, 2)
        and stream.events == []
    )
    s = real_run
    head = slice(0, 1500)
    after_empty = stream.feed(s.t[head], s.acc[head], s.gyr[head])
    np.testing.assert_array_equal(
        after_empty, GaitStream().feed(s.t[head], s.acc[head], s.gyr[head])
    )


# -- accuracy against the simulator's truth -------------------------------------------------------


def _angle_deg(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    cos = np.sum(a * b, axis=-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def test_filter_tilt_beats_the_accelerometer_by_far(quick):
    rec = quick
    s = Signals.of(rec)
    st_still, st_ori = np.zeros(still.STATE_SIZE), np.zeros(orientation.STATE_SIZE)
    up = np.zeros((len(s), 3))
    for k, dt in enumerate(s.dt()):
        is_still = still.still_step(st_still, s.acc[k], s.gyr[k], dt)
        orientation.orientation_step(st_ori, s.acc[k], s.gyr[k], dt, is_still)
        up[k] = orientation.up_in_sensor(st_ori)
    true_up = rotation.rotate(rotation.conjugate(rec.sensor.sensor_quat), [0.0, 0.0, 1.0])
    after = rec.time_s >= 20.0
    running = after & (rec.time_s < 130.0)
    filter_deg = np.median(_angle_deg(up, true_up)[after])
    naive_deg = np.median(_angle_deg(s.acc, true_up)[running])
    assert filter_deg < 1.0
    assert np.percentile(_angle_deg(up, true_up)[after], 95) < 2.0
    ratio = naive_deg / np.median(_angle_deg(up, true_up)[running])
    assert ratio > 10, f"filter {filter_deg:.2f}° vs accelerometer {naive_deg:.2f}°"


def test_a_side_plank_is_no_neutral():
    """Still in a side plank (the pelvis rolled ≈ 90°) is no standing: no neutral is taken from
    it (it would turn every later roll by the plank's), and the standing after it is one again;
    kernel and reference alike."""
    rec = scenario("side_plank_hold", seed=5)
    s = Signals.of(rec)
    stream = GaitStream()
    stream.feed(s.t, s.acc, s.gyr)
    neutral_at = [t - T0_S for t, code in stream.events if code == pipeline.EV_NEUTRAL]
    assert neutral_at[0] < 10.0 and neutral_at[-1] > 40.0  # standing before and after
    assert not [t for t in neutral_at if 12.0 < t < 40.0]  # none in the plank
    model, _ = reference_steps(s)
    assert stream.events == model.events
    np.testing.assert_allclose(stream.mounting.up, model.mounting.up, rtol=0, atol=1e-9)
