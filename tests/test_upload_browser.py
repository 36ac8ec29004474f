"""The dashboard's upload (Settings → Import recordings) in headless Chromium takes every
input format the README lists — a recording, the generic CSV, a tab-separated CSV, the
WitMotion app's .txt, phyphox's .xls, a zipped Sensor Logger export and the loose tables of
one phyphox export — and reports each upload under its own name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_server import serve_dashboard
from playwright.sync_api import Page, expect
from store_builders import sim_recording
from test_dashboard_browser import browser, no_errors, open_page, page  # noqa: F401 - the fixtures

from sensor.files.inputs import write_generic_csv
from sensor.store import Store
from sensor.vocab import INPUT_SUFFIXES
from tests.conftest import sim

VECTORS = Path(os.environ.get("HOLDTRACK_VECTORS", Path(__file__).resolve().parents[2] / "shared" / "vectors"))


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("uploads")
    csv = folder / "my workout.csv"
    write_generic_csv(csv, sim(7, short=True, rate_hz=50.0).samples)
    tsv = folder / "tabbed.tsv"
    write_generic_csv(tsv, sim(8, short=True, rate_hz=50.0).samples)  # (other samples: not a duplicate of the CSV)
    tsv.write_text(tsv.read_text().replace(",", "\t"))
    phyphox = VECTORS / "phyphox" / "simple_experiment_ios_1.1.16_tab"
    files = [
        sim_recording(folder, 12, "evening.htrec"),
        csv,
        tsv,
        VECTORS / "witmotion" / "app_export_moving_head4000.txt",
        VECTORS / "phyphox" / "excel_export_walking.xls",
        VECTORS / "sensor_logger" / "ios_1.10.4_2022-09-16_11-15-46.zip",
        phyphox / "Accelerometer.csv",
        phyphox / "Gyroscope.csv",
    ]
    for f in files:
        assert f.is_file(), f"{f} missing (the shared test vectors)"
    assert {f.suffix for f in files} == set(INPUT_SUFFIXES) - {".xlsx"}  # (no .xlsx among the real exports)
    return files


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("upload-data")
    Store(folder)
    with serve_dashboard(folder, folder.parent / "upload-server.log") as url:
        yield url, folder


def test_every_listed_format_uploads_under_its_own_name(server: tuple[str, Path], page: Page, uploads: list[Path]) -> None:  # noqa: F811 - the imported fixture
    url, folder = server
    open_page(page, f"{url}/settings", "Settings")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(f) for f in uploads])
    for f in uploads:  # each accepted by the uploader (none refused as "not allowed")
        expect(page.get_by_role("button", name=f"Remove {f.name}", exact=True)).to_be_visible(timeout=20_000)
    assert page.get_by_text("not allowed").count() == 0
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("added, 0 already in the store")).to_be_visible(timeout=120_000)
    no_errors(page)
    alerts = page.get_by_test_id("stAlertContentSuccess").all_inner_texts()
    loose = "Accelerometer.csv + Gyroscope.csv.zip"  # the two tables of one export: one session
    names = [f.name for f in uploads if f.parent.name != "simple_experiment_ios_1.1.16_tab"] + [loose]
    for name in names:
        assert any(a.startswith(f"{name}: added as session") for a in alerts), (name, alerts)
    assert not any("phone-export" in a for a in alerts), alerts
    assert Store(folder).session_count() == len(names)
