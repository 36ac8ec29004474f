"""``evaluate``'s figures per class of the catalogue (``sensor.sim.classes``), and for the
classes held out of tuning together against the rest together.

What belongs to a class: a session class (sensor, slip, mounting) takes its whole session;
an event class its reps, holds and sets, with the detections within ``SPAN_MARGIN_S`` of
them (of any exercise: a back extension read as a plank is that class's false event); a
stretch class its activity spans, every detection there being false, counted per hour of
the span.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sensor.events import Analysis
from sensor.sim.classes import CATEGORIES, CLASSES

SPAN_MARGIN_S = 2.0  # as the variant groups (sensor.sim.evaluate)


def _scope_has(names: set[str], scope: str) -> bool:
    return any(CLASSES[c].scope == scope for c in names if c in CLASSES)


def restrict(analysis: Analysis, truth: dict[str, Any], names: set[str], *, rest: bool = False) -> tuple[Analysis, dict[str, Any]] | None:
    """The part of a session that is of any of the classes ``names`` (``rest``: of none of
    them), as an analysis and truth to score; None when there is no such part. The truth's
    ``duration_s`` is the part's time (false events per hour of it)."""
    have = set(truth.get("classes", []))
    whole = bool({c for c in have & names if CLASSES.get(c) and CLASSES[c].scope == "session"})
    if whole:
        return None if rest else (analysis, truth)

    def mine(x: dict[str, Any]) -> bool:
        return bool(set(x.get("classes", [])) & names) != rest

    reps = [r for r in truth["reps"] if mine(r)]
    holds = [h for h in truth["holds"] if mine(h)]
    sets = [s for s in truth.get("sets", []) if mine(s)]
    acts = [a for a in truth.get("activities", []) if any(CLASSES.get(c) and CLASSES[c].scope == "activity" for c in a.get("classes", []))]
    if rest:
        out_events = [x for x in (*truth.get("sets", []), *truth["holds"]) if not mine(x)]
        out_acts = [a for a in acts if set(a["classes"]) & names]
        away = [(x["start_s"] - SPAN_MARGIN_S, x["end_s"] + SPAN_MARGIN_S) for x in out_events] + [
            (a["start_s"], a["end_s"]) for a in out_acts
        ]

        def keep(a: float, z: float) -> bool:
            return not any(a < y1 and z > y0 for y0, y1 in away)

        hours_s = float(truth.get("duration_s", analysis.duration_s)) - sum(a["end_s"] - a["start_s"] for a in out_acts)
    else:
        acts = [a for a in acts if set(a["classes"]) & names]
        if not (reps or holds or acts):
            return None
        near = [(x["start_s"] - SPAN_MARGIN_S, x["end_s"] + SPAN_MARGIN_S) for x in (*sets, *holds)] + [
            (a["start_s"], a["end_s"]) for a in acts
        ]

        def keep(a: float, z: float) -> bool:
            return any(a < y1 and z > y0 for y0, y1 in near)

        hours_s = sum(a["end_s"] - a["start_s"] for a in acts) + sum(z - a for a, z in near[: len(sets) + len(holds)])
    sub = replace(
        analysis, reps=[r for r in analysis.reps if keep(r.start_s, r.end_s)], holds=[h for h in analysis.holds if keep(h.start_s, h.end_s)]
    )
    return sub, {**truth, "reps": reps, "holds": holds, "sets": sets, "duration_s": max(hours_s, 0.0)}


def per_hour_checked(names: set[str]) -> bool:
    """Whether a group's false events per hour are held to the target: those of whole
    sessions and of stretches; an exercise's own extras show in its precision."""
    return _scope_has(names, "session") or _scope_has(names, "activity")


def category_of(name: str) -> str:
    return CLASSES[name].category if name in CLASSES else "-"


def class_order(names: set[str]) -> list[str]:
    """Classes by category, then as the catalogue lists them."""
    return sorted(names, key=lambda c: (CATEGORIES.index(CLASSES[c].category), list(CLASSES).index(c)))
