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
    events = event_list([(0.5, pipeline.EV_NEUTRAL)], step_columns(rows))
    assert events == [
        {"t_s": 0.5, "type": "calibration"},
        {"t_s": 1.5, "type": "stop", "duration_s": 8.0},
    ]
