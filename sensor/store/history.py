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


def history(store: Store, routine: Routine, *, include_demo: bool = True, today: date | None = None) -> dict[str, Any]:
    """Weeks (oldest first) and sessions (newest first), computed as the dashboard does."""
    rows = queries.sessions(store, routine, include_demo=include_demo)
    by_week = weeks.weekly_adherence(store, routine, include_demo=include_demo, today=today, rows=rows)
    return {
        "routine": routine.to_json(),
        "weeks": [week_json(w) for w in by_week],
        "sessions": [session_json(r) for r in rows],
    }


def format_history(obj: dict[str, Any]) -> str:
    """Plain text: one line a week, then one line a session."""
    if not obj["sessions"]:
        return "no sessions yet (holdtrack import PATH adds some)"
    out = ["Week of      goals  " + "  ".join(f"{LABELS[ex]:>14}" for ex in LABELS)]
    for w in obj["weeks"]:
        cells = []
        for ex in LABELS:
            e = w["exercises"][ex]
            goal = f"/{e['goal_days']}" if e["goal_days"] else " no goal"
            cells.append(f"{e['to_target_days']}{goal} ({e['done_days']} done)".rjust(14))
        out.append(f"{w['week_start']}  {w['goals_met']}/{w['goals']}    " + "  ".join(cells))
    out.append("(days done to target / days a week asked, and days done at all)")
    out.append("")
    for s in obj["sessions"]:
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
        out.append(
            f"#{s['id']:<4} {s['date']}  bridge {s['bridge']['reps']} reps, back ext. {s['back_extension']['reps']} reps, "
            f"side plank {s['side_plank']['left']} L / {s['side_plank']['right']} R"
            + (f" / {s['side_plank']['unknown']} ?" if s["side_plank"]["unknown"] else "")
            + f", plank {s['plank']['holds']}; to target: {', '.join(met) or 'none'}"
            + (f"  [{', '.join(flags)}]" if flags else "")
        )
    return "\n".join(out)
