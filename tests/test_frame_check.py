"""The gyroscope checked against the accelerometer before the pipeline (issue 22 item 4):
a gyro in the wrong unit or with its sign flipped gives the counts of the correct data and
one line; correct data, simulated or real, is left alone."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensor.analyze import analyze_samples, analyze_stream
from sensor.events import Analysis
from sensor.files.inputs import open_input, write_generic_csv
from sensor.samples import Samples, interleave
from sensor.signal.frame_check import DEG, FrameCheck
from sensor.stream import Header
from tests.conftest import sim

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(os.environ.get("HOLDTRACK_VECTORS", ROOT.parent / "shared" / "vectors"))
FAULTS = {"gyro °/s sent as rad/s": 1 / DEG, "gyro rad/s read as °/s": DEG, "gyro sign flipped": -1.0}


def counts(a: Analysis) -> tuple[Counter[str], list[tuple[str, str | None]]]:
    return Counter(r.exercise for r in a.reps), sorted((h.exercise, h.side) for h in a.holds)


def faulty(s: Samples, gyro_factor: float) -> Samples:
    imu = s.imu.copy()
    imu[:, 3:] *= np.float32(gyro_factor)
    return Samples(s.time_s, imu)


def check_every_fault(mount: str, seed: int) -> None:
    session = sim(seed, short=True, mount=mount, rate_hz=100.0)
    header = Header(mount=mount)
    want = analyze_samples(session.samples, session.gaps, header)
    assert sum(counts(want)[0].values()) + len(want.holds) > 0
    for name, factor in FAULTS.items():
        notes: list[str] = []
        got = analyze_stream(interleave(faulty(session.samples, factor), session.gaps), header=header, mount=mount, notes=notes)
        assert counts(got) == counts(want), (mount, name)
        assert len(notes) == 1 and ("°/s" in notes[0] or "sign" in notes[0]), (mount, name, notes)


@pytest.mark.slow
def test_every_gyro_fault_gives_the_counts_of_the_correct_data_back_mount() -> None:
    check_every_fault("back", 5)


@pytest.mark.slow
@pytest.mark.parametrize("mount", ["front", "left", "right"])
def test_every_gyro_fault_gives_the_counts_of_the_correct_data_every_mount(mount: str) -> None:
    check_every_fault(mount, 6)


def test_the_verdict_does_not_depend_on_chunking() -> None:
    s = faulty(sim(5, short=True, rate_hz=100.0).samples[:6000], 1 / DEG)
    verdicts = []
    for size in (7, 64, 8192):
        fc = FrameCheck()
        for chunk in s.chunks(size):
            fc.feed(chunk)
        assert fc.verdict is not None
        verdicts.append((fc.verdict.gyro_factor, round(fc.k, 9)))
    assert len(set(verdicts)) == 1 and verdicts[0][0] == DEG  # numbers 57× too large: times π/180


def test_an_accelerometer_with_all_three_signs_flipped_agrees_with_the_gyro() -> None:
    # Why the check cannot find iOS Sensor Logger's default frame: -u turns exactly as u
    # does (a point reflection keeps du/dt = u × ω), so the gyro agrees with it. Those
    # files are flipped from their metadata, pushes by ?platform=ios.
    s = sim(5, short=True, rate_hz=100.0).samples
    flipped = Samples(s.time_s, s.imu * np.array([-1, -1, -1, 1, 1, 1], np.float32))
    fc = FrameCheck()
    fc.feed(flipped)
    assert fc.verdict is not None and fc.verdict.gyro_factor == 1.0 and fc.k == pytest.approx(1.0, abs=0.1)


def real_files() -> list[Path]:
    skip = {"SOURCE.txt", "README.md", "frames.json", "vectors.json"}
    return sorted(p for p in VECTORS.glob("*/*") if p.name not in skip)


def read(path: Path) -> Samples | None:
    from sensor.errors import InputError

    try:
        _, items = open_input(path)
        return Samples.concat([i for i in items if isinstance(i, Samples)])
    except InputError:
        return None  # not an input HoldTrack reads (the reader says why elsewhere)


@pytest.mark.skipif(not VECTORS.is_dir(), reason="needs ../shared/vectors")
def test_no_false_alarm_on_any_real_file_and_a_real_fault_is_found() -> None:
    seen: dict[str, Any] = {}
    for path in real_files():
        s = read(path)
        if s is None:
            continue
        fc = FrameCheck()
        fc.feed(s)
        seen[path.name] = fc.verdict
        assert fc.verdict is None or fc.verdict.gyro_factor == 1.0, (path, fc.k)
    assert len(seen) >= 9  # every readable export
    ios = read(VECTORS / "phyphox" / "simple_experiment_ios_1.1.16_semicolon")
    assert ios is not None
    fc = FrameCheck()
    fc.feed(faulty(ios, 1 / DEG))  # a real phone's gyro in °/s written as rad/s
    assert fc.verdict is not None and fc.verdict.gyro_factor == pytest.approx(DEG)


@pytest.mark.slow
def test_analyze_says_it_in_one_line_and_counts_as_the_correct_file(tmp_path: Path) -> None:
    s = sim(5, short=True, rate_hz=100.0, link_losses=0, dropouts=False).samples
    good, mirrored, dps = tmp_path / "good.csv", tmp_path / "gyro_mirrored.csv", tmp_path / "gyro_in_dps.csv"
    write_generic_csv(good, s)
    write_generic_csv(mirrored, faulty(s, -1.0))
    write_generic_csv(dps, faulty(s, 180 / math.pi))  # numbers in °/s under a rad/s header

    def analyze(p: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sensor.cli", "analyze", str(p), "--json"], capture_output=True, text=True, cwd=ROOT)

    a, b, c = analyze(good), analyze(mirrored), analyze(dps)
    assert a.returncode == b.returncode == 0, b.stderr
    assert a.stdout == b.stdout and '"reps": [{' in a.stdout
    assert a.stderr == "" and b.stderr.count("\n") == 1 and b.stderr.startswith("holdtrack: note: ") and "sign" in b.stderr
    # A CSV's reader already refuses °/s in a rad/s column when they exceed any pelvis rate.
    assert c.returncode == 2 and c.stderr.count("\n") == 1 and "deg/s" in c.stderr
