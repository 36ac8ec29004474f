"""A rep is a turn of the pelvis and a controlled movement. A tilt of the accelerometer that
the gyro does not see (a bus braking, a stride) is not a rep, nor is a phone shaken about
while carried; a stream without a gyroscope, dropouts inside reps, or a thump as the hips
are set down do not lose reps."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sensor import runner
from sensor.analyze import analyze_path, analyze_samples
from sensor.samples import Samples
from sensor.settings import PipelineSettings
from sensor.sim.simulate import SimulatedSession
from tests.conftest import sim
from tests.test_vectors import VECTORS


def _checks(turn: bool, jolt: bool) -> PipelineSettings:
    d = PipelineSettings().detector
    return PipelineSettings(
        detector=replace(
            d,
            rep_min_turn_frac=d.rep_min_turn_frac if turn else -math.inf,
            rep_max_jolt_mps2=d.rep_max_jolt_mps2 if jolt else math.inf,
        )
    )


UNCHECKED = _checks(turn=False, jolt=True)  # the turn check off (the jolt check on)


@pytest.mark.parametrize(
    "path, caught_by",
    [
        # 5 Hz: every grid sample lies in a dropout. The fused elevation once took the
        # accelerometer's change across each for a turn (a bus braking, a stride read as
        # "reps"); since it fuses that change as a measurement, nothing is left to check.
        ("phyphox/custom_experiment_bus_to_home.zip", "all"),
        ("phyphox/excel_export_walking.xls", "all"),
        # "Reps" without the checks (the rest level is re-taken when the pelvis stays
        # just off it), each check alone removes them.
        ("sensor_logger/ios_1.11_2022-11-07_21-41-08_head", "both"),  # 100 Hz, held flat, vigorous
    ],
)
def test_carried_phones_give_no_reps(path: str, caught_by: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real phone exports of no exercise: each check alone removes what it should, both
    together remove every one."""
    assert analyze_path(VECTORS / path).reps == []
    # The checks themselves, with sets of two counted (sets of three would hide what they
    # remove: these "reps" come in pairs).
    monkeypatch.setattr(runner, "MIN_SET_REPS", 2)
    unchecked = analyze_path(VECTORS / path, settings=_checks(turn=False, jolt=False)).reps
    assert (unchecked == []) == (caught_by == "all")
    if caught_by != "all":
        assert len(unchecked) >= 1
    assert analyze_path(VECTORS / path).reps == []
    turn_only = analyze_path(VECTORS / path, settings=_checks(turn=True, jolt=False)).reps
    jolt_only = analyze_path(VECTORS / path, settings=_checks(turn=False, jolt=True)).reps
    assert (turn_only == []) == (caught_by in ("turn", "both", "all"))
    assert (jolt_only == []) == (caught_by in ("jolt", "both", "all"))


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


def _jolted(s: SimulatedSession, shake: np.ndarray) -> Samples:
    """The session's samples with ``shake`` (m/s², one value a sample) added along gravity's
    direction at rest, where |specific force| feels it most."""
    imu = s.samples.imu.copy()
    acc = imu[:, :3].astype(np.float64)
    imu[:, :3] = acc + shake[:, None] * acc / np.linalg.norm(acc, axis=1, keepdims=True)
    return Samples(s.samples.time_s, imu)


def test_reps_done_while_being_shaken_are_not_reps() -> None:
    """The sensor bobbing at a walk's 2 Hz (±2 m/s², as the real walks and rides in
    ../shared/vectors show 1-3 m/s² median jolt) through every rep: no reps, though the
    turn is still seen."""
    s = _session()
    t = s.samples.time_s
    stride = 2.0 * np.sin(2 * np.pi * 2.0 * t)
    inside = np.zeros(t.size, bool)
    for r in s.truth["reps"]:
        inside |= (t >= r["start_s"] - 0.5) & (t <= r["end_s"] + 0.5)
    a = analyze_samples(_jolted(s, np.where(inside, stride, 0.0)), s.gaps, s.header)
    assert a.reps == []
    # What the jolt check alone removes (with the bridges' lift check off too: shaking along
    # gravity spoils the double integral, so that check refuses shaken bridges as well).
    d = _checks(turn=True, jolt=False).detector
    no_lift = PipelineSettings(detector=replace(d, bridge_min_lift_m=-math.inf, bridge_guess_min_peak_deg=0.0))
    kept = analyze_samples(_jolted(s, np.where(inside, stride, 0.0)), s.gaps, s.header, settings=no_lift)
    assert len(kept.reps) >= 0.8 * len(s.truth["reps"])


def test_a_thump_as_the_hips_are_set_down_keeps_the_rep() -> None:
    """One hard 60 ms thump (15 m/s²) at the end of every rep: a median ignores it."""
    s = _session()
    t = s.samples.time_s
    thump = np.zeros(t.size)
    for r in s.truth["reps"]:
        thump[(t >= r["end_s"] - 0.1) & (t < r["end_s"] - 0.04)] = 15.0
    clean = analyze_samples(s.samples, s.gaps, s.header).reps
    thumped = analyze_samples(_jolted(s, thump), s.gaps, s.header).reps
    assert [r.exercise for r in thumped] == [r.exercise for r in clean] == [r["exercise"] for r in s.truth["reps"]]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [102717, 102726])
def test_a_pelvic_tilt_whose_rise_a_dropout_hides_is_no_bridge(seed: int) -> None:
    """Supine tilts, their rises partly lost to dropouts (0.1-0.5 s): the lift estimated
    across the gap still leaves the hips on the floor (two false bridges in each of these
    sessions when a gap over 0.3 s left only the turn to judge)."""
    from sensor.sim.simulate import SimOptions, simulate_session
    from tests.test_detect_classes import HELD_OUT

    opt = SimOptions(classes=("pelvic_tilts",), draw_more=True, mount=None, daily_life=True, exclude=(*HELD_OUT, "mount_mismatch"))
    s = simulate_session(seed, opt)
    spans = [(x["start_s"], x["end_s"]) for x in s.truth["activities"] if x["kind"] == "pelvic_tilts"]
    t = s.samples.time_s
    inside = np.zeros(t.size - 1, bool)
    for lo, hi in spans:
        inside |= (t[:-1] > lo) & (t[1:] < hi)
    assert (np.diff(t)[inside] > 0.25).any()  # the tilts have dropouts in them
    a = analyze_samples(s.samples_as_read(), s.gaps, s.header)
    assert [r for r in a.reps if r.exercise == "bridge"] == []
