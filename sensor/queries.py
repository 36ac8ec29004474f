"""The read side of the store: what the dashboard pages ask, as plain dataclasses.

Pages never write SQL; they call these. Aggregates are computed in SQL per session (one
query, however many sessions) and folded into ISO weeks here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from sensor.events import Analysis
from sensor.routine import Routine
from sensor.store import Store, Trace, rows_to_analysis

EXERCISES = ("bridge", "back_extension", "side_plank", "plank")


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session with its totals (the history table)."""

    id: int
    started_utc: str
    local_date: date
    duration_s: float
    demo: bool
    calibrated: bool
    source: str
    kind: str
    file_path: str
    bridge_reps: int
    back_extension_reps: int
    bridge_sets: int
    back_extension_sets: int
    bridge_full_sets: int  # sets with at least the target number of reps
    back_extension_full_sets: int
    bridge_hold_sum_s: float
    back_extension_hold_sum_s: float
    side_left: int  # side-plank holds on each side
    side_right: int
    side_unknown: int
    side_left_ok: int  # ... of them reaching the target time
    side_right_ok: int
    side_hold_sum_s: float
    planks: int
    planks_ok: int
    plank_hold_sum_s: float
    score_sum: float  # over all holds
    sway_sum: float

    @property
    def holds(self) -> int:
        return self.side_left + self.side_right + self.side_unknown + self.planks

    @property
    def reps(self) -> int:
        return self.bridge_reps + self.back_extension_reps

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.holds if self.holds else None

    @property
    def bridge_mean_hold_s(self) -> float | None:
        return self.bridge_hold_sum_s / self.bridge_reps if self.bridge_reps else None


_SESSIONS_SQL = """
WITH r AS (
    SELECT session_id,
           sum(exercise = 'bridge') AS bridge_reps,
           sum(exercise = 'back_extension') AS ext_reps,
           total(CASE WHEN exercise = 'bridge' THEN hold_s END) AS bridge_hold,
           total(CASE WHEN exercise = 'back_extension' THEN hold_s END) AS ext_hold
    FROM reps GROUP BY session_id
), st AS (
    SELECT session_id,
           sum(exercise = 'bridge') AS bridge_sets,
           sum(exercise = 'back_extension') AS ext_sets,
           sum(exercise = 'bridge' AND rep_count >= :bridge_reps) AS bridge_full,
           sum(exercise = 'back_extension' AND rep_count >= :ext_reps) AS ext_full
    FROM sets GROUP BY session_id
), h AS (
    SELECT session_id,
           sum(exercise = 'side_plank' AND side = 'left') AS side_left,
           sum(exercise = 'side_plank' AND side = 'right') AS side_right,
           sum(exercise = 'side_plank' AND side IS NULL) AS side_unknown,
           sum(exercise = 'side_plank' AND side = 'left' AND duration_s >= :side_s) AS side_left_ok,
           sum(exercise = 'side_plank' AND side = 'right' AND duration_s >= :side_s) AS side_right_ok,
           total(CASE WHEN exercise = 'side_plank' THEN duration_s END) AS side_hold,
           sum(exercise = 'plank') AS planks,
           sum(exercise = 'plank' AND duration_s >= :plank_s) AS planks_ok,
           total(CASE WHEN exercise = 'plank' THEN duration_s END) AS plank_hold,
           total(score) AS score_sum,
           total(sway_deg) AS sway_sum
    FROM holds GROUP BY session_id
)
SELECT s.id, s.started_utc, s.local_date, s.duration_s, s.demo, s.calibrated, s.source, s.kind,
       s.file_path,
       coalesce(r.bridge_reps, 0), coalesce(r.ext_reps, 0),
       coalesce(st.bridge_sets, 0), coalesce(st.ext_sets, 0),
       coalesce(st.bridge_full, 0), coalesce(st.ext_full, 0),
       coalesce(r.bridge_hold, 0), coalesce(r.ext_hold, 0),
       coalesce(h.side_left, 0), coalesce(h.side_right, 0), coalesce(h.side_unknown, 0),
       coalesce(h.side_left_ok, 0), coalesce(h.side_right_ok, 0), coalesce(h.side_hold, 0),
       coalesce(h.planks, 0), coalesce(h.planks_ok, 0), coalesce(h.plank_hold, 0),
       coalesce(h.score_sum, 0), coalesce(h.sway_sum, 0)
FROM sessions s
LEFT JOIN r ON r.session_id = s.id
LEFT JOIN st ON st.session_id = s.id
LEFT JOIN h ON h.session_id = s.id
WHERE (:demo OR s.demo = 0)
  AND (:since IS NULL OR s.local_date >= :since)
  AND (:until IS NULL OR s.local_date <= :until)
ORDER BY s.started_utc DESC, s.id DESC
"""


def sessions(
    store: Store,
    routine: Routine | None = None,
    *,
    include_demo: bool = True,
    since: date | None = None,
    until: date | None = None,
) -> list[SessionRow]:
    """All sessions (newest first) with their totals; ``routine`` decides what counts as
    a full set or a hold reaching its target."""
    routine = routine or Routine()
    params: dict[str, Any] = {
        "bridge_reps": routine.bridge.reps_per_set,
        "ext_reps": routine.back_extension.reps_per_set,
        "side_s": routine.side_plank.hold_s,
        "plank_s": routine.plank.hold_s,
        "demo": int(include_demo),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    with store.connect() as con:
        rows = con.execute(_SESSIONS_SQL, params).fetchall()
    out = []
    for row in rows:
        v = list(row)
        v[2] = date.fromisoformat(v[2])
        v[4], v[5] = bool(v[4]), bool(v[5])
        out.append(SessionRow(*v))
    return out


@dataclass(slots=True)
class SessionDetail:
    """Everything the session page shows about one session."""

    session: dict[str, Any]
    reps: list[dict[str, Any]]  # with set index and rep number within its set
    holds: list[dict[str, Any]]
    sets: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    trace: Trace | None
    analysis: Analysis = field(default_factory=Analysis)


def session_detail(store: Store, session_id: int) -> SessionDetail | None:
    """One session's reps, holds, sets, gaps and display trace; None if it does not exist."""
    with store.connect() as con:
        s = con.execute(
            """SELECT s.*, d.name AS device_name, d.profile AS device_profile
               FROM sessions s LEFT JOIN devices d ON d.id = s.device_id WHERE s.id = ?""",
            (session_id,),
        ).fetchone()
        if s is None:
            return None
        sets = [dict(r) for r in con.execute("SELECT * FROM sets WHERE session_id = ? ORDER BY idx", (session_id,))]
        reps = [
            dict(r)
            for r in con.execute(
                """SELECT r.*, st.idx AS set_idx,
                          r.idx - (SELECT min(r2.idx) FROM reps r2 WHERE r2.set_id = r.set_id) + 1 AS rep_in_set
                   FROM reps r JOIN sets st ON st.id = r.set_id
                   WHERE r.session_id = ? ORDER BY r.idx""",
                (session_id,),
            )
        ]
        holds = [dict(r) for r in con.execute("SELECT * FROM holds WHERE session_id = ? ORDER BY idx", (session_id,))]
        gaps = [dict(r) for r in con.execute("SELECT start_s, end_s FROM gaps WHERE session_id = ? ORDER BY start_s", (session_id,))]
        t = con.execute("SELECT t0_s, hz, deg FROM traces WHERE session_id = ?", (session_id,)).fetchone()
    trace = Trace(t["t0_s"], t["hz"], np.frombuffer(t["deg"], "<f4")) if t else None
    session = dict(s)
    return SessionDetail(session, reps, holds, sets, gaps, trace, rows_to_analysis(session, reps, holds, gaps))


def iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


@dataclass(slots=True)
class ExerciseWeek:
    """One exercise in one week: on how many days it was done, and done to target."""

    done_days: int = 0
    complete_days: int = 0
    target_days: int = 0

    @property
    def met(self) -> bool:
        return self.target_days > 0 and self.complete_days >= self.target_days

    @property
    def fraction(self) -> float:
        return min(1.0, self.complete_days / self.target_days) if self.target_days else 1.0


@dataclass(slots=True)
class WeekAdherence:
    week: str  # ISO week, e.g. "2025-W07"
    start: date  # its Monday
    sessions: int
    exercises: dict[str, ExerciseWeek]
    side_left_days: int  # days with the side-plank target met on the left side
    side_right_days: int

    @property
    def score(self) -> float:
        """Share of the week's targets met (0-1) over the exercises with a weekly target."""
        tracked = [e for e in self.exercises.values() if e.target_days > 0]
        return sum(e.fraction for e in tracked) / len(tracked) if tracked else 1.0


def _weeks(first: date, last: date) -> list[date]:
    out, d = [], week_start(first)
    while d <= last:
        out.append(d)
        d += timedelta(days=7)
    return out


def weekly_adherence(
    store: Store, routine: Routine | None = None, *, include_demo: bool = True, today: date | None = None
) -> list[WeekAdherence]:
    """Adherence per ISO week, oldest first, from the first session's week to this week
    (weeks without any session are listed too: a missed week is information).

    A day counts for an exercise when its sessions reached the per-session target: full
    sets for bridges and back extensions, target-length holds on each side for side
    planks, target-length holds for the plank. The weekly target is a number of such days.
    """
    routine = routine or Routine()
    rows = sessions(store, routine, include_demo=include_demo)
    if not rows:
        return []
    by_day: dict[date, list[SessionRow]] = defaultdict(list)
    for r in rows:
        by_day[r.local_date].append(r)
    end = max(max(by_day), today or date.today())
    weeks = {ws: WeekAdherence(iso_week(ws), ws, 0, {}, 0, 0) for ws in _weeks(min(by_day), end)}
    for w in weeks.values():
        for ex in EXERCISES:
            target = (routine.rep_target(ex) if ex in ("bridge", "back_extension") else routine.hold_target(ex)).sessions_per_week
            w.exercises[ex] = ExerciseWeek(target_days=target)
    for day, rs in by_day.items():
        w = weeks[week_start(day)]
        w.sessions += len(rs)
        done = {
            "bridge": sum(r.bridge_reps for r in rs) > 0,
            "back_extension": sum(r.back_extension_reps for r in rs) > 0,
            "side_plank": sum(r.side_left + r.side_right + r.side_unknown for r in rs) > 0,
            "plank": sum(r.planks for r in rs) > 0,
        }
        left_ok = sum(r.side_left_ok for r in rs) >= routine.side_plank.holds
        right_ok = sum(r.side_right_ok for r in rs) >= routine.side_plank.holds
        complete = {
            "bridge": sum(r.bridge_full_sets for r in rs) >= routine.bridge.sets_per_session,
            "back_extension": sum(r.back_extension_full_sets for r in rs) >= routine.back_extension.sets_per_session,
            "side_plank": left_ok and right_ok,
            "plank": sum(r.planks_ok for r in rs) >= routine.plank.holds,
        }
        for ex in EXERCISES:
            if done[ex]:
                w.exercises[ex].done_days += 1
                w.exercises[ex].complete_days += int(complete[ex])
        w.side_left_days += int(left_ok)
        w.side_right_days += int(right_ok)
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


def weekly_trends(store: Store, *, include_demo: bool = True) -> list[WeekTrend]:
    """Weekly means (weighted by rep / hold counts), oldest first; weeks with no session
    are left out (a trend line joins the weeks that have data)."""
    rows = sessions(store, include_demo=include_demo)
    acc: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        a = acc[week_start(r.local_date)]
        sides = r.side_left + r.side_right + r.side_unknown
        a["side_n"] += sides
        a["side_s"] += r.side_hold_sum_s
        a["plank_n"] += r.planks
        a["plank_s"] += r.plank_hold_sum_s
        a["bridge_n"] += r.bridge_reps
        a["bridge_s"] += r.bridge_hold_sum_s
        a["ext_n"] += r.back_extension_reps
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


def recording_paths(store: Store) -> list[tuple[int, str, str, bool]]:
    """(session id, date, recording path, demo) of sessions whose file is a recording."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT id, local_date, file_path, demo FROM sessions WHERE kind = 'htrec' ORDER BY started_utc DESC"
        ).fetchall()
    return [(int(r[0]), str(r[1]), str(store.resolve(r[2])), bool(r[3])) for r in rows]
