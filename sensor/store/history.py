"""``holdtrack history``: the week-by-week adherence and per-session summary the dashboard's
History page shows, as JSON for scripts and tests, or as plain text."""

from __future__ import annotations

from datetime import date
from typing import Any

from sensor.routine import PARTS, Routine
from sensor.store import Store, queries, weeks
from sensor.vocab import LABELS


def session_json(r: queries.SessionRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "date": r.local_date.isoformat(),
        "started_utc": r.started_utc,
        "date_source": r.date_source,
        "duration_s": round(r.duration_s, 3),
        "demo": r.demo,
        "source": r.source_words,
        "note": r.note,
        "calibrated": r.calibrated,
        "duplicate_of": r.duplicate_of,
        "corrected": r.corrected,
        "damaged_blocks": r.damaged_blocks,
        "interrupted": r.interrupted,
        "bridge": {"reps": r.bridge_reps, "sets": r.bridge_sets, "sets_to_target": r.bridge_full_sets},
        "back_extension": {"reps": r.back_extension_reps, "sets": r.back_extension_sets, "sets_to_target": r.back_extension_full_sets},
        "side_plank": {
            "left": r.side_left,
            "right": r.side_right,
            "unknown": r.side_unknown,
            "left_to_target": r.side_left_ok,
            "right_to_target": r.side_right_ok,
        },
        "plank": {"holds": r.planks, "to_target": r.planks_ok},
        "outcomes": {p: {"done": r.outcomes[p].done, "to_target": r.outcomes[p].met} for p in PARTS},
    }


def week_json(w: weeks.WeekAdherence) -> dict[str, Any]:
    return {
        "week_start": w.start.isoformat(),
        "sessions": w.sessions,
        "goals": w.goals,
        "goals_met": w.goals_met,
        "exercises": {
            ex: {"done_days": e.done_days, "to_target_days": e.complete_days, "goal_days": e.target_days, "met": e.met}
            for ex, e in w.exercises.items()
        },
        "side_left_days": w.side_left_days,
        "side_right_days": w.side_right_days,
    }


WEEKS_WITH_SESSIONS = 12  # ``holdtrack history`` shows the last 12 weeks that have sessions (History's heatmap: 12 weeks)
EMPTY_RUN = 3  # this many weeks in a row without a session are said in one line
NO_GOAL = "no goal"


def demo_by_default(n_demo: int, n_total: int) -> bool:
    """Whether demo sessions are counted when nobody said: only when there is nothing
    else (the dashboard's History and ``holdtrack history`` alike)."""
    return n_demo > 0 and n_demo == n_total


def history(
    store: Store,
    routine: Routine,
    *,
    include_demo: bool | None = None,
    today: date | None = None,
    weeks_with_sessions: int | None = WEEKS_WITH_SESSIONS,
    since: date | None = None,
) -> dict[str, Any]:
    """Weeks (oldest first) and sessions (newest first), computed as the dashboard does,
    over a bounded range: from ``since``'s week, else from the oldest of the last
    ``weeks_with_sessions`` weeks that have sessions (None: all), to this week.
    ``include_demo`` None: as the dashboard (``demo_by_default``)."""
    every = queries.sessions(store, routine, include_demo=True)
    if include_demo is None:
        include_demo = demo_by_default(sum(r.demo for r in every), len(every))
    rows = [r for r in every if include_demo or not r.demo]
    by_week = weeks.weekly_adherence(store, routine, include_demo=include_demo, today=today, rows=rows)
    with_sessions = sorted({weeks.week_start(r.local_date) for r in rows})
    if since is not None:
        first = weeks.week_start(since)
    elif weeks_with_sessions is not None and with_sessions:
        first = with_sessions[-min(weeks_with_sessions, len(with_sessions))]
    else:
        first = with_sessions[0] if with_sessions else weeks.week_start(today or weeks.current_day())
    return {
        "routine": routine.to_json(),
        "range": {
            "first_week": first.isoformat(),
            "earlier_weeks_with_sessions": sum(1 for w in with_sessions if w < first),
            "demo_included": include_demo,
            "demo_sessions_left_out": 0 if include_demo else sum(r.demo for r in every),
        },
        "weeks": [week_json(w) for w in by_week if w.start >= first],
        "sessions": [session_json(r) for r in rows if weeks.week_start(r.local_date) >= first],
    }


def _cell(e: dict[str, Any]) -> str:
    """One exercise in one week, in words: days done to target of the days asked."""
    done, ok, goal = e["done_days"], e["to_target_days"], e["goal_days"]
    if not goal:
        return f"done {done} day{'' if done == 1 else 's'}" if done else "–"
    text = f"{ok} of {goal} days" + (" ✓" if ok >= goal else "")
    return text + (f", +{done - ok} short" if done > ok else "")


def format_history(obj: dict[str, Any]) -> str:
    """Plain text: one line a week (a long run of weeks without a session in one line),
    then one line a session, then what was left out and how to see it."""
    rng = obj.get("range", {})
    if not obj["sessions"] and not rng.get("earlier_weeks_with_sessions"):
        left = rng.get("demo_sessions_left_out", 0)
        if left:
            return f"no sessions of yours yet ({left} demo sessions: --include-demo shows them)"
        return "no sessions yet (holdtrack import PATH adds some)"
    goals = {ex: max((w["exercises"][ex]["goal_days"] for w in obj["weeks"]), default=0) for ex in LABELS}
    heads = [LABELS[ex] + ("" if goals[ex] else f" ({NO_GOAL})") for ex in LABELS]
    width = max(18, *(len(h) for h in heads))
    out = ["Week of     Goals met  " + "  ".join(h.ljust(width) for h in heads).rstrip()]
    empty: list[str] = []

    def flush() -> None:
        if len(empty) >= EMPTY_RUN:
            out.append(f"            … {len(empty)} weeks without a session ({empty[0]} to {empty[-1]}) …")
        else:
            out.extend(f"{d}  –" for d in empty)
        empty.clear()

    for w in obj["weeks"]:
        if not w["sessions"]:
            empty.append(w["week_start"])
            continue
        flush()
        cells = "  ".join(_cell(w["exercises"][ex]).ljust(width) for ex in LABELS).rstrip()
        out.append(f"{w['week_start']}  {w['goals_met']} of {w['goals']}".ljust(23) + cells)
    flush()
    out.append(
        "(N of M days: the days a session was done to target, of the days a week your routine asks; "
        "✓ the weekly goal met; +K short: days done but short of the target)"
    )
    out.append("")
    for s in obj["sessions"]:
        out.append(_session_line(s))
    earlier, left = rng.get("earlier_weeks_with_sessions", 0), rng.get("demo_sessions_left_out", 0)
    notes = []
    if earlier:
        notes.append(f"{earlier} earlier week{'' if earlier == 1 else 's'} with sessions not shown (--weeks N, --since DATE or --all)")
    if left:
        notes.append(f"{left} demo sessions left out (--include-demo)")
    if notes:
        out += ["", "; ".join(notes)]
    return "\n".join(out)


def _session_line(s: dict[str, Any]) -> str:
    flags = [
        f
        for f, on in (
            ("demo", s["demo"]),
            (f"duplicate of {s['duplicate_of']}", s["duplicate_of"]),
            ("corrected", s["corrected"]),
            (f"{s['damaged_blocks']} damaged block(s)", s["damaged_blocks"]),
            ("interrupted", s["interrupted"]),
        )
        if on
    ]
    met = [LABELS[ex] for ex in LABELS if s["outcomes"][ex]["to_target"]]
    return (
        f"#{s['id']:<4} {s['date']}  bridge {s['bridge']['reps']} reps, back ext. {s['back_extension']['reps']} reps, "
        f"side plank {s['side_plank']['left']} L / {s['side_plank']['right']} R"
        + (f" / {s['side_plank']['unknown']} ?" if s["side_plank"]["unknown"] else "")
        + f", plank {s['plank']['holds']}; to target: {', '.join(met) or 'none'}"
        + (f"  [{', '.join(flags)}]" if flags else "")
    )
