"""Opening the database: a new one, ours, not ours, too new, older (migrations), read-only."""

import os
import sqlite3
import stat
import sys

import pytest
from store_testkit import STARTED_AT, packed_rows

from hipdrop.errors import HipdropError
from hipdrop.store import Store, StoreError, schema


def _pragma(path, name):
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_new_database_is_marked_versioned_and_in_wal_mode(db):
    with Store.open(db) as store:
        conn = store._conn
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert _pragma(db, "application_id") == schema.APPLICATION_ID
    assert _pragma(db, "user_version") == schema.latest_version() == 2
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "auto_vacuum") == 2  # incremental


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_new_database_is_private_to_its_user(tmp_path):
    db = tmp_path / "new" / "folder" / "sessions.db"
    with Store.open(db) as store:
        store.create_session(started_at=STARTED_AT, source="live")
        wal = db.with_name(db.name + "-wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_store_error_is_a_hipdrop_error_for_the_cli():
    assert issubclass(StoreError, HipdropError)


def test_reopening_keeps_the_sessions(db):
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="import", athlete="Ann")
    with Store.open(db) as store:
        assert store.session(sid).athlete == "Ann"


def test_random_bytes_are_refused_and_left_alone(db):
    data = os.urandom(8192)
    db.write_bytes(data)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is not a hipdrop session database"):
            Store.open(db, readonly=readonly)
    assert db.read_bytes() == data
    assert not db.with_name(db.name + "-wal").exists()


def test_an_sqlite_header_with_garbage_behind_it_is_refused(db):
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    with pytest.raises(StoreError, match="is not a hipdrop session database"):
        Store.open(db)


def test_damaged_pages_give_a_store_error_not_a_traceback(db):
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="import")
        store.add_packets(sid, packed_rows(400))
        store.commit()
    page = _pragma(db, "page_size")
    data = bytearray(db.read_bytes())
    data[page:] = os.urandom(len(data) - page)  # keep page 1 (header, schema), ruin the rest
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="sessions.db"), Store.open(db, readonly=True) as store:
        store.samples(store.resolve("latest"))


def test_another_programs_sqlite_database_is_refused_unchanged(db):
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    before = db.read_bytes()
    with pytest.raises(StoreError, match="not a hipdrop session database.*another program"):
        Store.open(db)
    assert db.read_bytes() == before
    assert _pragma(db, "journal_mode") == "delete"


def test_our_application_id_without_the_meta_marker_is_refused(db):
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    with pytest.raises(StoreError, match="another program"):
        Store.open(db)


def test_a_newer_schema_asks_for_an_upgrade(db):
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {schema.latest_version() + 1}")
    for readonly in (False, True):
        with pytest.raises(StoreError, match="written by a newer hipdrop.*upgrade"):
            Store.open(db, readonly=readonly)


def test_an_older_schema_is_migrated_keeping_its_data(db, monkeypatch):
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="import", athlete="Ann")
    step = "ALTER TABLE sessions ADD COLUMN shoe TEXT;\nUPDATE sessions SET shoe = 'trainer';\n"
    new_version = schema.latest_version() + 1
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (new_version, step)])
    with pytest.raises(StoreError, match="older hipdrop"):
        Store.open(db, readonly=True)  # a reader cannot upgrade
    with Store.open(db) as store:
        assert store.session(sid).athlete == "Ann"
    assert _pragma(db, "user_version") == new_version
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT shoe FROM sessions").fetchall() == [("trainer",)]


def test_a_version_1_database_gains_each_steps_turn_keeping_its_steps(db, monkeypatch):
    """Version 2 added ``turn_dps`` and ``turning`` to the steps; steps analysed before stay,
    their turn unknown (null)."""
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    with Store.open(db) as store:
        sid = store.create_session(started_at=STARTED_AT, source="import")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO steps (session_id, n, t_ic, side, pelvic_drop_deg) "
            "VALUES (?, 0, 1.5, 'L', 4.25)",
            (sid,),
        )
    monkeypatch.undo()
    Store.open(db).close()
    assert _pragma(db, "user_version") == 2
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT t_ic, side, pelvic_drop_deg, turn_dps, turning FROM steps")
        assert rows.fetchall() == [(1.5, "L", 4.25, None, None)]


def test_a_failing_migration_leaves_the_database_as_it_was(db, monkeypatch):
    Store.open(db).close()
    broken = "ALTER TABLE sessions ADD COLUMN shoe TEXT;\nTHIS IS NOT SQL;\n"
    version = schema.latest_version()
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (version + 1, broken)])
    with pytest.raises(StoreError, match="syntax error"):
        Store.open(db)
    assert _pragma(db, "user_version") == version
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
    assert "shoe" not in columns


def test_an_empty_file_becomes_a_database_when_writable(db):
    db.write_bytes(b"")
    with pytest.raises(StoreError, match="is empty"):
        Store.open(db, readonly=True)
    Store.open(db).close()
    assert _pragma(db, "application_id") == schema.APPLICATION_ID


def test_reading_needs_an_existing_file_and_writing_is_refused(db):
    with pytest.raises(StoreError, match="no session database"):
        Store.open(db, readonly=True)
    with pytest.raises(StoreError, match="no session database"):
        Store.open(db, create=False)
    assert not db.exists()
    Store.open(db).close()
    with Store.open(db, readonly=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            store.create_session(started_at=STARTED_AT, source="live")
        assert store.sessions() == []


def test_a_folder_is_not_a_database(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)
