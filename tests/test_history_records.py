"""What History adds to the weeks: streaks, personal bests, notes, where each session came
from, adherence over any range. All from the sessions as the user corrected them."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from store_builders import analysis, database_at_step, hold, reps, session

from sensor.errors import StoreError, UsageError
from sensor.routine import Routine
from sensor.store import SCHEMA_VERSION, SessionInfo, Store, edits, exports, notes, queries, weeks
from sensor.store.bests import personal_bests
from sensor.store.history import history
from sensor.vocab import source_words

MON = date(2025, 3, 3)  # a Monday


def at(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def full(bridge_hold: float = 5.5, side: float = 32.0, plank: float = 40.0) -> list:
    """Every part of the routine done to target (with the given hold times)."""
    ext = [r for k in range(3) for r in reps("back_extension", 10, start=k * 160, every=4)]
    holds = [hold("side_plank", s, 600 + 100 * k, side) for k, s in enumerate(("left", "left", "right", "right"))]
    return [ext + reps("bridge", 12, start=1000, every=8, hold=bridge_hold), [*holds, hold("plank", None, 1200, plank)]]


def day(st: Store, d: date, tag: str = "", **kw: float) -> int:
    r, h = full(**kw)
    return session(st, at(d), analysis(r, h, duration=1400.0), tag=tag)


def test_weekly_streak_counts_weeks_with_every_goal_met(tmp_path: Path) -> None:
    st = Store(tmp_path)
    for w in range(5):  # weeks 0-3 full (three days each), week 4 only two days, week 5 full, week 6 (this) in progress
        for k in range(3 if w != 4 else 2):
            day(st, MON + timedelta(weeks=w, days=2 * k), tag=f"{w}{k}")
    for k in range(3):
        day(st, MON + timedelta(weeks=5, days=2 * k), tag=f"5{k}")
    day(st, MON + timedelta(weeks=6), tag="60")
    today = MON + timedelta(weeks=6, days=2)
    rows = queries.sessions(st)
    by_week = weeks.weekly_adherence(st, rows=rows, today=today)
    s = weeks.streaks(by_week, rows, Routine(), today=today)
    assert (s.weeks, s.best_weeks) == (1, 4)  # week 5 (this week is not over: it does not break the run)
    # Training days in a row done to target: every one of the 18 was.
    assert (s.days, s.best_days) == (18, 18)
    # This week counts once its goals are met.
    for k in (1, 2):
        day(st, MON + timedelta(weeks=6, days=2 * k), tag=f"6{k}b")
    rows = queries.sessions(st)
    s = weeks.streaks(weeks.weekly_adherence(st, rows=rows, today=today), rows, Routine(), today=MON + timedelta(weeks=6, days=4))
    assert s.weeks == 2


def test_day_streak_breaks_on_a_day_short_of_target_and_uses_corrections(tmp_path: Path) -> None:
    st = Store(tmp_path)
    sun = MON + timedelta(days=6)
    day(st, MON, tag="a")
    short = day(st, MON + timedelta(days=2), tag="b", bridge_hold=3.0)  # no bridge held 5 s
    day(st, MON + timedelta(days=4), tag="c")
    rows = queries.sessions(st)
    s = weeks.streaks(weeks.weekly_adherence(st, rows=rows, today=sun), rows, Routine(), today=sun)
    assert (s.days, s.best_days) == (1, 1)
    # The user's word counts: the last day's bridge set corrected down to 8 reps ends the run.
    last = max(r.id for r in rows)
    edits.correct_set(st, last, 3, 8)  # the bridge set (after three back-extension sets): 8 reps
    rows = queries.sessions(st)
    s = weeks.streaks(weeks.weekly_adherence(st, rows=rows, today=sun), rows, Routine(), today=sun)
    assert (s.days, s.best_days) == (0, 1)
    edits.delete_session(st, short)  # a deleted session is no day at all
    rows = queries.sessions(st)
    s = weeks.streaks(weeks.weekly_adherence(st, rows=rows, today=sun), rows, Routine(), today=sun)
    assert (s.days, s.best_days) == (0, 1)


def test_a_week_without_training_ends_the_run_of_days(tmp_path: Path) -> None:
    st = Store(tmp_path)
    for k in range(3):
        day(st, MON + timedelta(days=2 * k), tag=f"a{k}")
    day(st, MON + timedelta(days=4 + 9), tag="b")  # nine days later
    rows = queries.sessions(st)
    s = weeks.streaks(weeks.weekly_adherence(st, rows=rows), rows, Routine(), today=MON + timedelta(days=14))
    assert (s.days, s.best_days) == (1, 3)
    s = weeks.streaks(weeks.weekly_adherence(st, rows=rows), rows, Routine(), today=MON + timedelta(days=30))
    assert (s.days, s.best_days) == (0, 3)  # and so does a week since the last


def test_personal_bests_use_corrections_and_skip_duplicates_and_deleted(tmp_path: Path) -> None:
    st = Store(tmp_path)
    a = day(st, MON, tag="a", plank=40.0, side=32.0)
    b = day(st, MON + timedelta(days=2), tag="b", plank=55.0, side=35.0)
    c = day(st, MON + timedelta(days=4), tag="c", plank=80.0, side=45.0)
    d = day(st, MON + timedelta(days=6), tag="d", plank=55.0)
    bests = {x.key: x for x in personal_bests(queries.sessions(st))}
    assert (bests["plank"].value, bests["plank"].session_id) == (80.0, c)
    assert (bests["side_left"].value, bests["side_left"].session_id) == (45.0, c)
    assert bests["bridges_held"].value == 12 and bests["bridges_held"].session_id == a  # the first to reach it
    edits.delete_session(st, c)
    bests = {x.key: x for x in personal_bests(queries.sessions(st))}
    assert (bests["plank"].value, bests["plank"].session_id) == (55.0, b)  # d only equals it
    edits.mark_duplicate(st, b, a)
    bests = {x.key: x for x in personal_bests(queries.sessions(st))}
    assert (bests["plank"].value, bests["plank"].session_id) == (55.0, d)
    # The user's word: b's plank (hold 12, after the four side planks) ended at 30 s in, and
    # d's bridge set held 14 reps.
    edits.mark_duplicate(st, b, None)
    edits.correct_hold(st, d, 4, end_s=1230.0)
    edits.correct_set(st, d, 3, 14)
    bests = {x.key: x for x in personal_bests(queries.sessions(st))}
    assert (bests["plank"].value, bests["plank"].session_id) == (55.0, b)
    assert (bests["bridges_held"].value, bests["bridges_held"].session_id) == (14, d)  # added reps are taken at the user's word
    right = personal_bests(queries.sessions(st))
    assert [x.key for x in right] == ["plank", "side_left", "side_right", "bridges_held"]


def test_no_bests_before_any_hold(tmp_path: Path) -> None:
    st = Store(tmp_path)
    session(st, at(MON), analysis(reps("back_extension", 10)))
    assert personal_bests(queries.sessions(st)) == []


def test_a_note_is_stored_shown_and_exported(tmp_path: Path) -> None:
    st = Store(tmp_path)
    sid = day(st, MON)
    other = day(st, MON + timedelta(days=1), tag="x")
    before = st.revision()
    assert notes.set_note(st, sid, "  left knee sore;\nnew mat  \n") == "left knee sore;\nnew mat"
    assert st.revision() != before  # the dashboard's caches see it at once
    rows = {r.id: r for r in queries.sessions(st)}
    assert rows[sid].note == "left knee sore;\nnew mat" and rows[other].note == ""
    h = history(st, Routine())
    assert {s["id"]: s["note"] for s in h["sessions"]} == {sid: "left knee sore;\nnew mat", other: ""}
    d = queries.session_detail(st, sid)
    assert d is not None and exports.session_json(d)["session"]["note"] == "left knee sore;\nnew mat"
    csv = pd.read_csv(io.StringIO(exports.history_csv(st)), keep_default_na=False)
    assert set(csv.loc[csv["session"] == sid, "note"]) == {"left knee sore;\nnew mat"}
    assert set(csv.loc[csv["session"] == other, "note"]) == {""}
    assert json.loads(exports.history_json(st))["sessions"][0]["session"]["note"] == "left knee sore;\nnew mat"
    notes.set_note(st, sid, "")
    assert notes.note(st, sid) == ""
    with pytest.raises(UsageError, match="at most 2000 characters"):
        notes.set_note(st, sid, "x" * 2001)
    with pytest.raises(StoreError, match="no session 99"):
        notes.set_note(st, 99, "hello")


NOTES_STEP = 8  # sensor.store.schema: the step that added notes


def test_a_store_of_the_previous_schema_gets_notes_and_keeps_its_sessions(tmp_path: Path) -> None:
    con = database_at_step(tmp_path, NOTES_STEP - 1)
    con.execute(
        "INSERT INTO sessions (started_utc, local_date, duration_s, source_path, file_path, content_hash, kind, imported_utc)"
        " VALUES ('2025-03-03T12:00:00Z', '2025-03-03', 60, '/x.csv', 'recordings/x.csv', 'h', 'csv', '2025-03-03T12:00:00Z')"
    )
    con.commit()
    con.close()
    st = Store(tmp_path)
    assert st.schema_version() == SCHEMA_VERSION
    [row] = queries.sessions(st)
    assert row.note == "" and row.source_words == "Import: CSV"
    notes.set_note(st, row.id, "first one")
    assert queries.sessions(st)[0].note == "first one"


def test_each_session_says_where_it_came_from(tmp_path: Path) -> None:
    st = Store(tmp_path)
    device = {"profile": "witmotion", "name": "WT901BLE67", "address": "AA:BB"}
    a = analysis(reps("bridge", 3))
    made = {
        "ble": st.add_session(a, SessionInfo(at(MON), "/a", "recordings/a.htrec", "a", source="ble", device=device)),
        "push": st.add_session(a, SessionInfo(at(MON), "/b", "recordings/b.htrec", "b", source="phone-push")),
        "replay": st.add_session(a, SessionInfo(at(MON), "/c", "recordings/c.htrec", "c", source="replay")),
        "csv": st.add_session(a, SessionInfo(at(MON), "/d.csv", "recordings/d.csv", "d", kind="csv", source="csv")),
        "phone": st.add_session(a, SessionInfo(at(MON), "/e.zip", "recordings/e.zip", "e", kind="phone", source="phone-export")),
        "demo": st.add_session(a, SessionInfo(at(MON), "/f", "recordings/f.htrec", "f", source="simulated", demo=True)),
        "sim": st.add_session(a, SessionInfo(at(MON), "/g", "recordings/g.htrec", "g", source="simulated")),
    }
    words = {r.id: r.source_words for r in queries.sessions(st)}
    assert {k: words[v] for k, v in made.items()} == {
        "ble": "Sensor WT901BLE67",
        "push": "Phone, live",
        "replay": "Replay",
        "csv": "Import: CSV",
        "phone": "Import: phone app",
        "demo": "Demo",
        "sim": "Simulated",
    }
    assert source_words("", "htrec", False) == "Import: recording"
    assert {s["id"]: s["source"] for s in history(st, Routine())["sessions"]}[made["ble"]] == "Sensor WT901BLE67"


def test_adherence_over_any_range_of_weeks(tmp_path: Path) -> None:
    st = Store(tmp_path)
    for w in (0, 1, 20, 40):
        for k in range(3):
            day(st, MON + timedelta(weeks=w, days=2 * k), tag=f"{w}{k}")
    today = MON + timedelta(weeks=41)
    everything = weeks.weekly_adherence(st, today=today)
    assert len(everything) == 42 and everything[0].start == MON
    rng = weeks.weekly_adherence(st, today=today, since=MON + timedelta(weeks=18, days=3), until=MON + timedelta(weeks=21, days=1))
    assert [w.start for w in rng] == [MON + timedelta(weeks=k) for k in (18, 19, 20, 21)]  # whole weeks
    assert [w.goals_met for w in rng] == [0, 0, 3, 0] and [w.sessions for w in rng] == [0, 0, 3, 0]
    before = weeks.weekly_adherence(st, today=today, since=MON - timedelta(weeks=3), until=MON - timedelta(days=1))
    assert [w.sessions for w in before] == [0, 0, 0]  # a range with nothing in it: empty weeks, not an error
