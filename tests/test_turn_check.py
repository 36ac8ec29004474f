"""A rep is a turn of the pelvis. A tilt of the accelerometer that the gyro does not see (a
bus braking, a stride) is not a rep; a stream without a gyroscope, or with dropouts inside
its reps, is still counted."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sensor.analyze import analyze_path, analyze_samples
from sensor.samples import Samples
from sensor.settings import PipelineSettings
from sensor.sim.simulate import SimulatedSession
from tests.conftest import sim
from tests.test_vectors import VECTORS

UNCHECKED = PipelineSettings(detector=replace(PipelineSettings().detector, rep_min_turn_frac=-math.inf))


@pytest.mark.parametrize("path", ["phyphox/custom_experiment_bus_to_home.zip", "phyphox/excel_export_walking.xls"])
def test_a_bus_ride_and_a_walk_are_not_back_extensions(path: str) -> None:
    """Real phone exports (5 Hz): without the turn check they read as back extensions."""
    assert len(analyze_path(VECTORS / path, settings=UNCHECKED).reps) >= 2  # what the check removes
    assert analyze_path(VECTORS / path).reps == []


def _session() -> SimulatedSession:
    return sim(21, short=True, rate_hz=50.0, exercises=("bridge", "back_extension"))


def _with_gyro(s: SimulatedSession, gyro: np.ndarray) -> Samples:
    imu = s.samples.imu.copy()
    imu[:, 3:] = gyro
    return Samples(s.samples.time_s, imu)


def test_a_gyro_that_sees_no_turn_means_no_rep() -> None:
    s = _session()
    assert len(s.truth["reps"]) >= 6
    quiet_gyro = np.random.default_rng(3).normal(0.0, 0.02, (len(s.samples), 3)).astype(np.float32)
    assert analyze_samples(_with_gyro(s, quiet_gyro), s.gaps, s.header).reps == []


def test_a_sensor_without_a_gyroscope_still_counts_reps() -> None:
    """The Polar H10 has no gyroscope: its stream carries zeros there, which prove nothing."""
    s = _session()
    a = analyze_samples(_with_gyro(s, np.zeros((len(s.samples), 3), np.float32)), s.gaps, s.header)
    b = analyze_samples(_with_gyro(s, np.zeros((len(s.samples), 3), np.float32)), s.gaps, s.header, settings=UNCHECKED)
    assert a.reps == b.reps and len(a.reps) >= 0.8 * len(s.truth["reps"])


def test_a_dropout_inside_each_rep_does_not_lose_it() -> None:
    """Half a second of samples lost in the middle of every lift: the interpolated gyro is
    a guess there, so the turn is judged on what the gyro really saw."""
    s = _session()
    t = s.samples.time_s
    keep = np.ones(t.size, bool)
    for r in s.truth["reps"]:
        keep &= ~((t > r["start_s"] + 0.1) & (t < r["start_s"] + 0.6))
    cut = Samples(t[keep], s.samples.imu[keep])
    found = analyze_samples(cut, s.gaps, s.header).reps
    assert [r.exercise for r in found] == [r["exercise"] for r in s.truth["reps"]]
