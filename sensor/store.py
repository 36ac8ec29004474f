"""The session store: SQLite (WAL) with sessions, sets, reps, holds, gaps and traces.

Samples stay in recording files (copied into ``<data dir>/recordings/`` on import); the
database holds what the pipeline found in them and points back to the file. Every import
is one transaction, so a file that fails leaves the store exactly as it was. Only
parameterized SQL is used.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensor.errors import HoldTrackError, InputError, StoreError
from sensor.events import Analysis, Hold, Rep
from sensor.recording import Header
from sensor.routine import group_sets
from sensor.store_check import check_database

DB_FILE = "holdtrack.sqlite3"
RECORDINGS_DIR = "recordings"
ENV_DATA_DIR = "HOLDTRACK_DATA_DIR"
IMPORT_SUFFIXES = (".htrec", ".csv", ".zip")  # what a folder given to import is searched for


def data_dir(override: str | Path | None = None) -> Path:
    """The data folder: ``--data-dir``, else ``$HOLDTRACK_DATA_DIR``, else the platform's
    per-user data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only needed when no folder is given

    return Path(platformdirs.user_data_dir("holdtrack"))


# Ordered schema steps; step i brings ``PRAGMA user_version`` from i to i + 1. Never edit
# a released step: add a new one.
MIGRATIONS: tuple[str, ...] = (
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
    # 3: editing (sensor/edits.py): a bin with undo, duplicates found by content, where the
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
    # 4: what reading the recording could not give, shown with the session (sensor.report):
    # records skipped for damage, and a recording that ended without a clean stop
    """
    ALTER TABLE sessions ADD COLUMN damaged_blocks INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(slots=True)
class Trace:
    """Pelvis angle at a fixed rate for display (NaN where samples are missing)."""

    t0_s: float
    hz: float
    deg: np.ndarray

    @property
    def time_s(self) -> np.ndarray:
        return self.t0_s + np.arange(len(self.deg)) / self.hz


@dataclass(slots=True)
class SessionInfo:
    """What is known about a recording besides its analysis."""

    started_utc: datetime
    source_path: str
    file_path: str
    content_hash: str
    kind: str = "htrec"
    source: str = ""
    demo: bool = False
    mount: str = "back"
    device: dict[str, Any] = field(default_factory=dict)
    app_version: str = ""
    fingerprint: str | None = None  # the samples' signature (sensor.edits): duplicates by content
    date_source: str = "recording"  # recording, file time (nothing in the file said), edited


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The outcome for one file: ``status`` is added, already or failed."""

    path: Path
    status: str
    message: str
    session_id: int | None = None


@dataclass(slots=True)
class ImportReport:
    results: list[ImportResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[ImportResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        return f"{self.count('added')} added, {self.count('already')} already in the store, {self.count('failed')} failed"


Progress = Callable[[int, int, ImportResult], None]
Analyzer = Callable[[Path], "tuple[Analysis, Trace | None]"]
"""Reads one file into its analysis and display trace; raises ``InputError`` if it cannot."""


def file_hash(path: Path) -> str:
    from sensor.csvread import check_regular

    check_regular(path)  # a FIFO would block and /dev/zero never end: refused before reading
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class Store:
    """The session database in ``data_dir``; opening it creates or migrates the schema.

    Connections are short-lived (one per call), so a Store can be shared by threads (the
    Streamlit server runs each browser session in its own thread).
    """

    def __init__(self, folder: str | Path | None = None, *, timeout_s: float = 5.0) -> None:
        self.data_dir = data_dir(folder)
        self.recordings_dir = self.data_dir / RECORDINGS_DIR
        self.db_path = self.data_dir / DB_FILE
        self.timeout_s = timeout_s
        # A folder we cannot write is still viewable: the database is opened read-only.
        self.read_only = self.db_path.is_file() and not _writable(self.data_dir, self.db_path)
        try:
            self.recordings_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            if not self.read_only:
                raise StoreError(f"cannot create the data folder {self.data_dir}: {e.strerror}") from None
        _refuse_lost_database(self.db_path, self.recordings_dir)
        if not self.db_path.exists():
            self._create()
        check_database(self)  # before a migration writes to it: damage is refused with one line
        self._migrate()

    # -- connections -------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn sqlite's exceptions into one clear ``StoreError`` line."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise  # a constraint, not a broken database: the caller decides
        except sqlite3.OperationalError as e:
            text = str(e)
            if "locked" in text or "busy" in text:
                raise StoreError(
                    f"session database {self.db_path} is locked by another program (is another HoldTrack importing?); try again in a moment"
                ) from None
            if "readonly" in text or "unable to open" in text:
                why = " (the data folder is read-only: viewing only)" if self.read_only else f": {text}"
                raise StoreError(f"session database {self.db_path} cannot be written{why}") from None
            if "disk is full" in text:
                raise StoreError(f"disk full: the session database {self.db_path} cannot grow; free some space") from None
            raise StoreError(f"session database {self.db_path}: {text}") from None
        except sqlite3.DatabaseError as e:
            # "file is not a database", "database disk image is malformed"
            raise StoreError(
                f"session database {self.db_path} is damaged ({e}); move it aside to start a new one "
                f"(recordings in {self.recordings_dir} can be imported again)"
            ) from None

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading (or a caller-managed write); closed on exit."""
        with self._errors():
            if self.read_only:
                con = sqlite3.connect(f"{self.db_path.resolve().as_uri()}?mode=ro", timeout=self.timeout_s, isolation_level=None, uri=True)
            else:
                con = sqlite3.connect(self.db_path, timeout=self.timeout_s, isolation_level=None)
            try:
                con.row_factory = sqlite3.Row
                con.execute("PRAGMA foreign_keys = ON")
                yield con
            finally:
                con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        with self.connect() as con:
            # IMMEDIATE takes the write lock now, so a locked database fails before any work.
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _create(self) -> None:
        """Build a new database beside the final name and link it into place, so the
        final name never holds a half-made (empty) database: an empty one is damage."""
        final = self.db_path
        fd, name = tempfile.mkstemp(prefix=".new-", suffix=".sqlite3", dir=self.data_dir)
        os.close(fd)
        self.db_path = Path(name)
        try:
            self._migrate()
            with self.connect() as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try:
                os.link(self.db_path, final)
            except FileExistsError:
                pass  # another process made it first: use theirs
            except OSError:  # a file system without hard links
                if not final.exists():
                    os.replace(self.db_path, final)
        except OSError as e:
            raise StoreError(f"cannot create the session database {final}: {e.strerror}") from None
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
            self.db_path = final

    def _migrate(self) -> None:
        if self.read_only:
            if (v := self.schema_version()) != SCHEMA_VERSION:
                raise StoreError(
                    f"session database {self.db_path} has schema {v} and the data folder is read-only; "
                    f"this HoldTrack needs schema {SCHEMA_VERSION} (make the folder writable once to upgrade it)"
                )
            return
        with self.connect() as con:
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"session database {self.db_path}: cannot switch to WAL mode (got {mode})")
            while True:
                # executescript() would commit on its own; statements one by one keep each
                # step and its version bump in one transaction. The version is read inside
                # the transaction so two processes opening a new store never both migrate.
                con.execute("BEGIN IMMEDIATE")
                try:
                    version = int(con.execute("PRAGMA user_version").fetchone()[0])
                    if version > SCHEMA_VERSION:
                        raise StoreError(
                            f"session database {self.db_path} has schema {version}, newer than this "
                            f"HoldTrack understands ({SCHEMA_VERSION}); update HoldTrack"
                        )
                    if version == SCHEMA_VERSION:
                        con.execute("COMMIT")
                        return
                    for statement in _statements(MIGRATIONS[version]):
                        con.execute(statement)
                    # PRAGMA takes no parameters; the value is our own integer.
                    con.execute(f"PRAGMA user_version = {version + 1}")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")

    def schema_version(self) -> int:
        with self.connect() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])

    # -- writing -----------------------------------------------------------------------

    def has_hash(self, content_hash: str) -> int | None:
        """The session id of a file already imported, else None."""
        with self.connect() as con:
            row = con.execute("SELECT id FROM sessions WHERE content_hash = ?", (content_hash,)).fetchone()
        return int(row[0]) if row else None

    def add_session(self, analysis: Analysis, info: SessionInfo, trace: Trace | None = None) -> int:
        """Insert one analysed session with its sets, reps, holds, gaps and trace."""
        with self.transaction() as con:
            return self._insert(con, analysis, info, trace)

    def _insert(self, con: sqlite3.Connection, a: Analysis, info: SessionInfo, trace: Trace | None) -> int:
        device_id = None
        if info.device:
            d = (str(info.device.get("profile", "")), str(info.device.get("name", "")), str(info.device.get("address", "")))
            con.execute("INSERT OR IGNORE INTO devices (profile, name, address) VALUES (?, ?, ?)", d)
            device_id = con.execute("SELECT id FROM devices WHERE profile = ? AND name = ? AND address = ?", d).fetchone()[0]
        started = _as_utc(info.started_utc)
        cur = con.execute(
            """INSERT INTO sessions (started_utc, local_date, duration_s, source_path, file_path,
                   content_hash, kind, source, demo, calibrated, sample_rate_hz, mount, device_id,
                   app_version, imported_utc, fingerprint, date_source, damaged_blocks, interrupted)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                started.astimezone().date().isoformat(),
                float(a.duration_s),
                info.source_path,
                info.file_path,
                info.content_hash,
                info.kind,
                info.source or a.source,
                int(info.demo),
                int(a.calibrated),
                float(a.sample_rate_hz),
                info.mount,
                device_id,
                info.app_version,
                _utc_now(),
                info.fingerprint,
                info.date_source,
                int(a.damaged_blocks),
                int(a.interrupted),
            ),
        )
        sid = int(cur.lastrowid)  # type: ignore[arg-type]
        reps: list[Rep] = list(a.reps)
        rep_no = 0
        for set_idx, members in enumerate(group_sets(reps)):
            rs = [reps[i] for i in members]
            set_id = con.execute(
                "INSERT INTO sets (session_id, idx, exercise, start_s, end_s, rep_count) VALUES (?, ?, ?, ?, ?, ?)",
                (sid, set_idx, rs[0].exercise, rs[0].start_s, rs[-1].end_s, len(rs)),
            ).lastrowid
            for r in rs:
                con.execute(
                    """INSERT INTO reps (session_id, set_id, idx, exercise, start_s, end_s, hold_s,
                           detected_at_s, peak_deg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (sid, set_id, rep_no, r.exercise, r.start_s, r.end_s, r.hold_s, r.detected_at_s, r.peak_deg),
                )
                rep_no += 1
        holds: list[Hold] = sorted(a.holds, key=lambda h: h.start_s)
        con.executemany(
            """INSERT INTO holds (session_id, idx, exercise, side, start_s, end_s, duration_s,
                   sway_deg, tremor_dps, sag_deg, detected_at_s, score)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    sid,
                    i,
                    h.exercise,
                    h.side,
                    h.start_s,
                    h.end_s,
                    h.duration_s,
                    h.sway_deg,
                    h.tremor_dps,
                    h.sag_deg,
                    h.detected_at_s,
                    h.score,
                )
                for i, h in enumerate(holds)
            ],
        )
        con.executemany(
            "INSERT INTO gaps (session_id, start_s, end_s) VALUES (?, ?, ?)",
            [(sid, g.start_s, g.end_s) for g in a.gaps],
        )
        if trace is not None and len(trace.deg):
            con.execute(
                "INSERT INTO traces (session_id, t0_s, hz, deg) VALUES (?, ?, ?, ?)",
                (sid, float(trace.t0_s), float(trace.hz), np.asarray(trace.deg, "<f4").tobytes()),
            )
        return sid

    def delete_demo(self) -> int:
        """Remove the demo sessions (and their copied files); returns how many."""
        with self.transaction() as con:
            rows = con.execute("SELECT id, file_path FROM sessions WHERE demo = 1").fetchall()
            con.execute("DELETE FROM sessions WHERE demo = 1")
        for row in rows:
            self.resolve(row["file_path"]).unlink(missing_ok=True)
        return len(rows)

    def resolve(self, file_path: str) -> Path:
        """A session's recording path (stored relative to the data folder when inside it)."""
        p = Path(file_path)
        return p if p.is_absolute() else self.data_dir / p

    # -- importing ---------------------------------------------------------------------

    def import_paths(
        self,
        paths: Iterable[str | Path],
        progress: Progress | None = None,
        *,
        demo: bool = False,
        analyzer: Analyzer | None = None,
    ) -> ImportReport:
        """Import recordings and exports (folders are searched for them). Files already
        imported (same content) are skipped; a file that fails gets one error line and
        changes nothing in the store."""
        files = expand_paths(paths)
        report = ImportReport()
        for n, path in enumerate(files, 1):
            result = self.import_file(path, demo=demo, analyzer=analyzer)
            report.results.append(result)
            if progress is not None:
                progress(n, len(files), result)
        return report

    def import_file(self, path: Path, *, demo: bool = False, analyzer: Analyzer | None = None) -> ImportResult:
        """Import one file; never raises for a bad file (StoreError still propagates: a
        store that cannot be written is not the file's fault)."""
        try:
            return self._import_file(Path(path), demo, analyzer)
        except StoreError:
            raise
        except HoldTrackError as e:
            return ImportResult(Path(path), "failed", str(e))
        except OSError as e:
            return ImportResult(Path(path), "failed", f"{path}: {e.strerror or e}")
        except Exception as e:
            # A reader that tripped over a malformed file (even a bug, even MemoryError):
            # this file's problem only; the batch goes on and reports it.
            return ImportResult(Path(path), "failed", f"{path}: cannot be read ({type(e).__name__}: {e})")

    def _import_file(self, path: Path, demo: bool, analyzer: Analyzer | None) -> ImportResult:
        if not path.exists():
            raise InputError(path, "no such file")
        kind = detect_kind(path)
        digest = content_hash(path)
        existing = self.has_hash(digest)
        if existing is not None:
            return self._already(path, existing)
        from sensor.edits import find_by_fingerprint, fingerprint_file

        fingerprint = fingerprint_file(path)
        same = find_by_fingerprint(self, fingerprint)
        if same is not None:  # the same samples in another file (e.g. a recording's CSV export)
            return ImportResult(path, "already", f"{path}: already in the store (session {same}, the same samples)", same)
        analysis, trace = (analyzer or analyze_file)(path)
        info = _describe(path, kind, digest, demo)
        info.fingerprint = fingerprint
        copy = self._keep(path, info)
        try:
            sid = self.add_session(analysis, info, trace)
        except sqlite3.IntegrityError as e:
            sid2 = self.has_hash(digest)
            if sid2 is None:  # not a race with another import: the analysis is unusable
                if copy is not None:
                    copy.unlink(missing_ok=True)
                raise InputError(path, f"analysis cannot be stored ({e})") from None
            # The winner's session points at this very copy (the name comes from the
            # content hash): keep it.
            # Imported by someone else in the meantime (the hash is UNIQUE).
            return ImportResult(path, "already", f"{path}: already in the store (session {sid2})", sid2)
        except BaseException:
            if copy is not None:
                copy.unlink(missing_ok=True)
            raise
        what = f"{len(analysis.reps)} reps, {len(analysis.holds)} hold{'' if len(analysis.holds) == 1 else 's'}"
        if analysis.damaged_blocks:
            what += f"; {analysis.damaged_blocks} damaged block(s) skipped"
        if analysis.interrupted:
            what += f"; interrupted recording, {analysis.duration_s:.1f} s recovered"
        return ImportResult(path, "added", f"{path}: added as session {sid} ({what})", sid)

    def _already(self, path: Path, sid: int) -> ImportResult:
        """A file imported before; if its session is in the bin, importing it restores it."""
        with self.transaction() as con:
            restored = con.execute("UPDATE sessions SET deleted_utc = NULL WHERE id = ? AND deleted_utc IS NOT NULL", (sid,)).rowcount
        if restored:
            return ImportResult(path, "added", f"{path}: restored session {sid} from the bin", sid)
        return ImportResult(path, "already", f"{path}: already in the store (session {sid})", sid)

    def _keep(self, path: Path, info: SessionInfo) -> Path | None:
        """Copy the file into the data folder (unless it already lives there) so the
        session stays replayable when the original moves; sets ``info.file_path``.
        Returns the copy this call made (to remove if the import fails), else None."""
        try:
            path.resolve().relative_to(self.data_dir.resolve())
            inside = True
        except ValueError:
            inside = False
        if inside:
            info.file_path = str(path.resolve().relative_to(self.data_dir.resolve()))
            return None
        day = _as_utc(info.started_utc).astimezone().strftime("%Y-%m-%d")
        suffix = ".zip" if path.is_dir() else path.suffix.lower()
        target = self.recordings_dir / f"{day}_{info.content_hash[:12]}{suffix}"
        info.file_path = str(target.relative_to(self.data_dir))
        if target.exists():  # left by an import that raced with this one: not ours to remove
            return None
        # Write then rename: a crash never leaves half a file under the final name. The
        # temporary name is unique, so concurrent imports never share (or remove) one.
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=self.recordings_dir)
        os.close(fd)
        tmp = Path(name)
        try:
            if path.is_dir():  # an export folder is kept zipped (the phone reader takes zips)
                made = Path(shutil.make_archive(str(tmp), "zip", path))
                os.replace(made, tmp)
            else:
                shutil.copyfile(path, tmp)
            try:
                os.link(tmp, target)  # never over a copy another import just made (and may remove)
            except FileExistsError:
                return None
            except OSError:  # a file system without hard links
                if target.exists():
                    return None
                os.replace(tmp, target)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreError(
                    f"disk full: cannot copy {path.name} into {self.recordings_dir}; free some space and import it again"
                ) from None
            raise
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".zip").unlink(missing_ok=True)
        return target

    def import_recording(self, path: Path, *, demo: bool = False, keep_empty: bool = True) -> ImportResult:
        """Import a recording written by the live runner (already in the data folder).
        ``keep_empty=False``: a recording in which nothing was detected (a Stop after a few
        seconds) is not saved as a session; status ``empty``, the file stays for the user
        to import if they want it."""
        if keep_empty:
            return self.import_file(path, demo=demo)
        try:
            analysis, trace = analyze_file(Path(path))
        except HoldTrackError as e:
            return ImportResult(Path(path), "failed", str(e))
        if not analysis.reps and not analysis.holds:
            return ImportResult(
                Path(path),
                "empty",
                f"nothing was detected in {analysis.duration_s:.0f} s: not saved as a session (holdtrack import {path} keeps it)",
            )
        return self.import_file(path, demo=demo, analyzer=lambda _p: (analysis, trace))

    def session_count(self, *, include_demo: bool = True) -> int:
        with self.connect() as con:
            q = "SELECT count(*) FROM sessions WHERE deleted_utc IS NULL" + ("" if include_demo else " AND demo = 0")
            return int(con.execute(q).fetchone()[0])

    def revision(self) -> tuple[int, int, str]:
        """Changes whenever sessions are added, removed or edited (a cache key for the dashboard)."""
        with self.connect() as con:
            row = con.execute(
                "SELECT count(*), coalesce(max(id), 0), coalesce(max(imported_utc), ''), "
                "(SELECT coalesce(group_concat(session_id || target || idx || field || value), '') FROM corrections) || ':' || "
                "coalesce(group_concat(coalesce(deleted_utc, '') || coalesce(duplicate_of, '') || started_utc, ','), '') "
                "FROM sessions"
            ).fetchone()
        # Edits (bin, dates, duplicates, corrections) change no count: hash what they change.
        return int(row[0]), int(row[1]), str(row[2]) + hashlib.sha1(str(row[3]).encode()).hexdigest()[:12]


def _writable(folder: Path, db: Path) -> bool:
    return os.access(folder, os.W_OK) and os.access(db, os.W_OK)


def _refuse_lost_database(db: Path, recordings: Path) -> None:
    """A database file that is empty, or missing beside its journal, is a lost history:
    say so instead of silently starting a new, empty one over it."""
    wal = db.with_name(db.name + "-wal")
    if db.is_file() and db.stat().st_size == 0 and not (wal.is_file() and wal.stat().st_size):
        problem = "is empty (0 bytes): it was truncated"
    elif not db.exists() and wal.is_file() and wal.stat().st_size:
        problem = "is missing but its journal (-wal) is here: it was moved or deleted"
    else:
        return
    raise StoreError(
        f"session database {db} {problem}; HoldTrack will not start a new one over it. Move it aside "
        f"(and its -wal/-shm files) to start afresh; recordings in {recordings} can be imported again"
    )


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (ours hold no ';' inside strings)."""
    out = []
    for part in script.split(";"):
        lines = [ln.split("--", 1)[0] for ln in part.splitlines()]
        stmt = "\n".join(lines).strip()
        if stmt:
            out.append(stmt)
    return out


EXPORT_NAMES = {"gyroscope.csv", "totalacceleration.csv", "accelerometer.csv", "raw data.csv"}


def is_export_dir(path: Path) -> bool:
    """A phone-export folder (Sensor Logger, phyphox): imported as one session."""
    try:
        return path.is_dir() and any(f.name.lower() in EXPORT_NAMES for f in path.iterdir() if f.is_file())
    except OSError:
        return False


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, plus what folders hold: recordings, CSV files, zipped exports, and
    phone-export folders (each one session), in sorted order."""
    out: list[Path] = []

    def walk(folder: Path) -> None:
        for p in sorted(folder.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir():
                if is_export_dir(p):
                    out.append(p)
                else:
                    walk(p)
            elif p.suffix.lower() in IMPORT_SUFFIXES:
                out.append(p)

    for p in map(Path, paths):
        if p.is_dir() and not is_export_dir(p):
            walk(p)
        else:
            out.append(p)
    return out


def content_hash(path: Path) -> str:
    """sha256 of a file, or of a folder's files (names and contents, in sorted order)."""
    if not path.is_dir():
        return file_hash(path)
    h = hashlib.sha256()
    for f in sorted(x for x in path.rglob("*") if x.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0" + file_hash(f).encode())
    return h.hexdigest()


def detect_kind(path: Path) -> str:
    """htrec, csv or phone; an unknown format raises ``InputError`` (one line)."""
    from sensor.inputs import sniff_kind

    return {"recording": "htrec", "csv": "csv"}.get(sniff_kind(path), "phone")


def _describe(path: Path, kind: str, digest: str, demo: bool) -> SessionInfo:
    """Session facts from the file: the header of a recording, the file time otherwise."""
    from sensor.dates import recording_start

    started = recording_start(path, kind)  # the header, the export's metadata or first timestamp
    info = SessionInfo(
        started or datetime.fromtimestamp(path.stat().st_mtime, UTC),
        str(path.resolve()),
        "",
        digest,
        kind=kind,
        demo=demo,
        date_source="recording" if started else "file time",
    )
    if kind != "htrec":
        return info
    h = read_header(path)
    info.source = h.source
    info.mount = h.mount
    info.device = dict(h.device)
    info.app_version = h.app_version
    return info


def read_header(path: Path) -> Header:
    """A recording's header, with the file closed again (RecordingReader closes its file
    when its iteration ends, so one step of it is taken and then stopped)."""
    from sensor.recording import RecordingReader

    reader = RecordingReader(path)
    items = iter(reader)
    next(items, None)
    items.close()  # type: ignore[attr-defined]  # a generator: runs the reader's finally
    return reader.header


def analyze_file(path: Path) -> tuple[Analysis, Trace | None]:
    """The pipeline's analysis of any supported input and its display trace, from one
    read of the file (the same code as ``holdtrack analyze``)."""
    from sensor.analyze import analyze_stream, note_read_status
    from sensor.inputs import open_input
    from sensor.pipeline import PipelineSettings
    from sensor.trace import TRACE_HZ, regular_trace

    header, items = open_input(path)  # streamed: memory does not grow with the file's length
    settings = PipelineSettings(trace_hz=TRACE_HZ, mount=header.mount or "back")
    analysis = analyze_stream(items, settings=settings, source=header.source)
    note_read_status(analysis, header)
    if not analysis.source:
        analysis.source = header.source
    trace = regular_trace(*analysis.trace, TRACE_HZ) if analysis.trace is not None else None
    analysis.trace = None
    return analysis, trace


def rows_to_analysis(session: sqlite3.Row | dict[str, Any], reps: Sequence[Any], holds: Sequence[Any], gaps: Sequence[Any]) -> Analysis:
    """Rebuild an ``Analysis`` from stored rows (exports, routine comparison)."""
    from sensor.events import Gap

    return Analysis(
        reps=[Rep(r["exercise"], r["start_s"], r["end_s"], r["hold_s"], r["detected_at_s"], r["peak_deg"]) for r in reps],
        holds=[
            Hold(
                h["exercise"],
                h["side"],
                h["start_s"],
                h["end_s"],
                h["duration_s"],
                h["sway_deg"],
                h["tremor_dps"],
                h["sag_deg"],
                h["detected_at_s"],
                h["score"],
            )
            for h in holds
        ],
        gaps=[Gap(g["start_s"], g["end_s"]) for g in gaps],
        calibrated=bool(session["calibrated"]),
        duration_s=float(session["duration_s"]),
        sample_rate_hz=float(session["sample_rate_hz"]),
        source=str(session["source"]),
        damaged_blocks=int(session["damaged_blocks"]),  # so exports of the session say it too
        interrupted=bool(session["interrupted"]),
    )
