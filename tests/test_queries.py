"""The query layer: totals per session, adherence per ISO week, weekly trends, routine rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session

from sensor.routine import HoldTarget, RepTarget, Routine, compare, group_sets, load_routine, save_routine
from sensor.store import Store, queries, weeks


def at(d: date, hour: int = 12) -> datetime:
    # Around noon UTC the local date is ``d`` in nearly every time zone (sessions are
    # counted on the user's local date).
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC)


def full_back_extensions() -> list:
    # 3 sets of 10, sets 2 minutes apart
    return (
        reps("back_extension", 10, start=0, every=4)
        + reps("back_extension", 10, start=160, every=4)
        + reps("back_extension", 10, start=320, every=4)
    )


def both_sides(duration: float = 32.0) -> list:
    return [
        hold("side_plank", "left", 600, duration),
        hold("side_plank", "left", 700, duration),
        hold("side_plank", "right", 800, duration),
        hold("side_plank", "right", 900, duration),
    ]


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    """Four ISO weeks of hand-built sessions (2025-W10 .. W13), W12 empty."""
    st = Store(tmp_path)
    # W10 (Mon 3 Mar): back extensions done fully on Mon, Wed, Fri -> 3/3; bridges 12 reps on
    # Mon and Wed (Wed short: 10 reps); side planks both sides Mon, left only Wed.
    session(st, at(date(2025, 3, 3)), analysis(full_back_extensions() + reps("bridge", 12, start=500, every=8, hold=5.5), both_sides()))
    session(
        st,
        at(date(2025, 3, 5)),
        analysis(full_back_extensions() + reps("bridge", 10, start=500, every=8, hold=4.5), [hold("side_plank", "left", 700, 35.0)]),
    )
    session(st, at(date(2025, 3, 7)), analysis(full_back_extensions()))
    # W11: two sessions on the same day that together make 3 sets (one day), plus one partial day.
    session(
        st,
        at(date(2025, 3, 11), 10),
        analysis(reps("back_extension", 10, start=0, every=4) + reps("back_extension", 10, start=160, every=4)),
        tag="am",
    )
    session(st, at(date(2025, 3, 11), 13), analysis(reps("back_extension", 10, start=0, every=4)), tag="pm")
    session(st, at(date(2025, 3, 13)), analysis(reps("back_extension", 6, start=0, every=4)))
    # W13: demo session only.
    session(st, at(date(2025, 3, 24)), analysis(full_back_extensions(), both_sides(20.0)), demo=True)
    return st


def test_sessions_with_totals(store: Store) -> None:
    rows = queries.sessions(store)
    assert [r.local_date for r in rows][:2] == [date(2025, 3, 24), date(2025, 3, 13)]  # newest first
    mon = next(r for r in rows if r.local_date == date(2025, 3, 3))
    assert (mon.back_extension_reps, mon.back_extension_sets, mon.back_extension_full_sets) == (30, 3, 3)
    assert (mon.bridge_reps, mon.bridge_sets, mon.bridge_full_sets) == (12, 1, 1)
    assert (mon.side_left, mon.side_right, mon.side_left_ok, mon.side_right_ok) == (2, 2, 2, 2)
    assert mon.bridge_mean_hold_s == pytest.approx(5.5)
    assert mon.mean_score == pytest.approx(80.0)
    assert len(queries.sessions(store, include_demo=False)) == 6
    assert len(queries.sessions(store, since=date(2025, 3, 10), until=date(2025, 3, 12))) == 2


def test_weekly_adherence(store: Store) -> None:
    adherence = weeks.weekly_adherence(store, today=date(2025, 3, 26))
    assert [w.week for w in adherence] == ["2025-W10", "2025-W11", "2025-W12", "2025-W13"]
    w10, w11, w12, w13 = adherence
    ext = w10.exercises["back_extension"]
    assert (ext.done_days, ext.complete_days, ext.target_days, ext.met) == (3, 3, 3, True)
    br = w10.exercises["bridge"]
    assert (br.done_days, br.complete_days, br.met) == (2, 1, False)  # Wed had 10 of 12
    sp = w10.exercises["side_plank"]
    assert (sp.done_days, sp.complete_days) == (2, 1)
    assert (w10.side_left_days, w10.side_right_days) == (1, 1)  # Wed: one left hold, target is two
    assert w10.exercises["plank"].target_days == 0  # the front plank is not a weekly target by default
    # Two sessions on one day count once, and are never added up: 2 sets + 1 set is no day to target.
    assert (w11.sessions, w11.exercises["back_extension"].done_days, w11.exercises["back_extension"].complete_days) == (3, 2, 0)
    assert w12.sessions == 0 and (w12.goals_met, w12.goals) == (0, 3)  # an empty week is listed, as missed
    assert w13.exercises["back_extension"].complete_days == 1
    assert (w13.side_left_days, w13.side_right_days) == (0, 0)  # 20 s holds: short of 30 s
    # goals: exercises whose weekly number of days to target was reached (back extensions only)
    assert (w10.goals_met, w10.goals) == (1, 3)
    without_demo = weeks.weekly_adherence(store, include_demo=False, today=date(2025, 3, 26))
    assert without_demo[-1].sessions == 0


def test_adherence_follows_the_users_targets(store: Store) -> None:
    easier = Routine(back_extension=RepTarget(0.0, 10, 2, 2), side_plank=HoldTarget(30.0, 1, 1))
    w10, w11 = weeks.weekly_adherence(store, easier, today=date(2025, 3, 17))[:2]
    assert w10.exercises["back_extension"].target_days == 2 and w10.exercises["back_extension"].met
    assert w11.exercises["back_extension"].complete_days == 1  # the 11th's morning (2 sets); the 13th had 6 reps
    assert (w10.side_left_days, w10.side_right_days) == (2, 1)  # one 30 s hold a side is enough now


def test_weekly_trends(store: Store) -> None:
    trends = weeks.weekly_trends(store)
    assert [t.week for t in trends] == ["2025-W10", "2025-W11", "2025-W13"]
    w10 = trends[0]
    assert w10.side_plank_hold_s == pytest.approx((4 * 32 + 35) / 5)
    assert w10.bridge_hold_per_rep_s == pytest.approx((12 * 5.5 + 10 * 4.5) / 22)
    assert w10.stability_score == pytest.approx(80.0)
    assert w10.plank_hold_s is None
    assert trends[1].side_plank_hold_s is None and trends[1].back_extension_hold_per_rep_s == pytest.approx(5.2)
    assert trends[2].side_plank_hold_s == pytest.approx(20.0)
    assert [t.week for t in weeks.weekly_trends(store, include_demo=False)] == ["2025-W10", "2025-W11"]


def test_session_detail_numbers_reps_within_sets(store: Store) -> None:
    sid = queries.sessions(store)[-1].id  # Mon 3 Mar
    d = queries.session_detail(store, sid)
    assert d is not None
    assert [(s["exercise"], s["rep_count"]) for s in d.sets] == [("back_extension", 10)] * 3 + [("bridge", 12)]
    assert [r["rep_in_set"] for r in d.reps[:12]] == [*range(1, 11), 1, 2]
    assert [r["set_idx"] for r in d.reps[9:11]] == [0, 1]
    assert queries.session_detail(store, 9999) is None


def test_compare_in_plain_words() -> None:
    a = analysis(
        reps("bridge", 11, hold=5.5) + reps("bridge", 1, start=100, hold=3.0),
        [hold("side_plank", "left", 300, 31), hold("side_plank", "left", 400, 28), hold("side_plank", None, 500, 30)],
    )
    rows = {r.label: r for r in compare(a)}
    # 12 reps in one set, but one held 3 s: not a set done to target.
    assert rows["Hip bridge"].done == "1 set (12 reps); 11 of 12 reps held 5.0 s or more (average 5.3 s); 0 to target"
    assert rows["Hip bridge"].target == "1 set of 12 reps, each held 5.0 s"
    assert not rows["Hip bridge"].met
    assert rows["Back extension"].done == "not done" and not rows["Back extension"].met
    # A correction ("I did 13") counts the added rep as held, on the user's word: 12 held.
    fixed = {r.label: r for r in compare(a, counts={0: 13})}
    assert fixed["Hip bridge"].met and "1 set (13* reps); 12 of 13 reps" in fixed["Hip bridge"].done
    assert rows["Side plank (left)"].done == "2 done (31 s, 28 s); 1 reached the target"
    assert rows["Side plank (right)"].done == "not done"
    assert rows["Side plank (side unknown)"].done == "1 hold (30 s)"
    assert "Front plank" not in rows  # not done and not a weekly target


def test_group_sets_splits_on_pause_and_exercise() -> None:
    rs = reps("bridge", 3, start=0, every=8) + reps("bridge", 2, start=85, every=8) + reps("back_extension", 2, start=110)
    assert group_sets(rs) == [[0, 1, 2], [3, 4], [5, 6]]
    assert group_sets(rs, pause_s=120, min_pause_s=120) == [[0, 1, 2, 3, 4], [5, 6]]


def test_routine_settings_round_trip(tmp_path: Path) -> None:
    assert load_routine(tmp_path) == Routine()  # defaults from routine.md
    r = Routine()
    assert (r.bridge.hold_s, r.bridge.reps_per_set) == (5.0, 12)
    assert (r.back_extension.sets_per_session, r.back_extension.reps_per_set, r.back_extension.sessions_per_week) == (3, 10, 3)
    assert (r.side_plank.hold_s, r.side_plank.holds, r.plank.hold_s) == (30.0, 2, 30.0)
    r.bridge.hold_s = 6.0
    r.mount = "left"
    save_routine(r, tmp_path)
    assert load_routine(tmp_path) == r
    (tmp_path / "settings.json").write_text('{"bridge": {"hold_s": 7}, "mount": "upside-down"}')
    partial = load_routine(tmp_path)
    assert partial.bridge.hold_s == 7.0 and partial.bridge.reps_per_set == 12 and partial.mount == "back"
