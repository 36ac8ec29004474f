"""Cat-cow whose far side is shallow: the pelvis swings 10-20° up on one side of its rest on
all fours and only 4-6° past it on the other, pausing there a moment before it swings back.
That is less than a swing's depth past rest (``swing_frac`` of the peak), so the half cycle
read as a back extension that stopped past rest (after ``rep_tail_s``, slowed): one per
cycle. Turning back from half a swing's depth past rest, with no stop there until
``rep_tail_max_s``, is the far side of a swing. Stretching sessions drawn as
``holdtrack evaluate --simulate N --daily-life`` draws them (tuning seeds)."""

from __future__ import annotations

import pytest

from sensor.analyze import analyze_samples
from sensor.sim.classes import STILL_HELD_OUT
from sensor.sim.simulate import SimOptions, simulate_session


@pytest.mark.slow
@pytest.mark.parametrize("seed", [106259, 106450, 106474, 106529])
def test_a_cat_cow_pausing_on_its_shallow_side_is_no_back_extension(seed: int) -> None:
    s = simulate_session(seed, SimOptions(classes=None, draw_more=True, mount=None, daily_life=True, exclude=STILL_HELD_OUT))
    (cc,) = [x for x in s.truth["activities"] if x["kind"] == "cat_cow"]
    assert not s.truth["reps"] and not s.truth["holds"]  # nothing to count in the session
    a = analyze_samples(s.samples_as_read(), s.gaps, s.header)
    during = [r for r in a.reps if r.end_s > cc["start_s"] and r.start_s < cc["end_s"] + 1]
    # Before: 7, 9, 5 and 5 back extensions in these cat-cows (one per cycle or so).
    assert during == [], during
    assert a.reps == [] and a.holds == []
