"""History's streaks, personal bests, range picker, calendar, source and note columns, and
the note editor of the session page, run server-side (Streamlit AppTest) on known data."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session
from streamlit.testing.v1 import AppTest
from test_dashboard_apptest import APP, TIMEOUT, app, cards, grid, noon

from dashboard.history_parts import records_html
from sensor.store import SessionInfo, Store, notes, queries
from sensor.store.bests import Best
from sensor.store.weeks import Streaks, current_day, week_start

THIS_MONDAY = week_start(current_day())


def routine_done(plank_s: float = 40.0) -> list:
    ext = [r for k in range(3) for r in reps("back_extension", 10, start=k * 160, every=4)]
    sides = [hold("side_plank", s, 600 + 100 * k, 33.0) for k, s in enumerate(("left", "left", "right", "right"))]
    return [ext + reps("bridge", 12, start=1000, every=8, hold=5.6), [*sides, hold("plank", None, 1200, plank_s)]]


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Twenty weeks ago: one week of the routine done to target on three days; then nothing
    until the last two weeks, both done to target on three days (the longest plank, 75 s,
    on the last Monday); one session from a Bluetooth sensor."""
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    st = Store(tmp_path)
    out: dict[str, int] = {}
    for w in (20, 2, 1):
        for k in range(3):
            d = THIS_MONDAY - timedelta(weeks=w) + timedelta(days=2 * k)
            r, h = routine_done(75.0 if (w, k) == (1, 0) else 40.0)
            out[f"{w}.{k}"] = session(st, noon(d), analysis(r, h, duration=1400.0), tag=f"{w}{k}")
    device = {"profile": "witmotion", "name": "WT901BLE67", "address": "AA:BB"}
    info = SessionInfo(noon(THIS_MONDAY), "/x.htrec", "recordings/x.htrec", "ble-1", source="ble", device=device)
    out["ble"] = st.add_session(analysis(reps("bridge", 6)), info)
    return out


def test_streaks_and_personal_bests_are_shown(store: dict[str, int]) -> None:
    at = app()
    c = {k: " ".join(v) for k, v in cards(at).items()}
    assert c["weeks"] == "Every weekly goal met, in a row 2 weeks best 2"  # the last two (this one is not over)
    # This Monday's sensor session did bridges only: the run of days ends there (best: the last two weeks').
    assert c["days"] == "Training days to target, in a row 0 days best 6"
    assert c["plank"].startswith("Longest front plank 75 s personal best")
    assert c["side_left"].startswith("Longest side plank, left 33 s") and c["side_right"].startswith("Longest side plank, right 33 s")
    assert c["bridges_held"].startswith("Most bridges held to target in a session 12 reps")
    body = next(h.proto.body for h in at.get("html") if "ht-records" in h.proto.body)
    assert f'href="session?id={store["1.0"]}"' in body  # a best opens the session that set it


def test_the_range_picker_sets_the_weeks_and_the_sessions_shown(store: dict[str, int]) -> None:
    at = app()
    rng = at.get("button_group")[0]
    assert rng.value == "12 weeks"
    table = at.dataframe[-1].value
    assert len(table) == 7  # the last two weeks and this Monday's sensor session: not 20 weeks ago
    assert len(grid(at, "ht-adherence")) == 1 + 12  # a row a week (after the header), from the first of the range
    rng.set_value("All").run()
    assert len(at.dataframe[-1].value) == 10
    assert len(grid(at, "ht-adherence")) == 1 + 21  # 20 weeks ago up to this week
    rng.set_value("4 weeks").run()
    assert len(grid(at, "ht-adherence")) == 1 + 4 and len(at.dataframe[-1].value) == 7
    rng.set_value("Custom").run()
    at.date_input(key="history_dates").set_value((THIS_MONDAY - timedelta(weeks=21), THIS_MONDAY - timedelta(weeks=19))).run()
    assert not at.exception, at.exception
    assert set(at.dataframe[-1].value["id"]) == {store["20.0"], store["20.1"], store["20.2"]}
    assert any("every weekly goal met in 1" in c.value for c in at.caption)


def test_the_table_says_where_each_session_came_from_and_shows_notes(store: dict[str, int]) -> None:
    at = app()
    table = at.dataframe[-1].value.set_index("id")
    assert table.loc[store["ble"], "Source"] == "Sensor WT901BLE67" and table.loc[store["1.0"], "Source"] == "Import: recording"
    assert set(table["Note"]) == {""}


def test_a_note_written_on_the_session_page_is_stored_and_shown_in_history(store: dict[str, int], tmp_path: Path) -> None:
    sid = store["1.1"]
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["id"] = str(sid)
    at.run()
    at.switch_page("views/session.py").run()
    assert not at.exception, at.exception
    box = at.text_area(key=f"note_{sid}")
    assert box.value == ""
    box.input("new mat; left knee a bit sore")
    next(b for b in at.button if b.label == "Save note").click().run()
    assert not at.exception, at.exception
    st = Store(tmp_path)
    assert notes.note(st, sid) == "new mat; left knee a bit sore"
    assert any("Note saved" in s.value for s in at.success)
    assert {r.id: r.note for r in queries.sessions(st)}[sid] == "new mat; left knee a bit sore"
    at.switch_page("views/history.py").run()
    assert at.dataframe[-1].value.set_index("id").loc[sid, "Note"] == "new mat; left knee a bit sore"


def test_the_calendar_opens_a_days_first_session(store: dict[str, int]) -> None:
    at = app()
    head, *weeks = grid(at, "ht-calendar")
    assert head == ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    last_week = weeks[1]  # newest first: this week, then last week (Mon, Wed, Fri to target)
    monday = THIS_MONDAY - timedelta(weeks=1)
    assert last_week[1:] == [str((monday + timedelta(days=k)).day) for k in range(7)]
    body = "".join(h.proto.body for h in at.get("html"))
    assert f'href="session?id={store["1.0"]}"' in body and f'href="session?id={store["1.2"]}"' in body
    monday_cell = re.search(rf'<a class="c dark" style="background:#3B8B5A" href="session\?id={store["1.0"]}"', body)
    assert monday_cell, "a day with every goal to target is drawn dark green and opens its session"


def test_one_rep_is_one_rep() -> None:
    # A first session with one bridge held to target: the records card says "1 rep".
    best = Best("bridges_held", "Most bridges held to target in a session", 1.0, "reps", 7, date(2026, 12, 6))
    html = records_html(Streaks(0, 0, 0, 0), [best])
    assert '<div class="v">1 rep</div>' in html
