"""The live coach in headless Chromium at phone width (390 px): a simulated session run
live at 50×, checked in order — first data within 2 s of Start, a tone at every counted
rep, the hold marks spoken, the set split ("set 2 · …"), the end of the session opening the
saved session. Web Audio and speechSynthesis are instrumented, so what the page asked the
browser to play is recorded with its time. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_server import LOGS
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_dashboard_browser import browser, no_errors, open_page, server, shot  # noqa: F401 - fixtures

from dashboard.audio import MAX_LAG_S, TONES, speech_s
from sensor.store import Store, queries

PHONE = {"width": 390, "height": 844}
# Wraps the page's audio calls; runs in every frame before the page's own scripts.
INSTRUMENT = """
(() => {
  window.__htLog = window.__htLog || [];
  const log = (e) => { try { (window.top.__htLog = window.top.__htLog || []).push({...e, t: performance.now()}); } catch (x) {} };
  if (window.OscillatorNode) {
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...a) {
      log({type: "tone", hz: this.frequency.value, ahead: (a[0] || 0) - this.context.currentTime});
      return start.apply(this, a);
    };
  }
  if (window.speechSynthesis) {
    const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
    const cancel = window.speechSynthesis.cancel.bind(window.speechSynthesis);
    window.speechSynthesis.speak = (u) => { log({type: "speech", text: u.text, volume: u.volume}); try { speak(u); } catch (x) {} };
    window.speechSynthesis.cancel = () => { log({type: "cancel"}); cancel(); };
  }
})();
"""
SEED = 21  # a full routine: three sets of back extensions, a set of bridges, planks


class _OwnFolder:
    """A ``tmp_path_factory`` whose folders sit in a folder of their own, so the server
    fixture borrowed from test_dashboard_browser (which writes beside its data folder)
    does not collide with that module's own server in the same run."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def mktemp(self, name: str) -> Path:
        path = self.base / name
        path.mkdir()
        return path


@pytest.fixture(scope="module")
def tmp_path_factory(tmp_path_factory: pytest.TempPathFactory) -> _OwnFolder:
    return _OwnFolder(tmp_path_factory.mktemp("coach-browser"))


@pytest.fixture()
def phone(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    ctx.add_init_script(INSTRUMENT)
    pg = ctx.new_page()
    yield pg
    ctx.close()


def _log(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__htLog || []")


def _played(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__htPlayed || []")


_FITS = """(w) => {
    const charts = [...document.querySelectorAll('.vega-embed')];
    const main = document.querySelector('[data-testid=stMain]');
    return charts.every(e => e.querySelector('canvas, svg'))
        && document.documentElement.scrollWidth <= w && (!main || main.scrollWidth <= w)
        && charts.every(e => e.getBoundingClientRect().right <= w);
}"""


def _no_sideways_scroll(page: Page, charts: int = 0, timeline: bool = False) -> None:
    """Neither the page nor its main column nor any chart is wider than the phone, once at
    least ``charts`` charts have drawn (and the session's server-drawn timeline, if
    ``timeline``): a chart is sized to its column after it first draws, which a loaded
    machine can take seconds to do, so this waits for the layout."""
    if timeline:
        page.get_by_test_id("ht-timeline").first.wait_for(state="attached", timeout=30_000)
    if charts:
        page.wait_for_function(
            "(n) => document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length >= n", arg=charts, timeout=30_000
        )
    with contextlib.suppress(PlaywrightTimeoutError):  # the assertions below say what is too wide
        page.wait_for_function(_FITS, arg=PHONE["width"] + 1, timeout=20_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page is {width} px wide at {PHONE['width']} px"
    main = page.evaluate("(() => { const m = document.querySelector('[data-testid=stMain]'); return m ? m.scrollWidth : 0; })()")
    assert main <= PHONE["width"] + 1, f"the main column scrolls sideways ({main} px)"
    charts = page.evaluate("[...document.querySelectorAll('.vega-embed')].map(e => e.getBoundingClientRect().right)")
    assert all(right <= PHONE["width"] + 1 for right in charts), charts


def test_live_coach_at_phone_width(server: str, phone: Page) -> None:  # noqa: F811 - the imported fixture
    page = phone
    open_page(page, f"{server}/live", "Live")
    # The page loads the analysis and the simulator while a person picks a sensor (scipy's
    # import alone is a second, several on a loaded machine); Start is pressed once it has:
    # a fresh load of the page says so.
    deadline = time.monotonic() + 60
    start = page.get_by_role("button", name="Start")
    while True:
        expect(start).to_be_visible(timeout=30_000)  # the page is drawn down to Start
        if page.get_by_test_id("ht-ready").count():
            break
        assert time.monotonic() < deadline, "the Live page did not finish loading the analysis in 60 s"
        page.wait_for_timeout(500)  # polling interval
        open_page(page, f"{server}/live", "Live")
    page.get_by_label("Wearer", exact=True).fill(str(SEED))
    page.get_by_label("Wearer", exact=True).press("Enter")
    speed = page.get_by_role("slider").first
    speed.focus()
    speed.press("End")  # 50x
    expect(page.get_by_text("50×").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, "phone-live-start")

    # 1. First data on screen within 2 s of Start (the sample-rate pill shows with the first samples).
    t_click = time.monotonic()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("ht-status").get_by_text(" Hz")).to_be_visible(timeout=10_000)
    first_data_s = time.monotonic() - t_click
    print(f"first data on screen {first_data_s:.2f} s after Start")
    assert first_data_s <= 2.0, f"first data {first_data_s:.2f} s after Start"

    # 2-4. Watch the run: the set line, until the session is saved and the button shows.
    set_lines: list[str] = []
    open_btn = page.get_by_role("button", name="Open the session")
    deadline = time.monotonic() + 150
    shot_taken = False
    while not open_btn.is_visible():
        assert time.monotonic() < deadline, "the session did not end and save"
        line = page.get_by_test_id("ht-set")
        if line.count():
            text = line.first.inner_text()
            if not set_lines or set_lines[-1] != text:
                set_lines.append(text)
            if "set 2" in text and not shot_taken:
                shot(page, "phone-live-set2")
                shot_taken = True
        page.wait_for_timeout(100)
    no_errors(page)
    _no_sideways_scroll(page)
    shot(page, "phone-live-end")

    log, played = _log(page), _played(page)

    # 5. End of session: the button opens the saved session; the sidebar counts it.
    sidebar = page.get_by_test_id("stSidebar")
    n_text = page.get_by_text(" sessions · data in").first.text_content() or ""
    open_btn.click()
    expect(page.get_by_role("heading", name="Session", exact=True)).to_be_visible(timeout=30_000)
    page.wait_for_function("new URLSearchParams(location.search).has('id')", timeout=20_000)
    sid = int(page.evaluate("new URLSearchParams(location.search).get('id')"))
    page.wait_for_load_state("networkidle")
    _no_sideways_scroll(page, timeline=True)  # the session page draws no chart: its timeline is HTML
    no_errors(page)
    shot(page, "phone-session")
    del sidebar

    store = Store(_data_dir(page, server))
    assert n_text.startswith(f"{store.session_count()} sessions"), n_text  # the count was refreshed
    assert sid == max(r.id for r in queries.sessions(store))  # the session just saved
    detail = queries.session_detail(store, sid)
    assert detail is not None and detail.session["source"] == "simulated"
    reps = detail.reps

    # A cue at every counted rep, each at the stream time the pipeline counted it; its tone
    # played unless it would have come late (at 50x reps come faster than tones: dropped,
    # never queued more than MAX_LAG_S ahead of the audio clock).
    rep_hz = TONES["rep"][0]
    rep_tones = [e for e in log if e["type"] == "tone" and e["hz"] == pytest.approx(rep_hz)]
    rep_cues = [c for c in played if c["kind"] == "rep"]
    assert len(reps) > 20 and len(rep_cues) == len(reps)
    assert len(rep_tones) == sum(c["toned"] for c in rep_cues) >= 1
    assert max(e["ahead"] for e in log if e["type"] == "tone") <= MAX_LAG_S + 1e-6
    assert [c["at_s"] for c in rep_cues] == pytest.approx(sorted(r["detected_at_s"] for r in reps), abs=1e-3)
    # Reached the page in the order they became due on the stream, each once.
    assert [c["seq"] for c in played] == list(range(played[0]["seq"], played[0]["seq"] + len(played)))
    assert [c["at_s"] for c in played] == sorted(c["at_s"] for c in played)

    # The hold countdown: 10-second marks during planks, "5 seconds" at the top of bridges
    # (at 50x most are dropped before they are said: words are not queued over a second).
    cue_words = [c["say"] for c in played]
    assert "10" in cue_words and "20" in cue_words, cue_words
    assert any(t.startswith("5 seconds") for t in cue_words), cue_words
    spoken = [e["text"] for e in log if e["type"] == "speech"]
    assert all(e["volume"] == pytest.approx(0.8) for e in log if e["type"] == "speech")
    assert [c["say"] for c in played if c["said"]] == spoken
    busy = 0.0
    for e in (e for e in log if e["type"] in ("speech", "cancel")):
        busy = 0.0 if e["type"] == "cancel" else max(busy, e["t"] / 1000) + speech_s(e["text"])
        assert e["type"] == "cancel" or busy - speech_s(e["text"]) - e["t"] / 1000 <= MAX_LAG_S + 0.05
    # The set split, on screen and said (a set announcement is never dropped), as the store has it.
    assert any("Back extension · set 2 ·" in s for s in set_lines), set_lines
    assert any("Back extension · set 3 ·" in s for s in set_lines), set_lines
    assert any(t.startswith("Set 1 done") for t in spoken) and any(t.startswith("Set 2 done") for t in spoken)
    assert len({r["set_idx"] for r in reps if r["exercise"] == "back_extension"}) == 3

    # A whole live run (a render five times a second) and the pages after it: the server
    # printed no deprecation warning (st.components.v1.html once printed one per render).
    output = LOGS[server].read_text(errors="replace")
    assert not [line for line in output.splitlines() if "deprecat" in line.lower()], output[-3000:]


def _data_dir(page: Page, url: str) -> str:
    """The server's data folder, as its Settings page shows it."""
    open_page(page, f"{url}/settings", "Settings")
    return page.get_by_test_id("stCode").first.inner_text().strip()


def test_replay_controls_at_phone_width(server: str, phone: Page) -> None:  # noqa: F811 - the imported fixture
    """Replay says what it plays, pauses (the stream stops), resumes and jumps."""
    page = phone
    open_page(page, f"{server}/replay", "Replay")
    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("Home")  # 1x: the jump below is then the only way to the end in time
    page.get_by_role("button", name="Play").click()
    status = page.get_by_test_id("ht-status")
    expect(status.get_by_text("Replaying ")).to_be_visible(timeout=20_000)
    assert "Connected" not in status.inner_text()
    page.get_by_role("button", name="Pause").click()
    expect(status.get_by_text("Paused: ")).to_be_visible(timeout=10_000)
    elapsed = status.inner_text()
    page.wait_for_timeout(1500)
    assert status.inner_text() == elapsed  # nothing streamed while paused
    shot(page, "phone-replay-paused")
    page.get_by_role("button", name="Resume").click()
    expect(status.get_by_text("Replaying ")).to_be_visible(timeout=10_000)
    page.wait_for_function("([el, before]) => el.innerText !== before", arg=[status.element_handle(), elapsed], timeout=10_000)
    # Jump to the end: the elapsed time leaps there (the skipped part is analysed, not shown).
    position = page.get_by_role("slider", name="Position")
    position.focus()
    position.press("End")
    last = int(position.get_attribute("aria-valuemax") or 0)
    page.get_by_role("button", name="Jump").click()
    page.wait_for_function(
        """(min) => { const el = document.querySelector('[data-testid=ht-status]');
                      const m = el && el.innerText.match(/(\\d+):(\\d\\d) elapsed/);
                      return m && +m[1] * 60 + +m[2] >= min; }""",
        arg=max(0, last - 15),
        timeout=15_000,
    )
    no_errors(page)
    _no_sideways_scroll(page)


@pytest.mark.parametrize(("path", "heading"), [("", "History"), ("/session", "Session")])
def test_history_and_session_pages_fit_a_phone(server: str, phone: Page, path: str, heading: str) -> None:  # noqa: F811 - the imported fixture
    page = phone
    open_page(page, f"{server}{path}", heading)
    # History's charts draw in the browser; a session's timeline comes drawn from the server.
    _no_sideways_scroll(page, charts=1 if heading == "History" else 0, timeline=heading == "Session")
    no_errors(page)
    expect(page.get_by_role("button", name="All sessions (CSV)" if heading == "History" else "Download FIT")).to_be_attached()
    page.screenshot(path=str(_shot_path(f"phone-{heading.lower()}-full")), full_page=True)


def _shot_path(name: str) -> Any:
    from test_dashboard_browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"
