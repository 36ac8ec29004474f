"""Weeks: adherence to the routine and progress, week by week, from the stored sessions
(what History and ``holdtrack history`` show; outcomes as ``sensor.routine`` defines them)."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sensor.errors import UsageError
from sensor.routine import PARTS, Outcome, Routine
from sensor.store.dates import plausible_day
from sensor.store.queries import SessionRow, sessions
from sensor.store.writes import Store
from sensor.vocab import EXERCISES, REP_EXERCISES

TODAY_ENV = "HOLDTRACK_TODAY"  # a day (YYYY-MM-DD) that stands for today: reproducible pages and tests


def current_day() -> date:
    """Today where the user is, or the day ``HOLDTRACK_TODAY`` names: what "this week" is
    must not change under a page or a test that runs across a Sunday midnight."""
    pinned = os.environ.get(TODAY_ENV)
    if not pinned:
        return date.today()
    try:
        return date.fromisoformat(pinned)
    except ValueError:
        raise UsageError(f"{TODAY_ENV}={pinned!r} is not a date (YYYY-MM-DD)") from None


def iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


@dataclass(slots=True)
class ExerciseWeek:
    """One exercise in one week: on how many days it was done, and done to target."""

    done_days: int = 0
    complete_days: int = 0  # days done to target
    target_days: int = 0  # the routine's days a week (0: not a weekly goal)

    @property
    def met(self) -> bool:
        return self.target_days > 0 and self.complete_days >= self.target_days


@dataclass(slots=True)
class WeekAdherence:
    week: str  # ISO week, e.g. "2025-W07" (a key for scripts; the dashboard shows the Monday)
    start: date  # its Monday
    sessions: int  # counted sessions (duplicates left out)
    exercises: dict[str, ExerciseWeek]
    side_left_days: int  # days with the side-plank target met on the left side
    side_right_days: int

    @property
    def goals(self) -> int:
        """Exercises with a weekly goal."""
        return sum(1 for e in self.exercises.values() if e.target_days > 0)

    @property
    def goals_met(self) -> int:
        """Exercises done to target on as many days as the goal asks."""
        return sum(1 for e in self.exercises.values() if e.met)


def _weeks(first: date, last: date) -> list[date]:
    out, d = [], week_start(first)
    while d <= last:
        out.append(d)
        d += timedelta(days=7)
    return out


def day_outcomes(rows: list[SessionRow]) -> dict[date, dict[str, Outcome]]:
    """Per day and routine part: done in any counted session, done to target in any one
    session (sessions are never added up, so a duplicate or a second session of the day
    cannot make a target). Sessions marked as duplicates are left out."""
    by_day: dict[date, dict[str, Outcome]] = {}
    for r in rows:
        if r.duplicate_of is not None:
            continue
        day = by_day.setdefault(r.local_date, {p: Outcome(False, False) for p in PARTS})
        for p in PARTS:
            o = r.outcomes[p]
            day[p] = Outcome(day[p].done or o.done, day[p].met or o.met)
    return by_day


def weekly_adherence(
    store: Store,
    routine: Routine | None = None,
    *,
    include_demo: bool = True,
    today: date | None = None,
    rows: list[SessionRow] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[WeekAdherence]:
    """Adherence per week (Monday to Sunday), oldest first, from the first session's week
    to this week (weeks without any session are listed too: a missed week is information);
    with ``since`` / ``until``, the weeks of that range (whole weeks: those the two days fall in).

    A day counts for an exercise when one of its sessions did it to target (``day_outcomes``,
    ``sensor.routine.outcomes``); the weekly goal is a number of such days.
    """
    routine = routine or Routine()
    rows = sessions(store, routine, include_demo=include_demo) if rows is None else rows
    today = today or current_day()
    # Rows stored before dates were checked may say 9999 or year 1: listed, never spanned.
    rows = [r for r in rows if plausible_day(r.local_date, today)]
    days = day_outcomes(rows)
    if not days and since is None:
        return []
    first = week_start(since) if since is not None else min(days)
    end = until if until is not None else max(max(days, default=first), today)
    rows = [r for r in rows if first <= r.local_date <= end + timedelta(days=6 - end.weekday())]
    days = {d: o for d, o in days.items() if first <= d <= end + timedelta(days=6 - end.weekday())}
    weeks = {ws: WeekAdherence(iso_week(ws), ws, 0, {}, 0, 0) for ws in _weeks(first, end)}
    for w in weeks.values():
        for ex in EXERCISES:
            target = (routine.rep_target(ex) if ex in REP_EXERCISES else routine.hold_target(ex)).sessions_per_week
            w.exercises[ex] = ExerciseWeek(target_days=target)
    for r in rows:
        if r.duplicate_of is None:
            weeks[week_start(r.local_date)].sessions += 1
    for day, o in days.items():
        w = weeks[week_start(day)]
        for ex in EXERCISES:
            w.exercises[ex].done_days += int(o[ex].done)
            w.exercises[ex].complete_days += int(o[ex].met)
        w.side_left_days += int(o["side_left"].met)
        w.side_right_days += int(o["side_right"].met)
    return [weeks[k] for k in sorted(weeks)]


@dataclass(slots=True)
class WeekTrend:
    """Progress measures of one week (None where nothing was done that week)."""

    week: str
    start: date
    side_plank_hold_s: float | None  # mean side-plank hold
    plank_hold_s: float | None
    bridge_hold_per_rep_s: float | None  # mean time held at the top per bridge rep
    back_extension_hold_per_rep_s: float | None
    stability_score: float | None  # mean hold stability score, 0-100
    sway_deg: float | None


def weekly_trends(store: Store, *, include_demo: bool = True, rows: list[SessionRow] | None = None) -> list[WeekTrend]:
    """Weekly means (weighted by rep / hold counts), oldest first; weeks with no session
    are left out (a trend line joins the weeks that have data). ``rows``: the sessions to
    use, when the caller has them already."""
    rows = sessions(store, include_demo=include_demo) if rows is None else rows
    acc: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        if r.duplicate_of is not None:
            continue
        a = acc[week_start(r.local_date)]
        sides = r.side_left + r.side_right + r.side_unknown
        a["side_n"] += sides
        a["side_s"] += r.side_hold_sum_s
        a["plank_n"] += r.planks
        a["plank_s"] += r.plank_hold_sum_s
        a["bridge_n"] += r.bridge_timed
        a["bridge_s"] += r.bridge_hold_sum_s
        a["ext_n"] += r.back_extension_timed
        a["ext_s"] += r.back_extension_hold_sum_s
        a["hold_n"] += r.holds
        a["score"] += r.score_sum
        a["sway"] += r.sway_sum

    def mean(a: dict[str, float], total: str, n: str) -> float | None:
        return a[total] / a[n] if a[n] else None

    return [
        WeekTrend(
            iso_week(ws),
            ws,
            mean(a, "side_s", "side_n"),
            mean(a, "plank_s", "plank_n"),
            mean(a, "bridge_s", "bridge_n"),
            mean(a, "ext_s", "ext_n"),
            mean(a, "score", "hold_n"),
            mean(a, "sway", "hold_n"),
        )
        for ws, a in sorted(acc.items())
    ]


# -- streaks -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Streaks:
    """Runs of meeting the routine: weeks in a row with every weekly goal met, and training
    days in a row on which every exercise with a weekly goal was done to target (rest days
    neither count nor break it; more than ``STREAK_GAP_DAYS`` without training does)."""

    weeks: int  # the current run (this week counts once its goals are met; until then it does not break it)
    best_weeks: int
    days: int  # the current run, up to the last training day
    best_days: int


STREAK_GAP_DAYS = 7  # a routine of a few days a week: a whole week without training ends a run of days


def _runs(flags: list[bool]) -> tuple[int, int]:
    """(the run of True at the end, the longest run of True)."""
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return run, best


def streaks(weeks: list[WeekAdherence], rows: list[SessionRow], routine: Routine | None = None, today: date | None = None) -> Streaks:
    """The streaks of ``weeks`` (``weekly_adherence``, oldest first) and of the sessions ``rows``
    (duplicates left out: ``day_outcomes``), from the corrected counts."""
    routine = routine or Routine()
    today = today or current_day()  # read once: both streaks end on the same day
    this = week_start(today)
    done = [w for w in weeks if w.start < this]
    met = [w.goals > 0 and w.goals_met == w.goals for w in done]
    current_weeks, best_weeks = _runs(met)
    current = next((w for w in weeks if w.start == this), None)
    if current is not None and current.goals and current.goals_met == current.goals:
        current_weeks += 1
        best_weeks = max(best_weeks, current_weeks)
    goal = [ex for ex in EXERCISES if (routine.rep_target(ex) if ex in REP_EXERCISES else routine.hold_target(ex)).sessions_per_week > 0]
    by_day = {d: o for d, o in day_outcomes(rows).items() if plausible_day(d, today)}
    day_met: list[bool] = []
    previous: date | None = None
    for d in sorted(by_day):
        if previous is not None and (d - previous).days > STREAK_GAP_DAYS:
            day_met.append(False)  # the break
        day_met.append(bool(goal) and all(by_day[d][ex].met for ex in goal))
        previous = d
    if previous is not None and (today - previous).days > STREAK_GAP_DAYS:
        day_met.append(False)
    current_days, best_days = _runs(day_met)
    return Streaks(current_weeks, best_weeks, current_days, best_days)
