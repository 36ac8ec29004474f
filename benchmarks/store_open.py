"""The cost of checking the session database at open (``sensor.store.check``): a store of
``--sessions`` realistic sessions (42 reps, 3 holds, a 25-minute display trace each), then
``Store()`` opened with and without the check, and ``PRAGMA quick_check`` alone.

    uv run python -m benchmarks.store_open [--sessions 500] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sensor.events import Analysis, Hold, Rep
from sensor.store import SessionInfo, Store
from sensor.store import check as store_check
from sensor.trace import TRACE_HZ, Trace


def build(folder: Path, n: int) -> Store:
    st = Store(folder)
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
    reps = [Rep("bridge", 10 + 8 * i, 16 + 8 * i, 5.5, 16.5 + 8 * i, 25.0) for i in range(12)]
    reps += [Rep("back_extension", 200 + 4 * i, 203 + 4 * i, 0.0, 203.5 + 4 * i, 12.0) for i in range(30)]
    holds = [
        Hold("plank", None, 600.0, 630.0, 30.0, 0.8, 3.0, 1.5, 600.3, 80.0),
        Hold("side_plank", "left", 700.0, 730.0, 30.0, 0.8, 3.0, 1.5, 700.3, 80.0),
        Hold("side_plank", "right", 800.0, 830.0, 30.0, 0.8, 3.0, 1.5, 800.3, 80.0),
    ]
    m = int(1500 * TRACE_HZ)
    for i in range(n):
        deg = (10 * np.sin(np.arange(m) / 20.0) + np.random.default_rng(i).normal(0, 1, m)).astype(np.float32)
        info = SessionInfo(t0 + timedelta(hours=12 * i), f"/in/{i}.htrec", f"recordings/{i}.htrec", f"hash{i}", source="bench")
        st.add_session(Analysis(reps, holds, [], True, 1500.0, 100.0, "bench"), info, Trace(0.0, TRACE_HZ, deg))
    with st.connect() as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return st


def ms(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        st = build(Path(tmp), args.sessions)
        size = store_check.database_bytes(st.db_path) / 1e6
        checked = ms(lambda: Store(tmp), args.repeat)
        limit = store_check.QUICK_CHECK_MAX_BYTES
        store_check.QUICK_CHECK_MAX_BYTES = 0
        unchecked = ms(lambda: Store(tmp), args.repeat)
        store_check.QUICK_CHECK_MAX_BYTES = limit
        alone = ms(lambda: store_check.check_database(st), args.repeat)
    print(
        f"{args.sessions} sessions ({size:.1f} MB): Store() open {checked:.1f} ms with the check, {unchecked:.1f} ms without; "
        f"quick_check alone {alone:.1f} ms (medians of {args.repeat}, warm cache)"
    )


if __name__ == "__main__":
    main()
