"""The phone on the hips through Sensor Logger, from the Live page in headless Chromium: the
QR code read off the page's image gives the push URL, a simulated Sensor Logger phone (real
HTTP, real time, the app's batches) streams a simulated workout to it, reps show live, Stop
saves the session, and History has it with the counts ``analyze`` finds in its recording."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from test_dashboard_browser import browser, no_errors, open_page, server, shot  # noqa: F401 - fixtures
from test_phyphox_browser import read_qr, tmp_path_factory, wide  # noqa: F401 - fixtures: a folder of this module's own, a wide page

from sensor.analyze import analyze_path
from sensor.sim.sensor_logger import PhoneLog, SensorLoggerPhone
from sensor.store import Store, queries
from tests.conftest import sim

pytestmark = pytest.mark.slow  # a workout streamed in real time (Sensor Logger stamps with the clock)


class PhoneThread:
    """A simulated Sensor Logger phone pushing in a thread of its own (its own event loop)."""

    def __init__(self, phone: SensorLoggerPhone) -> None:
        self.phone = phone
        self.log: PhoneLog | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.log = asyncio.run(self.phone.run())

    def __enter__(self) -> PhoneThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(5)


def test_sensor_logger_from_the_live_page_to_history(server: str, wide: Page) -> None:  # noqa: F811 - the imported fixture
    page = wide
    open_page(page, f"{server}/live", "Live")
    deadline = time.monotonic() + 60
    while not page.get_by_test_id("ht-ready").count():  # analysis loaded: Start shows data at once
        assert time.monotonic() < deadline, "the Live page did not finish loading"
        page.wait_for_timeout(500)
        open_page(page, f"{server}/live", "Live")
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="Phone — Sensor Logger (Wi-Fi)").click()
    expect(page.get_by_text("Push URL", exact=False).first).to_be_visible(timeout=20_000)

    # 1. What a phone's camera reads off the page: the push URL, with its pairing token, as shown in text.
    url = read_qr(page, server).decode()
    assert url.startswith("http://") and "127.0.0.1:8501" not in url
    expect(page.get_by_test_id("stCode").first).to_contain_text(url)
    assert "0.0.0.0" not in url and len(url.rsplit("/", 1)[1]) >= 8
    shot(page, "live-sensor-logger-qr")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("ht-phone-status")).to_contain_text("Waiting for the phone", timeout=30_000)

    # 2. The phone pushes a simulated workout to that URL, as Sensor Logger does (1-s batches, real time).
    session = sim(21, short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0, dropouts=False)
    # Its first three bridges (51 s of the 81): the path from page to history is the same for
    # three reps as for five, and every second here is a second of real time.
    truth = session.truth["reps"][:3]
    cut = (truth[-1]["end_s"] + session.truth["reps"][3]["start_s"]) / 2
    pushed = session.samples[: int(session.samples.time_s.searchsorted(cut))]
    with PhoneThread(SensorLoggerPhone(url, pushed)) as phone:
        expect(page.get_by_test_id("ht-phone-status")).to_contain_text("Sensor Logger connected", timeout=30_000)
        # 3. Reps counted live, as the phone streams.
        deadline = time.monotonic() + 120
        while not page.get_by_test_id("ht-set").count():
            assert time.monotonic() < deadline, "no rep shown live"
            page.wait_for_timeout(200)
        shot(page, "live-sensor-logger-reps")
        phone.thread.join(120)
        assert phone.log is not None and phone.log.sent and all(s == 200 for _, _, s in phone.log.sent), phone.log
    page.wait_for_timeout(2500)  # the last batch through the receiver (it may wait up to 2 s for a late one)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Stop").click()
    expect(page.get_by_role("button", name="Open the session")).to_be_visible(timeout=60_000)
    no_errors(page)

    # 4. History has the session, with the counts analyze finds in its recording.
    open_page(page, f"{server}/settings", "Settings")
    store = Store(page.get_by_test_id("stCode").first.inner_text().strip())
    sid = max(r.id for r in queries.sessions(store))
    detail = queries.session_detail(store, sid)
    assert detail is not None and detail.session["source"] == "phone-push"
    again = analyze_path(store.resolve(detail.session["file_path"]))
    stored = Counter(r["exercise"] for r in detail.reps)
    assert stored == Counter(r.exercise for r in again.reps) and stored["bridge"] == len(truth)
    open_page(page, server, "History")
    no_errors(page)
