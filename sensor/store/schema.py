"""The session database's schema: ordered migrations and how they are applied."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sensor.store.marks import repair_marks


def _samples_signatures(con: sqlite3.Connection) -> None:
    """7: duplicates by the samples themselves (``sensor.store.signature``). The old signature
    (count, span, 32 means of |acc|) made quiet recordings of one length "the same": it is
    dropped, its sample count kept as the key candidates are looked up by, and each session
    is signed again from its file when it is next compared (the first import it could match,
    or "Find duplicates"). Duplicate marks that formed a circle or pointed at a session in
    the bin are repaired (``sensor.store.marks``). One transaction with the version bump."""
    for statement in statements(
        """
        ALTER TABLE sessions ADD COLUMN samples_n INTEGER;  -- samples in the file (-1: it cannot be read)
        UPDATE sessions SET samples_n = json_extract(fingerprint, '$.n') WHERE json_valid(fingerprint);
        UPDATE sessions SET fingerprint = NULL;
        DROP INDEX sessions_fingerprint;
        CREATE INDEX sessions_samples_n ON sessions (samples_n);
        """
    ):
        con.execute(statement)
    repair_marks(con)


# Ordered schema steps; step i brings ``PRAGMA user_version`` from i to i + 1: SQL, or a
# function of the connection for what SQL cannot say. Never edit a released step: add a new one.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    # 1: the core tables
    """
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        profile TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        UNIQUE (profile, name, address)
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_utc TEXT NOT NULL,          -- ISO 8601, UTC
        local_date TEXT NOT NULL,           -- YYYY-MM-DD where the user is (weeks, days)
        duration_s REAL NOT NULL,
        source_path TEXT NOT NULL,          -- where the file was imported from
        file_path TEXT NOT NULL,            -- the recording kept in the data folder
        content_hash TEXT NOT NULL UNIQUE,  -- sha256 of the file: imports are idempotent
        kind TEXT NOT NULL,                 -- htrec, csv, phone
        source TEXT NOT NULL DEFAULT '',    -- ble, simulated, ... (from the header)
        demo INTEGER NOT NULL DEFAULT 0,
        calibrated INTEGER NOT NULL DEFAULT 0,
        sample_rate_hz REAL NOT NULL DEFAULT 0,
        mount TEXT NOT NULL DEFAULT 'back',
        device_id INTEGER REFERENCES devices (id),
        app_version TEXT NOT NULL DEFAULT '',
        imported_utc TEXT NOT NULL
    );
    CREATE TABLE sets (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        exercise TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        rep_count INTEGER NOT NULL,
        UNIQUE (session_id, idx)
    );
    CREATE TABLE reps (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        set_id INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        exercise TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        hold_s REAL NOT NULL,
        detected_at_s REAL NOT NULL,
        peak_deg REAL NOT NULL DEFAULT 0
    );
    CREATE TABLE holds (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        exercise TEXT NOT NULL,
        side TEXT,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        duration_s REAL NOT NULL,
        sway_deg REAL NOT NULL,
        tremor_dps REAL NOT NULL,
        sag_deg REAL NOT NULL,
        detected_at_s REAL NOT NULL,
        score REAL NOT NULL DEFAULT 0
    );
    CREATE TABLE gaps (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL
    );
    CREATE INDEX reps_session ON reps (session_id);
    CREATE INDEX holds_session ON holds (session_id);
    CREATE INDEX sets_session ON sets (session_id);
    CREATE INDEX gaps_session ON gaps (session_id);
    """,
    # 2: a display trace per session (so a timeline never re-reads an hour of samples),
    # and date lookups for history
    """
    CREATE TABLE traces (
        session_id INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        t0_s REAL NOT NULL,
        hz REAL NOT NULL,
        deg BLOB NOT NULL                   -- float32 little-endian, NaN where no data
    );
    CREATE INDEX sessions_date ON sessions (local_date);
    """,
    # 3: editing (sensor/store/edits.py): a bin with undo, duplicates found by content, where the
    # date came from, and the user's corrections kept beside the detected events
    """
    ALTER TABLE sessions ADD COLUMN deleted_utc TEXT;
    ALTER TABLE sessions ADD COLUMN duplicate_of INTEGER;
    ALTER TABLE sessions ADD COLUMN fingerprint TEXT;
    ALTER TABLE sessions ADD COLUMN date_source TEXT NOT NULL DEFAULT 'recording';
    CREATE TABLE corrections (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        target TEXT NOT NULL,               -- set or hold
        idx INTEGER NOT NULL,               -- sets.idx or holds.idx
        field TEXT NOT NULL,                -- rep_count, start_s, end_s, side
        value TEXT NOT NULL,                -- JSON
        created_utc TEXT NOT NULL,
        UNIQUE (session_id, target, idx, field)
    );
    CREATE INDEX corrections_session ON corrections (session_id);
    CREATE INDEX sessions_fingerprint ON sessions (fingerprint);
    """,
    # 4: what reading the recording could not give, shown with the session (cli.report's
    # damage_warning): records skipped for damage, and a recording without a clean stop
    """
    ALTER TABLE sessions ADD COLUMN damaged_blocks INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: when a session's events were last found again (``holdtrack reanalyze``); NULL: as imported
    """
    ALTER TABLE sessions ADD COLUMN reanalysed_utc TEXT;
    """,
    # 6: stream time of the first sample, so pages show seconds into the session also for
    # files on Unix time; NULL (stored before): the display trace's start stands in
    """
    ALTER TABLE sessions ADD COLUMN start_s REAL;
    """,
    _samples_signatures,
    # 8: the user's own note on a session (``sensor.store.notes``), and when it last changed
    # (the dashboard's cache key)
    """
    ALTER TABLE sessions ADD COLUMN note TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN noted_utc TEXT;
    """,
    # 9: how clearly each rep and hold passed the detector's tests (``Rep.confidence``,
    # ``Hold.confidence``); rows stored before it were not judged: 1
    """
    ALTER TABLE reps ADD COLUMN confidence REAL NOT NULL DEFAULT 1.0;
    ALTER TABLE holds ADD COLUMN confidence REAL NOT NULL DEFAULT 1.0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """Split a migration script into statements (ours hold no ';' inside strings)."""
    out = []
    for part in script.split(";"):
        lines = [ln.split("--", 1)[0] for ln in part.splitlines()]
        stmt = "\n".join(lines).strip()
        if stmt:
            out.append(stmt)
    return out
