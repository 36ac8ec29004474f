"""Pages opened by link in headless Chromium: /history is the History page (it once showed
"Page not found" first, the default page being served at the root only), the root shows
History at /history, and a session's link keeps its id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from dashboard_server import serve_dashboard
from playwright.sync_api import Browser, Page, expect
from store_builders import analysis, reps, session
from test_dashboard_browser import browser, no_errors, open_page  # noqa: F401 - the fixture

from sensor.store import Store


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("links-data")
    sid = session(Store(folder), datetime(2026, 3, 2, 9, tzinfo=UTC), analysis(reps("bridge", 12)))
    with serve_dashboard(folder, folder.parent / "links.log") as url:
        yield url, sid


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    seen: list[str] = []
    # Every text the page ever shows in a dialog or toast, also one that goes away again.
    pg.expose_function("htSaw", lambda text: seen.append(text))
    pg.add_init_script(
        """new MutationObserver(() => {
             for (const el of document.querySelectorAll('[role=dialog], [data-testid=stToast]')) window.htSaw(el.innerText);
           }).observe(document, {childList: true, subtree: true});"""
    )
    pg.seen = seen  # type: ignore[attr-defined]
    yield pg
    ctx.close()


@pytest.mark.parametrize("path", ["/history", "/history?x=1", "/"])
def test_history_by_link(server: tuple[str, int], page: Page, path: str) -> None:
    url, _ = server
    open_page(page, f"{url}{path}", "History")
    page.wait_for_function("location.pathname === '/history'", timeout=20_000)
    expect(page.get_by_text("Adherence per week")).to_be_visible(timeout=20_000)
    no_errors(page)
    assert not [t for t in page.seen if "not found" in t.lower()], page.seen  # type: ignore[attr-defined]
    assert page.get_by_text("Page not found").count() == 0


def test_a_session_by_link_keeps_its_id(server: tuple[str, int], page: Page) -> None:
    url, sid = server
    open_page(page, f"{url}/session?id={sid}", "Session")
    page.wait_for_function(f"new URLSearchParams(location.search).get('id') === '{sid}'", timeout=20_000)
    no_errors(page)
    assert not [t for t in page.seen if "not found" in t.lower()], page.seen  # type: ignore[attr-defined]
