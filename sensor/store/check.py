"""The session database's health, checked when a store is opened.

A damaged database is refused at open with one line, not first met by whichever query
lands on a bad page (a History page half drawn, an import half done). ``PRAGMA
quick_check`` reads every page once: about 13 ms for 500 sessions (17 MB, warm cache; up
to 40 ms on a loaded 2-core machine; ``benchmarks/store_open.py``) against 1 ms for the
rest of opening, so it runs on every open up to ``QUICK_CHECK_MAX_BYTES``. A larger store skips it (opening
stays fast) and relies on every query turning sqlite's "malformed" into the same line.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol


class Checkable(Protocol):
    """What the check needs of a store (``database.Database``)."""

    @property
    def db_path(self) -> Path: ...

    def connect(self) -> AbstractContextManager[sqlite3.Connection]: ...


QUICK_CHECK_MAX_BYTES = 256 << 20  # ~7,500 sessions, ~0.4 s of checking


def database_bytes(db: Path) -> int:
    """The database and its write-ahead log, as the check reads them."""
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.is_file())


def check_database(store: Checkable, max_bytes: int | None = None) -> bool:
    """Raise ``StoreError`` ("... is damaged ...") when the database fails sqlite's quick
    check; returns whether the check ran (False: too large to check at every open)."""
    if database_bytes(store.db_path) > (QUICK_CHECK_MAX_BYTES if max_bytes is None else max_bytes):
        return False
    with store.connect() as con:
        # quick_check(1): stop at the first problem; the user needs one line, not a list.
        verdict = str(con.execute("PRAGMA quick_check(1)").fetchone()[0])
        if verdict != "ok":
            # Raised inside connect() so the store words it as for any damaged page.
            # sqlite's report spans lines and starts with a banner: the store says one line
            first = " ".join(verdict.replace("*** in database main ***", "").split())
            raise sqlite3.DatabaseError(f"quick check: {first[:160]}")
    return True
