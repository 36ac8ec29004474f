"""What people really do, from the class catalogue of the simulated wearer: top holds, the
ways into a plank, stretches that are no exercise, holds that end when the body moves, and
how sure each count is. Seeds are fixed (none in the tuning range 100000-100999 or the
reporting range from 500000); the bounds are what the detector achieves today with a
little room, as regression guards: the targets of issue 19 are not all met (see
`holdtrack evaluate --simulate` per class for the honest figures)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sensor.analyze import analyze_samples
from sensor.events import Analysis
from sensor.sim.classes import HELD_OUT  # never used to check the detector while it is tuned
from sensor.sim.evaluate import Tally
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session

OTHER = ("mount_mismatch",)  # tested on its own: here the mounting is the one given


@functools.lru_cache(maxsize=16)
def _class_session(cls: str, seed: int) -> tuple[SimulatedSession, Analysis]:
    s = simulate_session(seed, SimOptions(classes=(cls,), draw_more=True, mount=None, daily_life=None, exclude=HELD_OUT + OTHER))
    return s, analyze_samples(s.samples, s.gaps, s.header)


def _tally(cls: str, seeds: range) -> Tally:
    t = Tally()
    for seed in seeds:
        s, a = _class_session(cls, seed)
        t.add(a, s.truth, f"seed {seed}")
    return t


@pytest.mark.slow
def test_back_extensions_held_at_the_top_are_reps_not_planks() -> None:
    """The "superman hold" of 3-4 s: read as 2-4 s planks before (26 of 27 missed in the
    independent evaluation); 0.94 recall here today."""
    t = _tally("backext_top_hold", range(610, 613))
    s = t.summary()["per_exercise"]
    assert s["back_extension"]["true"] >= 25
    assert s["back_extension"]["recall"] >= 0.9, t.misses
    assert s["plank"]["precision"] is None or s["plank"]["precision"] >= 0.9, t.misses


@pytest.mark.slow
def test_cat_cow_swings_through_rest_and_is_no_back_extension() -> None:
    """On all fours the pelvis swings through its rest: one back extension per half cycle
    before a rep had to stop at rest; 3 in these three sessions today (the last half
    cycle, ending at rest, still reads as one)."""
    fp = 0
    for seed in range(620, 623):
        s, a = _class_session("cat_cow", seed)
        spans = [(x["start_s"], x["end_s"]) for x in s.truth["activities"] if "cat_cow" in x.get("classes", [])]
        assert spans
        fp += sum(1 for r in a.reps if any(lo - 1 <= r.start_s <= hi + 1 for lo, hi in spans))
    assert fp <= 4


@pytest.mark.slow
def test_a_slow_cat_cow_still_moving_past_rest_is_a_swing() -> None:
    """Cycles of 5-8 s pass rest at 10-15°/s and take a second to get a swing's depth
    past it, and the cow side may be half as deep as the cat side: a fall still going
    fast past rest is followed (``rep_tail_max_s``), and slowing on the far side is no stop
    at rest. Before: 9 back extensions in these three stretching sessions."""
    fp = 0
    for seed in (744, 747, 753):
        s = simulate_session(seed, SimOptions(classes=("cat_cow",), draw_more=True, mount=None, daily_life=True, exclude=HELD_OUT + OTHER))
        a = analyze_samples(s.samples, s.gaps, s.header)
        spans = [(x["start_s"], x["end_s"]) for x in s.truth["activities"] if x["kind"] == "cat_cow"]
        assert spans and min(x["period_s"] for x in s.truth["activities"] if x["kind"] == "cat_cow") >= 5.0
        fp += sum(1 for r in a.reps if any(lo - 2 <= r.start_s <= hi + 2 for lo, hi in spans))
    assert fp <= 3


@pytest.mark.slow
def test_pelvic_tilts_do_not_lift_the_hips_and_are_no_bridges() -> None:
    """Supine tilts turn the pelvis as much as a small bridge but leave it on the floor;
    4 tilts in these three sessions still pass as bridges today."""
    fp = 0
    for seed in range(630, 633):
        s, a = _class_session("pelvic_tilts", seed)
        spans = [(x["start_s"], x["end_s"]) for x in s.truth["activities"] if "pelvic_tilts" in x.get("classes", [])]
        assert spans
        fp += sum(1 for r in a.reps if r.exercise == "bridge" and any(lo - 1 <= r.start_s <= hi + 1 for lo, hi in spans))
    assert fp <= 5


@pytest.mark.slow
def test_planks_from_all_fours_are_found_and_timed() -> None:
    """The hips go down into the plank: the lift from the floor never comes."""
    t = _tally("plank_from_all_fours", range(640, 644))
    s = t.summary()
    assert s["per_exercise"]["plank"]["true"] >= 4
    assert s["per_exercise"]["plank"]["recall"] >= 0.75, t.misses
    assert s["hold_duration_error_s"]["median"] <= 1.0


@pytest.mark.slow
def test_a_plank_walked_into_from_all_fours_is_found_where_it_rests() -> None:
    """The legs walked back one at a time (or the pelvis first tipped head-down onto the
    forearms): too long a way in to judge as it settles. Quiet at the new level for
    ``rest_shift_s``, lower than all fours and tipped head-up, it is a plank from when the
    pelvis got there, and it ends where the pelvis leaves that height (before: three of
    these missed, two found 19-20 s late). Seed 691's plank reads 0.3 deg head-down
    (true 3-4 deg up: the stand's zero is off by as much), under the slope a plank needs;
    its 13.5-cm way in is sure enough to take a few degrees less."""
    for seed in (691, 693, 695, 706, 713):
        s, a = _class_session("plank_from_all_fours", seed)
        (truth,) = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
        found = [h for h in a.holds if h.exercise == "plank" and min(h.end_s, truth["end_s"]) > max(h.start_s, truth["start_s"])]
        assert len(found) == 1, (seed, truth, a.holds)
        assert found[0].start_s == pytest.approx(truth["start_s"], abs=1.5), seed
        assert found[0].end_s == pytest.approx(truth["end_s"], abs=1.5), seed


@pytest.mark.slow
def test_slow_and_fast_reps_are_counted() -> None:
    """Two to four seconds a movement (max 1.8 s before), and bridges brisk enough to
    shake |f| by metres per second squared (the jolt check judged the movement itself)."""
    for cls in ("tempo_slow", "tempo_fast"):
        t = _tally(cls, range(650, 652))
        per = t.summary()["per_exercise"]
        for ex in ("bridge", "back_extension"):
            if per[ex]["true"]:
                assert per[ex]["recall"] >= 0.9, (cls, ex, t.misses)


@pytest.mark.slow
def test_the_briskest_back_extensions_are_reps() -> None:
    """Up and down in half a second each: 0.6-0.8 s between the rise's and the fall's
    crossings. A floor of 0.8 s missed 3 of 22 and 5 of 34 in these fast sets."""
    t = _tally("tempo_fast", range(2105, 2106))
    t2 = _tally("tempo_fast", range(2117, 2118))
    for tally in (t, t2):
        per = tally.summary()["per_exercise"]["back_extension"]
        assert per["true"] >= 20
        assert per["recall"] == 1.0 and per["precision"] == 1.0, tally.misses


@pytest.mark.slow
def test_brisk_bridges_are_lifted() -> None:
    """Bridges of 0.4-0.7 s a movement with no pause at the top: the top is no still moment,
    and taking its reading for gravity integrated 10-cm lifts to -0.2..0.1 m (recall 0.91
    on these seeds before)."""
    t = _tally("tempo_fast", range(674, 680))
    per = t.summary()["per_exercise"]
    assert per["bridge"]["true"] >= 40
    assert per["bridge"]["recall"] >= 0.97, t.misses
    assert per["bridge"]["precision"] >= 0.97, t.misses


@pytest.mark.slow
def test_getting_up_onto_all_fours_is_no_back_extension() -> None:
    """On the way into a plank from all fours the pelvis is carried 0.25-0.45 m up: a
    change of pose, not a back extension (one was counted in each of these sessions)."""
    t = Tally()
    for seed in (682, 686, 689):
        s, a = _class_session("plank_from_all_fours", seed)
        t.add(a, s.truth, f"seed {seed}")
    per = t.summary()["per_exercise"]
    assert per["back_extension"]["true"] >= 60
    assert per["back_extension"]["precision"] == 1.0, t.misses
    assert per["back_extension"]["recall"] >= 0.9, t.misses


def test_every_count_says_how_sure_it_is() -> None:
    s = simulate_session(660, SimOptions(short=True, rate_hz=50.0))
    a = analyze_samples(s.samples, s.gaps, s.header)
    assert a.reps and a.holds
    conf = [r.confidence for r in a.reps] + [h.confidence for h in a.holds]
    assert all(0.5 <= c <= 1.0 for c in conf)
    assert np.median(conf) >= 0.8  # clean simulated reps pass their tests by a margin
    js = a.to_json()
    assert all("confidence" in r for r in js["reps"]) and all("confidence" in h for h in js["holds"])


def test_breathing_in_a_shallow_childs_pose_is_no_back_extension() -> None:
    # Tuning seed 104523 of the evaluation's daily life: child's pose with the pelvis 21 deg
    # head-down, breaths rocking it 2.5 deg; it read as a set of 5 back extensions when a
    # floor could read up to 22 deg (a slipped belt tips it up to 15).
    s = simulate_session(104523, SimOptions(classes=None, draw_more=True, mount=None, daily_life=True, exclude=(*HELD_OUT, *OTHER)))
    assert "childs_pose" in s.truth["classes"] and not s.truth["reps"]
    a = analyze_samples(s.samples_as_read(), s.gaps, s.header)
    assert a.calibrated and not a.reps, a.reps
