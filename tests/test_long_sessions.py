"""What a recording may hold is what reads back: an exported CSV of any accepted length
(24 h) is read again, and gap records are checked against the samples around them
(finite, ordered, inside the span, a bounded count)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import sim
from sensor.cli import main
from sensor.files.limits import MAX_RATE_HZ, MAX_SESSION_S, MAX_STREAMED_ROWS
from sensor.recording import RecordingWriter, read_recording, write_recording
from sensor.stream import Header
from tests.malformed import htrec, record, sample_records, still_samples

CLI = [sys.executable, "-m", "sensor.cli"]


# The peak is measured by a small launcher: ru_maxrss survives vfork+exec, so a child started
# straight from this test would report this process's own heap (the 24-h recording built here).
_LAUNCH = (
    "import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:]); _, st, u = os.wait4(p.pid, 0); "
    "sys.stderr.write(f'\\nmaxrss_kb={u.ru_maxrss}'); sys.exit(os.waitstatus_to_exitcode(st))"
)


def run(args: list[str]) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, peak RSS in MB) of one ``holdtrack`` process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([sys.executable, "-c", _LAUNCH, *CLI, *args], stdout=out, stderr=err)
        p.wait()  # the test's timeout bounds the wait
        out.seek(0)
        err.seek(0)
        text, _, peak = err.read().decode().rpartition("\nmaxrss_kb=")
        return p.returncode, out.read().decode(), text, int(peak) / 1024


def test_the_streamed_row_cap_covers_the_longest_session_accepted() -> None:
    assert MAX_STREAMED_ROWS >= MAX_SESSION_S * MAX_RATE_HZ  # a 24-h session at the highest rate


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_24_hour_export_reads_back(tmp_path: Path) -> None:
    """24 h at 100 Hz (8.64 M rows; 6 M was the limit: 16.7 h) through ``export --csv`` and
    ``analyze``, each a whole process of bounded memory."""
    rec = tmp_path / "day.htrec"
    with RecordingWriter(rec, Header(source="test", sample_rate_hz=100.0), block_s=60.0, flush_interval_s=1e9, fsync=False) as w:
        for hour in range(24):
            for minute in still_samples(3600.0, seed=hour, t0=hour * 3600.0).chunks(6000):
                w.write(minute)
    csv = tmp_path / "day.csv"
    code, out, err, rss_export = run(["export", str(rec), "--csv", str(csv), "--data-dir", str(tmp_path / "none")])
    assert code == 0, err
    assert "wrote 8640000 samples" in out
    t = time.perf_counter()
    code, out, err, rss_analyze = run(["analyze", "--json", str(csv)])
    assert code == 0, err  # was: "more than 6,000,000 rows: split the file"
    a = json.loads(out)
    assert a["duration_s"] == pytest.approx(86400.0 - 0.01, abs=1e-3) and a["sample_rate_hz"] == pytest.approx(100.0, abs=0.01)
    print(
        f"24 h CSV ({csv.stat().st_size >> 20} MB): export peak {rss_export:.0f} MB, analyze peak {rss_analyze:.0f} MB in {time.perf_counter() - t:.1f} s"
    )
    assert rss_export < 500 and rss_analyze < 500


def gap(a: float, b: float) -> bytes:
    return record(b"G", json.dumps({"start_s": a, "end_s": b, "reason": "link lost"}).encode())


def analyze(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["analyze", "--json", str(path)])
    out, err = capsys.readouterr()
    return code, err if code else out


@pytest.mark.parametrize(
    ("where", "bounds", "says"),
    [
        ("middle", (-1e300, 1e300), "gap record starts at -1e+300 s, before the first sample (0 s)"),
        ("middle", (20.0, 1e300), "gap record spans 1e+300 s"),
        ("middle", (19.995, 30.0), "gap record ends at 30 s, after the sample that follows it (20 s)"),
        ("middle", (1.0, 2.0), "gap record ends at 2 s, before the sample it follows (19.99 s)"),
        ("end", (1e300, 1e300), "gap record starts at 1e+300 s, after the last sample (59.99 s)"),
        ("start", (-1e300, -1e300), "gap record ends at -1e+300 s, before the first sample (0 s)"),
    ],
)
def test_a_gap_outside_the_samples_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, bounds: tuple[float, float], says: str
) -> None:
    recs = sample_records(still_samples(60))  # 500-sample blocks: the fifth starts at 20 s
    at = {"start": 0, "middle": 4, "end": len(recs)}[where]
    path = tmp_path / "gap.htrec"
    path.write_bytes(htrec(*recs[:at], gap(*bounds), *recs[at:]))
    code, err = analyze(path, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert says in err and len(err) < 300  # was: analysed, the gap printed as a 300-digit number


def test_many_gap_records_are_refused_early(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """200,000 gap records in a 750 kB file (one between every two samples): refused at the
    101st, not analysed into a 10 MB page."""
    s = still_samples(60)
    recs = sample_records(s, block=1)
    body = [
        x for i, r in enumerate(recs) for x in ((r, gap(float(s.time_s[i]), float(s.time_s[i]) + 0.001)) if i < len(recs) - 1 else (r,))
    ]
    path = tmp_path / "gaps.htrec"
    path.write_bytes(htrec(*body))
    code, err = analyze(path, capsys)
    assert code == 2 and "101 gap records by 1.01 s: more than one every 2 s of samples" in err


def test_gaps_between_the_same_samples_are_one_hole(tmp_path: Path) -> None:
    recs = sample_records(still_samples(60))
    path = tmp_path / "stacked.htrec"
    path.write_bytes(htrec(*recs[:4], *[gap(19.99 + k * 1e-4, 19.99 + (k + 1) * 1e-4) for k in range(1000)], *recs[4:]))
    got = read_recording(path).gaps
    assert len(got) == 1 and got[0].start_s == pytest.approx(19.99) and got[0].end_s == pytest.approx(20.09, abs=1e-9)


@pytest.mark.parametrize(("seed", "options"), [(1, {}), (7, {}), (11, {}), (77, {"rate_hz": 100.0, "mount": "front"})])
def test_real_gaps_read_back_as_recorded(tmp_path: Path, seed: int, options: dict[str, object]) -> None:
    """Two gaps, one near the end, and one whose end falls just after the first sample
    after it (seed 77: the dropout's end is jittered, so that sample comes before it)."""
    s = sim(seed, short=True, **options)
    path = tmp_path / "sim.htrec"
    write_recording(path, s.header, s.samples, s.gaps)
    rec = read_recording(path)
    assert [(g.start_s, g.end_s) for g in rec.gaps] == [(g.start_s, g.end_s) for g in s.gaps]
    assert np.array_equal(rec.samples.time_s, s.samples.time_s)
