"""The rest level is where the pelvis rests. A posture's first is taken once the pelvis has
settled: lying down, it can drift a few degrees for a second or two, and a level taken in
that drift (the first quiet sample, before) sat 3.5° off the floor: every back extension
after it read as a swing through rest, a whole set of 14 missed. And swings that come and go
from one steady level, one after another, put the rest there (a belt that slipped just
after the level was taken). Seeds from the tuning range (100000-100999) where that
happened, drawn as ``holdtrack evaluate --simulate`` draws them."""

from __future__ import annotations

import functools

import pytest

from sensor.analyze import analyze_samples
from sensor.events import Analysis
from sensor.sim.evaluate import Tally
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session
from tests.test_detect_classes import HELD_OUT, OTHER


@functools.lru_cache(maxsize=4)
def _session(seed: int) -> tuple[SimulatedSession, Analysis]:
    s = simulate_session(seed, SimOptions(classes=None, draw_more=True, mount=None, daily_life=None, exclude=HELD_OUT + OTHER))
    return s, analyze_samples(s.samples, s.gaps, s.header)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [100317, 100318, 100408])
def test_back_extensions_after_lying_down_with_the_pelvis_still_settling_or_the_belt_slipping(seed: int) -> None:
    s, a = _session(seed)
    t = Tally()
    t.add(a, s.truth, f"seed {seed}")
    be = t.summary()["per_exercise"]["back_extension"]
    assert be["true"] >= 20
    assert be["recall"] >= 0.95, t.misses
    assert be["precision"] >= 0.95, t.misses


@pytest.mark.slow
@pytest.mark.parametrize("seed", [100783, 100821])
def test_a_brisk_set_moves_no_pose(seed: int) -> None:
    """Brisk back extensions with no still moment between: the height integrated over the
    whole chain (8 s) drifted 0.3 m, read as a new pose; its rest level was then taken at a
    rep's top and the pause after the set read as a plank that hid the next set (13 of 23
    missed in 100783). A new pose is a step in one movement of at most 5 s."""
    s, a = _session(seed)
    t = Tally()
    t.add(a, s.truth, f"seed {seed}")
    per = t.summary()["per_exercise"]
    assert per["back_extension"]["true"] >= 20
    assert per["back_extension"]["recall"] >= 0.9, t.misses
    if seed == 100783:  # (100821 has a false plank of its own, elsewhere)
        assert per["plank"]["precision"] is None or per["plank"]["precision"] >= 0.9, t.misses
