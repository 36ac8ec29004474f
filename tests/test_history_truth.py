"""Adherence tells the truth: sessions with known content on known days (two sessions on one
day, one workout imported as a recording and as its CSV, a session without the opening
stand), counted by hand here, and ``holdtrack history --json``, the History page and every
session page must all say the same — before and after the user's edits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session
from streamlit.testing.v1 import AppTest
from test_dashboard_apptest import cards, grid

from sensor import importer
from sensor.cli import main
from sensor.store import Store, edits
from sensor.store.weeks import TODAY_ENV, current_day, week_start

pytestmark = pytest.mark.slow  # the whole dashboard, several times per test

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
# The week laid out is the last whole one, and its Sunday stands for today (pages and
# command): sessions from Monday to Friday of the current week were in the future early in
# the week (the importer refuses a start more than two days ahead), and a run across a
# Sunday midnight moved "this week".
TODAY = week_start(current_day()) - timedelta(days=1)
MON = week_start(TODAY)


@pytest.fixture(autouse=True)
def _today_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TODAY_ENV, TODAY.isoformat())


PARTS_OF_ROWS = {
    "Hip bridge": "bridge",
    "Back extension": "back_extension",
    "Side plank (left)": "side_left",
    "Side plank (right)": "side_right",
    "Front plank": "plank",
}


def at(d: date, hour: int) -> datetime:
    # Local date = d in every time zone from UTC-9 to UTC+11 at these hours.
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def ext_sets(*sizes: int, start: float = 0.0) -> list:
    """Back-extension sets of the given sizes, 2.5 minutes apart (each its own set)."""
    return [r for k, n in enumerate(sizes) for r in reps("back_extension", n, start=start + k * 150, every=4)]


@pytest.fixture()
def week(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """This week, Monday to Friday (counted by hand in each test):

    Mon 10:00  S1  bridge 12 × 5.5 s; back ext. 10+10+10; side plank L 32, 33 s, R 31, 30 s  → all to target
    Mon 18:00  S2  bridge 12 × 4.0 s (short holds); back ext. 10+10                          → nothing to target
    Wed 10:00  S3  back ext. 10+10+9                                                          → not to target
    Wed 15:00  S4  back ext. 10 (S3 + S4 make 3 sets of 10 only if added up: they are not)
    Thu 12:00  S5  no opening stand: side planks 35 s × 4, sides unknown; bridge 12 × 5.2 s   → bridge only
    Fri 12:00  S6  a real recording (5 simulated bridges), then its CSV export: one session
    """
    from sensor.files.inputs import write_generic_csv
    from sensor.recording import write_recording
    from sensor.sim.simulate import simulate_session

    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path / "data"))
    st = Store(tmp_path / "data")
    sides = [
        hold("side_plank", "left", 900, 32),
        hold("side_plank", "left", 1000, 33),
        hold("side_plank", "right", 1100, 31),
        hold("side_plank", "right", 1200, 30),
    ]
    ids = {
        "S1": session(st, at(MON, 10), analysis(reps("bridge", 12, start=600, hold=5.5) + ext_sets(10, 10, 10), sides, duration=1300)),
        "S2": session(st, at(MON, 18), analysis(reps("bridge", 12, start=600, hold=4.0) + ext_sets(10, 10)), tag="pm"),
        "S3": session(st, at(MON + timedelta(days=2), 10), analysis(ext_sets(10, 10, 9))),
        "S4": session(st, at(MON + timedelta(days=2), 15), analysis(ext_sets(10)), tag="pm"),
        "S5": session(
            st,
            at(MON + timedelta(days=3), 12),
            analysis(
                reps("bridge", 12, start=600, hold=5.2), [hold("side_plank", None, 100 + 100 * k, 35) for k in range(4)], calibrated=False
            ),
        ),
    }
    sim = simulate_session(3, short=True, exercises=("bridge",))
    sim.header.created_utc = f"{MON + timedelta(days=4)}T12:00:00Z"
    rec, csv = tmp_path / "friday.htrec", tmp_path / "friday-export.csv"
    write_recording(rec, sim.header, sim.samples, sim.gaps)
    write_generic_csv(csv, sim.samples)
    first = importer.import_paths(st, [rec]).results[0]
    again = importer.import_paths(st, [csv]).results[0]
    assert first.status == "added" and again.status == "already"
    assert again.session_id == first.session_id and "same samples" in again.message
    ids["S6"] = int(first.session_id)  # type: ignore[arg-type]
    return {"store": st, "ids": ids, "dir": tmp_path / "data", "bridges_fri": len(sim.truth["reps"])}


def history_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["history", "--json", "--data-dir", str(folder)]) == 0
    return json.loads(capsys.readouterr().out)


def expected_week(*, sides_set: bool, corrected: bool) -> dict[str, dict[str, int]]:
    """By hand, from the fixture's table."""
    return {
        "bridge": {"done_days": 3, "to_target_days": 2, "goal_days": 3},  # Mon (S1), Thu; Fri short
        "back_extension": {"done_days": 2, "to_target_days": 2 if corrected else 1, "goal_days": 3},  # Mon; Wed
        "side_plank": {"done_days": 2, "to_target_days": 2 if sides_set else 1, "goal_days": 3},  # Mon; Thu
        "plank": {"done_days": 0, "to_target_days": 0, "goal_days": 0},
    }


def expected_sessions(ids: dict[str, int], *, sides_set: bool, corrected: bool) -> dict[int, set[str]]:
    """The parts of the routine each session did to target, by hand."""
    return {
        ids["S1"]: {"bridge", "back_extension", "side_left", "side_right", "side_plank"},
        ids["S2"]: set(),
        ids["S3"]: {"back_extension"} if corrected else set(),
        ids["S4"]: set(),
        ids["S5"]: {"bridge"} | ({"side_left", "side_right", "side_plank"} if sides_set else set()),
        ids["S6"]: set(),
    }


def check_all_agree(week: dict[str, object], capsys: pytest.CaptureFixture[str], *, sides_set: bool, corrected: bool) -> None:
    ids: dict[str, int] = week["ids"]  # type: ignore[assignment]
    want_week = expected_week(sides_set=sides_set, corrected=corrected)
    want_sessions = expected_sessions(ids, sides_set=sides_set, corrected=corrected)

    # 1. holdtrack history --json
    h = history_json(week["dir"], capsys)  # type: ignore[arg-type]
    this = h["weeks"][-1]
    assert this["week_start"] == MON.isoformat()
    assert this["sessions"] == 6  # the CSV export of Friday's recording is not a seventh
    got = {ex: {k: e[k] for k in ("done_days", "to_target_days", "goal_days")} for ex, e in this["exercises"].items()}
    assert got == want_week
    assert (this["side_left_days"], this["side_right_days"]) == ((2, 2) if sides_set else (1, 1))
    assert (this["goals_met"], this["goals"]) == (0, 3)
    by_id = {s["id"]: s for s in h["sessions"]}
    assert set(by_id) == set(want_sessions)
    for sid, parts in want_sessions.items():
        assert {p for p, o in by_id[sid]["outcomes"].items() if o["to_target"]} == parts, sid
    assert by_id[ids["S6"]]["bridge"]["reps"] == week["bridges_fri"] > 0
    assert by_id[ids["S5"]]["side_plank"]["unknown"] == (0 if sides_set else 4)

    # 2. the History page
    app = AppTest.from_file(str(APP), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    shown_cards = {label: (value, below) for label, value, below in cards(app).values()}
    for ex, label in (("bridge", "Hip bridge"), ("back_extension", "Back extension"), ("side_plank", "Side plank")):
        value, below = shown_cards[f"{label}: days"]
        assert value == f"{want_week[ex]['to_target_days']} / {want_week[ex]['goal_days']}"
        assert below.endswith(f"done at all on {want_week[ex]['done_days']}"), below
    assert shown_cards["Weekly goals met"][0] == "0 of 3"
    table = app.dataframe[-1].value
    assert sorted(table["id"]) == sorted(want_sessions)
    words = {"bridge": "bridge", "back_extension": "back ext.", "side_plank": "side plank"}
    for sid, shown in zip(table["id"], table["Done to target"], strict=True):
        assert shown == (", ".join(w for p, w in words.items() if p in want_sessions[sid]) or "–"), sid
    head, this_week, *_ = grid(app, "ht-adherence")  # a row a week, newest first
    this_row = dict(zip(head, this_week, strict=True))
    assert this_row["Bridge"] == "2/3"
    assert this_row["Back ext."] == f"{want_week['back_extension']['to_target_days']}/3"
    assert this_row["Side L"] == f"{2 if sides_set else 1}/3"

    # 3. every session page
    app.switch_page("views/session.py").run()
    for sid, parts in want_sessions.items():
        app.selectbox(key="session_pick").set_value(sid).run()
        assert not app.exception, app.exception
        rows = app.table[0].value.to_dict("records")  # "Against your routine"
        shown = {PARTS_OF_ROWS[r["Exercise"]] for r in rows if r[""].startswith("✓") and r["Exercise"] in PARTS_OF_ROWS}
        assert shown == parts - {"side_plank"}, sid


def test_history_json_pages_and_hand_counts_agree(week: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    check_all_agree(week, capsys, sides_set=False, corrected=False)


def test_they_still_agree_after_the_user_fixes_sides_and_a_count(week: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    st: Store = week["store"]  # type: ignore[assignment]
    ids: dict[str, int] = week["ids"]  # type: ignore[assignment]
    edits.set_sides(st, ids["S5"], {0: "left", 1: "left", 2: "right", 3: "right"})
    edits.correct_set(st, ids["S3"], 2, 10)  # "I did 10, it counted 9"
    check_all_agree(week, capsys, sides_set=True, corrected=True)
    # Corrections sit beside the detected events: the stored rows are as detected.
    with st.connect() as con:
        assert con.execute("SELECT rep_count FROM sets WHERE session_id = ? AND idx = 2", (ids["S3"],)).fetchone()[0] == 9
        assert con.execute("SELECT count(*) FROM holds WHERE session_id = ? AND side IS NULL", (ids["S5"],)).fetchone()[0] == 4


def test_a_deleted_or_re_dated_session_moves_out_of_the_week(week: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    st: Store = week["store"]  # type: ignore[assignment]
    ids: dict[str, int] = week["ids"]  # type: ignore[assignment]
    edits.delete_session(st, ids["S1"])  # Monday's only session to target
    this = history_json(week["dir"], capsys)["weeks"][-1]  # type: ignore[arg-type]
    assert this["exercises"]["back_extension"]["to_target_days"] == 0 and this["sessions"] == 5
    edits.undo_delete(st, ids["S1"])
    edits.set_started(st, ids["S1"], datetime.combine(MON - timedelta(days=7), datetime.min.time()).replace(hour=10))
    h = history_json(week["dir"], capsys)  # type: ignore[arg-type]
    last, this = h["weeks"][-2], h["weeks"][-1]
    assert last["week_start"] == (MON - timedelta(days=7)).isoformat()
    assert last["exercises"]["back_extension"]["to_target_days"] == 1 and this["sessions"] == 5
    assert next(s for s in h["sessions"] if s["id"] == ids["S1"])["date_source"] == "edited"
