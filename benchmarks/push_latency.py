"""End-to-end latency of the phone through Sensor Logger's HTTP push: the phone's sample time
of the sample at which a rep is counted -> that rep shown in the browser.

Whole processes, as a user runs them: a simulated Sensor Logger phone
(``sensor.sim.sensor_logger``: real HTTP, the wearer at 1x, a batch every push period,
stamped with this machine's clock as a phone on network time is) in a process of its own,
``holdtrack dashboard`` in another, headless Chromium on its Live page with the source
"Phone — Sensor Logger" and the push URL read off the page. The page records, with
``Date.now()``, when its rep count goes up.

Sensor Logger's push period is a setting ("once every configurable batch period",
PUSHING.md); an exported configuration holds ``"batchPeriod": 1000``, and the app's early
versions streamed every 200 ms. Both are measured: a sample waits on the phone until its
batch goes, up to a whole period (half of it on average).

    uv run python -m benchmarks.push_latency [--seed 21] [--sessions 4] [--period 1.0 --period 0.2] [--no-browser]

Prints each rep's latency, the median and p95 against the targets (0.5 s, 1.0 s) per period,
and how much of it passed before the phone had its batch answered; ``--no-browser``: up to
the live session's snapshot (what the dashboard then draws), to tell the two apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.phyphox_latency import live_source_page, tests_module

TARGET_MEDIAN_S, TARGET_P95_S = 0.5, 1.0
ROOT = Path(__file__).resolve().parent.parent


def _phone(url: str, seed: int, period_s: float, conn: Any) -> None:
    """The simulated phone in its own process: says when its first sample was taken, pushes
    the workout in real time, then what it sent."""
    from sensor.sim.sensor_logger import SensorLoggerPhone
    from sensor.sim.simulate import SimOptions, simulate_session

    s = simulate_session(seed, SimOptions(short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0, dropouts=False))
    phone = SensorLoggerPhone(url, s.samples, period_s=period_s)

    async def run() -> Any:
        task = asyncio.get_running_loop().create_task(phone.run())
        while not phone.log.first_ns:
            await asyncio.sleep(0.005)
        conn.send({"epoch0": phone.log.first_ns / 1e9, "end_s": float(s.samples.time_s[-1] - s.samples.time_s[0])})
        return await task

    log = asyncio.run(run())
    conn.send({"sent": len(log.sent), "ok": sum(st == 200 for _, _, st in log.sent), "answered": {mid: t for t, mid, _ in log.sent}})


def measure(seed: int, period_s: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from sensor.store import Store, queries

    serve_dashboard = tests_module("dashboard_server").serve_dashboard

    data = Path(tempfile.mkdtemp(prefix="push-latency-"))
    with serve_dashboard(data / "store", data / "dashboard.log") as url, sync_playwright() as p:
        page = live_source_page(p, url, "Phone — Sensor Logger (Wi-Fi)", 1600)
        page.get_by_test_id("stCode").first.wait_for(timeout=30_000)
        push_url = page.get_by_test_id("stCode").first.inner_text().strip()
        page.get_by_role("button", name="Start").click()
        page.get_by_test_id("ht-phone-status").wait_for(timeout=30_000)
        parent, child = mp.Pipe()
        phone = mp.get_context("spawn").Process(target=_phone, args=(push_url, seed, period_s, child), daemon=True)
        phone.start()
        started = parent.recv()
        deadline = started["epoch0"] + started["end_s"] + 4.0
        while time.time() < deadline:
            page.wait_for_timeout(250)
        shown = page.evaluate("window.__reps")
        sent = parent.recv()
        phone.join(10)
        page.get_by_test_id("stBaseButton-primary").filter(has_text="Stop").click()
        page.get_by_role("button", name="Open the session").wait_for(timeout=60_000)
        page.context.browser.close()
        store = Store(data / "store")
        sid = max(r.id for r in queries.sessions(store))
        detail = queries.session_detail(store, sid)
        assert detail is not None
        reps = sorted(detail.reps, key=lambda r: r["detected_at_s"])
    lat, on_phone = [], []
    for k, r in enumerate(reps):
        hit = next((s for s in shown if s["n"] >= k + 1), None)
        if hit is None:
            continue
        taken = started["epoch0"] + float(r["detected_at_s"])  # the phone's clock at the sample the rep was counted at
        lat.append(hit["t"] - taken)
        answered = sent["answered"].get(int(float(r["detected_at_s"]) // period_s))  # its batch, answered
        on_phone.append(answered - taken if answered is not None else float("nan"))
    return {"period_s": period_s, "reps": len(reps), "latencies_s": lat, "until_answered_s": on_phone, **sent}


def measure_in_process(seed: int, period_s: float) -> dict[str, Any]:
    """The same phone into the session the Live page runs (receiver, session runner,
    pipeline), without the dashboard and the browser: when each rep is in its snapshot."""
    import threading

    from sensor.live import LiveSession, event_loop
    from sensor.sim.sensor_logger import SensorLoggerPhone
    from sensor.sim.simulate import SimOptions, simulate_session
    from sensor.sources.phone_push import PhonePushSource

    s = simulate_session(seed, SimOptions(short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0, dropouts=False))
    src = PhonePushSource("127.0.0.1", 0)
    asyncio.run_coroutine_threadsafe(src.open(), event_loop()).result(10)
    live = LiveSession(src)
    live.start()
    phone = SensorLoggerPhone(src.url, s.samples, period_s=period_s)
    th = threading.Thread(target=lambda: asyncio.run(phone.run()), daemon=True)
    th.start()
    seen: dict[int, float] = {}
    while th.is_alive():
        n = len(live.snapshot().reps)
        if n and n not in seen:
            seen[n] = time.time()
        time.sleep(0.005)
    reps = live.snapshot().reps
    live.stop()
    epoch0 = phone.log.first_ns / 1e9
    lat = [seen[k + 1] - (epoch0 + r.detected_at_s) for k, r in enumerate(reps) if k + 1 in seen]
    return {"period_s": period_s, "reps": len(reps), "latencies_s": lat}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=21, help="first seed (one short session of 5 bridges each)")
    ap.add_argument("--sessions", type=int, default=4, help="sessions per period (seed, seed+1, ...), each with a fresh dashboard")
    ap.add_argument("--period", type=float, action="append", help="push period, s (default: 1.0 and 0.2)")
    ap.add_argument("--no-browser", action="store_true", help="up to the live session's snapshot only (no dashboard, no browser)")
    args = ap.parse_args()
    for period in args.period or [1.0, 0.2]:
        lat: list[float] = []
        for k in range(args.sessions):
            seed = args.seed + k
            if args.no_browser:
                m = measure_in_process(seed, period)
                print(
                    f"every {period:g} s, seed {seed}, up to the live session's snapshot: " + " ".join(f"{x:.2f}" for x in m["latencies_s"])
                )
            else:
                m = measure(seed, period)
                print(
                    f"every {period:g} s, seed {seed}: {m['ok']} of {m['sent']} batches answered 200; {m['reps']} reps counted, "
                    f"{len(m['latencies_s'])} seen in the browser; latencies s "
                    + " ".join(f"{x:.2f}" for x in m["latencies_s"])
                    + " (until the phone had its batch answered: "
                    + " ".join(f"{x:.2f}" for x in m["until_answered_s"])
                    + ")",
                    flush=True,
                )
            lat += m["latencies_s"]
        a = np.array(lat)
        if len(a):
            med, p95 = float(np.median(a)), float(np.percentile(a, 95))
            print(
                f"Sensor Logger pushing every {period:g} s, the wearer at 1x, {len(a)} reps: median {med:.3f} s "
                f"(target {TARGET_MEDIAN_S}: {med / TARGET_MEDIAN_S:.2f}x of it), "
                f"p95 {p95:.3f} s (target {TARGET_P95_S}: {p95 / TARGET_P95_S:.2f}x of it), max {a.max():.3f} s"
            )
            print(json.dumps({"period_s": period, "median_s": med, "p95_s": p95, "n": len(a), "browser": not args.no_browser}), flush=True)


if __name__ == "__main__":
    main()
