"""The History page's pieces: the range picker, the streak and personal-best cards, and the
data its calendar, adherence and progress charts draw (``dashboard.charts``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, ui
from sensor.routine import Outcome, Routine
from sensor.store.bests import Best
from sensor.store.weeks import Streaks, WeekAdherence, WeekTrend, week_start
from sensor.vocab import HOLD_EXERCISES, REP_EXERCISES

RANGES: dict[str, int | None] = {"4 weeks": 4, "12 weeks": 12, "6 months": 26, "1 year": 52, "All": None, "Custom": None}
DEFAULT_RANGE = "12 weeks"
PART_NAMES = {"bridge": "Bridge", "back_extension": "Back ext.", "side_left": "Side L", "side_right": "Side R", "plank": "Plank"}


def pick_range(first_day: date, today: date) -> tuple[date, date]:
    """The range of days the page shows, from the picker: whole weeks up to this one
    (never before the first session's week), everything, or the user's own dates."""
    choice = st.segmented_control("Show", list(RANGES), default=DEFAULT_RANGE, key="history_range") or DEFAULT_RANGE
    start = week_start(first_day)
    if choice == "Custom":
        picked = st.date_input(
            "From – to", value=(max(start, today - timedelta(weeks=12)), today), max_value=today, key="history_dates", format="YYYY-MM-DD"
        )
        chosen = [d for d in (picked if isinstance(picked, tuple | list) else [picked]) if isinstance(d, date)]
        if chosen:
            return min(chosen), max(chosen) if len(chosen) > 1 else today
        return start, today
    n = RANGES[choice]
    if n is None:
        return start, today
    return max(start, week_start(today) - timedelta(weeks=n - 1)), today


def range_summary(weeks: list[WeekAdherence], routine: Routine) -> str:
    """One line on the weeks shown: how many met every goal, and each goal's days."""
    if not weeks:
        return ""
    n = len(weeks)
    full = sum(1 for w in weeks if w.goals and w.goals_met == w.goals)
    goals = [(ex, e.target_days) for ex, e in weeks[-1].exercises.items() if e.target_days]
    days = ", ".join(f"{ui.label(ex).lower()} {sum(w.exercises[ex].complete_days for w in weeks)} of {t * n}" for ex, t in goals)
    lead = f"{n} week{'' if n == 1 else 's'} from {ui.day(weeks[0].start)}: every weekly goal met in {full}"
    return f"{lead}; days done to target, of those asked: {days}." if days else f"{lead}."


def week_html(week: WeekAdherence) -> str:
    """This week as cards: the weekly goals met, then each exercise's days done to target."""
    n = week.sessions
    cards = [ui.card("goals", f"{week.goals_met} of {week.goals}", "Weekly goals met", f"{n} session{'' if n == 1 else 's'} this week")]
    for ex, e in week.exercises.items():
        if e.target_days:
            words = f"done to target; done at all on {e.done_days}"
            cards.append(ui.card(ex, f"{e.complete_days} / {e.target_days}", f"{ui.label(ex)}: days", words))
    return f'{ui.CARDS_CSS}<div class="ht-records" data-testid="ht-week">{"".join(cards)}</div>'


def records_html(streaks: Streaks, bests: list[Best]) -> str:
    """Streaks and personal bests as small cards; a best links to the session that set it."""
    weeks = f"{streaks.weeks} week{'' if streaks.weeks == 1 else 's'}"
    days = f"{streaks.days} day{'' if streaks.days == 1 else 's'}"
    cards = [
        ui.card("weeks", weeks, "Every weekly goal met, in a row", f"best {streaks.best_weeks}"),
        ui.card("days", days, "Training days to target, in a row", f"best {streaks.best_days}"),
    ]
    for b in bests:
        value = f"{b.value:.0f} s" if b.unit == "s" else f"{b.value:.0f} rep{'' if round(b.value) == 1 else 's'}"
        cards.append(ui.card(b.key, value, b.label, f"personal best, {ui.day(b.local_date)}", f"session?id={b.session_id}"))
    return f'<div class="ht-records" data-testid="ht-records">{"".join(cards)}</div>'


def _week_rows(weeks: list[WeekAdherence]) -> dict[date, str]:
    return ui.week_labels([w.start for w in weeks])


def calendar_days(
    weeks: list[WeekAdherence], days: dict[date, dict[str, Outcome]], until: date, first_session: dict[date, int]
) -> list[dict[str, Any]]:
    """One record a day of the weeks shown (none after ``until``), for ``grids.calendar_html``:
    ``first_session`` gives the session a day opens."""
    labels = _week_rows(weeks)
    out = []
    for w in weeks:
        goals = [ex for ex, e in w.exercises.items() if e.target_days]
        for k in range(7):
            d = w.start + timedelta(days=k)
            if d > until:
                break
            o = days.get(d)
            met = [ex for ex in ui.EXERCISES if o and o[ex].met]
            done = [ex for ex in ui.EXERCISES if o and o[ex].done and not o[ex].met]
            if o is None:
                status, what = "rest day", "no session"
            elif goals and all(o[ex].met for ex in goals):
                status = "every goal to target"
            elif met:
                status = "some to target"
            else:
                status = "done, short of target"
            if o is not None:
                what = "; ".join(p for p in (_words("to target", met), _words("done", done)) if p)
            out.append(
                {
                    "date": d.isoformat(),
                    "week": labels[w.start],
                    "order": w.start.toordinal(),
                    "day": d.day,
                    "status": status,
                    "what": what,
                    "session": first_session.get(d),
                }
            )
    return out


def _words(lead: str, exercises: list[str]) -> str:
    return f"{lead}: {', '.join(ui.short(ex) for ex in exercises)}" if exercises else ""


def adherence_cells(weeks: list[WeekAdherence], routine: Routine) -> tuple[list[dict[str, Any]], list[str]]:
    """Records of ``grids.adherence_html`` (a week and a part of the routine each: days to target
    against the goal), and the parts in their order: the goals met, then each part."""
    labels = _week_rows(weeks)
    cells: list[dict[str, Any]] = []
    for w in weeks:
        lines = [("Goals", "Weekly goals met", w.goals_met, w.goals, w.goals_met)]
        for ex in REP_EXERCISES:
            e = w.exercises[ex]
            if e.target_days:
                lines.append((PART_NAMES[ex], ui.label(ex), e.complete_days, e.target_days, e.done_days))
        sp = w.exercises["side_plank"]
        if sp.target_days:
            lines.append((PART_NAMES["side_left"], "Side plank, left", w.side_left_days, sp.target_days, sp.done_days))
            lines.append((PART_NAMES["side_right"], "Side plank, right", w.side_right_days, sp.target_days, sp.done_days))
        p = w.exercises["plank"]
        if p.target_days:
            lines.append((PART_NAMES["plank"], ui.label("plank"), p.complete_days, p.target_days, p.done_days))
        for part, name, done, target, any_days in lines:
            cells.append(
                {
                    "week": labels[w.start],
                    "iso": ui.week_of(w.start),
                    "order": w.start.toordinal(),
                    "part": part,
                    "name": name,
                    "text": f"{done}/{target}",
                    "share": min(1.0, done / target) if target else 0.0,
                    "any": any_days,
                }
            )
    return cells, list(dict.fromkeys(c["part"] for c in cells))


def adherence_table(cells: list[dict[str, Any]], parts: list[str]) -> pd.DataFrame:
    """The adherence chart as a table: a row a week (newest first), a column a part of the
    routine (full names), as narrow as the chart so it fits a phone."""
    if not cells:
        return pd.DataFrame()
    df = pd.DataFrame(cells)
    names = list(dict.fromkeys(df["name"]))
    weeks = df.drop_duplicates("order").sort_values("order", ascending=False)
    table = df.pivot(index="order", columns="name", values="text").reindex(index=weeks["order"], columns=names)
    table.index = pd.Index(weeks["week"], name="week")
    return table


def trend_specs(trends: list[WeekTrend], routine: Routine) -> dict[str, charts.Spec]:
    """Hold durations, time held at the top per rep, and hold stability, week by week (by
    the name the page's picker shows)."""
    if not trends:
        return {}

    def points(fields: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {"start": t.start.isoformat(), "what": name, "value": getattr(t, f)}
            for t in trends
            for f, name in fields.items()
            if getattr(t, f) is not None
        ]

    holds = {f"{ex}_hold_s": ui.label(ex) for ex in HOLD_EXERCISES}
    reps = {f"{ex}_hold_per_rep_s": ui.label(ex) for ex in REP_EXERCISES}
    hold_colors = {ui.label(ex): ui.COLORS[ex] for ex in HOLD_EXERCISES}
    rep_colors = {ui.label(ex): ui.COLORS[ex] for ex in REP_EXERCISES}
    return {
        "Holds": charts.trend(points(holds), hold_colors, "Hold duration (mean)", "seconds", routine.side_plank.hold_s),
        "Reps": charts.trend(points(reps), rep_colors, "Time held at the top, per rep", "seconds", routine.bridge.hold_s),
        "Stability": charts.trend(
            points({"stability_score": "Stability score"}), {"Stability score": ui.COLORS["plank"]}, "Hold stability (0–100)", "score", None
        ),
    }
