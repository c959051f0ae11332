"""Deleting a session removes every row of it, and its bytes from the database files."""

import pytest
from store_testkit import STARTED_AT, packed_rows, table_counts

from hipdrop.store import Store, StoreError

MARKER = "Zyxwvutsrq Quux-Athlete"


def _files(db):
    """The database and its log, as they are on disk."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def two_sessions(recorded, treadmill_doc):
    """(path, session to delete, session to keep): both recorded and analysed."""
    db, keep = recorded
    with Store.open(db) as store:
        gone = store.create_session(
            started_at=STARTED_AT + 600, source="live", athlete=MARKER, notes=MARKER, tags=[MARKER]
        )
        store.add_packets(gone, packed_rows(800, boot=9, host_start=STARTED_AT + 600))
        store.set_clock(gone, 9, STARTED_AT + 600, 1.0)
        store.add_event(gone, "disconnect", 3.0, {"who": MARKER})
        store.replace_results(gone, treadmill_doc)
        store.replace_results(keep, treadmill_doc)
        store.finish_session(gone, STARTED_AT + 700)
    return db, gone, keep


def test_delete_removes_every_row_of_the_session_only(two_sessions):
    db, gone, keep = two_sessions
    before_gone, before_keep = table_counts(db, gone), table_counts(db, keep)
    assert all(before_gone[t] > 0 for t in ("packets", "boots", "clocks", "events", "steps"))
    with Store.open(db) as store:
        assert store.delete_session(gone) is True
        assert [info.id for info in store.sessions()] == [keep]
        with pytest.raises(StoreError, match=f"no session {gone}"):
            store.session(gone)
    after = table_counts(db, gone)
    assert set(after) == set(table_counts(db)) - {"meta"}  # every table that holds sessions
    assert all(count == 0 for count in after.values())
    assert table_counts(db, keep) == before_keep


def test_deleted_data_are_gone_from_the_files(two_sessions):
    db, gone, _ = two_sessions
    payload = packed_rows(800, boot=9)[400][5]  # a whole packet: header, samples, CRC
    assert MARKER.encode() in _files(db) and payload in _files(db)
    size_before = db.stat().st_size
    with Store.open(db) as store:
        store.delete_session(gone)
    assert MARKER.encode() not in _files(db)
    assert payload not in _files(db)
    assert db.stat().st_size < size_before  # free pages were given back (incremental vacuum)


def test_a_reader_holding_a_snapshot_delays_clearing_the_log(two_sessions):
    db, gone, _ = two_sessions
    with Store.open(db, readonly=True) as reader, Store.open(db) as store:
        reader._conn.execute("BEGIN")
        reader.sessions()  # holds a snapshot that still has the session
        assert store.delete_session(gone) is False
        reader._conn.execute("COMMIT")
    with Store.open(db) as store:
        assert store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    assert MARKER.encode() not in _files(db)
