"""The analysis document's per-step, per-minute and stop entries, from step records made by
hand (the engine's records are covered by the analysis tests)."""

import json
import math

import numpy as np

from hipdrop.engine import _pipeline as pipeline
from hipdrop.engine.result import event_list, minute_table, step_columns, step_dicts


def _records(t_ic, side, drop, activity=1, step_time=0.34):
    rows = np.full((len(t_ic), pipeline.STEP_FIELDS), np.nan)
    rows[:, pipeline.T_IC] = t_ic
    rows[:, pipeline.SIDE] = side
    rows[:, pipeline.PELVIC_DROP] = drop
    rows[:, pipeline.ACTIVITY] = activity
    rows[:, pipeline.STEP_TIME] = step_time
    rows[:, pipeline.T_VERDICT] = rows[:, pipeline.T_IC] + step_time + 0.05
    return rows


def test_steps_are_rounded_and_unknowns_are_null():
    rows = _records([1.23456, 1.6], [1, -1], [4.567, np.nan], activity=[1, 7])
    steps = step_dicts(step_columns(rows))
    assert [s["t_ic"] for s in steps] == [1.2346, 1.6]
    assert [s["side"] for s in steps] == ["L", "R"]
    assert [s["pelvic_drop_deg"] for s in steps] == [4.57, None]
    assert [s["activity"] for s in steps] == ["run", "other"]
    assert steps[0]["cadence_spm"] == round(60 / 0.34, 1)
    assert math.isclose(steps[0]["verdict_latency_s"], 0.05)
    json.dumps(steps, allow_nan=False)  # no NaN reaches the document


def test_each_step_field_comes_from_its_own_column():
    rows = _records([2.5], [1], [3.25], step_time=0.4)
    p = pipeline
    for column, value in (
        (p.CONFIDENCE, 0.875),
        (p.DROP_FROM_CONTACT, 1.5),
        (p.CONTACT_TIME, 0.25),
        (p.ROLL_AT_IC, -0.75),
        (p.OBLIQUITY_RANGE, 6.5),
        (p.IMPACT_G, 2.25),
        (p.TURN_DPS, -12.5),
    ):
        rows[0, column] = value
    (step,) = step_dicts(step_columns(rows))
    assert step == {
        "t_ic": 2.5,
        "side": "L",
        "side_confidence": 0.875,
        "activity": "run",
        "pelvic_drop_deg": 3.25,
        "drop_from_contact_deg": 1.5,
        "contact_time_s": 0.25,
        "step_time_s": 0.4,
        "roll_at_ic_deg": -0.75,
        "obliquity_range_deg": 6.5,
        "impact_g": 2.25,
        "turn_dps": -12.5,
        "turning": True,
        "cadence_spm": 150.0,
        "verdict_latency_s": 0.05,
    }


def test_a_step_is_turning_beyond_its_gaits_limit_and_its_drop_leaves_the_minutes():
    """Running, a stride turning faster than 10 °/s is a turn; walking, faster than 20 °/s (a
    stride's mean stays within 7.5 °/s in real straight walking). An unknown turn is no turn. The
    turning steps' drops are left out of the minute's medians; their cadence counts."""
    turns = [np.nan, 9.9, -10.1, 19.0, -20.5, 35.0]
    rows = _records(np.arange(6) * 5.0, [1, 1, 1, -1, -1, -1], [1.0, 2.0, 30.0, 3.0, 40.0, 50.0])
    rows[:, pipeline.ACTIVITY] = [1, 1, 1, 2, 2, 2]
    rows[:, pipeline.TURN_DPS] = turns
    columns = step_columns(rows)
    assert [s["turning"] for s in step_dicts(columns)] == [False, False, True, False, True, True]
    (minute,) = minute_table(columns, "pelvic_drop_deg")
    assert (minute["pelvic_drop_deg_L"], minute["pelvic_drop_deg_R"]) == (1.5, 3.0)
    assert minute["steps"] == 6 and minute["cadence_spm"] == round(60 / 0.34, 1)


def test_minutes_take_each_sides_median_and_the_commonest_activity():
    t_ic = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 70.0, 75.0])
    rows = _records(
        t_ic,
        [1, -1, 1, -1, 1, 1, -1],
        [2.0, 5.0, 4.0, np.nan, 9.0, 1.0, 3.0],
        [2, 2, 1, 2, 1, 1, 1],
    )
    minutes = minute_table(step_columns(rows[::-1]), "pelvic_drop_deg")  # any order
    assert [(m["minute"], m["steps"], m["activity"]) for m in minutes] == [
        (0, 5, "walk"),
        (1, 2, "run"),
    ]
    assert (minutes[0]["pelvic_drop_deg_L"], minutes[0]["pelvic_drop_deg_R"]) == (4.0, 5.0)
    assert (minutes[1]["pelvic_drop_deg_L"], minutes[1]["pelvic_drop_deg_R"]) == (1.0, 3.0)


def test_a_pause_between_contacts_is_a_stop_from_the_end_of_the_last_step():
    rows = _records([1.0, 1.5, 9.5, 10.0], [1, -1, 1, -1], [1.0] * 4, step_time=0.5)
    rows[1, pipeline.STEP_TIME] = np.nan  # closed as overdue: the stop starts at its contact
    events = event_list([(0.5, pipeline.EV_NEUTRAL)], step_columns(rows), np.arange(0, 12, 0.01))
    assert events == [
        {"t_s": 0.5, "type": "calibration"},
        {"t_s": 1.5, "type": "stop", "duration_s": 8.0},
    ]


def test_a_gap_says_how_long_it_was_and_whether_it_was_bridged():
    """The samples lost, from the last sample before the gap to the first after it, and
    whether the engine carried its tilt and sides over it (``EV_GAP_BRIDGED``)."""
    time_s = np.concatenate([np.arange(1000) * 0.01, 11.2 + np.arange(280) * 0.01, [17.0, 17.01]])
    rows = _records([1.0, 1.5], [1, -1], [1.0] * 2, step_time=0.5)
    raw = [(11.2, pipeline.EV_GAP_BRIDGED), (17.0, pipeline.EV_GAP)]
    events = event_list(raw, step_columns(rows), time_s)
    assert events == [
        {"t_s": 11.2, "type": "gap", "duration_s": 1.21, "bridged": True},
        {"t_s": 17.0, "type": "gap", "duration_s": 3.01, "bridged": False},
    ]


def test_minute_medians_match_numpys_median_per_minute_and_side():
    """The one-sort medians against ``np.median`` minute by minute: even and odd counts, unknown
    drops, a side with no known drop in a minute, minutes without steps, rows in any order."""
    rng = np.random.default_rng(7)
    n = 600
    t_ic = np.sort(rng.choice([0, 1, 2, 5, 6], n) * 60 + rng.uniform(0, 60, n))
    side = rng.choice([1.0, -1.0], n)
    drop = rng.normal(4, 2, n).round(2)
    drop[rng.random(n) < 0.2] = np.nan
    drop[(t_ic // 60 == 2) & (side < 0)] = np.nan  # minute 2: no right-side drop at all
    rows = _records(t_ic, side, drop, step_time=rng.uniform(0.3, 0.4, n))
    shuffled = rows[rng.permutation(n)]
    minutes = minute_table(step_columns(shuffled), "pelvic_drop_deg")
    assert [m["minute"] for m in minutes] == [0, 1, 2, 5, 6]
    cadence = np.round(60.0 / rows[:, pipeline.STEP_TIME], 1)
    for m in minutes:
        inside = t_ic // 60 == m["minute"]
        assert m["steps"] == inside.sum()
        assert m["cadence_spm"] == round(float(np.median(cadence[inside])), 1)
        for key, chosen in (("L", side > 0), ("R", side < 0)):
            known = drop[inside & chosen & np.isfinite(drop)]
            expected = round(float(np.median(known)), 3) if len(known) else None
            assert m[f"pelvic_drop_deg_{key}"] == expected
    assert minutes[2]["pelvic_drop_deg_R"] is None


def test_minute_speeds_are_each_minutes_median_even_after_the_clock_jumps_back():
    from hipdrop.engine.inputs import ImuData
    from hipdrop.engine.result import _add_speed

    t = np.concatenate([np.arange(0, 150, 0.5), np.arange(30, 90, 0.5)])  # restarted at 30 s
    speed = 2.5 + 0.01 * np.arange(len(t)) % 0.7
    speed[400] = np.nan  # an unknown speed makes its minute's median unknown, as np.median does
    start = 1_765_152_017.25  # a phone's clock: seconds since 1970, not on a minute
    data = ImuData(start + t, np.zeros((len(t), 3)), np.zeros((len(t), 3)), 2.0, speed, "test")
    minutes = [{"minute": m} for m in (0, 1, 2, 7)]
    _add_speed(minutes, data, start)
    minute = t // 60
    expected = [round(float(np.median(speed[minute == m])), 2) for m in (0, 1, 2)]
    assert [m["speed_mps"] for m in minutes[:3]] == [None if np.isnan(e) else e for e in expected]
    assert minutes[1]["speed_mps"] is None and minutes[3]["speed_mps"] is None
