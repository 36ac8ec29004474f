"""How long the dashboard's pages take to draw in Chromium with a year of sessions, against
an empty Streamlit page served and drawn in the same run (the reference).

A store of a year of sessions (154: three a week, each the whole routine — 13 bridges,
3 × 11 back extensions, four side planks and a plank, a 5 Hz angle trace of ~19 min) is
built in a temp folder; ``holdtrack dashboard`` serves it and headless Chromium (Debian's
``/usr/bin/chromium``, as the browser tests) loads each page ``--runs`` times. A page is
drawn when Streamlit's script has stopped running, every chart has its canvas, the session's timeline its
line (HTML and an SVG image drawn by the server), and every
visible table its grid; the time is from the request to that. The first load of each page
after the server starts is printed apart (its caches are cold). Targets: History ≤ 1.0 s,
a session ≤ 0.7 s (medians).

Run: ``uv run python -m benchmarks.dashboard_bench [--runs N] [--sessions N]``. The machine
may be shared: the script prints the load average beside the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sensor.events import Analysis, Hold, Rep, Side
from sensor.store import SessionInfo, Store
from sensor.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TARGETS_S = {"history": 1.0, "session": 0.7}
REFERENCE_APP = "import streamlit as st\nst.title('Reference')\nst.write('An empty page.')\n"

# Drawn: the script stopped, every chart has a canvas (or svg), every visible table its grid,
# and a session's timeline its line.
DRAWN = """(min) => {
  const app = document.querySelector('[data-test-script-state]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning' || !document.querySelector('h1')) return false;
  const charts = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')];
  if (charts.length < min.charts || !charts.every(c => c.querySelector('canvas, svg'))) return false;
  const grids = [...document.querySelectorAll('[data-testid=stDataFrame]')].filter(g => g.checkVisibility());
  if (grids.length < min.grids || !grids.every(g => g.querySelector('canvas'))) return false;
  return [...document.querySelectorAll('[data-testid=ht-timeline] img')].filter(i => i.complete && i.naturalWidth).length >= min.timelines;
}"""
COUNT = """() => ({
  charts: document.querySelectorAll('[data-testid=stVegaLiteChart]').length,
  grids: [...document.querySelectorAll('[data-testid=stDataFrame]')].filter(g => g.checkVisibility()).length,
  timelines: document.querySelectorAll('[data-testid=ht-timeline] img').length,
})"""


def routine_session(rng: np.random.Generator) -> Analysis:
    """The whole routine as a practised person does it (about 19 minutes)."""
    reps: list[Rep] = []
    holds: list[Hold] = []
    t = 30.0
    for _ in range(13):
        h = float(rng.normal(5.6, 0.5))
        reps.append(Rep("bridge", t, t + h + 2.5, h, t + h + 3.0, 22.0))
        t += h + 4.5
    t += 40.0
    for _ in range(3):
        for _ in range(11):
            reps.append(Rep("back_extension", t, t + 2.5, 0.8, t + 2.8, 9.0))
            t += 4.0
        t += 45.0
    sides: tuple[Side, ...] = ("right", "left", "right", "left")
    for side in sides:
        d = float(rng.normal(33, 3))
        holds.append(Hold("side_plank", side, t, t + d, d, 0.8, 3.0, 2.0, t + 0.3, float(rng.uniform(50, 95))))
        t += d + 30.0
    d = float(rng.normal(40, 5))
    holds.append(Hold("plank", None, t, t + d, d, 0.6, 3.0, 1.0, t + 0.3, 80.0))
    return Analysis(reps, holds, [], True, t + 30.0, 100.0, "ble")


def year_store(folder: Path, n: int = 154, today: date | None = None) -> Store:
    """``n`` sessions spread evenly over the year up to ``today``."""
    rng = np.random.default_rng(1)
    st = Store(folder)
    first = (today or date.today()) - timedelta(days=364)
    device = {"profile": "witmotion", "name": "WT901BLE67", "address": "AA:BB:CC:DD:EE:FF"}
    for i in range(n):
        d = first + timedelta(days=(i * 364) // max(1, n - 1))
        a = routine_session(rng)
        m = int(a.duration_s * 5)
        deg = (10 * np.sin(np.arange(m) / 30) + rng.normal(0, 1, m)).astype(np.float32)
        when = datetime(d.year, d.month, d.day, 12, tzinfo=UTC)
        info = SessionInfo(when, f"/bench/{i}.htrec", f"recordings/{i}.htrec", f"bench-{i}", source="ble", device=device)
        st.add_session(a, info, Trace(0.0, 5.0, deg))
    return st


def server_helpers() -> ModuleType:
    """The browser tests' server helper (``tests/dashboard_server.py``), loaded from its file:
    an installed package may own the name ``tests``."""
    spec = importlib.util.spec_from_file_location("dashboard_server", ROOT / "tests" / "dashboard_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def served(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """A Streamlit server (its own process group), waited for on its health endpoint."""
    with server_helpers().serve(cmd, env, port, log) as url:
        yield url


def cpu_seconds(marker: bytes) -> float:
    """CPU seconds (user + system) used so far by the processes whose command line holds
    ``marker`` (a server's port, a browser's own profile folder)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@dataclass
class Loads:
    """One page's loads: the first (cold caches), then the timed ones (wall and CPU seconds)."""

    name: str
    first_s: float
    wall_s: list[float]
    cpu_s: list[float]  # server + browser
    server_cpu_s: list[float]


def load_times(page: Any, name: str, url: str, runs: int, markers: tuple[bytes, bytes], drawn: dict[str, int]) -> Loads:
    """Load ``url`` once, then ``runs`` times: each from the request until drawn (``drawn``:
    how many charts and visible tables the page has), with the CPU time the server and the
    browser spent on it."""

    def once(minimum: dict[str, int]) -> tuple[float, float, float]:
        s0, b0 = (cpu_seconds(m) for m in markers)
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(DRAWN, arg=minimum, timeout=120_000, polling=20)
        wall = time.perf_counter() - t0
        s1, b1 = (cpu_seconds(m) for m in markers)
        return wall, s1 - s0 + b1 - b0, s1 - s0

    first = once(drawn)[0]
    page.wait_for_timeout(1000)
    found = page.evaluate(COUNT)
    assert found == drawn, f"{name}: {found} drawn, the benchmark expects {drawn}: update it to the page"
    timed = [once(drawn) for _ in range(runs)]
    return Loads(name, first, [t[0] for t in timed], [t[1] for t in timed], [t[2] for t in timed])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sessions", type=int, default=154)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from sensor.cli.store import streamlit_command

    free_port = server_helpers().free_port
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp) / "data"
        t0 = time.perf_counter()
        st = year_store(folder, args.sessions)
        sid = st.session_count() // 2
        print(f"a year of sessions: {args.sessions} built in {time.perf_counter() - t0:.1f} s")
        ref_app = Path(tmp) / "reference.py"
        ref_app.write_text(REFERENCE_APP)
        port, ref_port = free_port(), free_port()
        cmd, env = streamlit_command(folder, "127.0.0.1", port)
        url = stack.enter_context(served(cmd, env, port, Path(tmp) / "dashboard.log"))
        ref_cmd = [*cmd[:4], str(ref_app), *cmd[5:]]
        ref_cmd[ref_cmd.index("--server.port") + 1] = str(ref_port)
        ref_url = stack.enter_context(served(ref_cmd, env, ref_port, Path(tmp) / "reference.log"))
        profile = Path(tmp) / "chromium-profile"  # our browser's processes carry it on their command line
        p = stack.enter_context(sync_playwright())
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000}
        )
        page = ctx.new_page()
        browser = str(profile).encode()
        ours, ref = (f"--server.port\0{port}".encode(), browser), (f"--server.port\0{ref_port}".encode(), browser)
        rows = [
            load_times(page, "reference (empty page)", ref_url, args.runs, ref, {"charts": 0, "grids": 0, "timelines": 0}),
            load_times(page, "history", url, args.runs, ours, {"charts": 1, "grids": 1, "timelines": 0}),  # progress; the sessions
            load_times(
                page, "session", f"{url}/session?id={sid}", args.runs, ours, {"charts": 0, "grids": 0, "timelines": 1}
            ),  # the timeline (HTML and SVG)
        ]
        ctx.close()
    report(rows, args.runs)


def report(rows: list[Loads], runs: int) -> None:
    ref = statistics.median(rows[0].wall_s)
    ref_cpu = statistics.median(rows[0].cpu_s)
    print(f"\nChromium, {runs} loads each; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print("wall: request to drawn (median, min, max); cpu: server + browser CPU seconds per load (median; server's part)")
    print(f"{'page':24} {'first':>6} {'wall':>6} {'min':>6} {'max':>6} {'/ ref':>6} {'cpu':>6} {'server':>6} {'/ ref':>6}  target (wall)")
    for r in rows:
        med, cpu = statistics.median(r.wall_s), statistics.median(r.cpu_s)
        target = TARGETS_S.get(r.name)
        verdict = "" if target is None else f"≤ {target:.1f} s: {'met' if med <= target else 'MISSED'}"
        print(
            f"{r.name:24} {r.first_s:6.2f} {med:6.2f} {min(r.wall_s):6.2f} {max(r.wall_s):6.2f} {med / ref:5.1f}x "
            f"{cpu:6.2f} {statistics.median(r.server_cpu_s):6.2f} {cpu / ref_cpu:5.1f}x  {verdict}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
