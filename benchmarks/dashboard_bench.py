"""Server-side render time of dashboard pages (Streamlit AppTest), against an empty page.

Two stores are built in a temp folder: one 1-hour session (42 sets of reps, 24 holds, a
5 Hz angle trace of 18,000 points) and 1,000 sessions over about six years. Each page is
timed cold (caches cleared: queries + rendering) and warm (a rerun, as when a widget
changes). Run: ``uv run python -m benchmarks.dashboard_bench [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from sensor.cli.store import app_path
from sensor.events import Analysis, Hold, Rep, RepExercise, Side
from sensor.store import SessionInfo, Store
from sensor.trace import Trace

APP = app_path()


def hour_session(rng: np.random.Generator) -> tuple[Analysis, Trace]:
    """An hour of routine: sets of bridges and back extensions, side planks and planks."""
    reps: list[Rep] = []
    holds: list[Hold] = []
    t = 30.0
    for _block in range(6):
        for _ in range(4):  # 2 bridge sets, 2 back-extension sets
            ex: RepExercise = "bridge" if len(reps) // 12 % 2 == 0 else "back_extension"
            n = 12 if ex == "bridge" else 10
            for _ in range(n):
                hold_s = float(rng.normal(5.2 if ex == "bridge" else 1.0, 0.6))
                reps.append(Rep(ex, t, t + hold_s + 2.5, hold_s, t + hold_s + 3.0, 22.0))
                t += hold_s + 4.0
            t += 75.0  # rest between sets
        sides: tuple[Side, ...] = ("left", "right", "left", "right")
        for side in sides:
            d = float(rng.normal(30, 4))
            holds.append(Hold("side_plank", side, t, t + d, d, float(rng.uniform(0.4, 2.5)), 3.0, 2.0, t + 0.3, float(rng.uniform(40, 95))))
            t += d + 45.0
    t = max(t, 3600.0)
    n = int(t * 5)
    deg = (10 * np.sin(np.arange(n) / 30) + rng.normal(0, 1, n)).astype(np.float32)
    return Analysis(reps, holds, [], True, t, 100.0, "bench"), Trace(0.0, 5.0, deg)


def small_session(rng: np.random.Generator) -> Analysis:
    reps = [Rep("back_extension", 10 + i * 5, 13 + i * 5, 1.0, 13.5 + i * 5) for i in range(30)]
    reps += [Rep("bridge", 400 + i * 9, 407 + i * 9, float(rng.normal(5, 0.7)), 407.5 + i * 9) for i in range(12)]
    sides: tuple[Side, ...] = ("left", "right", "left", "right")
    holds = [
        Hold("side_plank", s, 600 + k * 60, 630 + k * 60, 30.0, 1.0, 3.0, 2.0, 600.3 + k * 60, float(rng.uniform(40, 95)))
        for k, s in enumerate(sides)
    ]
    return Analysis(reps, holds, [], True, 900.0, 100.0, "bench")


def build(folder: Path) -> tuple[Path, Path, int]:
    rng = np.random.default_rng(1)
    one = folder / "one-hour"
    st = Store(one)
    a, tr = hour_session(rng)
    sid = st.add_session(a, SessionInfo(datetime.now(UTC), "/bench/hour.htrec", "recordings/hour.htrec", "hour"), tr)
    many = folder / "thousand"
    st = Store(many)
    day = date.today() - timedelta(days=1000 * 7 // 3)
    for i in range(1000):
        d = day + timedelta(days=(i * 7) // 3)
        when = datetime(d.year, d.month, d.day, 12, tzinfo=UTC)
        st.add_session(
            small_session(rng),
            SessionInfo(when, f"/bench/{i}.htrec", f"recordings/{i}.htrec", f"h{i}"),
            Trace(0.0, 5.0, np.zeros(4500, np.float32)),
        )
    return one, many, sid


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def page_times(data: Path, page: str | None, runs: int, session_id: int | None = None) -> tuple[float, float]:
    """(cold, warm median) seconds for one page of the app over ``data``."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["HOLDTRACK_DATA_DIR"] = str(data)
    at = AppTest.from_file(str(APP), default_timeout=120)
    if session_id is not None:
        at.query_params["id"] = str(session_id)
    at.run()
    if page:
        at.switch_page(page)

    def run() -> None:
        at.run()
        assert not at.exception, at.exception

    st.cache_data.clear()
    cold = timed(run, 1)[0]
    warm = statistics.median(timed(run, runs))
    return cold, warm


def baseline(runs: int) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("import streamlit as st\nst.title('Empty')\n", default_timeout=60)
    at.run()
    return statistics.median(timed(at.run, runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        one, many, sid = build(Path(tmp))
        print(f"built stores in {time.perf_counter() - t0:.1f} s")
        base = baseline(args.runs)
        rows: list[tuple[str, float | None, float]] = [("empty page (baseline)", None, base)]
        cold, warm = page_times(one, "views/session.py", args.runs, sid)
        rows.append(("session page, 1-hour session", cold, warm))
        cold, warm = page_times(many, None, args.runs)
        rows.append(("history page, 1,000 sessions", cold, warm))
        cold, warm = page_times(many, "views/session.py", args.runs)
        rows.append(("session page, store of 1,000", cold, warm))
        from sensor.store import queries, weeks

        st = Store(many)
        q = statistics.median(timed(lambda: (queries.sessions(st), weeks.weekly_adherence(st), weeks.weekly_trends(st)), args.runs))
        print(f"\n{'what':34} {'cold (s)':>9} {'warm (s)':>9} {'warm / baseline':>16}")
        for name, c, w in rows:
            print(f"{name:34} {'' if c is None else f'{c:9.3f}':>9} {w:9.3f} {w / base:15.1f}x")
        print(f"\nqueries for history, 1,000 sessions (no rendering): {q * 1000:.0f} ms")


if __name__ == "__main__":
    main()
