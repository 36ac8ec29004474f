"""Duplicate marks stay sound (issue 20): no circle (A of B and B of A, or longer), no mark at
a session in the bin or gone, whatever the order of marks, merges, deletes and undos; the
workout then counts exactly once. Stores with bad marks are repaired when opened (schema 7),
and old signatures are dropped, each session signed again from its file when compared."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, reps, session
from test_same_samples import quiet_plank, recording

from sensor import importer
from sensor.errors import StoreError
from sensor.files.inputs import write_generic_csv
from sensor.store import SCHEMA_VERSION, Store, edits, queries, weeks
from sensor.store import schema as schema_mod
from sensor.store.schema import MIGRATIONS, statements

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def five_copies(folder: Path) -> tuple[Store, list[int]]:
    """Five sessions of one workout (same day, same counts)."""
    st = Store(folder)
    return st, [session(st, T0 + timedelta(minutes=k), analysis(reps("bridge", 12)), tag=str(k)) for k in range(5)]


def marks(st: Store) -> dict[int, tuple[int | None, bool]]:
    """id -> (duplicate_of, in the bin)."""
    with st.connect() as con:
        return {int(r[0]): (r[1], r[2] is not None) for r in con.execute("SELECT id, duplicate_of, deleted_utc FROM sessions")}


def assert_sound(st: Store) -> None:
    """Every kept mark points at a kept session that is itself unmarked, and every workout
    (what the marks join) counts exactly once if any of it is kept."""
    m = marks(st)
    for sid, (of, binned) in m.items():
        if of is not None and not binned:
            assert of in m and not m[of][1] and m[of][0] is None, (sid, m)
    counted = [r for r in queries.sessions(st) if r.duplicate_of is None]
    assert len(counted) == len({_group(m, r.id) for r in queries.sessions(st)}), m


def _group(m: dict[int, tuple[int | None, bool]], sid: int) -> int:
    """The end of the session's chain of marks (the original it counts as)."""
    seen = [sid]
    while (of := m[seen[-1]][0]) is not None and of not in seen:
        seen.append(of)
    return seen[-1]


def counted_days(st: Store) -> int:
    return sum(w.sessions for w in weeks.weekly_adherence(st, today=T0.date()))


def test_a_mark_back_never_makes_a_circle(tmp_path: Path) -> None:
    st, (a, b, c, d, _) = five_copies(tmp_path)
    edits.mark_duplicate(st, a, b)
    edits.mark_duplicate(st, b, a)  # the latest word wins: b is now the copy, a counts
    assert marks(st)[a] == (None, False) and marks(st)[b] == (a, False)
    # A longer circle: c of d, d of a (a's group), a of c.
    edits.mark_duplicate(st, c, d)
    edits.mark_duplicate(st, d, a)
    edits.mark_duplicate(st, a, c)
    assert_sound(st)
    assert counted_days(st) == 2  # a, b, c, d are one workout; the fifth is its own


def test_no_mark_points_at_a_session_in_the_bin(tmp_path: Path) -> None:
    st, (a, b, c, _, _) = five_copies(tmp_path)
    edits.delete_session(st, a)
    with pytest.raises(StoreError, match=f"session {a} is in the bin"):
        edits.mark_duplicate(st, b, a)
    edits.undo_delete(st, a)
    edits.mark_duplicate(st, b, a)
    edits.mark_duplicate(st, c, a)
    before = counted_days(st)
    edits.delete_session(st, a)  # the original: one of its copies counts in its place
    assert_sound(st)
    assert counted_days(st) == before
    assert marks(st)[b] == (None, False) and marks(st)[c] == (b, False)
    edits.undo_delete(st, a)  # back as a copy: still counted once
    assert_sound(st)
    assert counted_days(st) == before and marks(st)[a] == (b, False)


def test_merging_and_undoing_keep_one_count(tmp_path: Path) -> None:
    st, (a, b, _, _, _) = five_copies(tmp_path)
    edits.mark_duplicate(st, b, a)
    edits.correct_set(st, b, 0, 11)
    assert edits.merge_duplicate(st, b) == a
    edits.delete_session(st, a)  # both in the bin now
    assert_sound(st) and counted_days(st) == 3  # type: ignore[func-returns-value]
    edits.undo_delete(st, b)  # the copy comes back alone: it counts
    assert_sound(st)
    assert marks(st)[b] == (None, False) and counted_days(st) == 4
    edits.undo_delete(st, a)
    assert_sound(st) and counted_days(st) == 4  # type: ignore[func-returns-value]


def test_any_sequence_of_edits_keeps_the_marks_sound(tmp_path: Path) -> None:
    st, ids = five_copies(tmp_path)
    rng = random.Random(20)
    for _ in range(120):
        sid, of = rng.sample(ids, 2)
        op = rng.choice(["mark", "unmark", "delete", "undo", "merge"])
        try:
            if op == "mark":
                edits.mark_duplicate(st, sid, of)
            elif op == "unmark":
                edits.mark_duplicate(st, sid, None)
            elif op == "delete":
                edits.delete_session(st, sid)
            elif op == "undo":
                edits.undo_delete(st, sid)
            else:
                edits.merge_duplicate(st, sid)
        except StoreError:
            pass  # refused (a mark at the bin, a merge of an unmarked session): nothing changed
        assert_sound(st)


def test_removing_demo_sessions_leaves_no_mark_at_them(tmp_path: Path) -> None:
    st = Store(tmp_path)
    demo = session(st, T0, analysis(reps("bridge", 12)), demo=True)
    mine = session(st, T0, analysis(reps("bridge", 12)), tag="mine")
    edits.mark_duplicate(st, mine, demo)
    st.delete_demo()
    assert marks(st) == {mine: (None, False)}


def schema_6_store(folder: Path) -> Path:
    """A store as HoldTrack made it at schema 6."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "holdtrack.sqlite3"
    con = sqlite3.connect(db)
    for step in MIGRATIONS[:6]:
        assert isinstance(step, str)
        for stmt in statements(step):
            con.execute(stmt)
    con.execute("PRAGMA user_version = 6")
    con.commit()
    con.close()
    return db


def old_row(con: sqlite3.Connection, sid: int, file_path: str, fingerprint: str | None, dup: int | None, deleted: bool = False) -> None:
    con.execute(
        "INSERT INTO sessions (id, started_utc, local_date, duration_s, source_path, file_path, content_hash, kind, imported_utc,"
        " fingerprint, duplicate_of, deleted_utc) VALUES (?, '2025-03-03T09:00:00Z', '2025-03-03', 30, ?, ?, ?, 'htrec', 'x', ?, ?, ?)",
        (sid, file_path, file_path, f"h{sid}", fingerprint, dup, "2025-03-04T00:00:00Z" if deleted else None),
    )


def test_opening_an_old_store_repairs_its_marks_and_drops_its_old_signatures(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = schema_6_store(data)
    kept = data / "recordings" / "kept.htrec"
    kept.parent.mkdir()
    samples = quiet_plank(1, 12.0)
    recording(kept, samples, "2025-03-03T09:00:00Z")
    old = json.dumps({"n": len(samples), "t": 1.0, "sig": [9.8] * 32})  # schema 3's kind
    con = sqlite3.connect(db)
    old_row(con, 1, "recordings/kept.htrec", old, 2)  # 1 of 2 and 2 of 1: a circle
    old_row(con, 2, "recordings/two.htrec", old, 1)
    old_row(con, 3, "recordings/three.htrec", "not json", 4)  # at a session in the bin
    old_row(con, 4, "recordings/four.htrec", None, None, deleted=True)
    old_row(con, 5, "recordings/five.htrec", None, 99)  # at a session that is gone
    old_row(con, 6, "recordings/six.htrec", None, 6)  # at itself
    con.commit()
    con.close()

    st = Store(data)
    assert st.schema_version() == SCHEMA_VERSION  # this step and any after it
    assert_sound(st)
    m = marks(st)
    assert m[1] == (None, False) and m[2] == (1, False)  # the older counts
    assert m[3] == (None, False) and m[4] == (3, True)  # counts in place of the one in the bin
    assert m[5] == (None, False) and m[6] == (None, False)
    with st.connect() as con:
        rows = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, fingerprint, samples_n FROM sessions")}
    assert rows[1] == (None, len(samples)) and rows[3] == (None, None)  # the count kept as the key; signed again when compared
    # A copy of session 1's samples is found: session 1 is signed again from its kept file.
    csv = tmp_path / "export.csv"
    write_generic_csv(csv, samples)
    r = importer.import_paths(st, [csv]).results[0]
    assert (r.status, r.session_id) == ("already", 1), r.message
    with st.connect() as con:
        assert json.loads(con.execute("SELECT fingerprint FROM sessions WHERE id = 1").fetchone()[0])["v"] == 2


def test_a_migration_that_fails_half_way_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 7 and its version bump are one transaction (as every step): a failure (a crash,
    a full disk) after its first statements leaves schema 6 as it was; the next open migrates."""
    data = tmp_path / "data"
    db = schema_6_store(data)
    con = sqlite3.connect(db)
    old_row(con, 1, "recordings/a.htrec", json.dumps({"n": 5, "t": 1.0, "sig": []}), 2)
    old_row(con, 2, "recordings/b.htrec", None, 1)
    con.commit()
    con.close()

    def crash(con: sqlite3.Connection) -> int:
        raise OSError("disk I/O error")

    monkeypatch.setattr(schema_mod, "repair_marks", crash)
    with pytest.raises(OSError):
        Store(data)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 6
    assert [r[0] for r in con.execute("PRAGMA table_info(sessions)")].count("samples_n") == 0
    assert con.execute("SELECT fingerprint, duplicate_of FROM sessions WHERE id = 1").fetchone()[1] == 2
    con.close()
    monkeypatch.undo()
    st = Store(data)
    assert st.schema_version() == SCHEMA_VERSION  # this step and any after it
    assert_sound(st)
