"""The session database's layout and its migrations (docs/store.md lists every table).

``PRAGMA application_id`` marks the file as hipdrop's and ``PRAGMA user_version`` holds the
schema version. ``MIGRATIONS`` is the whole history: entry ``(v, script)`` takes a database from
version ``v - 1`` to ``v``; a new database runs all of them. Never edit a released entry; append.
"""

APPLICATION_ID = 0x48445250
"""``PRAGMA application_id`` of a hipdrop session database: ASCII ``HDRP``."""
APPLICATION = "hipdrop.sessions"
"""``meta.application``: the second marker, for tools that do not read the header."""

_STEP_COLUMNS_V1 = (
    "t_ic",
    "side",
    "side_confidence",
    "activity",
    "pelvic_drop_deg",
    "drop_from_contact_deg",
    "contact_time_s",
    "step_time_s",
    "roll_at_ic_deg",
    "obliquity_range_deg",
    "impact_g",
    "cadence_spm",
    "verdict_latency_s",
)
STEP_COLUMNS = (*_STEP_COLUMNS_V1, "turn_dps", "turning")
"""Step fields of an analysis document (docs/analysis.md), one column each, same names."""

MINUTE_COLUMNS = (
    "minute",
    "start_s",
    "steps",
    "activity",
    "cadence_spm",
    "contact_time_s",
    "drop_l_deg",
    "drop_r_deg",
    "speed_mps",
)
"""Per-minute aggregates; ``drop_l_deg``/``drop_r_deg`` hold the document's
``<drop_metric>_L``/``_R`` (the metric is the session's ``drop_metric``)."""

_TYPES = {
    "side": "TEXT",
    "activity": "TEXT",
    "minute": "INTEGER",
    "steps": "INTEGER",
    "turning": "INTEGER",
}


def _columns(names):
    return ", ".join(f"{name} {_TYPES.get(name, 'REAL')}" for name in names)


_V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL,
    state TEXT NOT NULL DEFAULT 'recording'
        CHECK (state IN ('recording', 'complete', 'incomplete')),
    source TEXT NOT NULL CHECK (source IN ('live', 'sync', 'demo', 'import')),
    athlete TEXT,
    device TEXT,
    device_name TEXT,
    firmware TEXT,
    board TEXT,
    protocol_version INTEGER,
    sample_rate_hz REAL,
    calibration TEXT,
    notes TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    stats TEXT,
    analysis_schema TEXT,
    analysed_by TEXT,
    analysed_at REAL,
    analysis_notes TEXT,
    drop_metric TEXT,
    steps INTEGER,
    mean_drop_l_deg REAL,
    mean_drop_r_deg REAL,
    fatigue_onset_s REAL,
    fatigue_side TEXT,
    fatigue_evidence TEXT
);
CREATE INDEX sessions_by_start ON sessions (started_at);
CREATE INDEX sessions_by_athlete ON sessions (athlete, started_at);
CREATE TABLE writers (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    process_start TEXT,
    seen_at REAL NOT NULL
);
CREATE TABLE packets (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    boot INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t0_ticks INTEGER NOT NULL,
    host_rx_s REAL,
    origin TEXT NOT NULL CHECK (origin IN ('live', 'backfill', 'log')),
    payload BLOB NOT NULL,
    UNIQUE (session_id, boot, seq)
);
CREATE TABLE boots (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    boot INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    end_seq INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    last_rx_s REAL,
    PRIMARY KEY (session_id, boot)
) WITHOUT ROWID;
CREATE TABLE clocks (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    boot INTEGER NOT NULL,
    offset_s REAL NOT NULL,
    scale REAL NOT NULL,
    PRIMARY KEY (session_id, boot)
) WITHOUT ROWID;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    origin TEXT NOT NULL CHECK (origin IN ('link', 'analysis')),
    kind TEXT NOT NULL,
    t_s REAL,
    detail TEXT
);
CREATE INDEX events_by_session ON events (session_id, origin);
CREATE TABLE steps (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    {_columns(_STEP_COLUMNS_V1)},
    PRIMARY KEY (session_id, n)
) WITHOUT ROWID;
CREATE TABLE minutes (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    {_columns(MINUTE_COLUMNS)},
    PRIMARY KEY (session_id, minute)
) WITHOUT ROWID;
INSERT INTO meta VALUES ('application', '{APPLICATION}');
"""

_V2 = """
ALTER TABLE steps ADD COLUMN turn_dps REAL;
ALTER TABLE steps ADD COLUMN turning INTEGER;
"""
"""Each step's turn (analyses before it leave both null)."""

MIGRATIONS = [(1, _V1), (2, _V2)]
"""``(version, SQL script)`` in order; see the module docstring."""


def latest_version() -> int:
    return MIGRATIONS[-1][0]
