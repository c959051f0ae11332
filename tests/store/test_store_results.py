"""Analysis results in the store: the document's steps, minutes, events and fatigue."""

import numpy as np
import pytest
from store_testkit import STARTED_AT, table_counts

from hipdrop.store import Store, schema


def test_every_step_and_minute_field_of_the_engine_has_a_column(treadmill_doc):
    assert set(treadmill_doc["steps"][0]) == set(schema.STEP_COLUMNS)
    metric = treadmill_doc["drop_metric"]
    stored = {*schema.MINUTE_COLUMNS[:6], f"{metric}_L", f"{metric}_R", "speed_mps"}
    assert set(treadmill_doc["minutes"][0]) <= stored


def test_results_come_back_as_the_document_had_them(recorded, treadmill_doc):
    db, sid = recorded
    with Store.open(db) as store:
        assert store.results(sid) is None
        store.replace_results(sid, treadmill_doc)
        got = store.results(sid)
    for key in ("steps", "minutes", "events", "fatigue", "drop_metric", "notes", "schema"):
        assert got[key] == treadmill_doc[key], key
    assert got["analysed_by"].startswith("hipdrop ") and got["analysed_at"] > 0


def test_the_summary_columns_describe_the_analysis(recorded, treadmill_doc):
    """The mean drops leave out the steps in turns (here ten, their drops made 40°)."""
    db, sid = recorded
    metric = treadmill_doc["drop_metric"]
    steps = [dict(s) for s in treadmill_doc["steps"]]
    for step in steps[100:110]:
        step.update({"turning": True, metric: 40.0})
    doc = {**treadmill_doc, "steps": steps}
    with Store.open(db) as store:
        store.replace_results(sid, doc)
        info = store.session(sid)
    straight = steps[:100] + steps[110:]
    for side, mean in (("L", info.mean_drop_l_deg), ("R", info.mean_drop_r_deg)):
        drops = [s[metric] for s in straight if s["side"] == side and s[metric] is not None]
        assert mean == pytest.approx(np.mean(drops), abs=1e-3)
    assert (info.steps, info.drop_metric) == (len(steps), metric)
    assert info.fatigue_onset_s == treadmill_doc["fatigue"]["onset_s"]


def test_replacing_results_swaps_them_and_keeps_link_events(recorded, treadmill_doc):
    db, sid = recorded
    fewer = {
        **treadmill_doc,
        "steps": treadmill_doc["steps"][:10],
        "minutes": treadmill_doc["minutes"][:1],
        "events": [{"t_s": 12.5, "type": "stop", "duration_s": 4.0}],
        "fatigue": {"onset_s": 61.0, "side": "L", "evidence": "made up for the test"},
    }
    with Store.open(db) as store:
        store.add_event(sid, "disconnect", 30.0, {"reason": "out of range"})
        store.replace_results(sid, treadmill_doc)
        store.replace_results(sid, fewer)
        got = store.results(sid)
        assert store.events(sid) == [
            {"kind": "disconnect", "t_s": 30.0, "detail": {"reason": "out of range"}}
        ]
        assert store.session(sid).fatigue_onset_s == 61.0
    assert (got["steps"], got["events"], got["fatigue"]) == (
        fewer["steps"], fewer["events"], fewer["fatigue"]
    )  # fmt: skip
    counts = table_counts(db, sid)
    assert (counts["steps"], counts["minutes"], counts["events"]) == (10, 1, 2)


def test_a_failed_replacement_keeps_the_old_results(recorded, treadmill_doc):
    db, sid = recorded
    no_fatigue = {k: v for k, v in treadmill_doc.items() if k != "fatigue"}
    no_fatigue["steps"] = treadmill_doc["steps"][:3]  # written before the fatigue is missed
    with Store.open(db) as store:
        store.replace_results(sid, treadmill_doc)
        with pytest.raises(KeyError):
            store.replace_results(sid, no_fatigue)
        assert store.results(sid)["steps"] == treadmill_doc["steps"]


def test_results_of_an_unknown_session_are_an_error(db):
    from hipdrop.store import StoreError

    with Store.open(db) as store:
        store.create_session(started_at=STARTED_AT, source="live")
        with pytest.raises(StoreError, match="no session 5"):
            store.results(5)
        with pytest.raises(StoreError, match="no session 5"):
            store.replace_results(5, {})
