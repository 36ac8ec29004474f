"""The generic CSV reader: real loggers' timestamps, real tools' dialects, bounded memory,
and one line (naming the row) for everything it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import sensor.files.csvread as csvread
import sensor.files.inputs as inputs
import sensor.files.validate as validate
from sensor.analyze import analyze_path, analyze_samples
from sensor.errors import InputError
from sensor.files.inputs import iter_generic_csv, read_generic_csv, read_samples, write_generic_csv
from sensor.files.limits import MAX_PAUSE_S
from sensor.samples import Samples
from tests.conftest import sim

ROOT = Path(__file__).resolve().parent.parent
HEADER = "time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n"


def body(times: np.ndarray) -> str:
    return "".join(f"{t:.6f},0.1,9.8,0.2,0.01,0,0.02\n" for t in times)


def analyze_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sensor.cli", "analyze", "--json", str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_ties_and_jitter_are_respaced_in_order(tmp_path: Path) -> None:
    t = np.arange(400) * 0.01
    t[101] = t[100]  # a tie
    t[200:203] = t[200]  # three equal stamps (a BLE batch stamped on arrival)
    t[300] = t[299] - 0.004  # a small step back (arrival jitter)
    p = tmp_path / "ties.csv"
    p.write_text(HEADER + body(t))
    s = read_generic_csv(p)
    assert len(s) == 400 and np.all(np.diff(s.time_s) > 0)
    np.testing.assert_allclose(s.time_s[101], (t[100] + t[102]) / 2, atol=1e-9)  # spaced within the tie
    np.testing.assert_allclose(s.time_s[200:204], np.linspace(t[200], t[203], 4), atol=1e-9)
    assert t[299] < s.time_s[300] < t[301]
    untouched = np.setdiff1d(np.arange(400), [101, 201, 202, 300])
    np.testing.assert_allclose(s.time_s[untouched], t[untouched], rtol=0, atol=1e-12)  # as written (6 decimals)


def test_a_second_backwards_is_refused_naming_the_row(tmp_path: Path) -> None:
    t = np.arange(400) * 0.01
    t[250:] -= 1.0
    p = tmp_path / "back.csv"
    p.write_text(HEADER + body(t))
    r = analyze_cli(p)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "row 252" in r.stderr and "backwards by 0.99 s (2.490000 then 1.500000)" in r.stderr


def test_tied_simulated_session_analyses_like_the_clean_one(tmp_path: Path) -> None:
    s = sim(11, short=True, rate_hz=100.0).samples
    t = s.time_s.copy()
    t[1::7] = t[0:-1:7]  # every 7th sample stamped like the one before it
    p = tmp_path / "tied.csv"
    write_generic_csv(p, Samples(t, s.imu))
    a, b = analyze_path(p), analyze_samples(s)
    assert [(r.exercise, round(r.start_s, 1)) for r in a.reps] == [(r.exercise, round(r.start_s, 1)) for r in b.reps]
    assert len(a.holds) == len(b.holds)


def test_blocks_do_not_change_the_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ties and NaN rows falling on block boundaries give the same samples as one block."""
    s = sim(7, short=True, rate_hz=50.0).samples
    t, x = s.time_s.copy(), s.imu.copy()
    t[1::50] = t[0:-1:50]
    t[30::97] = t[29::97][: len(t[30::97])]
    t[-1] = s.time_s[-1]  # (a tie at the very end is spaced at the rate read from the first block)
    x[500:502] = np.nan
    p = tmp_path / "s.csv"
    write_generic_csv(p, Samples(t, x))
    whole = read_generic_csv(p)
    monkeypatch.setattr(csvread, "BLOCK_BYTES", 4096)  # ~50 rows a block
    monkeypatch.setattr(validate, "UNIT_CHECK_SAMPLES", 300)  # release blocks early
    parts = list(iter_generic_csv(p))
    assert len(parts) > 20
    streamed = Samples.concat(parts)
    np.testing.assert_array_equal(streamed.time_s, whole.time_s)
    np.testing.assert_array_equal(streamed.imu, whole.imu)
    assert len(whole) == len(t) - 2 and np.all(np.diff(whole.time_s) > 0)


def test_dialects_real_tools_write(tmp_path: Path) -> None:
    t = np.arange(300) * 0.01
    ref = tmp_path / "ref.csv"
    ref.write_text(HEADER + body(t))
    want = read_generic_csv(ref)
    semi = tmp_path / "semi.csv"  # spreadsheet in a decimal-comma locale
    semi.write_text(HEADER.replace(",", ";") + body(t).replace(",", ";").replace(".", ","))
    tab = tmp_path / "units.tsv"  # units in the header, time in ms, gyro in deg/s
    tab.write_text(
        "time_ms\tacc_x (m/s^2)\tacc_y (m/s^2)\tacc_z (m/s^2)\tgyro_x [deg/s]\tgyro_y [deg/s]\tgyro_z [deg/s]\n"
        + "".join(f"{v * 1000:.3f}\t0.1\t9.8\t0.2\t{np.degrees(0.01)}\t0\t{np.degrees(0.02)}\n" for v in t)
    )
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + body(t)).replace("\n", "\r\n").encode())
    for p in (semi, tab, bom):
        got = read_generic_csv(p)
        np.testing.assert_allclose(got.time_s, want.time_s, atol=1e-9)
        np.testing.assert_allclose(got.imu, want.imu, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "make, match, row",
    [
        (
            lambda p: p.write_text(HEADER + body(np.arange(100) * 0.01) + "1.0," + "9" * 200_000 + ",9.8,0,0,0,0\n"),
            "field larger than field limit",
            102,
        ),
        (
            lambda p: p.write_text(HEADER + body(np.arange(100) * 0.01) + '1.0,"0.1,9.8,0,0,0,0\n' + body(1.01 + np.arange(9) * 0.01)),
            "unterminated quote",
            102,
        ),
        (lambda p: p.write_bytes(b"\x89" + np.random.default_rng(7).bytes(4095)), "binary data", None),  # not starting with a blank
        (lambda p: p.write_text(HEADER + body(np.arange(100) * 0.01) + "1.0,inf,9.8,0,0,0,0\n"), "infinite value", 102),
        (lambda p: p.write_text(HEADER + body(np.arange(300) * 0.01) + body(np.array([1e9]))), "jumps forward by 1e\\+09 s", 302),
        (
            lambda p: p.write_text(
                HEADER
                + body(np.arange(100) * 0.01)  # pauses just under the bound, 5 times
                + "".join(body(k * 0.9 * MAX_PAUSE_S + np.arange(50) * 0.01) for k in range(1, 6))
            ),
            "spans more than 24 h",
            302,
        ),
        (lambda p: p.write_text(HEADER + body(np.arange(100) * 10.0)), "is time_s in seconds", None),
        (lambda p: p.write_text(HEADER + body(np.arange(100) * 0.5)), "recorded at 2 Hz", None),
        (lambda p: p.write_text(HEADER + "1,2,3\n" * 5), "3 columns where the header has 7", 2),
        (lambda p: p.write_text(HEADER + body(np.arange(50) * 0.01) + "1," * 3_000_000), "line longer than 1024 KB", 52),
    ],
)
def test_refused_in_one_line_naming_the_row(tmp_path: Path, make, match: str, row: int | None) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "bad.csv"
    make(p)
    with pytest.raises(InputError, match=match) as e:
        read_samples(p)
    assert e.value.row == row and "\n" not in str(e.value)


def test_not_regular_files_never_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for p in (fifo, Path("/dev/zero")):
        r = analyze_cli(p)  # the timeout of analyze_cli fails the test if it hangs
        assert r.returncode == 2 and "not a regular file" in r.stderr and r.stderr.count("\n") == 1


def test_row_cap_and_zip_bomb_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "long.csv"
    p.write_text(HEADER + body(np.arange(3000) * 0.01))
    monkeypatch.setattr(inputs, "MAX_STREAMED_ROWS", 1000)  # the generic CSV is read in blocks: its own cap
    with pytest.raises(InputError, match="more than 1,000 rows"):
        read_samples(p)
    monkeypatch.setattr(csvread, "MAX_ROWS", 1000)  # tables read whole (phone exports) keep theirs
    monkeypatch.setattr(csvread, "MAX_MEMBER_BYTES", 1 << 20)
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr("Gyroscope.csv", "time,seconds_elapsed,z,y,x\n" + "1,0,0,0,0\n" * 300_000)  # 3 MB from ~10 KB
        f.writestr("TotalAcceleration.csv", "time,seconds_elapsed,z,y,x\n1,0,9.8,0,0\n")
    assert z.stat().st_size < 100_000
    with pytest.raises(InputError, match="expands beyond 1 MB"):
        read_samples(z)


@pytest.mark.slow
def test_ten_hour_csv_stays_in_bounded_memory(tmp_path: Path) -> None:
    """Peak RSS of a whole ``analyze`` on 10 h at 100 Hz (3.6 M rows) ≤ 300 MB."""
    s = sim(7, short=True, rate_hz=100.0).samples
    import pyarrow as pa
    import pyarrow.csv as pcsv

    span = float(s.time_s[-1] - s.time_s[0]) + 0.01
    reps = int(np.ceil(36_000 / span))
    t = np.concatenate([s.time_s - s.time_s[0] + k * span for k in range(reps)])[:3_600_000]
    x = np.concatenate([s.imu] * reps)[:3_600_000]
    cols = {"time_s": pa.array(np.round(t, 6))} | {n: pa.array(x[:, i]) for i, n in enumerate(HEADER.strip().split(",")[1:])}
    p = tmp_path / "ten_hours.csv"
    pcsv.write_csv(pa.table(cols), p)
    del t, x, cols
    probe = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "sensor.cli", "analyze", "--json", str(p)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    code, kb = r.stdout.split()
    assert code == "0"
    assert int(kb) / 1024 <= 300, f"peak RSS {int(kb) / 1024:.0f} MB"


def test_prefetched_keeps_order_raises_in_place_and_stops_when_closed() -> None:
    import threading

    def items() -> Iterator[int]:
        yield from range(5)
        raise InputError("f.csv", "broken", row=7)

    got = []
    with pytest.raises(InputError, match="row 7: broken"):
        for v in csvread.prefetched(items(), depth=2):
            got.append(v)
    assert got == [0, 1, 2, 3, 4]
    produced = []

    def endless():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    gen = csvread.prefetched(endless(), depth=2)
    assert next(gen) == 0
    gen.close()  # joins the producer: it must have stopped, not run on
    assert not any(t.name == "csv-reader" for t in threading.enumerate())
    assert len(produced) <= 5
