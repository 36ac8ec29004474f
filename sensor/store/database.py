"""The session database: where it lives, connections, transactions, and its errors said
as one line. Opening it creates or migrates the schema (``sensor.store.schema``)."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sensor.errors import StoreError
from sensor.store.check import check_database
from sensor.store.schema import MIGRATIONS, SCHEMA_VERSION, statements

DB_FILE = "holdtrack.sqlite3"
RECORDINGS_DIR = "recordings"
ENV_DATA_DIR = "HOLDTRACK_DATA_DIR"


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


class Database:
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
            if "disk is full" in text or ("disk I/O error" in text and _nearly_full(self.data_dir)):
                # A full disk in WAL mode often reads as an I/O error (the -shm cannot grow).
                raise StoreError(f"disk full writing {self.data_dir / DB_FILE}: free some space") from None
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
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreError(f"disk full writing {final}: free some space") from None
            raise StoreError(f"cannot create the session database {final}: {e.strerror}") from None
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
            self.db_path = final

    def schema_version(self) -> int:
        with self.connect() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])

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
                    step = MIGRATIONS[version]
                    if callable(step):
                        step(con)
                    else:
                        for statement in statements(step):
                            con.execute(statement)
                    # PRAGMA takes no parameters; the value is our own integer.
                    con.execute(f"PRAGMA user_version = {version + 1}")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")

    def resolve(self, file_path: str) -> Path:
        """A session's recording path (stored relative to the data folder when inside it)."""
        p = Path(file_path)
        return p if p.is_absolute() else self.data_dir / p

    def session_count(self, *, include_demo: bool = True) -> int:
        with self.connect() as con:
            q = "SELECT count(*) FROM sessions WHERE deleted_utc IS NULL" + ("" if include_demo else " AND demo = 0")
            return int(con.execute(q).fetchone()[0])

    def revision(self) -> tuple[int, int, str]:
        """Changes whenever sessions are added, removed, edited or analysed again (a cache key
        for the dashboard)."""
        with self.connect() as con:
            row = con.execute(
                "SELECT count(*), coalesce(max(id), 0), coalesce(max(imported_utc), ''), "
                "(SELECT coalesce(group_concat(session_id || target || idx || field || value), '') FROM corrections) || ':' || "
                "coalesce(group_concat(coalesce(deleted_utc, '') || coalesce(duplicate_of, '') || started_utc || coalesce(reanalysed_utc, '') || coalesce(noted_utc, ''), ','), '') "
                "FROM sessions"
            ).fetchone()
        # Edits (bin, dates, duplicates, corrections, re-analysis, notes) change no count: hash what they change.
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


def _nearly_full(folder: Path) -> bool:
    """Whether the disk holding ``folder`` has (next to) no room left (under 1 MB)."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < (1 << 20)
