"""The phone on the hips through phyphox, from the Live page in headless Chromium: the QR
code read off the page's image gives the experiment, the fake phone (real HTTP) runs it
with a simulated workout, reps show live, Stop saves the session, and History has it with
the counts ``analyze`` finds in its recording."""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from test_dashboard_browser import browser, no_errors, open_page, server, shot  # noqa: F401 - fixtures

from sensor.analyze import analyze_path
from sensor.fake_phyphox import FakePhyphox
from sensor.sources.phyphox_experiment import experiment_bytes, experiment_from_qr
from sensor.store import Store, queries
from tests.conftest import sim

SPEED = 10.0  # the wearer at 10x: a short routine in about half a minute


class _OwnFolder:
    """Folders of this module's own (the borrowed server fixture writes beside its folder)."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def mktemp(self, name: str) -> Path:
        path = self.base / name
        path.mkdir()
        return path


@pytest.fixture(scope="module")
def tmp_path_factory(tmp_path_factory: pytest.TempPathFactory) -> _OwnFolder:
    return _OwnFolder(tmp_path_factory.mktemp("phyphox-browser"))


@pytest.fixture()
def wide(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    ctx = browser.new_context(viewport={"width": 1200, "height": 1400})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def read_qr(page: Page, base: str) -> bytes:
    """The bytes of the QR code drawn on the page (its image, decoded as a phone would)."""
    img = page.get_by_test_id("stImage").locator("img").first
    expect(img).to_be_visible(timeout=30_000)
    src = img.get_attribute("src") or ""
    png = page.request.get(src if src.startswith("http") else base + src).body()
    pixels = np.array(Image.open(io.BytesIO(png)).convert("L"))
    found = zxingcpp.read_barcodes(pixels)
    assert len(found) == 1, "one QR code on the page"
    return bytes(found[0].bytes)


def test_phyphox_from_the_live_page_to_history(server: str, wide: Page) -> None:  # noqa: F811 - the imported fixture
    page = wide
    open_page(page, f"{server}/live", "Live")
    deadline = time.monotonic() + 60
    while not page.get_by_test_id("ht-ready").count():  # analysis loaded: Start shows data at once
        assert time.monotonic() < deadline, "the Live page did not finish loading"
        page.wait_for_timeout(500)
        open_page(page, f"{server}/live", "Live")
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="Phone — phyphox (Wi-Fi)").click()
    expect(page.get_by_label("phyphox address", exact=True)).to_be_visible(timeout=20_000)

    # 1. What a phone scanning the page's QR code gets: HoldTrack's experiment.
    experiment = experiment_from_qr([read_qr(page, server)])
    assert experiment == experiment_bytes()
    shot(page, "live-phyphox-qr")

    # 2. The phone runs it (the fake, from the experiment it was given) with a simulated workout.
    session = sim(21, short=True, rate_hz=100.0, exercises=("bridge", "plank"), link_losses=0)
    with FakePhyphox(session.samples, experiment=experiment, speed=SPEED) as fake:
        page.get_by_label("phyphox address", exact=True).fill(fake.address)
        page.get_by_label("phyphox address", exact=True).press("Enter")
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_test_id("ht-phyphox-status")).to_contain_text("phyphox connected", timeout=30_000)
        assert fake.commands[:1] == ["start"]  # HoldTrack started the measurement

        # 3. Reps counted live, as the phone streams.
        deadline = time.monotonic() + 120
        while not page.get_by_test_id("ht-set").count():
            assert time.monotonic() < deadline, "no rep shown live"
            page.wait_for_timeout(200)
        shot(page, "live-phyphox-reps")
        end_s = float(session.samples.time_s[-1] - session.samples.time_s[0])
        while fake.wearer_time() < end_s:  # the whole workout streamed
            assert time.monotonic() < deadline + 60, "the workout did not finish streaming"
            page.wait_for_timeout(250)
        page.wait_for_timeout(1500)  # a few more polls
        page.get_by_test_id("stBaseButton-primary").filter(has_text="Stop").click()
        expect(page.get_by_role("button", name="Open the session")).to_be_visible(timeout=60_000)
    assert fake.commands[-1] == "stop"
    no_errors(page)

    # 4. History has the session, with the counts analyze finds in its recording.
    open_page(page, f"{server}/settings", "Settings")
    store = Store(page.get_by_test_id("stCode").first.inner_text().strip())
    sid = max(r.id for r in queries.sessions(store))
    detail = queries.session_detail(store, sid)
    assert detail is not None and detail.session["source"] == "phyphox"
    again = analyze_path(store.resolve(detail.session["file_path"]))
    stored = Counter(r["exercise"] for r in detail.reps)
    assert stored == Counter(r.exercise for r in again.reps) and stored["bridge"] == sum(1 for r in session.truth["reps"])
    assert sorted(h["exercise"] for h in detail.holds) == sorted(h.exercise for h in again.holds) == ["plank"] * len(session.truth["holds"])
    open_page(page, server, "History")
    no_errors(page)
