"""Opening the session database: identify it, upgrade its schema, set the connection up.

A file that is not SQLite, another program's SQLite database, or one written by a newer hipdrop
is refused with a :class:`StoreError` before anything is written to it. Writing connections use
WAL with ``synchronous=NORMAL`` (a commit survives a killed process; power loss may drop the
last commits but never corrupts), ``secure_delete`` (deleted health data are overwritten) and
foreign keys (deleting a session cascades).
"""

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError
from . import schema

_SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 5.0
"""How long a statement waits for another process's write lock before failing."""
CLEAR_LOG_WAIT_S = 0.5
"""How long clearing the log waits for readers and writers to step aside."""


def connect(path, readonly=False, create=True) -> sqlite3.Connection:
    """An open, identified, up-to-date connection to the database at ``path`` (a new one is
    created when writable and ``create``)."""
    path = Path(path)
    _check_file(path, readonly or not create)
    with translated(path):
        conn = _raw_connection(path, readonly)
        try:
            _prepare(conn, path, readonly)
        except BaseException:
            conn.close()
            raise
    return conn


@contextmanager
def translated(path):
    """Turn SQLite's errors about the file into a :class:`StoreError` naming it."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        raise StoreError(_explain(path, error)) from None


def _explain(path, error):
    text = str(error)
    if "not a database" in text or "malformed" in text:
        return f"{path} is not a hipdrop session database (SQLite: {text})"
    if "readonly" in text:
        return f"{path} is open read-only; {text}"
    if "locked" in text or "busy" in text:
        return f"{path} is busy: another hipdrop is writing to it ({text}); try again"
    return f"{path}: {text}"


def _check_file(path, must_exist):
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a hipdrop session database")
    if not path.exists():
        if must_exist:
            raise StoreError(
                f"no session database at {path} yet: record a session first "
                "(`hipdrop record --sim treadmill_quick`), or give --db / HIPDROP_DB"
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)  # health data: only the user; SQLite gives -wal, -shm the same
        return
    with path.open("rb") as handle:
        head = handle.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not a hipdrop session database (not an SQLite file)")
    if not head and must_exist:
        raise StoreError(f"{path} is empty, not a hipdrop session database")


def _raw_connection(path, readonly):
    if readonly:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.isolation_level = None  # transactions are explicit: see write() and Store.commit()
    return conn


def _prepare(conn, path, readonly):
    version = _identify(conn, path)
    if version == 0 and not readonly:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only possible before any table
    conn.execute("PRAGMA foreign_keys = ON")
    if readonly:
        if version < schema.latest_version():
            raise StoreError(
                f"{path} has schema version {version} of an older hipdrop; open it once with a "
                "command that writes (e.g. hipdrop analyze latest) to upgrade it"
            )
        return
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA secure_delete = ON")
    migrate(conn, version)


def _identify(conn, path) -> int:
    """The schema version of a hipdrop database, 0 for a new empty file; else StoreError."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if app_id == 0 and version == 0 and not tables:
        return 0
    if app_id != schema.APPLICATION_ID or not _has_marker(conn, tables):
        shown = ", ".join(tables[:5]) or "none"
        raise StoreError(
            f"{path} is not a hipdrop session database: an SQLite file of another program "
            f"(application_id {app_id:#x}, tables: {shown}); give another --db path"
        )
    if version > schema.latest_version():
        raise StoreError(
            f"{path} was written by a newer hipdrop (schema version {version}, this one reads "
            f"up to {schema.latest_version()}); upgrade: pip install -U hipdrop"
        )
    return version


def _has_marker(conn, tables):
    if "meta" not in tables:
        return False
    row = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
    return row is not None and row[0] == schema.APPLICATION


def migrate(conn, version):
    """Run every migration after ``version`` in one transaction (all or nothing)."""
    pending = [(v, step) for v, step in schema.MIGRATIONS if v > version]
    if not pending:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version == 0:
            conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        for target, step in pending:
            _run_step(conn, step)
            conn.execute(f"PRAGMA user_version = {int(target)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _run_step(conn, step):
    """A migration step: an SQL script (run statement by statement, inside the open
    transaction: ``executescript`` would commit) or a callable taking the connection."""
    if callable(step):
        step(conn)
        return
    statement = ""
    for line in step.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


@contextmanager
def write(conn):
    """One atomic change, committed at once together with anything already pending.

    On an error only this change is undone; rows pending from ``add_packets`` stay pending.
    """
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN IMMEDIATE")
    conn.execute("SAVEPOINT change")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK TO change")
        conn.execute("RELEASE change")
        if began:
            conn.execute("ROLLBACK")
        raise
    conn.execute("RELEASE change")
    conn.execute("COMMIT")


def pending(conn):
    """Open the transaction that collects rows until the next commit, if none is open."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")


def clear_log(conn) -> bool:
    """Copy the log (WAL) into the database and truncate it to zero bytes; False when another
    connection's reader or writer kept it from completing within ``CLEAR_LOG_WAIT_S``."""
    conn.execute(f"PRAGMA busy_timeout = {int(CLEAR_LOG_WAIT_S * 1000)}")
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return busy == 0
