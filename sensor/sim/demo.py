"""Demo data that shows the product: a simulated person following the routine about three
times a week for eight weeks, up to today, who gets better at it.

Every session is a real recording from the simulated wearer (``sensor.sim.simulate``), analysed
by the same pipeline as yours and stored with ``demo = 1`` (labelled as demo everywhere;
Settings removes it). It is generated at the first start rather than shipped, so the
repository stays small; the plan is fixed by a seed, so every first start looks the same
relative to its date.

The story (``STORY``): two beginner weeks of bridges and back extensions, short of the
targets; then the whole routine, side planks on the knees at first; a busy week with one
session; a week where the side planks were skipped once and the opening stand forgotten
once (its side planks' sides are unknown until the user sets them); then the practised
weeks, where every weekly goal is met, with a day split into a morning and an evening
session. The person progresses (``dose``): more bridges, held longer at the top, more
back-extension sets and reps, longer planks and side planks on both sides, steadier holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources, util
from pathlib import Path
from typing import Any

import numpy as np

from sensor import importer
from sensor.events import Analysis
from sensor.importer import ImportResult
from sensor.store import Store
from sensor.store.weeks import current_day
from sensor.trace import Trace
from sensor.vocab import EXERCISES, RECORDING_SUFFIX

DEMO_WEEKS = 8
DEMO_RATE_HZ = 25.0  # plenty for reps and holds; keeps the files and the first start small
DEMO_SEED = 2024
FULL = EXERCISES
REPS = ("bridge", "back_extension")
HOLDS = ("plank", "side_plank")

# The weeks, oldest first: (day of the week, what was done, opening stand) per session.
# Two entries on one day are a morning and an evening session. The last week is this one
# (only its days up to today; today's session is the whole routine).
STORY: tuple[tuple[tuple[int, tuple[str, ...], bool], ...], ...] = (
    ((0, REPS, True), (3, REPS, True)),  # beginner: bridges and back extensions only
    ((0, REPS, True), (2, REPS, True), (4, REPS, True)),
    ((1, FULL, True), (4, FULL, True)),  # the whole routine; a missed session
    ((2, FULL, True),),  # a busy week
    ((0, FULL, False), (2, ("bridge", "back_extension", "plank"), True), (4, FULL, True)),  # no stand; no time for side planks
    ((0, FULL, True), (2, REPS, True), (2, HOLDS, True), (5, FULL, True)),  # a day in two halves
    ((1, FULL, True), (3, FULL, True), (3, ("side_plank",), True), (5, FULL, True)),  # an extra evening of side planks
    ((0, FULL, True), (2, FULL, True), (4, FULL, True)),  # this week, up to today
)
assert len(STORY) == DEMO_WEEKS

# The person's own way of moving (sensor.sim.technique.Technique), the same every session.
PERSON: dict[str, Any] = {
    "tempo": "normal",
    "backext_dir": "head_up",
    "backext_amp_deg": 9.0,
    "backext_rise_m": 0.01,
    "backext_move_s": 0.9,
    "backext_hold_max_s": 1.5,
    "bridge_amp_deg": 24.0,
    "bridge_lift_m": 0.16,
    "plank_elev_deg": 9.0,
    "plank_lift_m": 0.22,
}


def dose(progress: float) -> dict[str, Any]:
    """What the person does at ``progress`` (0: the first day, 1: today), as technique
    fields: the targets (bridges 12 × 5 s, back extensions 3 × 10, side planks 2 × 30 s a
    side) are reached about two thirds of the way."""
    p = min(1.0, max(0.0, progress))
    knees = p < 0.45  # beginners support the side plank on the knees (routine.md)
    return {
        **PERSON,
        "bridge_reps": round(8 + 6 * p),
        "bridge_hold_s": 3.0 + 4.6 * p,
        "bridge_hold_sd_s": 0.8 - 0.5 * p,
        "backext_sets": 1 if p < 0.1 else 2 if p < 0.2 else 3,
        "backext_reps": round(7.5 + 5 * p),
        "plank_hold_s": 15.0 + 40.0 * p,
        "side_hold_s": 8.0 + 36.0 * p,
        "knee_side_plank": knees,
        "side_elev_deg": 10.0 if knees else 15.0,
        "side_lift_m": 0.12 if knees else 0.18,
        "steadiness": 1.25 - 0.5 * p,
    }


@dataclass(frozen=True, slots=True)
class DemoSession:
    when: datetime  # local time
    seed: int
    exercises: tuple[str, ...]
    stand: bool
    technique: dict[str, Any]


def demo_plan(today: date, seed: int = DEMO_SEED, now: datetime | None = None) -> list[DemoSession]:
    """The sessions of the story, oldest first, none after ``today`` (this week has at
    least one session, today's, so the first screen shows this week too)."""
    rng = np.random.default_rng(seed)
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=DEMO_WEEKS - 1)
    plan: list[DemoSession] = []
    for w, week in enumerate(STORY):
        monday = first_monday + timedelta(weeks=w)
        # Some days a day later than usual (all sessions of that day move together).
        shift = {d: int(rng.integers(0, 2)) if d < 5 else 0 for d, _, _ in week}
        days = [(monday + timedelta(days=d + shift[d]), ex, stand) for d, ex, stand in week]
        if w == DEMO_WEEKS - 1:
            days = [x for x in days if x[0] < today] + [(today, FULL, True)]
        for k, (day, exercises, stand) in enumerate(days):
            same_day = [i for i, x in enumerate(days) if x[0] == day]
            if len(same_day) == 1:
                hour = int(rng.integers(7, 20))
            else:  # a morning and an evening session
                hour = int(rng.integers(7, 10)) if k == same_day[0] else int(rng.integers(18, 21))
            if day == today and now is not None:
                hour = min(hour, max(0, now.hour - 1))
            when = datetime(day.year, day.month, day.day, hour, int(rng.integers(0, 60)))
            plan.append(
                DemoSession(when, seed * 1000 + w * 10 + k, exercises, stand, dose((day - first_monday).days / (7 * (DEMO_WEEKS - 1))))
            )
    return plan


def generate_demo(
    store: Store,
    today: date | None = None,
    *,
    plan: list[DemoSession] | None = None,
    progress: Callable[[int, int, ImportResult], None] | None = None,
    jobs: int | None = None,
) -> list[ImportResult]:
    """Simulate, record and import the demo sessions (labelled demo) into ``store``: the
    story up to ``today``, or the sessions of ``plan``. Sessions are simulated and analysed
    in ``jobs`` processes (default: up to 2) and stored in plan order."""
    from concurrent.futures import ProcessPoolExecutor

    if plan is None:
        day = today or current_day()
        plan = demo_plan(day, now=datetime.now() if day == date.today() else None)
    out = []
    workers = max(1, min(jobs or 2, os.cpu_count() or 1, len(plan)))
    with ExitStack() as stack:
        if workers > 1:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers))
            made: Iterator[tuple[Path, Analysis, Trace | None]] = (
                job.result() for job in [pool.submit(record_session, s, store.recordings_dir) for s in plan]
            )
        else:
            made = (record_session(s, store.recordings_dir) for s in plan)
        for n, (path, analysis, trace) in enumerate(made, 1):
            result = importer.import_file(store, path, demo=True, analyzer=_given(analysis, trace))
            if result.status != "added":
                path.unlink(missing_ok=True)
            out.append(result)
            if progress is not None:
                progress(n, len(plan), result)
    return out


def _given(analysis: Analysis, trace: Trace | None) -> importer.Analyzer:
    """An analyzer that returns what a worker already found."""
    return lambda _path: (analysis, trace)


def record_session(s: DemoSession, folder: Path) -> tuple[Path, Analysis, Trace | None]:
    """One demo session simulated, written as a recording in ``folder`` and analysed as an
    import analyses it (run in a worker process)."""
    from sensor.recording import write_recording
    from sensor.sim.simulate import SimOptions, simulate_session

    opt = SimOptions(rate_hz=DEMO_RATE_HZ, exercises=s.exercises, standing_start=s.stand, technique=s.technique)
    sim = simulate_session(s.seed, opt)
    sim.header.created_utc = s.when.astimezone().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sim.header.device = {"profile": "simulated", "name": "Demo: a simulated person", "address": "sim:demo"}
    path = folder / f"demo-{s.when:%Y-%m-%d-%H%M}.htrec"
    write_recording(path, sim.header, sim.samples, sim.gaps)
    return (path, *importer.analyze_file(path))


def sample_recordings() -> list[Path]:
    """The labelled sample recordings (the repository's ``recordings`` package), for Replay;
    none in an installed build, whose demo is simulated (``generate_demo``)."""
    if util.find_spec("recordings") is None:
        return []
    folder = resources.files("recordings")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(RECORDING_SUFFIX))
