"""Bad input gets one clear line naming the file and row, and exit code 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sensor.errors import InputError
from sensor.files.inputs import read_generic_csv, write_generic_csv
from sensor.samples import Samples
from tests.conftest import sim

HEADER = "time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n"


def rows(n: int = 300, scale_acc: float = 1.0, scale_gyro: float = 1.0) -> list[str]:
    out = []
    for i in range(n):
        t = i * 0.01
        out.append(f"{t:.3f},{0.1 * scale_acc},{9.8 * scale_acc},{0.2 * scale_acc},{0.01 * scale_gyro},{0.0},{0.02 * scale_gyro}\n")
    return out


@pytest.mark.parametrize(
    "text,match,row",
    [
        ("", "empty file", None),
        ("time_s,acc_x,acc_y\n0,1,2\n", "missing column", 1),
        (HEADER + "".join(rows(5)) + "0.05,1,abc,3,0,0,0\n" + "".join(rows(5)), "non-numeric value 'abc' in column acc_y", 7),
        (HEADER + "".join(rows(10)) + "0.05,0.1,9.8,0.2,0,0,0\n", "time goes backwards", 12),
        (HEADER + "".join(rows(10)) + "".join(f"{0.1 + i * 0.01:.3f},,,,,,\n" for i in range(5)), "run of 5 rows", 12),
        (HEADER + "".join(rows(300, scale_acc=1 / 9.81)), "looks like g", None),
        (HEADER + "".join(rows(300, scale_gyro=1500.0)), "deg/s", None),
    ],
)
def test_bad_csv_is_named_by_file_and_row(tmp_path, text: str, match: str, row: int | None) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as e:
        read_generic_csv(p)
    assert e.value.row == row
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_gyro_in_deg_per_s_is_caught_by_its_disagreement_with_the_accelerometer(tmp_path) -> None:
    s = sim(7, short=True, rate_hz=50.0)
    x = s.samples.imu.copy()
    x[:, 3:] = np.degrees(x[:, 3:]).clip(-24, 24)  # keep below the plain magnitude check
    p = tmp_path / "degs.csv"
    write_generic_csv(p, Samples(s.samples.time_s, x))
    with pytest.raises(InputError, match="deg/s"):
        read_generic_csv(p)


def test_csv_round_trip_and_extra_columns(tmp_path) -> None:
    s = sim(7, short=True, rate_hz=50.0)
    p = tmp_path / "ok.csv"
    write_generic_csv(p, s.samples)
    back = read_generic_csv(p)
    assert np.array_equal(back.time_s, s.samples.time_s) and np.array_equal(back.imu, s.samples.imu)
    q = tmp_path / "extra.csv"
    q.write_text("note,gyro_z,gyro_y,gyro_x,acc_z,acc_y,acc_x,time_s\n" + "".join(f"x,0,0,0,0.2,9.8,0.1,{i / 100}\n" for i in range(200)))
    r = read_generic_csv(q)
    assert np.allclose(r.imu[0], [0.1, 9.8, 0.2, 0, 0, 0])
    # Isolated blank rows are dropouts, not errors.
    z = tmp_path / "holes.csv"
    z.write_text(HEADER + "".join(rows(100)) + "1.000,,,,,,\n" + "".join(f"{1.01 + i / 100:.3f},0.1,9.8,0.2,0,0,0\n" for i in range(100)))
    assert len(read_generic_csv(z)) == 200


def test_cli_prints_one_line_and_exits_2(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(HEADER + "0,1,2,3,4,5,6\n-1,1,2,3,4,5,6\n")
    r = subprocess.run([sys.executable, "-m", "sensor.cli", "analyze", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "row 3" in r.stderr
    u = tmp_path / "unknown.bin"
    u.write_bytes(b"\x00\x01garbage")
    r = subprocess.run([sys.executable, "-m", "sensor.cli", "analyze", str(u)], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown format" in r.stderr
    r = subprocess.run([sys.executable, "-m", "sensor.cli", "analyze", str(tmp_path / "missing.htrec")], capture_output=True, text=True)
    assert r.returncode == 2 and "no such file" in r.stderr
