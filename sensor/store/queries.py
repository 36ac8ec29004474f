"""The read side of the store: what the dashboard pages ask, as plain dataclasses.

Pages never write SQL; they call these. Each table is read in one query, however many
sessions; what counts as done to target is ``sensor.routine.outcomes`` (the one definition),
applied per session to the analysis as the user corrected it, then combined per day and
per week (Monday to Sunday) here.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from sensor.events import Analysis, Hold, Rep
from sensor.routine import Outcome, RepSet, Routine, outcomes, reaches, rep_sets
from sensor.store import edits
from sensor.store.writes import Store
from sensor.trace import Trace
from sensor.vocab import source_words


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session with its totals (the history table), the user's corrections applied."""

    id: int
    started_utc: str
    local_date: date
    duration_s: float
    demo: bool
    calibrated: bool
    source: str
    kind: str
    file_path: str
    bridge_reps: int  # counted (a corrected set counts as the user says)
    back_extension_reps: int
    bridge_sets: int
    back_extension_sets: int
    bridge_full_sets: int  # sets done to target (routine.RepSet.to_target)
    back_extension_full_sets: int
    bridge_hold_sum_s: float  # over the detected reps (a hold the user only added has no time)
    back_extension_hold_sum_s: float
    side_left: int  # side-plank holds on each side
    side_right: int
    side_unknown: int
    side_left_ok: int  # ... of them reaching the target time (routine.reaches)
    side_right_ok: int
    side_hold_sum_s: float
    planks: int
    planks_ok: int
    plank_hold_sum_s: float
    score_sum: float  # over all holds
    sway_sum: float
    bridge_timed: int = 0  # detected reps (the hold sums' denominators)
    back_extension_timed: int = 0
    duplicate_of: int | None = None  # the same samples as that session: not counted
    date_source: str = "recording"
    corrected: bool = False
    damaged_blocks: int = 0  # recording blocks skipped for damage (what they held is missing)
    interrupted: bool = False  # the recording ended without a clean stop
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # done / to target per routine part
    note: str = ""  # the user's own note (sensor.store.notes)
    device_name: str = ""
    bridge_held: int = 0  # bridges held to the target time, counted as the user corrected them
    plank_best_s: float = 0.0  # the longest hold of the session (as corrected), 0 if none
    side_left_best_s: float = 0.0
    side_right_best_s: float = 0.0

    @property
    def source_words(self) -> str:
        """Where the session came from ("Sensor WT901BLE67", "Import: CSV", "Demo"...)."""
        return source_words(self.source, self.kind, self.demo, self.device_name)

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
        return self.bridge_hold_sum_s / self.bridge_timed if self.bridge_timed else None


_WHERE = """s.deleted_utc IS NULL AND (:demo OR s.demo = 0)
  AND (:since IS NULL OR s.local_date >= :since) AND (:until IS NULL OR s.local_date <= :until)"""
_SESSIONS_SQL = f"""
SELECT s.*, coalesce(d.name, '') AS device_name FROM sessions s LEFT JOIN devices d ON d.id = s.device_id
WHERE {_WHERE}
ORDER BY s.started_utc DESC, s.id DESC
"""
# Only what an Analysis holds, as plain tuples in its fields' order (a year of sessions is
# thousands of reps: no Row objects, one query per table).
_EVENTS_SQL = {
    "reps": f"""SELECT r.session_id, r.exercise, r.start_s, r.end_s, r.hold_s, r.detected_at_s, r.peak_deg, r.confidence
               FROM reps r JOIN sessions s ON s.id = r.session_id WHERE {_WHERE} ORDER BY r.session_id, r.idx""",
    "holds": f"""SELECT h.session_id, h.exercise, h.side, h.start_s, h.end_s, h.duration_s, h.sway_deg, h.tremor_dps,
                       h.sag_deg, h.detected_at_s, h.score, h.confidence
                FROM holds h JOIN sessions s ON s.id = h.session_id WHERE {_WHERE} ORDER BY h.session_id, h.idx""",
}


def _grouped(con: sqlite3.Connection, table: str, params: dict[str, Any]) -> dict[int, list[Any]]:
    make: Any = Rep if table == "reps" else Hold
    cur = con.cursor()
    cur.row_factory = None  # tuples
    out: dict[int, list[Any]] = defaultdict(list)
    for row in cur.execute(_EVENTS_SQL[table], params):
        out[row[0]].append(make(*row[1:]))
    return out


def _stored_day(text: Any) -> date:
    """A stored local date; one that is not a date at all (a hand-edited store) reads as
    ``date.min``, which no weekly view spans (``dates.plausible_day``)."""
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return date.min


def _row(s: Any, a: Analysis, counts: dict[int, int], routine: Routine, corrected: bool) -> SessionRow:
    sets = rep_sets(a.reps, routine, counts)

    def of(ex: str) -> list[RepSet]:
        return [x for x in sets if x.exercise == ex and x.reps > 0]

    def rep_hold(ex: str) -> float:
        return float(sum(r.hold_s for r in a.reps if r.exercise == ex))

    def longest(holds: list[Hold]) -> float:
        return float(max((h.duration_s for h in holds), default=0.0))

    side = [h for h in a.holds if h.exercise == "side_plank"]
    planks = [h for h in a.holds if h.exercise == "plank"]
    ok = routine.side_plank.hold_s
    return SessionRow(
        id=int(s["id"]),
        started_utc=s["started_utc"],
        local_date=_stored_day(s["local_date"]),
        duration_s=float(s["duration_s"]),
        demo=bool(s["demo"]),
        calibrated=bool(s["calibrated"]),
        source=s["source"],
        kind=s["kind"],
        file_path=s["file_path"],
        bridge_reps=sum(x.reps for x in of("bridge")),
        back_extension_reps=sum(x.reps for x in of("back_extension")),
        bridge_sets=len(of("bridge")),
        back_extension_sets=len(of("back_extension")),
        bridge_full_sets=sum(x.to_target(routine.bridge) for x in of("bridge")),
        back_extension_full_sets=sum(x.to_target(routine.back_extension) for x in of("back_extension")),
        bridge_hold_sum_s=rep_hold("bridge"),
        back_extension_hold_sum_s=rep_hold("back_extension"),
        side_left=sum(h.side == "left" for h in side),
        side_right=sum(h.side == "right" for h in side),
        side_unknown=sum(h.side is None for h in side),
        side_left_ok=sum(h.side == "left" and reaches(h.duration_s, ok) for h in side),
        side_right_ok=sum(h.side == "right" and reaches(h.duration_s, ok) for h in side),
        side_hold_sum_s=float(sum(h.duration_s for h in side)),
        planks=len(planks),
        planks_ok=sum(reaches(h.duration_s, routine.plank.hold_s) for h in planks),
        plank_hold_sum_s=float(sum(h.duration_s for h in planks)),
        score_sum=float(sum(h.score for h in a.holds)),
        sway_sum=float(sum(h.sway_deg for h in a.holds)),
        bridge_timed=sum(r.exercise == "bridge" for r in a.reps),
        back_extension_timed=sum(r.exercise == "back_extension" for r in a.reps),
        duplicate_of=None if s["duplicate_of"] is None else int(s["duplicate_of"]),
        date_source=str(s["date_source"]),
        corrected=corrected,
        damaged_blocks=int(s["damaged_blocks"]),
        interrupted=bool(s["interrupted"]),
        outcomes=outcomes(a, routine, counts, sets=sets),
        note=str(s["note"]),
        device_name=str(s["device_name"]),
        bridge_held=sum(x.held for x in of("bridge")),
        plank_best_s=longest(planks),
        side_left_best_s=longest([h for h in side if h.side == "left"]),
        side_right_best_s=longest([h for h in side if h.side == "right"]),
    )


def sessions(
    store: Store,
    routine: Routine | None = None,
    *,
    include_demo: bool = True,
    since: date | None = None,
    until: date | None = None,
) -> list[SessionRow]:
    """All kept sessions (newest first) with their totals, as the user corrected them;
    ``routine`` decides what counts as a set or a hold done to target (``sensor.routine``)."""
    routine = routine or Routine()
    params: dict[str, Any] = {
        "demo": int(include_demo),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    with store.connect() as con:
        rows = con.execute(_SESSIONS_SQL, params).fetchall()
        reps, holds = _grouped(con, "reps", params), _grouped(con, "holds", params)
    fixes = edits.corrections(store, [int(r["id"]) for r in rows])
    out = []
    for s in rows:
        sid = int(s["id"])
        a = Analysis(reps=reps.get(sid, []), holds=holds.get(sid, []), calibrated=bool(s["calibrated"]))
        a, counts = edits.apply_corrections(a, fixes.get(sid, []))
        out.append(_row(s, a, counts, routine, sid in fixes))
    return out


@dataclass(slots=True)
class SessionDetail:
    """Everything the session page shows about one session."""

    session: dict[str, Any]
    reps: list[dict[str, Any]]  # with set index and rep number within its set
    holds: list[dict[str, Any]]  # as detected
    sets: list[dict[str, Any]]  # as detected
    gaps: list[dict[str, Any]]
    trace: Trace | None
    analysis: Analysis = field(default_factory=Analysis)  # with the user's corrections
    detected: Analysis = field(default_factory=Analysis)  # as the pipeline found it
    counts: dict[int, int] = field(default_factory=dict)  # corrected rep counts by set index
    corrections: list[edits.Correction] = field(default_factory=list)


def session_detail(store: Store, session_id: int) -> SessionDetail | None:
    """One session's reps, holds, sets, gaps, display trace and corrections; None if it
    does not exist (a session in the bin is returned, with ``deleted_utc`` set)."""
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
    if session["start_s"] is None:  # stored before schema 6: the display trace starts within 0.2 s of it
        session["start_s"] = float(trace.t0_s) if trace is not None else 0.0
    detected = rows_to_analysis(session, reps, holds, gaps)
    fixes = edits.corrections(store, [session_id]).get(session_id, [])
    effective, counts = edits.apply_corrections(detected, fixes)
    return SessionDetail(session, reps, holds, sets, gaps, trace, effective, detected, counts, fixes)


def recording_paths(store: Store) -> list[tuple[int, str, str, bool]]:
    """(session id, date, kept file, demo) of the sessions, newest first: each file (a
    recording, CSV or phone export) can be replayed or analysed again."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT id, local_date, file_path, demo FROM sessions WHERE deleted_utc IS NULL ORDER BY started_utc DESC"
        ).fetchall()
    return [(int(r[0]), str(r[1]), str(store.resolve(r[2])), bool(r[3])) for r in rows]


def rows_to_analysis(session: sqlite3.Row | dict[str, Any], reps: Sequence[Any], holds: Sequence[Any], gaps: Sequence[Any]) -> Analysis:
    """Rebuild an ``Analysis`` from stored rows (exports, routine comparison)."""
    from sensor.events import Gap

    return Analysis(
        reps=[Rep(r["exercise"], r["start_s"], r["end_s"], r["hold_s"], r["detected_at_s"], r["peak_deg"], r["confidence"]) for r in reps],
        holds=[
            Hold(
                h["exercise"],
                h["side"],
                h["start_s"],
                h["end_s"],
                h["duration_s"],
                h["sway_deg"],
                h["tremor_dps"],
                h["sag_deg"],
                h["detected_at_s"],
                h["score"],
                h["confidence"],
            )
            for h in holds
        ],
        gaps=[Gap(g["start_s"], g["end_s"]) for g in gaps],
        calibrated=bool(session["calibrated"]),
        duration_s=float(session["duration_s"]),
        sample_rate_hz=float(session["sample_rate_hz"]),
        source=str(session["source"]),
        damaged_blocks=int(session["damaged_blocks"]),  # so exports of the session say it too
        interrupted=bool(session["interrupted"]),
        start_s=float(session["start_s"] or 0.0) if "start_s" in session.keys() else 0.0,  # noqa: SIM118 (a Row's `in` looks at values)
    )
