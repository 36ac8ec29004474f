"""``holdtrack import`` of many files: analysed in parallel, stored in the given order,
one bad file never stops the rest, a per-file line each and a summary."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_builders import sim_recording

from sensor.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_parallel_import_keeps_order_and_survives_bad_files(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    names = []
    for i, seed in enumerate((5, 6, 7)):
        sim_recording(src, seed, name=f"{2 * i:02d}_sim{seed}.htrec")
        names.append(f"{2 * i:02d}_sim{seed}.htrec")
    (src / "01_bad.csv").write_text("time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,1,2,3,4,5,6\n-5,1,2,3,4,5,6\n")
    (src / "03_fifo_like.csv").write_bytes(b"\x00\x01binary")
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "sensor.cli", "import", str(src), "--data-dir", str(data), "--jobs", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2 and "01_bad.csv, row 3: time goes backwards" in errors[0] and "binary data" in errors[1]
    assert r.stderr.strip().splitlines()[-1] == "3 added, 0 already in the store, 2 failed"
    added = [ln for ln in r.stdout.splitlines() if "added as session" in ln]
    assert [Path(ln.split(":")[0]).name for ln in added] == names  # store order = file order
    with sqlite3.connect(Store(data).db_path) as con:
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 3
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert again.stderr.strip().splitlines()[-1] == "0 added, 3 already in the store, 2 failed"
