"""The class catalogue of the simulated wearer: each class does what people do, physically
(heights and tilts reached, as the true pose shows), and its truth says so. No detection
results here: the detector is judged by ``holdtrack evaluate``, not by these tests."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sensor.sim.classes import CLASSES, STRETCHES, expand
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session


@functools.lru_cache(maxsize=32)
def _cls(seed: int, classes: tuple[str, ...], **kw: Any) -> SimulatedSession:
    return simulate_session(seed, SimOptions(classes=classes, rate_hz=50.0, **kw))


def cls_sim(seed: int, *classes: str, **kw: Any) -> SimulatedSession:
    """A cached session of the class catalogue with exactly these classes (tests must not
    mutate it)."""
    return _cls(seed, tuple(classes), **kw)


def window(s: SimulatedSession, a: float, z: float) -> np.ndarray:
    assert s.motion is not None
    t = s.motion["t"]
    return (t >= a) & (t <= z)


def height(s: SimulatedSession, a: float, z: float) -> np.ndarray:
    assert s.motion is not None
    return np.asarray(s.motion["pos"][window(s, a, z), 2])


def pitch(s: SimulatedSession, a: float, z: float, axis: str = "long_axis_deg") -> np.ndarray:
    assert s.motion is not None
    return np.asarray(s.motion[axis][window(s, a, z)])


def floor(s: SimulatedSession, pose: str) -> dict[str, float]:
    f: dict[str, float] = s.truth["floor"][pose]
    return f


# -- truth ---------------------------------------------------------------------------------


def test_the_first_catalogue_names_its_classes_too() -> None:
    s = simulate_session(41, SimOptions(rate_hz=25.0, short=True))
    assert {"mount_back", "plank_from_floor"} <= set(s.truth["classes"]) <= {"mount_back", "plank_from_floor", "knee_side_plank"}
    assert all("mount_back" in e["classes"] for e in (*s.truth["reps"], *s.truth["holds"], *s.truth["sets"]))
    (plank,) = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
    assert "plank_from_floor" in plank["classes"]
    assert s.motion is not None and "floor" not in s.truth  # the first catalogue has no floor model


def test_every_event_carries_its_classes_and_the_session_lists_exactly_those_present() -> None:
    s = simulate_session(3, SimOptions(classes=None, mount=None, daily_life=False, rate_hz=25.0, short=True))
    t = s.truth
    present: set[str] = set()
    for e in (*t["reps"], *t["holds"], *t["sets"], *t["activities"]):
        assert e["classes"], e
        present.update(e["classes"])
    assert set(t["classes"]) == present | {c for c in t["classes"] if CLASSES[c].scope == "session"}
    session = {c for c in t["classes"] if CLASSES[c].scope == "session"}
    assert f"mount_{t['mount']}" in session
    for e in (*t["reps"], *t["holds"]):
        assert session <= set(e["classes"])
    for st in t["sets"]:  # a set carries what its reps carry
        reps = [r for r in t["reps"] if r["exercise"] == st["exercise"] and r["set"] == st["set"]]
        assert len(reps) == st["reps"] and set(st["classes"]) == set().union(*(r["classes"] for r in reps))


def test_drawn_sessions_cover_the_catalogue_and_never_two_of_one_kind() -> None:
    from sensor.sim.classes import ONE_OF, choose

    seen: set[str] = set()
    for seed in range(60):
        rng = np.random.default_rng(seed)
        c = choose(rng, (), exercises=("bridge", "back_extension", "plank", "side_plank"), mount="back", daily_life=None, draw_more=True)
        seen |= c.names
        for group in ONE_OF:
            assert len(c.names & set(group)) <= 1
        if c.stretch_session:
            assert not {n for n in c.names if CLASSES[n].scope == "event"}
            assert c.stretches()
        else:
            assert len(c.names & {"plank_from_floor", "plank_from_all_fours", "plank_from_pushup"}) == 1
    assert seen >= set(CLASSES) - {"mount_front", "mount_left", "mount_right"}


@pytest.mark.slow
def test_excluded_classes_are_never_drawn() -> None:
    """Tuning sessions leave the held-out classes out (``evaluate --exclude``)."""
    from sensor.sim.classes import HELD_OUT, choose

    held = frozenset({*HELD_OUT, "plank_from_pushup"})  # and one plank entry of the three
    for seed in range(80):
        c = choose(
            np.random.default_rng(seed),
            (),
            exercises=("bridge", "back_extension", "plank", "side_plank"),
            mount="back",
            daily_life=None,
            draw_more=True,
            exclude=held,
        )
        assert not c.names & held and not set(c.warm_up + c.cool_down) & held
    for seed in range(3):  # mountings too
        s = simulate_session(
            seed, SimOptions(classes=None, mount=None, rate_hz=25.0, short=True, exclude=("mount_back", "mount_left", "mount_front"))
        )
        assert s.truth["mount"] == "right"
    with pytest.raises(ValueError, match="asked for and excluded"):
        simulate_session(1, SimOptions(classes=("cobra",), exclude=("cobra",)))


def test_class_names_and_categories_expand_and_unknown_ones_are_refused() -> None:
    assert expand("stretch") == STRETCHES
    assert expand("cat_cow, tempo_fast") == ("cat_cow", "tempo_fast")
    with pytest.raises(ValueError, match="unknown class 'cat_kow'"):
        expand("cat_kow")
    with pytest.raises(ValueError, match="cannot be in one session"):
        simulate_session(1, SimOptions(classes=("tempo_fast", "tempo_slow")))
    with pytest.raises(ValueError, match="needs one of the exercises"):
        simulate_session(1, SimOptions(classes=("plank_from_all_fours",), exercises=("bridge",)))


# -- ways into a plank ------------------------------------------------------------------------


def test_a_plank_from_all_fours_goes_down_into_the_plank() -> None:
    s = cls_sim(11, "plank_from_all_fours", exercises=("plank",), short=True)
    (h,) = s.truth["holds"]
    assert "plank_from_all_fours" in h["classes"]
    fours, plank = floor(s, "all_fours"), floor(s, "plank")
    assert 0.45 <= fours["height_m"] <= 0.62 and 0.30 <= plank["height_m"] <= 0.40
    before = height(s, h["start_s"] - 12, h["start_s"])
    on_fours = np.flatnonzero(np.isclose(before, fours["height_m"], atol=1e-6))
    assert on_fours.size  # on all fours first...
    down = before[on_fours[-1] :]
    assert np.all(np.diff(down) <= 1e-9)  # ...then only down into the plank
    assert down[-1] == pytest.approx(plank["height_m"], abs=1e-3)
    assert np.median(height(s, h["start_s"], h["end_s"])) == pytest.approx(plank["height_m"], abs=1e-6)
    # Held at the plank's pitch, head end up, less what it sags.
    p = pitch(s, h["start_s"] + 0.5, h["end_s"])
    assert h["elev_deg"] - h["sag_deg"] - 1.5 <= np.median(p) <= h["elev_deg"] + 1.5
    assert 3.0 <= h["elev_deg"] <= 16.0


def test_a_plank_from_a_pushup_comes_down_from_the_hands() -> None:
    s = cls_sim(12, "plank_from_pushup", exercises=("plank",), short=True)
    (h,) = s.truth["holds"]
    push = floor(s, "pushup")
    assert 12 <= push["pitch_deg"] <= 20
    before = window(s, h["start_s"] - 8, h["start_s"] - 0.05)
    assert s.motion is not None
    up = before & (np.abs(s.motion["pos"][:, 2] - push["height_m"]) < 1e-6)
    assert up.any()  # on the hands and toes for a moment
    assert np.median(s.motion["long_axis_deg"][up]) == pytest.approx(push["pitch_deg"], abs=1.5)
    assert np.median(height(s, h["start_s"], h["end_s"])) < push["height_m"] - 0.02


def test_a_plank_from_the_floor_rises_from_lying_prone() -> None:
    s = cls_sim(13, "plank_from_floor", exercises=("plank",), short=True)
    (h,) = s.truth["holds"]
    prone = floor(s, "prone")["height_m"]
    assert 0.18 <= prone <= 0.24
    before = height(s, h["start_s"] - 8, h["start_s"])
    lying = np.flatnonzero(np.isclose(before, prone, atol=1e-6))
    assert lying.size  # lying prone...
    assert np.all(np.diff(before[lying[-1] :]) >= -1e-9)  # ...then only up into the plank
    assert np.median(height(s, h["start_s"], h["end_s"])) - prone >= 0.06


# -- side planks ------------------------------------------------------------------------------


def test_side_planks_from_the_forearm_start_tilted_and_repeat_a_side_after_a_short_rest() -> None:
    s = cls_sim(14, "side_plank_from_forearm", "side_plank_repeat_same_side", exercises=("side_plank",), short=True)
    holds = s.truth["holds"]
    sides = [h["side"] for h in holds]
    assert sides[0] == sides[1]  # the second hold on the same side
    assert "side_plank_repeat_same_side" in holds[1]["classes"] and "side_plank_repeat_same_side" not in holds[0]["classes"]
    assert 5 <= holds[1]["start_s"] - holds[0]["end_s"] <= 30 + 2 * 1.6 + 2  # the rest, and lowering and lifting
    for h in holds:
        propped = floor(s, f"side_{h['side']}_propped")
        rest = pitch(s, h["start_s"] - 2.2, h["start_s"] - 1.7)  # before the lift: up on the forearm
        assert np.median(rest) == pytest.approx(propped["pitch_deg"], abs=1.0)
        assert 3 <= propped["pitch_deg"] <= 10
        lifted = height(s, h["start_s"], h["end_s"])
        assert np.median(lifted) - floor(s, f"side_{h['side']}")["height_m"] >= 0.10
        assert 11 - 1.5 <= h["elev_deg"] <= 20


def test_knee_side_planks_lift_less_than_straight_ones() -> None:
    knees = cls_sim(15, "knee_side_plank", exercises=("side_plank",), short=True)
    assert all(h["knees"] and "knee_side_plank" in h["classes"] for h in knees.truth["holds"])
    for h in knees.truth["holds"]:
        assert 8 <= h["elev_deg"] <= 13 + 1.5
        assert np.median(height(knees, h["start_s"], h["end_s"])) - floor(knees, f"side_{h['side']}")["height_m"] <= 0.15 + 1e-6


# -- reps ---------------------------------------------------------------------------------------


def _movement_s(r: dict[str, Any]) -> float:
    return float(r["end_s"] - r["start_s"] - r["hold_s"])


def test_top_holds_of_back_extensions_are_0_to_5_s_and_held_at_the_top() -> None:
    s = cls_sim(16, "backext_top_hold", exercises=("back_extension",), short=True)
    reps = s.truth["reps"]
    assert all("backext_top_hold" in r["classes"] for r in reps)
    assert all(0.0 <= r["hold_s"] <= 5.0 for r in reps) and max(r["hold_s"] for r in reps) > 1.0
    for r in reps:
        rest = np.median(pitch(s, r["start_s"] - 0.3, r["start_s"]))
        sign = 1.0 if r["variant"] == "head_up" else -1.0
        mid = r["start_s"] + (r["end_s"] - r["start_s"] - r["hold_s"]) / 2 + r["hold_s"] / 2
        top = (
            pitch(s, mid - r["hold_s"] / 2 + 0.05, mid + r["hold_s"] / 2 - 0.05) if r["hold_s"] > 0.2 else pitch(s, mid - 0.02, mid + 0.02)
        )
        assert sign * (np.median(top) - rest) == pytest.approx(r["peak_deg"], abs=1.5)


def test_bridge_holds_range_0_to_10_s() -> None:
    holds = [r["hold_s"] for seed in (17, 18, 19) for r in cls_sim(seed, "bridge_hold_range", exercises=("bridge",)).truth["reps"]]
    assert min(holds) >= 0.0 and max(holds) <= 10.0
    assert np.ptp(holds) > 3.0  # sets aim at different holds


def test_a_single_leg_bridge_rolls_the_pelvis_down_on_the_lifted_leg_side() -> None:
    s = cls_sim(20, "single_leg_bridge", exercises=("bridge",), short=True)
    reps = s.truth["reps"]
    assert {r["leg_lifted"] for r in reps} == {"left", "right"}  # one set a leg
    assert {r["set"] for r in reps if r["leg_lifted"] == "left"}.isdisjoint({r["set"] for r in reps if r["leg_lifted"] == "right"})
    for r in reps:
        a = r["start_s"] + (r["end_s"] - r["start_s"]) / 2
        lateral = np.median(pitch(s, a - 0.1, a + 0.1, "lateral_axis_deg"))  # + right side up
        assert np.sign(lateral) == (-1 if r["leg_lifted"] == "right" else 1)
        assert 2 * 0.7 - 1e-9 <= abs(r["roll_deg"]) <= 14 * 1.4  # 2-12° (±2°), scaled with the rep's lift
        # Where the truth's roll, twist and lift put the right-left axis of a supine pelvis
        # (its back down): rolled and twisted in its own frame, then pitched head end down.
        own = Rotation.from_rotvec(np.radians([0.0, r["roll_deg"], r["twist_deg"]]))
        pitched = Rotation.from_rotvec(np.radians(r["peak_deg"]) * np.array([1.0, 0.0, 0.0])) * own
        expected = np.degrees(np.arcsin(-pitched.apply([1.0, 0.0, 0.0])[2]))
        assert lateral == pytest.approx(expected, abs=1.0)  # sway and tremor at the top
        assert 6.0 - 1e-9 <= r["peak_deg"] <= 28.0


def test_fast_and_slow_tempos_move_at_their_pace() -> None:
    fast = cls_sim(21, "tempo_fast", exercises=("bridge", "back_extension"), short=True).truth["reps"]
    slow = cls_sim(21, "tempo_slow", exercises=("bridge", "back_extension"), short=True).truth["reps"]
    assert all(2 * 0.3 - 1e-9 <= _movement_s(r) <= 2 * 0.7 + 1e-9 for r in fast)
    assert all(2 * 2.0 - 1e-9 <= _movement_s(r) <= 2 * 4.0 + 1e-9 for r in slow)
    assert all("tempo_fast" in r["classes"] for r in fast) and all("tempo_slow" in r["classes"] for r in slow)


def test_a_tired_set_gets_slower_lower_and_pauses_longer() -> None:
    s = cls_sim(22, "tired_set", exercises=("back_extension",))
    sets = s.truth["sets"]
    last = [r for r in s.truth["reps"] if r["set"] == sets[-1]["set"]]
    earlier = [r for r in s.truth["reps"] if r["set"] != sets[-1]["set"]]
    assert all("tired_set" in r["classes"] for r in last) and not any("tired_set" in r["classes"] for r in earlier)
    n = len(last) // 3
    first, end = last[:n], last[-n:]
    assert np.mean([r["peak_deg"] for r in end]) < np.mean([r["peak_deg"] for r in first])
    assert np.mean([_movement_s(r) for r in end]) > np.mean([_movement_s(r) for r in first])
    pauses = [b["start_s"] - a["end_s"] for a, b in zip(last, last[1:])]
    assert np.mean(pauses[-n:]) > np.mean(pauses[:n])


def test_forearm_rests_between_back_extensions_tilt_the_pelvis_on_the_floor() -> None:
    s = cls_sim(23, "backext_forearm_rest", exercises=("back_extension",), short=True)
    rests = [a for a in s.truth["activities"] if a["kind"] == "forearm_rest"]
    assert rests
    prone = floor(s, "prone")["height_m"]
    for a in rests:
        p = pitch(s, a["start_s"], a["end_s"])
        assert 1.0 <= np.max(np.abs(p)) <= 7.5  # 2-6° (±1° per rest), the reps' rocking not in it
        assert height(s, a["start_s"], a["end_s"]).max() - prone <= 0.01 + 1e-6
        assert not any(r["start_s"] < a["end_s"] and a["start_s"] < r["end_s"] for r in s.truth["reps"])


# -- stretches and daily life -------------------------------------------------------------------


@pytest.mark.parametrize("name", STRETCHES)
def test_stretch_sessions_have_nothing_to_count_in_truth(name: str) -> None:
    s = cls_sim(30, name, daily_life=True)
    t = s.truth
    assert t["kind"] == "daily_life" and t["reps"] == [] and t["holds"] == [] and t["sets"] == []
    (act,) = [a for a in t["activities"] if a["kind"] == name]
    assert act["classes"] == [name] and 0 < act["start_s"] < act["end_s"] < t["duration_s"]
    assert name in t["classes"]


def test_cat_cow_tilts_the_pelvis_both_ways_on_all_fours() -> None:
    s = cls_sim(31, "cat_cow", daily_life=True)
    (a,) = [a for a in s.truth["activities"] if a["kind"] == "cat_cow"]
    p = pitch(s, a["start_s"], a["end_s"]) - a["rest_deg"]
    assert p.min() <= -0.85 * a["cow_deg"] + 0.3 and p.max() >= 0.85 * a["cat_deg"] - 0.3
    assert 10 <= a["cow_deg"] <= 20 and 10 <= a["cat_deg"] <= 20
    crossings = np.count_nonzero(np.diff(np.sign(p[np.abs(p) > 3])) != 0)
    assert crossings >= 2 * a["cycles"] - 2  # through the rest twice a cycle
    h = height(s, a["start_s"], a["end_s"])
    assert h.min() >= 0.45 and h.max() <= 0.70 and np.ptp(h) >= 0.01  # turning about the hips moves the sacrum


def test_childs_pose_sits_back_low_and_pitched_down() -> None:
    s = cls_sim(32, "childs_pose", daily_life=True)
    (a,) = [a for a in s.truth["activities"] if a["kind"] == "childs_pose"]
    h = height(s, a["start_s"], a["end_s"])
    assert np.median(h) == pytest.approx(floor(s, "childs_pose")["height_m"], abs=1e-6)
    assert 0.28 <= np.median(h) <= 0.38
    assert -45 - 2 <= np.median(pitch(s, a["start_s"], a["end_s"])) <= -20 + 2


@pytest.mark.parametrize(("name", "lift_max"), [("pelvic_tilts", 0.01), ("knee_hugs", 0.04), ("cobra", 0.015)])
def test_floor_stretches_keep_the_pelvis_on_the_floor(name: str, lift_max: float) -> None:
    s = cls_sim(33, name, daily_life=True)
    (a,) = [a for a in s.truth["activities"] if a["kind"] == name]
    rest = "prone" if name == "cobra" else "supine"
    h = height(s, a["start_s"], a["end_s"])
    assert h.min() == pytest.approx(floor(s, rest)["height_m"], abs=1e-6)
    assert h.max() - h.min() <= lift_max + 1e-6
    p = pitch(s, a["start_s"], a["end_s"])
    if name == "cobra":
        assert 0.5 <= p.max() <= 6.5  # head end up a little, the chest does the rest
    else:
        assert p.min() <= -4  # posterior tilt: the head end of the pelvis down


def test_floor_sitting_sits_low_rolled_back_and_shifts() -> None:
    s = cls_sim(34, "floor_sitting", daily_life=True)
    (a,) = [a for a in s.truth["activities"] if a["kind"] == "floor_sitting"]
    h = height(s, a["start_s"], a["end_s"])
    assert h.min() >= 0.09 and h.max() <= 0.16
    long_axis = pitch(s, a["start_s"], a["end_s"])
    # Upright less the roll back: the long axis 60-80° above the horizontal at rest.
    assert 90 - 30 - 5 - 2 <= np.median(long_axis) <= 90 - 10 + 5 + 2
