"""History, a session and Live at 390 px (a phone) and at desktop width, measured in headless
Chromium: no text cut, no chart text under 10 px, every table column reachable, the adherence
and calendar cells roomy enough for their text. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_server import serve_dashboard
from playwright.sync_api import Browser, Page, expect
from store_builders import analysis, hold, reps, session
from test_dashboard_browser import browser, no_errors, noon, open_page, shot  # noqa: F401 - browser: the imported fixture

from sensor.store import Store, notes
from sensor.store.weeks import current_day, week_start

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}
MIN_TEXT_PX = 10.0

# Every chart drawn, as it is laid out: (the chart's key or index, rendered/intrinsic width,
# the smallest text in CSS pixels as drawn).
CHART_TEXT = """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].map((c, i) => {
  const svg = c.querySelector('svg.marks');
  if (!svg) return {chart: i, drawn: false};
  const scale = svg.getBoundingClientRect().width / svg.width.baseVal.value;
  const sizes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  const key = [...c.closest('[class*="st-key-"]')?.classList || []].find(k => k.startsWith('st-key-')) || String(i);
  return {chart: key, drawn: true, scale, smallest: Math.min(...sizes), texts: sizes.length,
          right: c.getBoundingClientRect().right};
})"""
# Each cell of History's calendar and adherence grids (dashboard.grids) with its text: the
# text must fit inside its cell with room to spare, in a font no smaller than the minimum.
CELLS = """(testid) => [...document.querySelectorAll(`[data-testid=${testid}] .c`)].filter(c => c.textContent.trim()).map(c => {
  const r = c.getBoundingClientRect(), text = document.createRange();
  text.selectNodeContents(c);
  const t = text.getBoundingClientRect();
  return {text: c.textContent, w: t.width, cell_w: r.width, cell_h: r.height, font: parseFloat(getComputedStyle(c).fontSize),
          inside: t.left >= r.left && t.right <= r.right && r.right <= innerWidth};
})"""
# Every piece of text on the page outside the charts (drawn by the browser as HTML): its size.
PAGE_TEXT = """() => { const out = []; const walk = document.createTreeWalker(document.querySelector('[data-testid=stMain]'), NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) { const t = walk.currentNode, e = t.parentElement;
    if (!t.textContent.trim() || e.closest('svg') || !e.checkVisibility()) continue;
    out.push([parseFloat(getComputedStyle(e).fontSize), t.textContent.trim().slice(0, 40)]); }
  return out; }"""
# A session's timeline (dashboard.timeline: HTML, its line an SVG image): drawn, its box and
# every axis label on screen; the time labels left to right, none touching the next.
TIMELINE = """() => { const t = document.querySelector('[data-testid=ht-timeline]');
  if (!t) return null;
  const img = t.querySelector('.plot img'), box = r => { const b = r.getBoundingClientRect(); return [b.left, b.right]; };
  return {right: t.getBoundingClientRect().right, drawn: img.complete && img.naturalWidth > 0, plot_w: img.getBoundingClientRect().width,
          x: [...t.querySelectorAll('.x span')].map(box), y: [...t.querySelectorAll('.y span')].map(box),
          bands: t.querySelectorAll('.plot .span').length}; }"""
# HTML tables (st.table): every header cell within the screen, no cell's text overflowing it.
HTML_TABLES = """(w) => [...document.querySelectorAll('[data-testid=stTable] table')].map(t => ({
  headers: [...t.querySelectorAll('th')].map(h => ({text: h.innerText.trim(), right: h.getBoundingClientRect().right})),
  overflowing: [...t.querySelectorAll('td, th')].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText),
}))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Twelve weeks of the whole routine three days a week (three back-extension sets: the
    chart a phone once shrank to 4-px text), a session with a long note."""
    folder = tmp_path_factory.mktemp("phone-data")
    st = Store(folder)
    mon = week_start(current_day())
    newest: tuple[date, int] = (date.min, 0)
    for w in range(12):
        for k in range(3):
            d = mon - timedelta(weeks=w) + timedelta(days=2 * k)
            if d > current_day():
                continue
            ext = [r for j in range(3) for r in reps("back_extension", 10, start=j * 160, every=4, hold=1.0)]
            sides = [hold("side_plank", s, 800 + 60 * i, 28.0 + w % 4 * 2) for i, s in enumerate(("left", "left", "right", "right"))]
            a = analysis([*ext, *reps("bridge", 12, start=560, every=8, hold=4.8 + 0.1 * w)], [*sides, hold("plank", None, 1100, 40.0)])
            newest = max(newest, (d, session(st, noon(d), a, tag=f"{w}{k}")))
    notes.set_note(st, newest[1], "New mat today. Left knee a bit sore after the second set of bridges; kept the side planks short.")
    with serve_dashboard(folder, folder.parent / "phone-server.log") as url:
        yield url


def _page(b: Browser, viewport: dict[str, int], **kw: Any) -> Iterator[Page]:
    ctx = b.new_context(viewport=viewport, **kw)  # type: ignore[arg-type]
    yield ctx.new_page()
    ctx.close()


@pytest.fixture()
def phone(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    yield from _page(browser, PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


@pytest.fixture()
def desktop(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    yield from _page(browser, DESKTOP)


def drawn(page: Page, charts: int) -> list[dict[str, Any]]:
    """Wait until ``charts`` charts are drawn and laid out at their final width (a chart is
    sized to its column after its first draw), then measure them."""
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=stVegaLiteChart] svg.marks').length >= n", arg=charts, timeout=60_000
    )
    before: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while True:  # until two measurements a moment apart agree
        now = page.evaluate(CHART_TEXT)
        if now == before or time.monotonic() > deadline:
            return now
        before = now
        page.wait_for_timeout(300)


def check_charts(page: Page, charts: int, width: int) -> list[dict[str, Any]]:
    found = drawn(page, charts)
    assert len(found) >= charts and all(c["drawn"] for c in found), found
    for c in found:
        assert c["scale"] == pytest.approx(1.0, abs=0.01), f"{c['chart']} is scaled to fit ({c['scale']:.2f}): its text shrinks"
        assert c["smallest"] >= MIN_TEXT_PX, f"{c['chart']}: text of {c['smallest']:.1f} px"
        assert c["right"] <= width + 1, f"{c['chart']} is wider than the screen"
    return found


def check_timeline(page: Page, width: int) -> dict[str, Any]:
    page.wait_for_function(f"({TIMELINE})()?.drawn", timeout=60_000)
    tl = page.evaluate(TIMELINE)
    assert tl["right"] <= width + 1 and tl["plot_w"] >= 0.7 * min(width, 700), tl  # the plot takes most of a phone's width
    assert tl["bands"] > 0 and len(tl["x"]) >= 3 and len(tl["y"]) >= 3, tl
    assert all(left >= 0 and right <= width + 1 for left, right in tl["x"] + tl["y"]), tl
    assert all(a[1] + 4 <= b[0] for a, b in zip(tl["x"], tl["x"][1:], strict=False)), f"time labels touching: {tl['x']}"
    return tl


def no_small_text(page: Page) -> None:
    small = [t for t in page.evaluate(PAGE_TEXT) if t[0] < MIN_TEXT_PX]
    assert not small, f"text under {MIN_TEXT_PX:.0f} px: {small[:5]}"


def no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    main = page.evaluate("document.querySelector('[data-testid=stMain]').scrollWidth")
    assert main <= width + 1, f"the page scrolls sideways ({main} px)"


def grid_columns_reachable(page: Page, index: int = -1) -> list[str]:
    """Scroll a data grid (st.dataframe) to its right end like a finger would: the columns it
    then shows are the last ones. Returns the header names seen on the way."""
    grid = page.get_by_test_id("stDataFrame").nth(index)
    grid.scroll_into_view_if_needed()
    expect(grid.locator("canvas").first).to_be_visible(timeout=20_000)
    scroller = grid.locator(".dvn-scroller")
    total = int(grid.locator("table[role=grid]").get_attribute("aria-colcount") or 0)
    seen: dict[int, str] = {}

    def headers() -> dict[int, str]:
        found = grid.evaluate(
            "g => [...g.querySelectorAll('th[role=columnheader]')].map(h => [+h.getAttribute('aria-colindex'), h.innerText])"
        )
        return {int(k): str(v) for k, v in found}

    def visible(before: dict[int, str]) -> dict[int, str]:
        """The columns shown once the grid has redrawn after a scroll: changed from
        ``before`` (or 2 s passed: nothing new came into view), then steady for 150 ms."""
        deadline = time.monotonic() + 2
        while (now := headers()) == before and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        while True:
            page.wait_for_timeout(150)
            if (again := headers()) == now:
                return now
            now = again

    shown: dict[int, str] = {}
    for _ in range(60):
        shown = visible(shown)
        seen.update(shown)
        if scroller.evaluate("s => s.scrollLeft + s.clientWidth >= s.scrollWidth - 1"):
            break
        scroller.evaluate("s => s.scrollBy(s.clientWidth / 4, 0)")
    assert sorted(seen) == list(range(1, total + 1)), f"columns reached: {seen} of {total}"
    return [seen[k] for k in sorted(seen)]


def test_history_fits_a_phone(server: str, phone: Page) -> None:
    open_page(phone, server, "History")
    found = check_charts(phone, 1, PHONE["width"])  # progress
    no_sideways_scroll(phone, PHONE["width"])
    no_small_text(phone)
    no_errors(phone)
    for grid in ("ht-calendar", "ht-adherence"):
        cells = phone.evaluate(CELLS, grid)
        assert len(cells) >= 12 * 5, (grid, len(cells))
        cramped = [c for c in cells if not c["inside"] or c["cell_w"] < c["w"] + 6 or c["cell_h"] < 24 or c["font"] < MIN_TEXT_PX]
        assert not cramped, f"{grid}: text that does not fit its cell: {cramped[:3]}"
    assert {c["chart"] for c in found} == {"st-key-history_progress"}
    headers = grid_columns_reachable(phone)
    assert headers[0] == "Date" and headers[-1] == "Status" and "Note" in headers
    # The cards of this week, streaks and bests: two to a row, none cut.
    boxes = phone.evaluate(
        "[...document.querySelectorAll('.ht-record')].map(e => [e.getBoundingClientRect().width, e.scrollHeight - e.clientHeight])"
    )
    assert len(boxes) >= 8 and all(120 <= w <= PHONE["width"] / 2 and over <= 1 for w, over in boxes), boxes
    phone.screenshot(path=str(_shot("phone-history-fit")), full_page=True)


def test_a_session_fits_a_phone(server: str, phone: Page) -> None:
    open_page(phone, f"{server}/session", "Session")
    assert not phone.locator("[data-testid=stVegaLiteChart]").count()  # no chart library to load: the timeline is HTML
    check_timeline(phone, PHONE["width"])
    no_sideways_scroll(phone, PHONE["width"])
    no_small_text(phone)
    bars = phone.evaluate(
        "[...document.querySelectorAll('.ht-reps .set')].map(s => [s.getBoundingClientRect().right, s.querySelectorAll('.bar').length])"
    )
    assert len(bars) == 1 + 3 and all(right <= PHONE["width"] + 1 for right, _ in bars), bars  # a bridge set, three back-extension sets
    assert [n for _, n in bars] == [12, 10, 10, 10]
    no_errors(phone)
    routine, stability = phone.evaluate(HTML_TABLES, PHONE["width"])
    assert [h["text"] for h in routine["headers"]][-1] == "Done"
    assert [h["text"] for h in stability["headers"]][-1] == "Verdict"
    for table in (routine, stability):  # "Done" and "Verdict" on screen, every cell's text inside it
        assert all(h["right"] <= PHONE["width"] + 1 for h in table["headers"]), table["headers"]
        assert not table["overflowing"], table["overflowing"]
    note = phone.get_by_role("textbox", name="Note")
    expect(note).to_have_value(re.compile("^New mat today."))  # the newest session's note, in its box
    assert note.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right <= innerWidth")
    phone.screenshot(path=str(_shot("phone-session-fit")), full_page=True)


def test_live_cards_show_their_last_line_on_a_phone(server: str, phone: Page) -> None:
    """A simulated wearer at 50×: while reps and holds come in, every card's text stays inside
    it and no card clips (or scrolls) what it holds."""
    # The page marks itself ready once the analysis is loaded (a fresh load of the page says so).
    deadline = time.monotonic() + 90
    while True:
        open_page(phone, f"{server}/live", "Live")
        expect(phone.get_by_role("button", name="Start")).to_be_visible(timeout=30_000)
        if phone.get_by_test_id("ht-ready").count():
            break
        assert time.monotonic() < deadline, "the Live page did not finish loading the analysis"
        phone.wait_for_timeout(500)  # polling interval
    speed = phone.get_by_role("slider").first
    speed.focus()
    speed.press("End")  # 50x
    phone.get_by_role("button", name="Start").click()
    expect(phone.get_by_test_id("ht-rep-count")).to_be_visible(timeout=30_000)
    clipped: list[Any] = []
    seen_reps, seen_hold = False, False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (seen_reps and seen_hold):
        cards = phone.evaluate(
            """() => [...document.querySelectorAll('[class*="st-key-ht-card"]')].map(c => {
                 const box = c.getBoundingClientRect(), text = document.createRange();
                 text.selectNodeContents(c);  // the text as drawn, also where it sticks out of its element's box
                 const clips = getComputedStyle(c).overflowY !== 'visible';
                 return {key: [...c.classList].find(k => k.startsWith('st-key-')), over: clips ? c.scrollHeight - c.clientHeight : 0,
                         last_below: text.getBoundingClientRect().bottom - (box.bottom - c.clientTop), text: c.innerText.slice(0, 80)};
               })"""
        )
        clipped += [c for c in cards if c["over"] > 1 or c["last_below"] > 1]
        seen_reps = seen_reps or int(phone.get_by_test_id("ht-rep-count").inner_text() or 0) > 0
        seen_hold = seen_hold or "to go" in " ".join(c["text"] for c in cards) or "last hold" in " ".join(c["text"] for c in cards)
        phone.wait_for_timeout(250)
    assert seen_reps, "no rep came in"
    assert not clipped, f"cards cutting their content: {clipped[:3]}"
    shot(phone, "phone-live-cards")
    phone.get_by_test_id("stBaseButton-primary").filter(has_text="Stop").click()


def test_desktop_still_side_by_side(server: str, desktop: Page) -> None:
    open_page(desktop, server, "History")
    check_charts(desktop, 1, DESKTOP["width"])
    no_errors(desktop)
    cal = desktop.get_by_test_id("ht-calendar").bounding_box()
    adh = desktop.get_by_test_id("ht-adherence").bounding_box()
    assert cal and adh and abs(cal["y"] - adh["y"]) < 60 and cal["x"] + cal["width"] <= adh["x"]  # side by side
    for grid in ("ht-calendar", "ht-adherence"):
        cells = desktop.evaluate(CELLS, grid)
        assert cells and all(c["inside"] and c["cell_w"] >= c["w"] + 6 for c in cells), grid
    open_page(desktop, f"{server}/session", "Session")
    check_timeline(desktop, DESKTOP["width"])
    desktop.get_by_text("Zoom and pan").click()  # the zoomable chart, on demand
    check_charts(desktop, 1, DESKTOP["width"])
    no_small_text(desktop)
    shot(desktop, "desktop-session-fit")


def _shot(name: str) -> Path:
    from test_dashboard_browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"
