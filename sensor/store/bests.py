"""Personal bests: the longest front plank, the longest side plank on each side, the most
bridges held to target in one session. From the sessions as the user corrected them
(``queries.SessionRow``); duplicates never count (deleted sessions are not in the rows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sensor.store.queries import SessionRow


@dataclass(frozen=True, slots=True)
class Best:
    """One personal best: its value, and the session that first reached it."""

    key: str
    label: str
    value: float
    unit: str  # "s" or "reps"
    session_id: int
    local_date: date


RECORDS: tuple[tuple[str, str, str, Callable[[SessionRow], float]], ...] = (
    ("plank", "Longest front plank", "s", lambda r: r.plank_best_s),
    ("side_left", "Longest side plank, left", "s", lambda r: r.side_left_best_s),
    ("side_right", "Longest side plank, right", "s", lambda r: r.side_right_best_s),
    ("bridges_held", "Most bridges held to target in a session", "reps", lambda r: float(r.bridge_held)),
)


def personal_bests(rows: list[SessionRow]) -> list[Best]:
    """Each record (``RECORDS``) that has been set, with the earliest session that set it
    (a later session only equalling it is not a new best)."""
    counted = sorted((r for r in rows if r.duplicate_of is None), key=lambda r: (r.started_utc, r.id))
    out = []
    for key, label, unit, value in RECORDS:
        best: SessionRow | None = None
        for r in counted:
            if value(r) > 0 and (best is None or value(r) > value(best)):
                best = r
        if best is not None:
            out.append(Best(key, label, value(best), unit, best.id, best.local_date))
    return out
