"""A side plank begun already propped on the forearm (the pelvis 3-10° up, still on the
floor): the prop is a stage the lift starts from, and the hold is over once the pelvis is
back down on it. Before, the prop was judged as the excursion's only settle (not lifted),
the lift after it never judged, and the holds of a side were missed or run together.
The class was held out of tuning until this was built (README)."""

from __future__ import annotations

import functools

import pytest

from sensor.analyze import analyze_samples
from sensor.events import Analysis
from sensor.sim.classes import HELD_OUT
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session

CLS = "side_plank_from_forearm"
EXCLUDE = (*(c for c in HELD_OUT if c != CLS), "mount_mismatch")


@functools.lru_cache(maxsize=8)
def _session(seed: int) -> tuple[SimulatedSession, Analysis]:
    s = simulate_session(seed, SimOptions(classes=(CLS,), draw_more=True, mount=None, daily_life=None, exclude=EXCLUDE))
    return s, analyze_samples(s.samples, s.gaps, s.header)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2141, 2143, 2145, 2146, 2149, 2151, 2155, 2164, 2173])
def test_side_planks_lifted_off_the_forearm_are_found_and_timed(seed: int) -> None:
    """Straight side planks from the forearm, some repeated on a side with the rest on the
    forearm between: every hold found once, its duration within 1 s (11 of the first 24
    were found before). In 2164, 2155 and 2173 the prop's lift reads as a side plank's: the
    hold that rises off it by a side plank's lift starts again there (18 s too long, one
    hold missed, 2-5 s off before)."""
    s, a = _session(seed)
    truth = [h for h in s.truth["holds"] if h["exercise"] == "side_plank"]
    assert truth and all(CLS in h["classes"] for h in truth)
    found = [h for h in a.holds if h.exercise == "side_plank"]
    assert len(found) == len(truth), (seed, truth, found)
    for h in truth:
        (f,) = [x for x in found if min(x.end_s, h["end_s"]) > max(x.start_s, h["start_s"])]
        assert f.duration_s == pytest.approx(h["end_s"] - h["start_s"], abs=1.0), (seed, h, f)


@pytest.mark.slow
def test_a_side_plank_lifted_off_a_prop_taken_for_rest_is_not_ended_by_its_sag() -> None:
    """Propped long enough for the rest level to move there, then lifted a few degrees
    more (knee side planks): a sag of 2-3 degrees ended the first hold of seed 2273 6.6 s
    early under the floor's 2.5-deg end threshold. Lifted off a prop, a hold is over once
    most of the way back down to it."""
    s, a = _session(2273)
    truth = [h for h in s.truth["holds"] if h["exercise"] == "side_plank"]
    found = [h for h in a.holds if h.exercise == "side_plank"]
    assert len(truth) == len(found) == 4, (truth, found)
    for h, f in zip(truth, found, strict=True):
        assert f.duration_s == pytest.approx(h["end_s"] - h["start_s"], abs=1.0), (h, f)
