"""The pipeline finds what the simulated wearer did, the same way for any chunking,
rate, mounting and sensor bias."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensor.analyze import analyze_samples
from sensor.events import Hold, HoldStarted, Rep
from sensor.samples import Samples
from sensor.signal.pipeline import Pipeline, PipelineSettings, nominal_rate_hz
from sensor.sim.simulate import SimulatedSession
from tests.conftest import sim
from tests.test_detector_chunking import run_chunked


def feed_in_chunks(samples: Samples, sizes: list[int]) -> list[object]:
    """Events fed in chunks of ``sizes`` (cycled), with the default settings (batching on)."""
    return run_chunked(samples, sizes, PipelineSettings())[0]


def counts(events: list[object]) -> Counter[str]:
    c: Counter[str] = Counter()
    for e in events:
        if isinstance(e, Rep):
            c[e.exercise] += 1
        elif isinstance(e, Hold):
            c[f"{e.exercise}:{e.side}"] += 1
    return c


def truth_counts(truth: dict) -> Counter[str]:
    c: Counter[str] = Counter(r["exercise"] for r in truth["reps"])
    for h in truth["holds"]:
        c[f"{h['exercise']}:{h['side']}"] += 1
    return c


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=6))
def test_events_do_not_depend_on_chunking(sizes: list[int]) -> None:
    s = sim(7, short=True, rate_hz=100.0)
    reference = feed_in_chunks(s.samples, [len(s.samples)])
    assert feed_in_chunks(s.samples, sizes) == reference


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_one_sample_at_a_time_matches_whole_file() -> None:
    s = sim(11, short=True, rate_hz=25.0, exercises=("bridge", "side_plank"))
    whole = feed_in_chunks(s.samples, [len(s.samples)])
    assert feed_in_chunks(s.samples, [1]) == whole
    assert counts(whole) == truth_counts(s.truth)


@pytest.mark.parametrize(
    "rate", [25.0, 50.0, 100.0, pytest.param(200.0, marks=pytest.mark.slow), pytest.param(400.0, marks=pytest.mark.slow)]
)
def test_every_rate_finds_every_rep_and_hold(rate: float) -> None:
    s = sim(20 + int(rate), short=True, rate_hz=rate)
    a = analyze_samples(s.samples, s.gaps)
    assert counts([*a.reps, *a.holds]) == truth_counts(s.truth)
    assert a.calibrated
    assert abs(a.sample_rate_hz - rate) < 0.02 * rate


def test_nominal_rate_leaves_out_dropouts_but_not_the_waits_between_packets() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(20000) / 100.0  # 100 Hz with ten 0.3 s dropouts
    for k in rng.choice(np.arange(100, 19000), 10, replace=False):
        t[k:] += 0.3
    assert nominal_rate_hz(t) == pytest.approx(100.0, rel=1e-3)
    # 200 Hz stamped on arrival: packets of 8 samples 1 ms apart, every 40 ms +- 10 ms.
    arrivals = np.cumsum(rng.uniform(0.030, 0.050, 500))
    t = (arrivals[:, None] + 0.001 * np.arange(8)).ravel()
    assert nominal_rate_hz(t) == pytest.approx(len(t) / (t[-1] - t[0]), rel=0.01)
    assert nominal_rate_hz(np.arange(300) / 5.0) == pytest.approx(5.0, rel=1e-9)  # phyphox at 5 Hz


@pytest.mark.parametrize(
    "rotation,tilt,acc_bias,gyro_bias",
    [
        (0.0, 0.0, 0.2, 1.0),
        pytest.param(90.0, 20.0, 0.2, 1.0, marks=pytest.mark.slow),
        pytest.param(180.0, 20.0, 0.2, 1.0, marks=pytest.mark.slow),
        (270.0, 20.0, 0.2, 1.0),
        (135.0, 10.0, 0.0, 0.0),
    ],
)
def test_mounting_and_bias_do_not_matter(rotation: float, tilt: float, acc_bias: float, gyro_bias: float) -> None:
    s = sim(5, short=True, rate_hz=52.0, mount_rotation_deg=rotation, mount_tilt_deg=tilt, acc_bias=acc_bias, gyro_bias_dps=gyro_bias)
    a = analyze_samples(s.samples, s.gaps)
    assert counts([*a.reps, *a.holds]) == truth_counts(s.truth)
    for h, th in zip(a.holds, s.truth["holds"]):
        assert h.side == th["side"]
        assert abs(h.duration_s - th["duration_s"]) < 1.0


def test_without_the_stand_sides_are_unknown_but_holds_are_found() -> None:
    s = sim(9, short=True, rate_hz=100.0, standing_start=False)
    a = analyze_samples(s.samples, s.gaps)
    assert not a.calibrated
    side = [h for h in a.holds if h.exercise == "side_plank"]
    assert len(side) == 2 and all(h.side is None for h in side)
    # Every rep but at most one bridge whose lift a dropout hides (0.1-0.3 s gaps in the
    # rise here) and whose turn is no bridge's (a pelvic tilt turns as far): that one
    # needs its lift estimated across the gap, and a small bridge's may come out short.
    truth = Counter(r["exercise"] for r in s.truth["reps"])
    found = counts(a.reps)
    assert found["back_extension"] == truth["back_extension"]
    hidden = [r for r in s.truth["reps"] if r["exercise"] == "bridge" and r["peak_deg"] < 11.0 and _dropout_in(s, r)]
    assert truth["bridge"] - min(1, len(hidden)) <= found["bridge"] <= truth["bridge"]


def _dropout_in(s: SimulatedSession, rep: dict[str, float]) -> bool:
    t = s.samples.time_s
    m = (t >= rep["start_s"] - 1.0) & (t <= rep["end_s"])
    return bool(np.diff(t[m]).max(initial=0.0) > 0.1)


def test_walking_sitting_and_fidgets_alone_report_nothing() -> None:
    s = sim(13, short=True, rate_hz=100.0, exercises=())
    assert s.truth["reps"] == [] and s.truth["holds"] == []
    a = analyze_samples(s.samples, s.gaps)
    assert a.reps == [] and a.holds == []


def test_hold_started_comes_before_the_hold_and_live_status_tracks_it() -> None:
    s = sim(7, short=True, rate_hz=100.0)
    p = Pipeline()
    started: list[HoldStarted] = []
    timers: list[float] = []
    for chunk in s.samples.chunks(5):
        for e in p.feed(chunk):
            if isinstance(e, HoldStarted):
                started.append(e)
            if isinstance(e, Hold):
                assert started and started[-1].start_s == e.start_s
                assert e.detected_at_s == started[-1].detected_at_s
        if p.status.hold is not None:
            timers.append(p.status.hold.elapsed_s)
    assert len(started) == len(s.truth["holds"])
    assert max(timers) > 10.0
    assert p.status.rep_count == len(s.truth["reps"])
    assert p.status.posture in ("standing", "sitting")


def test_gaps_are_reported_and_do_not_break_detection() -> None:
    s = sim(31, short=True, rate_hz=50.0, link_losses=2)
    assert len(s.gaps) >= 1
    a = analyze_samples(s.samples, s.gaps)
    for g in s.gaps:
        assert any(abs(x.start_s - g.start_s) < 0.1 and abs(x.end_s - g.end_s) < 0.1 for x in a.gaps)
    assert counts([*a.reps, *a.holds]) == truth_counts(s.truth)


@pytest.mark.slow
def test_timing_and_stability_are_close_to_truth() -> None:
    s = sim(41, rate_hz=100.0)
    a = analyze_samples(s.samples, s.gaps)
    truth_reps = sorted(s.truth["reps"], key=lambda r: r["start_s"])
    assert len(a.reps) == len(truth_reps)
    for r, tr in zip(sorted(a.reps, key=lambda r: r.start_s), truth_reps):
        assert abs(r.start_s - tr["start_s"]) < 0.4
        assert abs(r.end_s - tr["end_s"]) < 0.4
        assert abs(r.hold_s - tr["hold_s"]) < 0.4
        assert r.detected_at_s - tr["end_s"] < 0.6
    for h, th in zip(a.holds, s.truth["holds"]):
        assert abs(h.duration_s - th["duration_s"]) < 1.0
        assert h.detected_at_s - th["start_s"] < 0.8
        assert abs(h.sway_deg - th["sway_deg"]) < 0.3 + 0.3 * th["sway_deg"]
        assert abs(h.sag_deg - th["sag_deg"]) < 1.5
        assert 0 <= h.score <= 100


def test_rest_without_samples_is_not_interpolated_over_long_holes() -> None:
    t = np.arange(0, 10, 0.01)
    t = np.concatenate([t[t < 4], t[t >= 6]])  # a 2 s hole
    x = np.zeros((t.size, 6), np.float32)
    x[:, 1] = 9.81
    p = Pipeline()
    from sensor.events import Gap

    gaps = [e for e in p.feed(Samples(t, x)) if isinstance(e, Gap)]
    assert len(gaps) == 1 and 3.98 <= gaps[0].start_s <= 4.0 and 6.0 <= gaps[0].end_s <= 6.01


@pytest.mark.parametrize("mount", [pytest.param("front", marks=pytest.mark.slow), "left", pytest.param("right", marks=pytest.mark.slow)])
def test_other_mountings_work_when_said(mount: str, tmp_path) -> None:
    """Worn on the front of the belt or on a hip: the recording says so and analysis
    follows it. Told the wrong mounting, a short routine (4 bridges, 5 back extensions: no
    whole routine) is found where it is worn from its bridges or its way down to the floor,
    and says so."""
    from sensor.analyze import analyze_path
    from sensor.recording import write_recording

    s = sim(77, short=True, rate_hz=100.0, mount=mount)
    p = tmp_path / f"{mount}.htrec"
    write_recording(p, s.header, s.samples, s.gaps)
    a = analyze_path(p)
    assert counts([*a.reps, *a.holds]) == truth_counts(s.truth)
    wrong = analyze_path(p, mount="back")
    assert (wrong.mount, wrong.mount_check) == (mount, "corrected")
    assert "only that finds bridges" in wrong.mount_note or "way down" in wrong.mount_note
    assert counts([*wrong.reps, *wrong.holds]) == truth_counts(s.truth)
