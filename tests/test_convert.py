"""``holdtrack convert``: any input into a lossless recording; a failure leaves nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sensor.analyze import analyze_path
from sensor.cli import main
from sensor.files.inputs import read_generic_csv, read_samples, write_generic_csv
from sensor.samples import Samples
from tests.conftest import sim
from tests.test_vectors import VECTORS

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sensor.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_convert_is_lossless_and_analyses_the_same(tmp_path: Path) -> None:
    s = sim(11, short=True, rate_hz=100.0).samples
    t = s.time_s.copy()
    t[5::11] = t[4:-1:11]  # ties: what is archived is the re-spaced, validated stream
    src = tmp_path / "in.csv"
    write_generic_csv(src, Samples(t, s.imu))
    out = tmp_path / "out.htrec"
    r = cli("convert", str(src), str(out), "--mount", "left")
    assert r.returncode == 0, r.stderr
    header, back, gaps = read_samples(out)
    want = read_generic_csv(src)
    np.testing.assert_array_equal(back.time_s, want.time_s)
    np.testing.assert_array_equal(back.imu, want.imu)
    assert header.mount == "left" and header.extra["converted_from"] == "in.csv" and not gaps
    a, b = analyze_path(src, mount="left"), analyze_path(out)
    assert [(r.exercise, r.start_s, r.end_s) for r in a.reps] == [(r.exercise, r.start_s, r.end_s) for r in b.reps]
    assert [(h.exercise, h.start_s, h.end_s) for h in a.holds] == [(h.exercise, h.start_s, h.end_s) for h in b.holds]
    r = cli("convert", str(src), str(out))
    assert r.returncode == 1 and "exists" in r.stderr


def test_a_bad_input_leaves_nothing_behind(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    rows = "".join(f"{i * 0.01:.2f},0.1,9.8,0.2,0,0,0\n" for i in range(40_000))
    src.write_text("time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n" + rows + "1.0,0.1,9.8,0.2,0,0,0\n")
    r = cli("convert", str(src), str(tmp_path / "out.htrec"))
    assert r.returncode == 2 and "row 40002: time goes backwards" in r.stderr and r.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no output, no temporary file


@pytest.mark.parametrize(
    "path",
    [
        "phyphox/simple_experiment_ios_1.1.16_tab",
        "phyphox/custom_experiment_bus_to_home.zip",  # logged at 5 Hz
        "phyphox/excel_export_walking.xls",  # 5 Hz too
        "sensor_logger/ios_1.10.4_2022-09-16_11-15-46.zip",
        "sensor_logger/android_1.60_bom",
        "witmotion/app_export_moving_head4000.txt",
    ],
)
def test_real_exports_convert_into_recordings_that_analyse_the_same(path: str, tmp_path: Path) -> None:
    """What a reader accepts, the recording made of it must be read back without complaint
    (the bounds on times and rates are one set for every reader)."""
    src = VECTORS / path
    out = tmp_path / "out.htrec"
    assert main(["convert", str(src), str(out)]) == 0
    a, b = analyze_path(src).to_json(), analyze_path(out).to_json()
    a.pop("source"), b.pop("source")  # the tag says where the samples came from
    assert a == b and a["duration_s"] > 3


def test_a_long_pause_the_csv_reader_accepts_converts_and_reads_back(tmp_path: Path) -> None:
    s = sim(3, short=True, rate_hz=50.0).samples
    half = len(s) // 2
    t = s.time_s.copy()
    t[half:] += 2 * 3600.0  # the wearer left for two hours (a pause of at most MAX_PAUSE_S)
    src = tmp_path / "pause.csv"
    write_generic_csv(src, Samples(t, s.imu))
    out = tmp_path / "pause.htrec"
    assert main(["convert", str(src), str(out)]) == 0
    a, b = analyze_path(src).to_json(), analyze_path(out).to_json()
    assert a == b and a["duration_s"] > 7200 and len(a["gaps"]) == 1
