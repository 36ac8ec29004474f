"""The user's own note on a session ("left knee sore", "new mat"): kept beside the session,
shown in History, edited on the session page, carried in every export."""

from __future__ import annotations

from datetime import UTC, datetime

from sensor.errors import StoreError, UsageError
from sensor.store.writes import Store

NOTE_MAX_CHARS = 2000  # a few paragraphs: a note, not a diary


def clean_note(text: str) -> str:
    """The note as stored: surrounding blanks and line ends trimmed; refused when too long."""
    note = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if len(note) > NOTE_MAX_CHARS:
        raise UsageError(f"a note holds at most {NOTE_MAX_CHARS} characters (this one has {len(note)})")
    return note


def set_note(store: Store, session_id: int, text: str) -> str:
    """Store ``text`` as the note of a session (an empty text removes it); returns what was
    stored. The note's time changes the store's revision, so pages show it at once."""
    note = clean_note(text)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # to the µs: also the dashboard's cache key
    with store.transaction() as con:
        n = con.execute("UPDATE sessions SET note = ?, noted_utc = ? WHERE id = ?", (note, stamp, session_id)).rowcount
    if not n:
        raise StoreError(f"there is no session {session_id}")
    return note


def note(store: Store, session_id: int) -> str:
    """A session's note ('' when it has none)."""
    with store.connect() as con:
        row = con.execute("SELECT note FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise StoreError(f"there is no session {session_id}")
    return str(row[0])
