"""Shared fixtures: seeded simulated sessions (the project's synthetic board)."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date

import pytest

from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session
from sensor.store.weeks import TODAY_ENV

# "Today" for the product (``sensor.store.weeks.current_day``) and for the tests that lay out
# weeks around it, fixed when the tests start: a run across midnight keeps one day, so "this
# week" cannot move under a test (it did, a Sunday night). Set here, every process the tests
# start inherits it; set beforehand, the suite runs as on that day (a past one: the importer
# still refuses starts ahead of the real clock).
os.environ.setdefault(TODAY_ENV, date.today().isoformat())


@functools.lru_cache(maxsize=32)
def _sim(seed: int, **kw: object) -> SimulatedSession:
    return simulate_session(seed, SimOptions(**kw))  # type: ignore[arg-type]


def sim(seed: int, **kw: object) -> SimulatedSession:
    """A cached simulated session (tests must not mutate it)."""
    return _sim(seed, **kw)


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A data folder of its own for every test that names none (``holdtrack record`` saves
    each run into the session store): never the user's, never another test's. (Made with
    tempfile: some modules replace ``tmp_path_factory`` with their own.)"""
    folder = tempfile.mkdtemp(prefix="holdtrack-data-")
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", folder)
    yield
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def short_session() -> SimulatedSession:
    return sim(7, short=True, rate_hz=100.0)


@pytest.fixture(scope="module")
def bus() -> Iterator[str]:
    """A private system bus with the fake BlueZ (one per test module); bleak in this
    process talks to it through DBUS_SYSTEM_BUS_ADDRESS."""
    from sensor.fake_bluez.process import FakeBluezProcess

    old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    with FakeBluezProcess() as fake:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = fake.address
        try:
            yield fake.address
        finally:
            if old is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs a D-Bus (``ble``) or Chromium (``browser``) by what it uses, so a
    new test cannot slip into ``make check`` by forgetting a marker."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__ if getattr(item, "module", None) else ""
        if module.startswith("test_ble_") or fixtures & {"bus", "one_sensor", "all_profiles"}:
            item.add_marker(pytest.mark.ble)
        uses_playwright = (
            any(getattr(v, "__module__", "").startswith("playwright") for v in vars(item.module).values()) if module else False
        )
        if "browser" in module or uses_playwright or fixtures & {"browser", "page"}:
            item.add_marker(pytest.mark.browser)
