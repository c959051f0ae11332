"""The human summary of an analysis (``hipdrop analyze`` without ``--json``)."""

from hipdrop.engine.summary import summary_text


def _doc(events, start_s=0.0):
    return {
        "source": "run.csv",
        "start_s": start_s,
        "duration_s": 6085.0,
        "sample_rate_hz": 200.0,
        "steps": [],
        "drop_metric": "pelvic_drop_deg",
        "fatigue": {"onset_s": None, "side": None, "evidence": "no sustained rise"},
        "notes": [],
        "events": events,
    }


def test_events_are_listed_by_kind_with_their_first_times():
    events = [{"t_s": 3.2, "type": "calibration"}, {"t_s": 4509.0, "type": "clip_moved"}]
    events += [{"t_s": 600.0 * k, "type": "gap"} for k in range(1, 6)]
    events.sort(key=lambda e: e["t_s"])
    text = summary_text(_doc(events))
    line = [line for line in text.splitlines() if line.startswith("events: ")]
    assert line == [
        "events: neutral taken at 0:03; gap at 10:00, 20:00, 30:00 and 2 more; "
        "clip moved at 1:15:09"
    ]


def test_times_are_given_from_the_recordings_start_on_any_clock():
    start = 1_765_152_017.25  # a phone's clock: seconds since 1970
    events = [{"t_s": start + 3.2, "type": "calibration"}, {"t_s": start + 4509.0, "type": "stop"}]
    doc = _doc(events, start)
    doc["fatigue"] = {"onset_s": start + 3360.0, "side": "L", "evidence": "rose"}
    lines = summary_text(doc).splitlines()
    assert lines[0].endswith("; times from its start, 1765152017.250 s on its clock")
    assert "fatigue: onset at 56.0 min (L): rose" in lines
    assert "events: neutral taken at 0:03; stop at 1:15:09" in lines
    assert "on its clock" not in summary_text(_doc(events))


def test_no_events_no_line():
    assert "events" not in summary_text(_doc([]))


def _step(side, drop, turning=False):
    return {
        "side": side,
        "activity": "walk",
        "pelvic_drop_deg": drop,
        "cadence_spm": 100.0,
        "contact_time_s": None,
        "turning": turning,
    }


def test_a_drop_range_below_zero_reads_unambiguously():
    doc = _doc([])
    doc["steps"] = [_step("R", drop) for drop in (-3.0, -1.7, 0.8, 3.6, 5.0)]
    text = summary_text(doc)
    assert "right-stance drop 0.8° (IQR -1.7 to 3.6)" in text


def test_steps_in_turns_are_left_out_of_the_drops_and_counted():
    doc = _doc([])
    doc["steps"] = [_step("L", drop) for drop in (2.0, 3.0, 4.0)]
    doc["steps"] += [_step("L", 25.0, turning=True), _step("L", 30.0, turning=True)]
    text = summary_text(doc)
    assert "walk: 5 steps" in text
    assert "left-stance drop 3.0° (IQR 2.5 to 3.5)" in text
    assert "2 steps in turns left out of the drops" in text
    doc["steps"] = doc["steps"][:3]
    assert "in turns" not in summary_text(doc)
