"""The detector jumps from one transition to the next instead of visiting samples; these
tests make a skipped or doubled sample show: events and per-sample signals must not depend
on how the stream is cut, down to one grid sample per call, nor on the look-ahead window."""

from __future__ import annotations

import numpy as np
import pytest

import sensor.signal.detectors
from sensor.events import Hold, HoldStarted, Rep
from sensor.samples import Samples
from sensor.signal.pipeline import Pipeline, PipelineSettings
from tests.conftest import sim

SIGNALS = ("time_s", "state", "posture")


def run(samples: Samples, sizes: list[int]) -> tuple[list[object], dict[str, np.ndarray]]:
    """Events and signals, fed in chunks of ``sizes`` (cycled); no batching, so every
    chunk reaches the detector as it is cut (a 1-sample chunk is 0 or 1 grid sample)."""
    return run_chunked(samples, sizes, PipelineSettings(batch_s=0.0, keep_signals=True))


def run_chunked(samples: Samples, sizes: list[int], settings: PipelineSettings) -> tuple[list[object], dict[str, np.ndarray]]:
    """Events and signals of a pipeline with ``settings`` fed in chunks of ``sizes`` (cycled)."""
    p = Pipeline(settings)
    events: list[object] = []
    i = k = 0
    while i < len(samples):
        n = sizes[k % len(sizes)]
        events.extend(p.feed(samples[i : i + n]))
        i += n
        k += 1
    events.extend(p.finish())
    return events, p.signals()


def assert_same(a: tuple[list[object], dict[str, np.ndarray]], b: tuple[list[object], dict[str, np.ndarray]]) -> None:
    assert a[0] == b[0]
    for key in SIGNALS:
        np.testing.assert_array_equal(a[1][key], b[1][key], err_msg=key)
    # The filters ahead of the detector may differ in the last bit between chunkings
    # (the rest level is a sum over many samples): equal to far below a display digit.
    np.testing.assert_allclose(a[1]["rest_deg"], b[1]["rest_deg"], rtol=0, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("seed,rate", [pytest.param(7, 100.0, marks=pytest.mark.slow), (11, 25.0), (23, 52.0)])
def test_random_chunks_down_to_single_samples_change_nothing(seed: int, rate: float) -> None:
    s = sim(seed, short=True, rate_hz=rate)
    whole = run(s.samples, [len(s.samples)])
    kinds = {type(e) for e in whole[0]}
    assert {Rep, Hold, HoldStarted} <= kinds, "the session must exercise reps and holds"
    rng = np.random.default_rng(seed)
    # Mostly single samples, with runs of every length up to several seconds between.
    sizes = [1 if rng.random() < 0.6 else int(rng.integers(2, int(4 * rate))) for _ in range(97)]
    assert_same(run(s.samples, sizes), whole)


@pytest.mark.parametrize("window", [1, pytest.param(3, marks=pytest.mark.slow), pytest.param(50, marks=pytest.mark.slow)])
def test_the_look_ahead_window_changes_nothing(window: int, monkeypatch: pytest.MonkeyPatch) -> None:
    s = sim(7, short=True, rate_hz=100.0)
    default = run(s.samples, [len(s.samples)])
    monkeypatch.setattr(sensor.signal.detectors, "WINDOW", window)
    assert_same(run(s.samples, [len(s.samples)]), default)
    assert_same(run(s.samples, [333]), default)


@pytest.mark.slow
@pytest.mark.parametrize("cls,seed", [("plank_from_floor", 671), ("knee_side_plank", 672), ("plank_from_all_fours", 673)])
def test_holds_and_their_confidence_do_not_depend_on_chunking(cls: str, seed: int) -> None:
    """A hold is judged as it settles: its lift (and so its confidence) must not depend on
    whether the samples just after the settle point had arrived (the live path feeds a few
    samples at a time, a file thousands)."""
    from sensor.sim.simulate import SimOptions, simulate_session

    # At 50 Hz, the rate of many phones (and 5x fewer samples to feed one call at a time):
    # there plank_from_floor once timed its plank from whichever chunk held the first
    # quiet sample after the wait for a steady level (26.3 s whole, 26.82 s fed by 5).
    s = simulate_session(seed, SimOptions(classes=(cls,), draw_more=True, mount=None, rate_hz=50.0))
    whole = run(s.samples, [len(s.samples)])
    holds = [e for e in whole[0] if isinstance(e, Hold)]
    assert holds, "the session must have holds"
    for sizes in ([5], [3, 17, 2, 64]):
        assert run(s.samples, sizes)[0] == whole[0]
