"""The demo data: a simulated person following the routine ~3 times a week for 8 weeks."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from sensor.routine import Routine
from sensor.sim.demo import DEMO_WEEKS, demo_plan, generate_demo
from sensor.store import Store, queries
from sensor.store.history import history


def test_the_plan_tells_a_story_of_eight_weeks() -> None:
    for today in (date(2026, 11, 30), date(2026, 12, 3), date(2027, 1, 10)):  # Monday, Thursday, Sunday
        plan = demo_plan(today, now=datetime(today.year, today.month, today.day, 12))
        weeks = Counter((p.when.date() - date.fromordinal(1)).days // 7 for p in plan)
        assert len(weeks) == DEMO_WEEKS  # every week has a session, this one included
        assert all(p.when.date() <= today for p in plan)
        assert plan[-1].when.date() >= today - timedelta(days=today.weekday())  # this week shows
        assert 2.0 <= len(plan) / DEMO_WEEKS <= 3.0  # about three times a week, with misses
        assert min(weeks.values()) == 1  # a busy week
        assert all(p.short and "side_plank" not in p.exercises for p in plan[:4])  # beginner weeks first
        assert sum(not p.stand for p in plan) == 1  # the opening stand forgotten once
        assert len({p.seed for p in plan}) == len(plan)  # no two sessions hold the same samples
    assert demo_plan(date(2026, 11, 30)) == demo_plan(date(2026, 11, 30))  # the same story every first start


@pytest.mark.slow
def test_generated_sessions_are_real_labelled_demo_recordings(tmp_path: Path) -> None:
    st = Store(tmp_path)
    today = date(2026, 11, 30)
    results = generate_demo(st, today, weeks=2)  # the two beginner weeks (short sessions: a quick test)
    plan = demo_plan(today, weeks=2)
    assert [r.status for r in results] == ["added"] * len(plan)
    rows = queries.sessions(st)
    assert all(r.demo for r in rows) and st.session_count(include_demo=False) == 0
    assert sorted(r.local_date for r in rows) == [p.when.date() for p in plan]  # dated by the recording
    assert all(r.bridge_reps > 0 and r.back_extension_reps > 0 for r in rows)  # the pipeline found them
    weeks = history(st, Routine(), today=today)["weeks"]
    assert [w["week_start"] for w in weeks] == ["2026-11-23", "2026-11-30"]
    assert weeks[0]["exercises"]["back_extension"]["done_days"] == sum(p.when.date() < today for p in plan)
