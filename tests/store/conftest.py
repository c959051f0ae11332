"""Fixtures of the store tests; the helpers live in store_testkit.py."""

import pytest
from store_testkit import STARTED_AT, sensor_rows, treadmill

from hipdrop.store import Store


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A database path in tmp_path; HIPDROP_DB points there too, so nothing touches the
    user's real database."""
    path = tmp_path / "sessions.db"
    monkeypatch.setenv("HIPDROP_DB", str(path))
    return path


@pytest.fixture
def store(db):
    """An open, writable Store on ``db``."""
    with Store.open(db) as store:
        yield store


@pytest.fixture
def recorded(db):
    """(path, session id) of treadmill_quick recorded live and finished."""
    _, _, notes = treadmill()
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="demo", athlete="Ann")
        store.add_packets(sid, sensor_rows(notes))
        store.finish_session(sid, STARTED_AT + notes[-1].host_time_s)
    return db, sid


@pytest.fixture(scope="session")
def treadmill_doc(tmp_path_factory):
    """The engine's analysis of the stored treadmill_quick session (one per test run)."""
    from hipdrop.engine.analyze import analyze

    _, _, notes = treadmill()
    with Store.open(tmp_path_factory.mktemp("doc") / "s.db") as store:
        sid = store.create_session(started_at=STARTED_AT, source="demo")
        store.add_packets(sid, sensor_rows(notes))
        return analyze(store.recording(sid))
