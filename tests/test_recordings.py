"""The labelled sessions in recordings/ replay through the pipeline to their truth."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensor.analyze import analyze_path, analyze_samples
from sensor.recording import read_recording
from sensor.sim.evaluate import run_evaluation
from sensor.sim.simulate import simulate_session

REC = Path(__file__).resolve().parent.parent / "recordings"
FILES = sorted(REC.glob("*.htrec"))
TIME_TOL_S = 0.05  # event times: a different CPU's float rounding must not matter
REL_TOL = 1e-6  # everything else computed in floating point (stability figures, truth)


def assert_close(a: Any, b: Any, rel: float = REL_TOL, abs_tol: float = 1e-9, path: str = "") -> None:
    """Recursive equality of JSON-like values with floats compared to a tolerance."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], rel, abs_tol, f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, rel, abs_tol, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_tol), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_there_are_enough_sessions_covering_everything() -> None:
    assert len(FILES) >= 24
    truths = [json.loads(p.with_name(p.name.replace(".htrec", ".truth.json")).read_text()) for p in FILES]
    rates = {t["sensor"]["rate_hz"] for t in truths}
    assert {25.0, 400.0} <= rates
    ex = {r["exercise"] for t in truths for r in t["reps"]} | {h["exercise"] for t in truths for h in t["holds"]}
    assert ex == {"bridge", "back_extension", "plank", "side_plank"}
    assert {h["side"] for t in truths for h in t["holds"] if h["exercise"] == "side_plank"} == {"left", "right", None}
    assert any(h["knees"] for t in truths for h in t["holds"])
    # The technique catalogue and the other mountings are in there too.
    assert {r["variant"] for t in truths for r in t["reps"] if r["exercise"] == "back_extension"} == {"head_up", "head_down"}
    assert {t["mount"] for t in truths} == {"back", "front", "left", "right"}
    assert any(t["kind"] == "daily_life" for t in truths)


@pytest.mark.slow
def test_every_recording_meets_the_targets() -> None:
    summary, missed, misses = run_evaluation(REC, jobs=2)
    assert summary["sessions"] == len(FILES)
    assert missed == [], misses
    assert summary["sets"]["exact_fraction"] == 1.0
    assert summary["false_events"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES[:3], ids=lambda p: p.name)
def test_replay_matches_the_simulated_source(path: Path) -> None:
    """A recording holds exactly what the source produced (bit for bit), so replay
    gives what live gave; computed figures agree within a stated tolerance."""
    rec = read_recording(path)
    truth = json.loads(path.with_name(path.name.replace(".htrec", ".truth.json")).read_text())
    from recordings.make import plan  # the options each file was made with

    opts = {name: (seed, opt) for name, seed, opt, _ in plan()}
    seed, opt = opts[path.stem]
    sim = simulate_session(seed, opt)
    assert np.array_equal(rec.samples.time_s, sim.samples.time_s)
    assert np.array_equal(rec.samples.imu, sim.samples.imu)
    replayed = analyze_path(path).to_json()
    live = analyze_samples(sim.samples, sim.gaps, sim.header).to_json()
    for key in ("reps", "holds"):
        assert len(replayed[key]) == len(live[key])
        for a, b in zip(replayed[key], live[key]):
            assert a["exercise"] == b["exercise"]
            for k in ("start_s", "end_s", "detected_at_s"):
                assert abs(a[k] - b[k]) <= TIME_TOL_S, (key, k, a, b)
            assert_close(
                {k: v for k, v in a.items() if not k.endswith("_s")},
                {k: v for k, v in b.items() if not k.endswith("_s")},
                rel=1e-6,
                abs_tol=1e-3,
            )
    assert_close(json.loads(json.dumps(sim.truth)), truth)
