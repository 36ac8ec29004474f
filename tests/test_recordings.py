"""The labelled sessions in recordings/ replay through the pipeline to their truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sensor.analyze import analyze_path, analyze_samples
from sensor.evaluate import run_evaluation
from sensor.recording import read_recording
from sensor.simulate import simulate_session

REC = Path(__file__).resolve().parent.parent / "recordings"
FILES = sorted(REC.glob("*.htrec"))


def test_there_are_enough_sessions_covering_everything() -> None:
    assert len(FILES) >= 24
    truths = [json.loads(p.with_name(p.name.replace(".htrec", ".truth.json")).read_text()) for p in FILES]
    rates = {t["sensor"]["rate_hz"] for t in truths}
    assert {25.0, 400.0} <= rates
    ex = {r["exercise"] for t in truths for r in t["reps"]} | {h["exercise"] for t in truths for h in t["holds"]}
    assert ex == {"bridge", "back_extension", "plank", "side_plank"}
    assert {h["side"] for t in truths for h in t["holds"] if h["exercise"] == "side_plank"} == {"left", "right", None}
    assert any(h["knees"] for t in truths for h in t["holds"])


def test_every_recording_meets_the_targets() -> None:
    summary, missed, misses = run_evaluation(REC, jobs=2)
    assert summary["sessions"] == len(FILES)
    assert missed == [], misses
    assert summary["sets"]["exact_fraction"] == 1.0
    assert summary["false_events"] == 0


@pytest.mark.parametrize("path", FILES[:3], ids=lambda p: p.name)
def test_replay_is_bit_for_bit(path: Path) -> None:
    """A recording holds exactly what the source produced, so replay = live."""
    rec = read_recording(path)
    truth = json.loads(path.with_name(path.name.replace(".htrec", ".truth.json")).read_text())
    from recordings.make import plan  # the options each file was made with

    opts = {name: (seed, opt) for name, seed, opt, _ in plan()}
    seed, opt = opts[path.stem]
    sim = simulate_session(seed, opt)
    assert np.array_equal(rec.samples.time_s, sim.samples.time_s)
    assert np.array_equal(rec.samples.imu, sim.samples.imu)
    assert analyze_path(path).to_json()["reps"] == analyze_samples(sim.samples, sim.gaps).to_json()["reps"]
    assert sim.truth == json.loads(json.dumps(truth))
