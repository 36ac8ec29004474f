"""A session is its id: in the real dashboard (headless Chromium), several sessions that share
a label (one day, the same counts) are each deleted, undone, corrected and edited by their
link, and the store is checked after every action: exactly that session changed. Streamlit
keeps a picker's state by its shown label, so sessions that looked alike once collapsed into
the first one (issue 20: "Delete session 1?" on session 2's page)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from dashboard_server import serve_dashboard
from playwright.sync_api import Page, expect, sync_playwright
from store_builders import analysis, reps, session
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, no_errors, noon, open_page
from test_dashboard_browser_corrections import metric, wait_until

from sensor.store import Store, edits
from sensor.store.weeks import current_day

SESSIONS = 4


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, list[int]]]:
    """Four sessions on one day, an hour apart, each 11 bridges in one set: every one is
    "<day> · 11 reps, 0 holds" to the eye."""
    folder = tmp_path_factory.mktemp("identity-data")
    st = Store(folder)
    day = noon(current_day() - timedelta(days=3))
    ids = [
        session(st, day + timedelta(hours=k - 2), analysis(reps("bridge", 11, hold=5.5), duration=200.0), tag=str(k))
        for k in range(SESSIONS)
    ]
    with serve_dashboard(folder, folder.parent / "identity-server.log") as url:
        yield url, st, ids


@pytest.fixture()
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
        yield ctx.new_page()
        ctx.close()
        b.close()


def state(st: Store) -> dict[int, tuple[object, ...]]:
    """Everything an action on the session page may change, by session id."""
    with st.connect() as con:
        rows = con.execute(
            "SELECT id, deleted_utc IS NOT NULL, started_utc, local_date, date_source, duplicate_of FROM sessions"
        ).fetchall()
    fixes = edits.corrections(st)
    return {int(r[0]): (*tuple(r)[1:], tuple(fixes.get(int(r[0]), []))) for r in rows}


def changed(before: dict[int, tuple[object, ...]], after: dict[int, tuple[object, ...]]) -> set[int]:
    return {sid for sid in after if before.get(sid) != after[sid]}


def settled(page: Page) -> None:
    """Wait until the app's script is not running (the page is drawn as the server has it)."""
    expect(page.locator("[data-testid=stApp]")).to_have_attribute("data-test-script-state", "notRunning", timeout=30_000)


def shown(page: Page) -> int:
    """The session the page shows, by what the user sees: the picker's label, the link and
    the JSON download must all name the same one."""
    picker = page.get_by_role("combobox", name="Session")

    def named() -> int | None:
        label = picker.input_value()
        assert label.startswith("Session "), label
        sid = int(label.split(" ", 2)[1])
        return sid if f"id={sid}" in page.url else None  # the page reruns: wait till they agree

    for _ in range(5):
        # Drawn, and label and link agree (an action that reruns the page twice is briefly
        # "not running" between the two, with the new link and the old label).
        settled(page)
        wait_until(lambda: named() is not None)
        sid = named()
        if sid is None:
            continue
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download JSON").click()
        # A click that races a rerun gets the file the rerun just replaced (a 404 saved
        # under the media id, not the page's file name): ask again once the page is drawn.
        if dl.value.suggested_filename.startswith("holdtrack-session-"):
            break
    assert sid is not None
    assert dl.value.suggested_filename.startswith(f"holdtrack-session-{sid}-"), dl.value.suggested_filename
    assert json.loads(Path(dl.value.path()).read_text())["session"]["id"] == sid
    return sid


def open_session(page: Page, url: str, sid: int) -> None:
    open_page(page, f"{url}/session?id={sid}", "Session")
    expect(page.get_by_role("button", name="Delete this session…")).to_be_visible(timeout=20_000)
    settled(page)


def test_each_session_of_a_shared_label_is_changed_by_its_link(served: tuple[str, Store, list[int]], page: Page) -> None:
    url, st, ids = served
    a, b, c, d = ids
    before = state(st)

    # Delete the third by its link: the question names it, the store bins it and no other.
    open_session(page, url, c)
    page.get_by_role("button", name="Delete this session…").click()
    expect(page.get_by_text(f"Delete session {c}?", exact=False)).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text(f"Session {c} moved to the bin", exact=False)).to_be_visible(timeout=20_000)
    wait_until(lambda: changed(before, state(st)) == {c})
    assert state(st)[c][0] == 1
    # No other session is put in its place (a look-alike, scrolled to where the delete
    # button was): the notice, its undo and a way on to the newest session left.
    expect(page.get_by_text(f"Delete session {c}?", exact=False)).to_have_count(0)
    expect(page.get_by_role("button", name="Delete this session…")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Open session {d}")).to_be_visible(timeout=20_000)
    no_errors(page)

    # Undo brings back exactly that one, shown by its own link.
    page.get_by_role("button", name="Undo").click()
    wait_until(lambda: state(st) == before)
    expect(page.get_by_role("combobox", name="Session")).to_have_value(re.compile(f"^Session {c} ·"), timeout=20_000)
    assert shown(page) == c

    # Correct the second by its link: only its set gets a correction.
    open_session(page, url, b)
    box = page.get_by_role("spinbutton", name="Reps you did")
    box.fill("12")
    box.press("Enter")
    page.get_by_role("button", name="Save correction").click()
    wait_until(lambda: metric(page, "Hip bridge reps") == "12")
    after = state(st)
    assert changed(before, after) == {b}
    assert [(x.target, x.idx, x.value) for x in edits.corrections(st)[b]] == [("set", 0, 12)]
    assert shown(page) == b
    # The picker shows the label as it is now (an old label sent back by the browser broke the next click).
    expect(page.get_by_role("combobox", name="Session")).to_have_value(re.compile(f"^Session {b} · .* · 12 reps, 0 holds$"))
    before = after

    # Edit the fourth's time by its link (its label stays the first's): only its start moves.
    open_session(page, url, d)
    hour = page.get_by_role("spinbutton", name="hour, Time")
    hour.focus()
    page.keyboard.type("06")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("stTimeInput").locator("input[type=hidden]")).to_have_value("06:00:00")
    page.get_by_role("button", name="Save date").click()
    wait_until(lambda: changed(before, state(st)) == {d})
    after = state(st)
    local_day = date.fromisoformat(str(before[d][2]))
    moved = datetime.combine(local_day, time(6, 0)).astimezone().astimezone(UTC)
    assert after[d][1:4] == (moved.strftime("%Y-%m-%dT%H:%M:%SZ"), local_day.isoformat(), "edited")
    before = after
    assert shown(page) == d

    # Mark the second, by its link, as the same workout as the fourth, then merge it: its
    # mark, then its bin entry and its correction carried to the fourth; nothing else.
    open_session(page, url, b)
    # Scrolled to first, as a user would: a dropdown opened by a click that also scrolls the
    # page (the picker below the fold) closes again at once.
    page.get_by_role("combobox", name="Same workout as").scroll_into_view_if_needed()
    page.get_by_role("combobox", name="Same workout as").click()
    page.get_by_role("option", name=f"session {d}", exact=True).click()
    settled(page)
    page.get_by_role("button", name="Mark as duplicate").click()
    wait_until(lambda: changed(before, state(st)) == {b})
    assert state(st)[b][4] == d
    before = state(st)
    page.get_by_role("button", name=f"Merge into session {d}").click()
    wait_until(lambda: changed(before, state(st)) == {b, d})
    assert state(st)[b][0] == 1 and [(x.target, x.idx, x.value) for x in edits.corrections(st)[d]] == [("set", 0, 12)]
    expect(page.get_by_role("combobox", name="Session")).to_have_value(re.compile(f"^Session {d} ·"), timeout=20_000)
    assert shown(page) == d
    before = state(st)

    # Delete the first by its link, the last of the look-alikes: it and nothing else.
    open_session(page, url, a)
    page.get_by_role("button", name="Delete this session…").click()
    expect(page.get_by_text(f"Delete session {a}?", exact=False)).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Yes").click()
    wait_until(lambda: changed(before, state(st)) == {a})
    expect(page.get_by_text(f"Session {a} moved to the bin", exact=False)).to_be_visible(timeout=20_000)
    page.get_by_role("button", name=re.compile(r"Open session \d+")).click()  # on to the newest left, when asked
    expect(page.get_by_role("button", name="Delete this session…")).to_be_visible(timeout=20_000)
    assert shown(page) in (c, d)  # left in the store (b was merged into d)
    no_errors(page)
