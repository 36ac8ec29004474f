"""The simulated wearer is physically consistent and seeded."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sensor.samples import STANDARD_GRAVITY
from sensor.sim.simulate import simulate_session
from tests.conftest import sim


@pytest.mark.slow
def test_same_seed_same_session_other_seed_other_session() -> None:
    a = simulate_session(5, short=True, rate_hz=50.0)
    b = simulate_session(5, short=True, rate_hz=50.0)
    c = simulate_session(6, short=True, rate_hz=50.0)
    assert np.array_equal(a.samples.imu, b.samples.imu) and a.truth == b.truth
    assert a.truth["reps"] != c.truth["reps"]


def test_at_rest_the_accelerometer_reads_gravity_and_the_gyro_reads_bias() -> None:
    s = sim(7, short=True, rate_hz=100.0)
    n = int(3.0 * 100)  # the opening stand
    acc = s.samples.acc[:n].astype(float)
    assert abs(np.linalg.norm(acc.mean(axis=0)) - STANDARD_GRAVITY) < 0.35  # bias up to 0.2 per axis
    bias = np.degrees(s.samples.gyro[:n].astype(float).mean(axis=0))
    assert np.allclose(bias, s.truth["sensor"]["gyro_bias_dps"], atol=0.15)


def test_integrated_gyro_agrees_with_the_accelerometer_over_a_bridge() -> None:
    """Angular rate and specific force come from one pose: integrating the gyro across a
    rep turns the resting gravity vector onto the one measured at the top."""
    s = sim(8, short=True, rate_hz=200.0, dropouts=False, jitter=False)
    rep = next(r for r in s.truth["reps"] if r["exercise"] == "bridge")
    t = s.samples.time_s
    bias = np.radians(s.truth["sensor"]["gyro_bias_dps"])
    a0 = int(np.searchsorted(t, rep["start_s"] - 0.2))
    a1 = int(np.searchsorted(t, rep["start_s"] + (rep["end_s"] - rep["start_s"]) / 2))
    g = s.samples.acc[a0 - 20 : a0].astype(float).mean(axis=0)
    g /= np.linalg.norm(g)
    for i in range(a0, a1):
        w = (s.samples.gyro[i].astype(float) - bias) / 200.0
        # A fixed world vector seen from a rotating frame turns the other way.
        th = np.linalg.norm(w)
        if th > 0:
            k = w / th
            g = g * math.cos(th) - np.cross(k, g) * math.sin(th) + k * np.dot(k, g) * (1 - math.cos(th))
    top = s.samples.acc[a1 - 10 : a1 + 10].astype(float).mean(axis=0)
    top /= np.linalg.norm(top)
    angle = math.degrees(math.acos(np.clip(np.dot(g, top), -1, 1)))
    moved = math.degrees(math.acos(np.clip(np.dot(s.samples.acc[a0 - 20 : a0].astype(float).mean(axis=0) / STANDARD_GRAVITY, top), -1, 1)))
    assert moved > 15  # the bridge really turned the pelvis
    assert angle < 2.0


@pytest.mark.slow
def test_truth_has_every_exercise_and_the_routine_shape() -> None:
    s = sim(41, rate_hz=100.0)
    ex = {r["exercise"] for r in s.truth["reps"]} | {h["exercise"] for h in s.truth["holds"]}
    assert ex == {"bridge", "back_extension", "plank", "side_plank"}
    sides = sorted(h["side"] for h in s.truth["holds"] if h["exercise"] == "side_plank")
    assert sides == ["left", "left", "right", "right"]
    assert [st["exercise"] for st in s.truth["sets"]].count("back_extension") == 3


@pytest.mark.slow
def test_the_technique_catalogue_varies_per_session_and_per_set_within_its_ranges() -> None:
    from sensor.sim.simulate import SimOptions

    dirs: set[str] = set()
    mounts: set[str] = set()
    for seed in range(200, 212):
        opt = SimOptions(rate_hz=25.0, mount=None, exercises=("back_extension",), dropouts=False)
        s = simulate_session(seed, opt)
        assert opt.mount is None  # drawn choices do not leak into the caller's options
        mounts.add(s.truth["mount"])
        assert s.header.mount == s.truth["mount"]
        reps = s.truth["reps"]
        if s.truth["kind"] == "daily_life":
            continue
        for st in s.truth["sets"]:
            assert 6 <= st["reps"] <= 15
        for r in reps:
            assert 3.0 <= r["peak_deg"] <= 15.0
            assert 0.0 <= r["hold_s"] <= 3.0 + 1e-9
            assert 1.0 - 1e-9 <= r["end_s"] - r["start_s"] - r["hold_s"] <= 3.0 + 1e-9  # two movements of 0.5-1.5 s
            dirs.add(r["variant"])
        # One direction per set.
        for st in s.truth["sets"]:
            assert len({r["variant"] for r in reps if r["set"] == st["set"]}) == 1
    assert dirs == {"head_up", "head_down"}
    assert len(mounts) >= 3


def test_daily_life_sessions_have_prone_and_side_lying_and_no_exercise() -> None:
    s = simulate_session(71, rate_hz=50.0, daily_life=True)
    assert s.truth["kind"] == "daily_life"
    assert s.truth["reps"] == [] and s.truth["holds"] == []
    kinds = {a["kind"] for a in s.truth["activities"]}
    assert "side" in kinds and kinds & {"phone", "propped"}
    assert s.truth["duration_s"] > 60
