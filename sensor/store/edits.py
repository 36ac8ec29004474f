"""Editing stored sessions: the bin (delete with undo), dates, duplicates by content, and
the user's corrections, kept beside (never over) the detected events.

A correction is one row ``(session, target, idx, field, value)``: ``target`` is ``set``
(field ``rep_count``) or ``hold`` (fields ``start_s``, ``end_s``, ``side``); ``idx`` is the
set's or hold's index in its session. ``apply_corrections`` gives the analysis as the user
says it was; the detected rows stay as they were, so the detector can be scored against
the user's word (``holdtrack evaluate --labels``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sensor.errors import StoreError
from sensor.events import Analysis
from sensor.store.marks import repair_marks
from sensor.store.signature import Signature, same_files, sign_file
from sensor.store.writes import SessionInfo, Store
from sensor.trace import Trace

HOLD_FIELDS = ("start_s", "end_s", "side")
SIDES = ("left", "right")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- duplicates by content (sensor.store.signature) -----------------------------------------


def find_same_samples(store: Store, path: Path, sig: Signature) -> tuple[int | None, int]:
    """A kept session whose file holds the same samples as ``path`` (signature ``sig``), else
    None; and the newest session id looked at (``newer_candidates`` looks past it)."""
    _sign_unsigned(store)
    with store.connect() as con:
        seen = int(con.execute("SELECT coalesce(max(id), 0) FROM sessions").fetchone()[0])
        rows = newer_candidates(con, sig, 0)
    return confirm_same(store, path, sig, rows), seen


def newer_candidates(con: sqlite3.Connection, sig: Signature, after: int) -> list[tuple[int, str, str | None]]:
    """Kept sessions after id ``after`` that may hold the same samples: as many, and ends that
    agree (or a signature from before this one, to be made again)."""
    rows = con.execute(
        "SELECT id, file_path, fingerprint FROM sessions WHERE samples_n = ? AND id > ? AND deleted_utc IS NULL ORDER BY id",
        (sig.n, after),
    ).fetchall()
    out = []
    for sid, file_path, fp in rows:
        stored = Signature.from_json(fp)
        if stored is None or stored.may_match(sig):
            out.append((int(sid), str(file_path), fp))
    return out


def confirm_same(store: Store, path: Path, sig: Signature, rows: Iterable[tuple[int, str, str | None]]) -> int | None:
    """The first of ``rows`` whose kept file holds the same samples as ``path``, sample by sample."""
    for sid, file_path, fp in rows:
        kept = store.resolve(file_path)
        stored = Signature.from_json(fp)
        if stored is None:  # signed before this signature existed: signed again now
            stored = sign_file(kept)
            _set_signature(store, sid, stored)
        if stored is not None and stored.may_match(sig) and same_files(path, kept):
            return sid
    return None


def add_unless_same(
    store: Store, path: Path, sig: Signature | None, seen: int, analysis: Analysis, info: SessionInfo, trace: Trace | None
) -> tuple[int | None, int | None]:
    """Store the session unless one stored since session ``seen`` holds the same samples:
    (the new id, None) or (None, that session's id). The check and the insert are one
    transaction, so of two imports of one recording in two files at once the second finds
    the first. Candidates seen under the write lock are compared outside it (files are
    read), then the insert is tried again past them."""
    newer: list[tuple[int, str, str | None]] = []

    def clash(con: sqlite3.Connection) -> bool:
        newer[:] = newer_candidates(con, sig, seen) if sig is not None else []
        return bool(newer)

    while True:
        sid = store.add_session_unless(analysis, info, trace, clash)
        if sid is not None or sig is None:
            return sid, None
        same = confirm_same(store, path, sig, newer)
        if same is not None:
            return None, same
        seen = max(r[0] for r in newer)


def _set_signature(store: Store, session_id: int, sig: Signature | None) -> None:
    # -1: its file cannot be read (gone, damaged): it holds nothing anything else holds.
    with store.transaction() as con:
        con.execute(
            "UPDATE sessions SET fingerprint = ?, samples_n = ? WHERE id = ?",
            (None if sig is None else sig.to_json(), -1 if sig is None else sig.n, session_id),
        )


def _sign_unsigned(store: Store, *, resign: bool = False) -> None:
    """Sign the kept sessions that have no signature yet (stored before signatures existed);
    ``resign``: also those signed the old way (the migration kept only their sample count)."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT id, file_path FROM sessions WHERE deleted_utc IS NULL AND (samples_n IS NULL OR (? AND fingerprint IS NULL AND samples_n >= 0))",
            (int(resign),),
        ).fetchall()
    for sid, file_path in rows:
        _set_signature(store, int(sid), sign_file(store.resolve(file_path)))


def find_duplicates(store: Store) -> list[tuple[int, int]]:
    """Mark sessions whose samples another (older) session already holds; sessions without a
    signature of today's kind are signed first (their files read once). Returns (duplicate,
    original) for every pair found."""
    _sign_unsigned(store, resign=True)
    with store.connect() as con:
        rows = con.execute(
            "SELECT id, file_path, fingerprint, samples_n FROM sessions WHERE deleted_utc IS NULL AND samples_n > 0 ORDER BY id"
        ).fetchall()
    by_n: dict[int, list[tuple[int, Path, Signature]]] = {}
    found: list[tuple[int, int]] = []
    for r in rows:
        sig = Signature.from_json(r["fingerprint"])
        if sig is None:
            continue
        path = store.resolve(r["file_path"])
        older = by_n.setdefault(sig.n, [])
        original = next((o for o, opath, osig in older if osig.may_match(sig) and same_files(path, opath)), None)
        if original is not None:
            found.append((int(r["id"]), original))
        older.append((int(r["id"]), path, sig))
    with store.transaction() as con:
        for sid, original in found:
            con.execute("UPDATE sessions SET duplicate_of = ? WHERE id = ? AND duplicate_of IS NULL", (original, sid))
        repair_marks(con)
    return found


def mark_duplicate(store: Store, session_id: int, of: int | None) -> None:
    """Mark ``session_id`` as a copy of ``of`` (not counted in history), or unmark it (None).
    Marked as a copy of a copy, it joins that one's original; marked as a copy of its own
    copy, that one becomes the original (the latest word wins: never a circle)."""
    if of == session_id:
        raise StoreError(f"session {session_id} cannot be a duplicate of itself")
    _exists(store, session_id)
    if of is not None:
        _exists(store, of)
    with store.transaction() as con:
        if of is not None:
            row = con.execute("SELECT deleted_utc, duplicate_of FROM sessions WHERE id = ?", (of,)).fetchone()
            if row["deleted_utc"] is not None:
                raise StoreError(f"session {of} is in the bin: restore it first to mark a session as its duplicate")
            if row["duplicate_of"] == session_id:
                con.execute("UPDATE sessions SET duplicate_of = ? WHERE duplicate_of = ?", (of, session_id))
                con.execute("UPDATE sessions SET duplicate_of = NULL WHERE id = ?", (of,))
        con.execute("UPDATE sessions SET duplicate_of = ? WHERE id = ?", (of, session_id))
        repair_marks(con)


def merge_duplicate(store: Store, session_id: int) -> int:
    """Merge a session marked as a duplicate into its original: the user's corrections and
    an edited date move over where the original has none; the copy goes to the bin (undo
    restores it). Returns the original's id."""
    with store.transaction() as con:
        row = con.execute("SELECT duplicate_of, started_utc, local_date, date_source FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row["duplicate_of"] is None:
            raise StoreError(f"session {session_id} is not marked as a duplicate")
        original = int(row["duplicate_of"])
        con.execute(
            """INSERT OR IGNORE INTO corrections (session_id, target, idx, field, value, created_utc)
               SELECT ?, target, idx, field, value, created_utc FROM corrections WHERE session_id = ?""",
            (original, session_id),
        )
        if row["date_source"] == "edited":
            con.execute(
                "UPDATE sessions SET started_utc = ?, local_date = ?, date_source = 'edited' WHERE id = ? AND date_source != 'edited'",
                (row["started_utc"], row["local_date"], original),
            )
        con.execute("UPDATE sessions SET deleted_utc = ? WHERE id = ?", (_now(), session_id))
        repair_marks(con)
    return original


# -- the bin and dates ---------------------------------------------------------------------


def _exists(store: Store, session_id: int) -> None:
    with store.connect() as con:
        if con.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
            raise StoreError(f"there is no session {session_id}")


def delete_session(store: Store, session_id: int) -> None:
    """Move a session to the bin: gone from every page and total, restorable by ``undo_delete``."""
    _exists(store, session_id)
    with store.transaction() as con:
        con.execute("UPDATE sessions SET deleted_utc = ? WHERE id = ? AND deleted_utc IS NULL", (_now(), session_id))
        repair_marks(con)  # its duplicates now count in its place, once


def undo_delete(store: Store, session_id: int) -> None:
    _exists(store, session_id)
    with store.transaction() as con:
        con.execute("UPDATE sessions SET deleted_utc = NULL WHERE id = ?", (session_id,))
        repair_marks(con)  # back as a duplicate if its workout counts already


def deleted_sessions(store: Store) -> list[tuple[int, str, str]]:
    """(id, local date, deleted at) of the sessions in the bin, last deleted first."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT id, local_date, deleted_utc FROM sessions WHERE deleted_utc IS NOT NULL ORDER BY deleted_utc DESC, id DESC"
        ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def set_started(store: Store, session_id: int, started: datetime) -> None:
    """Change when a session took place (naive times are the user's local time)."""
    _exists(store, session_id)
    local = started.astimezone() if started.tzinfo is None else started
    utc = local.astimezone(UTC)
    with store.transaction() as con:
        con.execute(
            "UPDATE sessions SET started_utc = ?, local_date = ?, date_source = 'edited' WHERE id = ?",
            (utc.strftime("%Y-%m-%dT%H:%M:%SZ"), local.date().isoformat(), session_id),
        )


# -- corrections ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Correction:
    target: str  # set or hold
    idx: int
    field: str
    value: Any


def _put(store: Store, session_id: int, target: str, idx: int, field: str, value: Any) -> None:
    with store.transaction() as con:
        sql = (
            "SELECT 1 FROM sets WHERE session_id = ? AND idx = ?"
            if target == "set"
            else ("SELECT 1 FROM holds WHERE session_id = ? AND idx = ?")
        )
        if con.execute(sql, (session_id, idx)).fetchone() is None:
            raise StoreError(f"session {session_id} has no {target} {idx + 1}")
        con.execute(
            """INSERT INTO corrections (session_id, target, idx, field, value, created_utc) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (session_id, target, idx, field) DO UPDATE SET value = excluded.value,
               created_utc = excluded.created_utc""",
            (session_id, target, idx, field, json.dumps(value), _now()),
        )


def correct_set(store: Store, session_id: int, set_idx: int, reps: int) -> None:
    """ "I did 12, it counted 11": the set's true rep count."""
    if not 0 <= int(reps) <= 500:
        raise StoreError(f"a set of {reps} reps is not possible")
    _put(store, session_id, "set", set_idx, "rep_count", int(reps))


def correct_hold(
    store: Store,
    session_id: int,
    hold_idx: int,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    side: str | None = None,
) -> None:
    """A hold's true start, end (seconds in the recording) or side (the side the body rests on)."""
    if side is not None and side not in SIDES:
        raise StoreError(f"side must be left or right, not {side!r}")
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise StoreError(f"a hold must end after it starts ({start_s:.1f} s to {end_s:.1f} s)")
    for field, value in (("start_s", start_s), ("end_s", end_s), ("side", side)):
        if value is not None:
            _put(store, session_id, "hold", hold_idx, field, float(value) if field != "side" else value)


def set_sides(store: Store, session_id: int, sides: dict[int, str]) -> None:
    """The side of side planks whose side could not be known (no opening stand)."""
    for idx, side in sides.items():
        correct_hold(store, session_id, idx, side=side)


def clear_corrections(store: Store, session_id: int, target: str | None = None, idx: int | None = None) -> int:
    """Forget corrections (all of a session, or of one set or hold); returns how many."""
    with store.transaction() as con:
        cur = con.execute(
            """DELETE FROM corrections WHERE session_id = ? AND (? IS NULL OR target = ?) AND (? IS NULL OR idx = ?)""",
            (session_id, target, target, idx, idx),
        )
        return int(cur.rowcount)


def corrections(store: Store, session_ids: Iterable[int] | None = None) -> dict[int, list[Correction]]:
    """Corrections by session (all sessions when ``session_ids`` is None)."""
    with store.connect() as con:
        rows = con.execute("SELECT session_id, target, idx, field, value FROM corrections ORDER BY id").fetchall()
    wanted = None if session_ids is None else set(session_ids)
    out: dict[int, list[Correction]] = {}
    for r in rows:
        if wanted is None or r[0] in wanted:
            out.setdefault(int(r[0]), []).append(Correction(r[1], int(r[2]), r[3], json.loads(r[4])))
    return out


def carry_corrections(before: Analysis, after: Analysis, fixes: Sequence[Correction]) -> dict[tuple[str, int], int] | None:
    """Where each corrected set or hold of ``before`` is among the events of ``after`` (the
    same session found again): the set or hold of the same exercise that overlaps it most
    in time. None when one has no such counterpart, or two would land on one: then the
    corrections would describe events that are gone, and the old events must stay."""
    spans = {"set": (_set_spans(before), _set_spans(after)), "hold": (_hold_spans(before), _hold_spans(after))}
    moved: dict[tuple[str, int], int] = {}
    for target, idx in sorted({(c.target, c.idx) for c in fixes}):
        old, new = spans[target]
        if not 0 <= idx < len(old):
            return None
        exercise, a, b = old[idx]
        overlaps = [(min(b, d) - max(a, c), j) for j, (ex, c, d) in enumerate(new) if ex == exercise]
        best = max(overlaps, default=(0.0, -1))
        if best[0] <= 0.0:
            return None
        moved[(target, idx)] = best[1]
    if len({(t, j) for (t, _), j in moved.items()}) < len(moved):
        return None
    return moved


def _set_spans(a: Analysis) -> list[tuple[str, float, float]]:
    from sensor.routine import group_sets

    return [(a.reps[m[0]].exercise, min(a.reps[i].start_s for i in m), max(a.reps[i].end_s for i in m)) for m in group_sets(a.reps)]


def _hold_spans(a: Analysis) -> list[tuple[str, float, float]]:
    return [(h.exercise, h.start_s, h.end_s) for h in a.holds]


def apply_corrections(a: Analysis, fixes: Sequence[Correction]) -> tuple[Analysis, dict[int, int]]:
    """The analysis as the user says it was, and the corrected rep counts by set index
    (``sensor.routine.outcomes`` takes both). ``a`` is left unchanged."""
    counts = {c.idx: int(c.value) for c in fixes if c.target == "set" and c.field == "rep_count"}
    by_hold: dict[int, dict[str, Any]] = {}
    for c in fixes:
        if c.target == "hold" and c.field in HOLD_FIELDS:
            by_hold.setdefault(c.idx, {})[c.field] = c.value
    if not by_hold:
        return a, counts
    holds = list(a.holds)
    for i, f in by_hold.items():
        if 0 <= i < len(holds):
            h = holds[i]
            start, end = float(f.get("start_s", h.start_s)), float(f.get("end_s", h.end_s))
            holds[i] = replace(
                h,
                side=f.get("side", h.side),
                start_s=start,
                end_s=end,
                duration_s=round(max(0.0, end - start), 3) if ("start_s" in f or "end_s" in f) else h.duration_s,
            )
    return replace(a, holds=holds), counts
