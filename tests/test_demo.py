"""The demo data: a simulated person following the routine ~3 times a week for 8 weeks, who
progresses, meets the weekly goals in some weeks and not in others, and does both sides."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from sensor.routine import Routine, reaches
from sensor.sim.demo import DEMO_RATE_HZ, DEMO_WEEKS, demo_plan, dose, generate_demo
from sensor.sim.simulate import SimOptions, simulate_session
from sensor.store import Store, queries, weeks
from sensor.store.history import history
from sensor.vocab import EXERCISES


def test_the_plan_tells_a_story_of_eight_weeks() -> None:
    for today in (date(2026, 11, 30), date(2026, 12, 3), date(2027, 1, 10)):  # Monday, Thursday, Sunday
        plan = demo_plan(today, now=datetime(today.year, today.month, today.day, 12))
        by_week = Counter(weeks.week_start(p.when.date()) for p in plan)
        assert len(by_week) == DEMO_WEEKS  # every week has a session, this one included
        assert all(p.when.date() <= today for p in plan)
        assert plan[-1].when.date() == today and set(plan[-1].exercises) == set(EXERCISES)
        assert 2.0 <= len(plan) / DEMO_WEEKS <= 3.5  # about three times a week, with misses
        assert min(by_week.values()) == 1  # a busy week
        assert all("side_plank" not in p.exercises for p in plan[:4])  # beginner weeks first
        assert sum(not p.stand for p in plan) == 1  # the opening stand forgotten once
        assert len({p.seed for p in plan}) == len(plan)  # no two sessions hold the same samples
        days = Counter(p.when.date() for p in plan)
        two = [d for d, n in days.items() if n == 2]
        assert len(two) >= 2  # sometimes two sessions a day: morning and evening
        for d in two:
            a, b = sorted(p.when for p in plan if p.when.date() == d)
            assert a.hour < 12 <= b.hour
        assert [p.when for p in plan] == sorted(p.when for p in plan)
    assert demo_plan(date(2026, 11, 30)) == demo_plan(date(2026, 11, 30))  # the same story every first start


def test_the_dose_grows_from_short_of_the_targets_to_past_them() -> None:
    r = Routine()
    first, last = dose(0.0), dose(1.0)
    assert first["bridge_reps"] < r.bridge.reps_per_set <= last["bridge_reps"]
    assert first["bridge_hold_s"] < r.bridge.hold_s < last["bridge_hold_s"]
    assert first["backext_sets"] < r.back_extension.sets_per_session <= last["backext_sets"]
    assert first["backext_reps"] < r.back_extension.reps_per_set <= last["backext_reps"]
    assert first["side_hold_s"] < r.side_plank.hold_s < last["side_hold_s"]
    assert first["plank_hold_s"] < r.plank.hold_s < last["plank_hold_s"]
    assert first["knee_side_plank"] and not last["knee_side_plank"]  # from the knees to the full side plank
    assert first["steadiness"] > last["steadiness"]  # steadier holds
    steps = [dose(p / 10) for p in range(11)]
    for key in ("bridge_reps", "bridge_hold_s", "backext_reps", "plank_hold_s", "side_hold_s"):
        assert all(a[key] <= b[key] for a, b in zip(steps, steps[1:], strict=False)), key


@pytest.mark.slow
def test_the_simulated_person_does_the_dose() -> None:
    """The simulator's truth: a practised session reaches every target with room to spare
    (the detector's timing error is a fraction of a second), a first one does not."""
    r = Routine()
    plan = demo_plan(date(2026, 11, 30))
    late = simulate_session(plan[-1].seed, SimOptions(rate_hz=DEMO_RATE_HZ, technique=plan[-1].technique))
    reps = late.truth["reps"]
    bridges = [x for x in reps if x["exercise"] == "bridge"]
    assert len(bridges) >= r.bridge.reps_per_set + 1
    assert min(x["hold_s"] for x in bridges) >= r.bridge.hold_s + 0.3
    ext = [s for s in late.truth["sets"] if s["exercise"] == "back_extension"]
    assert len(ext) == 3 and all(s["reps"] >= r.back_extension.reps_per_set for s in ext)
    for side in ("left", "right"):
        held = [h["duration_s"] for h in late.truth["holds"] if h["exercise"] == "side_plank" and h["side"] == side]
        assert len(held) == 2 and min(held) >= r.side_plank.hold_s + 3
    early = simulate_session(plan[0].seed, SimOptions(rate_hz=DEMO_RATE_HZ, exercises=plan[0].exercises, technique=plan[0].technique))
    first = [x for x in early.truth["reps"] if x["exercise"] == "bridge"]
    assert len(first) < r.bridge.reps_per_set and sum(reaches(x["hold_s"], r.bridge.hold_s) for x in first) < len(first)


@pytest.mark.slow
def test_the_demo_progresses_and_meets_the_weekly_goal_in_some_weeks(tmp_path: Path) -> None:
    """The whole demo through the pipeline and the queries the dashboard draws from."""
    st = Store(tmp_path)
    today = date(2026, 12, 3)  # a Thursday: this week has sessions before today
    results = generate_demo(st, today)
    plan = demo_plan(today)
    assert [r.status for r in results] == ["added"] * len(plan)
    rows = queries.sessions(st)
    assert all(r.demo for r in rows) and st.session_count(include_demo=False) == 0
    assert sorted(r.local_date for r in rows) == [p.when.date() for p in plan]  # dated by the recording
    assert max(Counter(r.local_date for r in rows).values()) == 2  # two sessions on a day

    h = history(st, Routine(), today=today)
    by_week = h["weeks"]
    assert len(by_week) == DEMO_WEEKS and by_week[-1]["week_start"] == (today - timedelta(days=3)).isoformat()
    full = [w for w in by_week[:-1] if w["goals_met"] == w["goals"] == 3]  # this week is not over
    assert 1 <= len(full) < DEMO_WEEKS - 1  # every weekly goal met in some weeks, not in others
    assert any(0 < w["goals_met"] < w["goals"] for w in by_week)  # and partly in between
    assert by_week[0]["goals_met"] == 0  # a beginner
    # Both sides of the side plank, to target, in the practised weeks.
    assert all(w["side_left_days"] >= 3 and w["side_right_days"] >= 3 for w in full)
    sided = [r for r in rows if r.side_left + r.side_right + r.side_unknown]
    assert all(r.side_left == r.side_right == 2 for r in sided if r.calibrated)
    assert sum(r.side_unknown for r in rows) == 4  # the session without the opening stand

    # Progress, week by week, as the History charts show it.
    trend = weeks.weekly_trends(st)
    first, last = trend[0], trend[-1]
    assert first.bridge_hold_per_rep_s is not None and last.bridge_hold_per_rep_s is not None
    assert last.bridge_hold_per_rep_s > first.bridge_hold_per_rep_s + 2.0
    holds = [t.plank_hold_s for t in trend if t.plank_hold_s is not None]
    assert holds[-1] > holds[0] + 15.0
    sides = [t.side_plank_hold_s for t in trend if t.side_plank_hold_s is not None]
    assert sides[-1] > sides[0] + 10.0
    scores = [t.stability_score for t in trend if t.stability_score is not None]
    assert scores[-1] > scores[0]
    oldest, newest = rows[-1], rows[0]
    assert newest.bridge_reps > oldest.bridge_reps and newest.back_extension_reps > oldest.back_extension_reps
    assert newest.outcomes["bridge"].met and not oldest.outcomes["bridge"].met
