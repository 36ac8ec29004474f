"""The session page's correction flow in the real dashboard, in headless Chromium: "I did 12,
it counted 11", the side of a side plank done without the opening stand, and going back to
what was detected. The store is checked after each step (corrections beside detections)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from dashboard_server import serve_dashboard
from playwright.sync_api import Page, expect
from store_builders import analysis, hold, reps, session
from test_dashboard_browser import no_errors, noon, open_page, shot

from sensor.store import Store, edits, queries
from sensor.store.weeks import current_day, week_start


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, int]]:
    """``holdtrack dashboard`` over one session: 11 bridges (one set) and two side planks
    of unknown side (no opening stand)."""
    folder = tmp_path_factory.mktemp("corrections-data")
    st = Store(folder)
    sid = session(
        st,
        noon(week_start(current_day()) - timedelta(days=7)),
        analysis(
            reps("bridge", 11, hold=5.5),
            [hold("side_plank", None, 200, 32.0), hold("side_plank", None, 300, 31.0)],
            duration=400.0,
            calibrated=False,
        ),
    )
    with serve_dashboard(folder, folder.parent / "corrections-server.log") as url:
        yield url, st, sid


@pytest.fixture()
def page() -> Iterator[Page]:
    from playwright.sync_api import sync_playwright
    from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={"width": 1400, "height": 2200})
        yield ctx.new_page()
        ctx.close()
        b.close()


def metric(page: Page, label: str) -> str:
    """A figure of the page's cards (``dashboard.ui.card``) by its label."""
    box = page.locator(".ht-record").filter(has=page.locator(".l", has_text=label))
    return box.locator(".v").inner_text()


def wait_until(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_correcting_a_count_and_a_side_in_the_browser(served: tuple[str, Store, int], page: Page) -> None:
    url, st, sid = served
    open_page(page, f"{url}/session?id={sid}", "Session")
    expect(page.get_by_text("Correct what was counted", exact=True)).to_be_visible(timeout=20_000)
    assert metric(page, "Hip bridge reps") == "11"
    assert metric(page, "Side plank holds") == "2 side ?"

    # "I did 12, it counted 11": the set is the first item of the picker.
    reps_box = page.get_by_role("spinbutton", name="Reps you did")
    reps_box.fill("12")
    reps_box.press("Enter")
    page.get_by_role("button", name="Save correction").click()
    expect(page.get_by_text("Corrected by you").first).to_be_visible(timeout=20_000)
    wait_until(lambda: metric(page, "Hip bridge reps") == "12")
    expect(page.get_by_text("Set 1: 11 counted, 12 by you", exact=False)).to_be_visible()
    d = queries.session_detail(st, sid)
    assert d is not None and d.counts == {0: 12} and d.sets[0]["rep_count"] == 11  # beside, not over
    assert queries.sessions(st)[0].outcomes["bridge"].met  # 12 reps held 5.5 s: now done to target

    # The sides of the two side planks (no opening stand): left and right.
    page.get_by_role("radio", name="left").first.click()
    page.get_by_role("radio", name="right").nth(1).click()
    page.get_by_role("button", name="Save sides").click()
    wait_until(lambda: metric(page, "Side plank holds") == "1 L · 1 R")
    row = queries.sessions(st)[0]
    assert (row.side_left, row.side_right, row.side_unknown) == (1, 1, 0)
    shot(page, "session-corrected")

    # Back to what was detected, for the set.
    page.get_by_role("button", name="Back to what was detected").click()
    wait_until(lambda: metric(page, "Hip bridge reps") == "11")
    assert [c.target for c in edits.corrections(st)[sid]] == ["hold", "hold"]
    no_errors(page)


def test_an_unknown_session_id_says_so(served: tuple[str, Store, int], page: Page) -> None:
    url, _, _ = served
    open_page(page, f"{url}/session?id=999", "Session")
    expect(page.get_by_text("There is no session 999.")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Open the newest session").click()
    expect(page.get_by_text("Correct what was counted", exact=True)).to_be_visible(timeout=20_000)
    no_errors(page)


def test_clicking_a_history_row_opens_its_session(served: tuple[str, Store, int], page: Page) -> None:
    url, _, sid = served
    open_page(page, url, "History")
    table = page.get_by_test_id("stDataFrame").last
    expect(table).to_be_visible(timeout=20_000)
    expect(table.locator("canvas").first).to_be_visible(timeout=20_000)  # the grid draws after it appears
    box = table.bounding_box()
    assert box is not None
    # A cell in the middle of the first data row (the header row is about 35 px high).
    page.mouse.click(box["x"] + box["width"] / 3, box["y"] + 35 + 17)
    expect(page.get_by_role("heading", name="Session", exact=True)).to_be_visible(timeout=20_000)
    wait_until(lambda: f"id={sid}" in page.url)
    no_errors(page)
