"""The coach's sound script in headless Chromium, on its own: cues that could only start
more than ``MAX_LAG_S`` after they arrive are dropped, not queued (a 50× replay once queued
87 spoken cues in 20 s); cues at a pace the voice keeps up with are all played, each once.
What the page asked the browser to play is recorded by wrapping Web Audio and
speechSynthesis, with its time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from test_dashboard_browser import browser  # noqa: F401 - the fixture

from dashboard.audio import MAX_LAG_S, TONE_GAP_S, TONES, script, speech_s
from sensor.coach import Cue

# Logs each tone with how far ahead of the audio clock it was scheduled, each utterance and each cut.
INSTRUMENT = """
(() => {
  window.__htLog = [];
  const log = (e) => window.__htLog.push({...e, t: performance.now() / 1000});
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (when) {
    log({type: "tone", hz: this.frequency.value, ahead: when - this.context.currentTime});
    return start.apply(this, arguments);
  };
  if (window.speechSynthesis) {
    const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
    const cancel = window.speechSynthesis.cancel.bind(window.speechSynthesis);
    window.speechSynthesis.speak = (u) => { log({type: "speech", text: u.text}); try { speak(u); } catch (x) {} };
    window.speechSynthesis.cancel = () => { log({type: "cancel"}); cancel(); };
  }
})();
"""


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    ctx = browser.new_context()
    ctx.add_init_script(INSTRUMENT)
    pg = ctx.new_page()
    pg.set_content("<html><body><button id=start>Start</button></body></html>")
    pg.click("#start")  # the user's gesture browsers ask for before they make sound
    yield pg
    ctx.close()


def play(page: Page, cues: list[Cue]) -> None:
    """One render of the live view: the script as the page gets it, run in the page."""
    html = script(cues, 0.8, "run-1")
    body = html.removeprefix("<script>").removesuffix("</script>")
    page.add_script_tag(content=body)


def log(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__htLog")


def played(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__htPlayed || []")


def test_a_burst_of_cues_is_dropped_past_the_lag_not_queued(page: Page) -> None:
    """What a 50× replay brings: 20 s of cues (a rep every 3 s, a mark every 10 s and set
    announcements) in a few renders. Only what can start within MAX_LAG_S is played."""
    cues: list[Cue] = []
    for k in range(200):  # a cue every 0.1 s of "stream", mixed kinds
        kind, say, tone = ("hold_mark", f"{k // 10 * 10}", "mark") if k % 10 == 0 else ("rep", "", "rep")
        if k % 50 == 25:
            kind, say, tone = "set_done", f"Set {k // 50 + 1} done, 10 reps. Next: back extension, set 2 of 3.", "done"
        cues.append(Cue(k + 1, kind, 10.0 + 0.1 * k, say, tone))
    for n in range(0, len(cues), 20):  # ten renders, back to back (a loaded browser catching up)
        play(page, cues[: n + 20])
    entries, events = played(page), log(page)
    assert [e["seq"] for e in entries] == list(range(1, 201))  # every cue reached the page, once
    tones = [e for e in events if e["type"] == "tone"]
    spoken = [e for e in events if e["type"] == "speech"]
    # Nothing is scheduled further ahead than the lag; most of the burst is dropped (the
    # renders took ``spent`` s: a loaded browser may have played a few more meanwhile).
    assert tones and max(e["ahead"] for e in tones) <= MAX_LAG_S + 1e-6
    spent = events[-1]["t"] - events[0]["t"]
    assert len(tones) <= (spent + MAX_LAG_S + 0.1) / (TONES["rep"][1] + TONE_GAP_S) + 1, (len(tones), spent)
    print(
        f"burst of {len(entries)} cues: {len(tones)} tones, {len(spoken)} spoken, {sum(e['dropped'] for e in entries)} dropped in {spent:.2f} s"
    )
    assert sum(e["dropped"] for e in entries) >= 100
    # Words: the ones said fit in the lag, one after another (the estimate the script keeps).
    if spoken:  # (a Chromium without speechSynthesis says nothing and drops nothing)
        busy = 0.0
        for e in (e for e in events if e["type"] in ("speech", "cancel")):
            if e["type"] == "cancel":  # a set announcement cut the late queue
                busy = 0.0
                continue
            assert max(busy, e["t"]) - e["t"] <= MAX_LAG_S + 0.05, spoken
            busy = max(busy, e["t"]) + speech_s(e["text"])
        assert len(spoken) < sum(bool(c.say) for c in cues) / 2
        assert [e["say"] for e in entries if e["said"]] == [e["text"] for e in spoken]
        # Where the user is is never lost: every set announcement is said, marks are dropped.
        assert [e["text"] for e in spoken if e["text"].startswith("Set ")] == [c.say for c in cues if c.kind == "set_done"]


def test_cues_at_a_pace_the_voice_keeps_up_with_are_all_played(page: Page) -> None:
    """A 1× session: a rep tone every 2 s, a spoken mark every 10 s: nothing dropped."""
    cues = []
    for k in range(6):
        cues.append(Cue(len(cues) + 1, "rep", 2.0 * k, "", "rep"))
        if k % 3 == 0:
            cues.append(Cue(len(cues) + 1, "hold_mark", 2.0 * k, f"{10 * (k // 3 + 1)}", "mark"))
        play(page, cues)
        page.wait_for_timeout(400)  # the pace of the cues (fast: a 1x session is slower still)
    entries, events = played(page), log(page)
    assert not any(e["dropped"] for e in entries)
    assert [e["seq"] for e in entries] == list(range(1, len(cues) + 1))
    assert sum(e["type"] == "tone" for e in events) == len(cues)
    if page.evaluate("!!window.speechSynthesis"):
        assert [e["text"] for e in events if e["type"] == "speech"] == ["10", "20"]
    # A render that brings nothing new plays nothing again.
    play(page, cues)
    assert len(log(page)) == len(events)
