"""End-to-end latency of the phone through phyphox: the phone's sample time of the sample at
which a rep is counted -> that rep shown in the browser.

Whole processes, as a user runs them: the fake phyphox phone (``sensor.fake_phyphox``, real
HTTP, the wearer at 1x) in a process of its own, ``holdtrack dashboard`` in another, headless
Chromium on its Live page (phyphox polled every 50 ms by the dashboard). The page records,
with ``Date.now()``, when its rep count goes up; the phone's clock says when the counted
sample was taken (``Date.now()`` and ``time.time()`` share the machine's clock).

    uv run python -m benchmarks.phyphox_latency [--seed 21] [--sessions 4] [--reps N]

Prints each rep's latency and the poll rate the phone saw per session (5 bridges, about
1.5 min each), then the median and p95 of all against the targets (0.5 s, 1.0 s).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WATCH = """
(() => {
  window.__reps = [];
  let last = 0;
  const look = () => {
    const el = document.querySelector('[data-testid=ht-set]');
    const m = el && el.textContent.match(/(\\d+) of \\d+/);
    const n = m ? parseInt(m[1]) : 0;
    if (n > last) { window.__reps.push({n: n, t: Date.now() / 1000}); }
    if (n) last = n;
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def _phone(seed: int, conn: Any) -> None:
    """The fake phone in its own process: reports its address, then when it started."""
    from sensor.fake_phyphox import FakePhyphox
    from sensor.sim.simulate import SimOptions, simulate_session

    s = simulate_session(seed, SimOptions(short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0))
    with FakePhyphox(s.samples, speed=1.0) as fake:
        conn.send({"address": fake.address, "end_s": float(s.samples.time_s[-1] - s.samples.time_s[0])})
        while fake._wall0 is None:
            time.sleep(0.01)
        acc_t, _ = fake._recorded("acc")
        while len(acc_t) == 0:
            time.sleep(0.01)
            acc_t, _ = fake._recorded("acc")
        # Stream time 0 is the first sample recorded: taken at epoch0 + (its wearer time) / speed.
        first_w = float(acc_t[0])  # experiment time = wearer time in the first interval
        conn.send({"epoch0": fake._epoch0, "first_w": first_w})
        conn.recv()  # until told to stop
        conn.send({"requests": fake.requests, "measured_s": fake.wearer_time()})


def tests_module(name: str) -> Any:
    """A helper of the tests, by its path (``tests`` is no package, and a name others use)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _say(*words: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *words, file=sys.stderr, flush=True)


def measure(seed: int, reps_wanted: int = 0) -> dict[str, Any]:
    """One short session of bridges streamed by the fake phone through the dashboard: the
    latency of each rep shown, and how often the phone was polled."""
    from playwright.sync_api import sync_playwright

    from sensor.store import Store, queries

    serve_dashboard = tests_module("dashboard_server").serve_dashboard
    data = Path(tempfile.mkdtemp(prefix="phyphox-latency-"))
    parent, child = mp.Pipe()
    phone = mp.get_context("spawn").Process(target=_phone, args=(seed, child), daemon=True)
    try:
        with serve_dashboard(data / "store", data.parent / f"{data.name}.log") as url:
            phone.start()
            info = parent.recv()
            _say(f"seed {seed}: dashboard up; phone at {info['address']}")
            with sync_playwright() as p:
                page = live_source_page(p, url, "Phone — phyphox (Wi-Fi)", 1400)
                field = page.get_by_label("phyphox address", exact=True)
                field.fill(info["address"])
                field.press("Enter")
                page.wait_for_load_state("networkidle")
                page.get_by_role("button", name="Start").click()
                started = parent.recv()
                _say(f"seed {seed}: the phone is being polled")
                deadline = time.monotonic() + info["end_s"] + 60
                while time.monotonic() < deadline:
                    seen = page.evaluate("window.__reps.length")
                    if (reps_wanted and seen >= reps_wanted) or time.time() > started["epoch0"] + info["end_s"] + 3:
                        break
                    page.wait_for_timeout(250)
                shown = page.evaluate("window.__reps")
                page.get_by_test_id("stBaseButton-primary").filter(has_text="Stop").click()
                page.get_by_role("button", name="Open the session").wait_for(timeout=60_000)
                page.context.browser.close()
            parent.send("stop")
            phone_stats = parent.recv()
            store = Store(data / "store")
            sid = max(r.id for r in queries.sessions(store))
            detail = queries.session_detail(store, sid)
            assert detail is not None
            reps = sorted(detail.reps, key=lambda r: r["detected_at_s"])
    finally:
        if phone.is_alive():
            phone.terminate()
    lat = []
    for k, r in enumerate(reps):
        hit = next((s for s in shown if s["n"] >= k + 1), None)
        if hit is None:
            continue
        taken = started["epoch0"] + started["first_w"] + float(r["detected_at_s"])  # the phone's clock at that sample
        lat.append(hit["t"] - taken)
    polls = phone_stats["requests"] / max(phone_stats["measured_s"], 1e-9)
    return {"reps": len(reps), "latencies_s": lat, "polls_per_s": polls, "measured_s": phone_stats["measured_s"]}


def open_live(page: Any, url: str) -> None:
    """Open the Live page and wait until it says the analysis is loaded (Start then shows data
    at once). The mark is looked for once the page has drawn its Start button: right after a
    load it is never there yet."""
    deadline = time.monotonic() + 120
    while True:
        page.goto(f"{url}/live")
        page.get_by_role("button", name="Start").wait_for(timeout=60_000)
        if page.get_by_test_id("ht-ready").count():
            return
        assert time.monotonic() < deadline, "the Live page never said it was ready"
        page.wait_for_timeout(500)


def live_source_page(p: Any, url: str, source: str, height: int) -> Any:
    """A headless Chromium page on the Live page, watching for reps shown (``WATCH``), with
    ``source`` picked; close it with ``page.context.browser.close()``."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
    page = browser.new_page(viewport={"width": 1200, "height": height})
    page.add_init_script(WATCH)
    open_live(page, url)
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=source).click()
    return page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=21, help="first seed (one short session of 5 bridges each)")
    ap.add_argument("--sessions", type=int, default=4, help="sessions, each with a fresh dashboard and phone (seed, seed+1, ...)")
    ap.add_argument("--reps", type=int, default=0, help="stop each session after this many reps (0: the whole set)")
    args = ap.parse_args()
    lat: list[float] = []
    counted = 0
    for k in range(args.sessions):
        m = measure(args.seed + k, args.reps)
        lat += m["latencies_s"]
        counted += m["reps"]
        print(
            f"seed {args.seed + k}: latencies s "
            + " ".join(f"{x:.2f}" for x in m["latencies_s"])
            + f"; phone answered {m['polls_per_s']:.1f} requests/s over {m['measured_s']:.0f} s",
            flush=True,
        )
    a = np.array(lat)
    print(f"phyphox at 1x, polled every 50 ms by the dashboard; {counted} reps counted, {len(a)} seen in the browser")
    if len(a):
        med, p95 = float(np.median(a)), float(np.percentile(a, 95))
        print(
            f"median {med:.3f} s (target 0.5: {med / 0.5:.2f}x of it), p95 {p95:.3f} s (target 1.0: {p95 / 1.0:.2f}x of it), max {a.max():.3f} s"
        )
        print(json.dumps({"median_s": med, "p95_s": p95, "n": len(a)}))


if __name__ == "__main__":
    main()
