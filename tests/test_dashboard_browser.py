"""The real dashboard (``holdtrack dashboard``) in headless Chromium: every page, charts drawn,
a replay that moves the rep counter. Screenshots go to ``artifacts/screenshots/``.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dashboard_server import serve_dashboard
from playwright.sync_api import Browser, Page, expect, sync_playwright
from store_builders import analysis, hold, reps, session, sim_recording

from sensor import importer
from sensor.store import Store
from sensor.store.weeks import current_day, week_start

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CHARTS = ".vega-embed canvas, .vega-embed svg"
REPLAYED: list[Path] = []  # the one recording the server's store holds


def noon(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``holdtrack dashboard`` on a free localhost port over a temp data folder; killed at the end."""
    folder = tmp_path_factory.mktemp("dashboard-data")
    st = Store(folder)
    mon = week_start(current_day())
    for k in range(4):  # a few weeks of history
        day = mon - timedelta(days=7 * k)
        ext = [r for j in range(3) for r in reps("back_extension", 10, start=j * 160, every=4)]
        session(
            st,
            noon(day),
            analysis(
                ext + reps("bridge", 12, start=600, every=8, hold=4.5 + k * 0.3),
                [hold("side_plank", "left", 800, 25 + 3 * k), hold("side_plank", "right", 900, 24 + 3 * k)],
                duration=1000.0,
            ),
        )
    rec = sim_recording(tmp_path_factory.mktemp("replay"), 21)
    REPLAYED[:] = [rec]
    assert importer.import_paths(st, [rec]).results[0].status == "added"
    with serve_dashboard(folder, folder.parent / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1600})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def open_page(page: Page, url: str, heading: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def wait_charts(page: Page, n: int, timeout_s: float = 20.0) -> None:
    """Wait until at least ``n`` Vega charts are drawn (they render after the page text)."""
    drawn = page.locator(CHARTS)
    deadline = time.monotonic() + timeout_s
    while drawn.count() < n and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert drawn.count() >= n, f"{drawn.count()} charts drawn, expected {n}"


def no_errors(page: Page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("Traceback").count() == 0


def test_history_page(server: str, page: Page) -> None:
    open_page(page, server, "History")
    expect(page.get_by_text("Adherence per week")).to_be_visible()
    expect(page.get_by_text("Back extension: days")).to_be_visible()
    wait_charts(page, 1)  # progress (the calendar and adherence are HTML grids)
    expect(page.get_by_test_id("ht-calendar")).to_be_visible()
    expect(page.get_by_test_id("ht-adherence")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible()  # the first is in a closed expander
    page.wait_for_timeout(1000)  # the table grid draws after it appears
    shot(page, "history")
    no_errors(page)


def test_session_page(server: str, page: Page) -> None:
    open_page(page, f"{server}/session", "Session")
    for text in ("Timeline", "Against your routine", "Stability of each hold", "Export"):
        expect(page.get_by_text(text, exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("ht-timeline").locator(".plot img")).to_be_visible()  # the timeline (HTML; reps and holds HTML bars)
    expect(page.get_by_test_id("ht-rep-bars").first).to_be_visible()
    expect(page.get_by_test_id("ht-hold-bars")).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    expect(page.get_by_role("button", name="Download JSON")).to_be_visible()
    page.wait_for_timeout(1000)  # the table grids draw after they appear
    shot(page, "session")
    no_errors(page)


def test_settings_and_live_pages(server: str, page: Page) -> None:
    open_page(page, f"{server}/settings", "Settings")
    expect(page.get_by_text("Hold at the top (s)")).to_be_visible()
    expect(page.get_by_role("button", name="Save settings")).to_be_visible()
    shot(page, "settings")
    no_errors(page)
    open_page(page, f"{server}/live", "Live")
    expect(page.get_by_role("combobox", name="Sensor")).to_have_value("Simulated wearer (no hardware needed)")
    expect(page.get_by_role("button", name="Start")).to_be_visible()
    shot(page, "live")
    no_errors(page)


def rep_counter(page: Page) -> int:
    return int(page.locator("[data-testid=ht-rep-count]").inner_text())


def test_replay_moves_the_rep_counter(server: str, page: Page) -> None:
    """The counter climbs rep by rep to what ``analyze`` finds in the recording. Waits on
    that condition (not on time): a busy host slows the page, not the outcome."""
    from sensor.analyze import analyze_path

    open_page(page, f"{server}/replay", "Replay")
    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("Home")  # 1×, then up to 10×: slow enough that a loaded page still sees reps come in
    for _ in range(9):
        slider.press("ArrowRight")
    expect(page.get_by_test_id("stSliderThumbValue")).to_have_text("10×")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("[data-testid=ht-rep-count]")).to_be_visible(timeout=60_000)
    want = len(analyze_path(REPLAYED[0]).reps)
    seen = [rep_counter(page)]
    deadline = time.monotonic() + 180
    while seen[-1] < want and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        seen.append(rep_counter(page))
    assert seen[-1] == want, f"the rep counter reached {seen[-1]} of {want}"
    assert seen == sorted(seen) and len(set(seen)) > 1, "the rep counter did not move during the replay"
    expect(page.locator(CHARTS).first).to_be_visible()
    shot(page, "replay")
    no_errors(page)
