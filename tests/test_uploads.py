"""Dashboard uploads: several files of one phone export make one session; files of the
same name never overwrite each other; a bad file fails alone."""

from __future__ import annotations

import os
from pathlib import Path

from sensor import importer
from sensor.files.inputs import write_generic_csv
from sensor.files.uploads import stage_uploads
from sensor.store import Store
from tests.conftest import sim

VECTORS = Path(os.environ.get("HOLDTRACK_VECTORS", Path(__file__).resolve().parents[2] / "shared" / "vectors"))


def test_one_export_uploaded_as_files_is_one_session(tmp_path: Path) -> None:
    simple = VECTORS / "phyphox" / "simple_experiment_ios_1.1.16_tab"
    csv_path = tmp_path / "generic.csv"
    write_generic_csv(csv_path, sim(7, short=True, rate_hz=50.0).samples)
    bad = b'"Time (s)","Linear Acceleration x (m/s^2)","Linear Acceleration y (m/s^2)","Linear Acceleration z (m/s^2)"\n0,0,0,0\n'
    uploads = [
        ("Accelerometer.csv", (simple / "Accelerometer.csv").read_bytes()),
        ("generic.csv", csv_path.read_bytes()),
        ("Raw Data.csv", bad),
        ("Gyroscope.csv", (simple / "Gyroscope.csv").read_bytes()),
        ("Raw Data.csv", bad.replace(b"0,0,0,0", b"1,0,0,0")),  # same name, another export
    ]
    staged = stage_uploads(uploads, tmp_path / "stage")
    # Each reported under its own name: the export by its tables, a table alone as itself.
    assert [p.name for p in staged] == ["Accelerometer.csv + Raw Data.csv + Gyroscope.csv.zip", "generic.csv", "Raw Data.csv"]
    assert len({p for p in staged}) == 3
    report = importer.import_paths(Store(tmp_path / "data"), staged)
    assert [r.status for r in report.results] == ["added", "added", "failed"]
    assert "lacks gravity" in report.results[2].message
