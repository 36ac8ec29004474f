"""Builders shared by the store, query, live and dashboard tests (hand-made sessions and
small simulated recordings)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sensor.events import Analysis, Hold, HoldExercise, Rep, RepExercise, Side
from sensor.store import SessionInfo, Store
from sensor.trace import Trace


def reps(exercise: RepExercise, n: int, *, start: float = 10.0, every: float = 8.0, hold: float = 5.2) -> list[Rep]:
    """``n`` reps of one exercise, ``every`` seconds apart (one set unless every > 60)."""
    return [Rep(exercise, start + i * every, start + i * every + 6.0, hold, start + i * every + 6.5, 25.0) for i in range(n)]


def hold(exercise: HoldExercise, side: Side, start: float, duration: float, score: float = 80.0, sway: float = 0.8) -> Hold:
    return Hold(exercise, side, start, start + duration, duration, sway, 3.0, 1.5, start + 0.3, score)


def session(
    store: Store,
    when: datetime,
    analysis: Analysis,
    *,
    demo: bool = False,
    trace: bool = True,
    tag: str = "",
) -> int:
    """Insert a hand-built session (unique hash per call) with a simple angle trace."""
    key = f"{when.isoformat()}-{tag}-{len(analysis.reps)}-{len(analysis.holds)}-{demo}"
    tr = None
    if trace:
        n = int(max(analysis.duration_s, 1.0) * 5)
        tr = Trace(0.0, 5.0, (10 * np.sin(np.arange(n) / 20.0)).astype(np.float32))
    info = SessionInfo(
        when.replace(tzinfo=UTC) if when.tzinfo is None else when,
        f"/import/{key}.htrec",
        f"recordings/{key}.htrec",
        f"hash-{key}",
        demo=demo,
        source="test",
    )
    return store.add_session(analysis, info, tr)


def analysis(reps_: Sequence[Rep] = (), holds: Sequence[Hold] = (), *, duration: float = 600.0, calibrated: bool = True) -> Analysis:
    return Analysis(list(reps_), list(holds), [], calibrated, duration, 100.0, "test")


def sim_recording(folder: Path, seed: int = 5, name: str | None = None) -> Path:
    """A short simulated session written as a recording (the real pipeline finds its reps).
    The simulation (about 1.4 s) is conftest's cached one: the same seed is written by many tests."""
    from conftest import sim
    from sensor.recording import write_recording

    s = sim(seed, short=True)
    path = folder / (name or f"sim{seed}.htrec")
    write_recording(path, s.header, s.samples, s.gaps)
    return path


def database_at_step(folder: Path, step: int) -> sqlite3.Connection:
    """A store's database as HoldTrack made it at schema ``step`` (migrations 1..step run),
    open: the caller adds the rows of that time, commits and closes it."""
    from sensor.store.schema import MIGRATIONS, statements

    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(folder / "holdtrack.sqlite3")
    for script in MIGRATIONS[:step]:
        if callable(script):
            script(con)
            continue
        for stmt in statements(script):
            con.execute(stmt)
    con.execute(f"PRAGMA user_version = {step}")
    return con
