"""Which poses a plank is, judged from the pose before it: a lift out of child's pose is onto
all fours, a pose swung through by cat-cow is held by no one, and a plank gone into straight
after lying down is a pose since it was reached, however often its level is taken again."""

from __future__ import annotations

import math

import pytest

from sensor.analyze import analyze_samples
from sensor.events import Analysis
from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.poses import PoseBook, plank_pose
from sensor.sim.classes import HELD_OUT
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session

S = DetectorSettings()
OTHER = ("mount_mismatch",)


def _session(seed: int, cls: str | None, daily: bool) -> tuple[SimulatedSession, Analysis]:
    """A session of the class catalogue featuring ``cls`` (None: drawn from all of it)."""
    classes = (cls,) if cls else None
    s = simulate_session(seed, SimOptions(classes=classes, draw_more=True, mount=None, daily_life=daily or None, exclude=HELD_OUT + OTHER))
    return s, analyze_samples(s.samples, s.gaps, s.header)


def test_a_lift_out_of_childs_pose_is_no_plank() -> None:
    # Measured in a tuning session (101912): up 0.20 m and 17.6 deg head-up, out of child's
    # pose (-19.9 deg) onto all fours (-2.3 deg). The same movement from a flat floor is
    # a plank; from a floor tilted 15 deg head-down by a slipped belt it still is.
    assert not plank_pose(S, 0.20, 17.6, -2.3)
    assert plank_pose(S, 0.20, 17.6, 17.6)
    assert plank_pose(S, 0.12, 10.0, -5.0)
    # Without the opening stand the pose it came from is unknown: judged as before.
    assert plank_pose(S, 0.20, 17.6, math.nan)


def test_as_high_as_all_fours_the_slope_decides_where_it_is_known() -> None:
    # A push-up plank of a tuning session (103349): 30 cm up, sloping 9.4 deg head-up, from
    # a floor that read 4.9 deg head-up, so only 4.5 deg of pitch change: a plank (it was
    # taken for all fours by the pitch change). Level at that height is all fours.
    assert plank_pose(S, 0.30, 4.5, 9.4)
    assert not plank_pose(S, 0.30, 4.5, 2.0)
    assert not plank_pose(S, 0.30, -3.0, 1.5)
    # Without the opening stand only the pitch change is known: small, all fours.
    assert not plank_pose(S, 0.30, 4.5, math.nan)
    assert plank_pose(S, 0.30, 12.0, math.nan)


def test_a_rest_pose_found_again_at_its_level_keeps_its_start() -> None:
    book = PoseBook()
    book.start_rest(20.0, 15.0, -1.13)
    # A shift within the plank reads as 13 cm up; the level is found again 3 deg lower.
    book.keep(-1.00, S.plank_min_lift_m)
    book.start_rest(41.9, 12.0, math.nan, S.hold_move_deg)
    assert book.rest is not None and book.rest.since_s == pytest.approx(20.0)
    # Lower by a plank's height, or at another elevation: a new pose from now.
    book.keep(-1.10, S.plank_min_lift_m)
    book.start_rest(50.0, 0.0, -1.10, S.hold_move_deg)
    assert book.rest is not None and book.rest.since_s == pytest.approx(50.0)
    book.keep(-1.30, S.plank_min_lift_m)
    book.start_rest(60.0, 0.5, -1.30, S.hold_move_deg)
    assert book.rest is not None and book.rest.since_s == pytest.approx(60.0)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "why"), [(2004, "up out of child's pose"), (2037, "cat-cow swung through the 'held' pose")])
def test_stretching_around_childs_pose_has_no_plank(seed: int, why: str) -> None:
    """Each gave a false plank before (10 s; 104 s of cat-cow)."""
    s, a = _session(seed, "childs_pose", True)
    assert not s.truth["holds"]
    assert [h for h in a.holds if h.exercise == "plank"] == [], why


@pytest.mark.slow
def test_a_plank_gone_into_right_after_lying_down_is_found() -> None:
    """Down on the floor for 1.5 s, then up into a 22-s plank: the plank was the first rest
    pose; a shift read as a new level 19 s in, and the plank, then 3 s "old", was missed
    when it was left (a tuning session, 101956: the case this was built on)."""
    s, a = _session(101956, None, False)
    (truth,) = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
    found = [h for h in a.holds if h.exercise == "plank"]
    assert len(found) == 1, a.holds
    # Seen only as it was left (no stability); timed from where the pelvis got up there.
    assert found[0].start_s == pytest.approx(truth["start_s"], abs=1.0)
    assert found[0].end_s == pytest.approx(truth["end_s"], abs=1.0)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "found_too"), [(103329, False), (103343, True), (103574, True)])
def test_up_onto_all_fours_out_of_a_plank_is_no_second_plank(seed: int, found_too: bool) -> None:
    """After a plank the knees come down and the hips go back up onto all fours: measured
    9-17 cm up (true 20-40 cm: the lift reads short), which passed as a lift into a new
    plank of 7-18 s (tuning sessions; in 103343 it swallowed a back extension too).
    In 103329 the plank (5.6 s, cut short) is entered from all fours through 2 s on the
    forearms: the excursion settles first on the forearms, which is no plank, and the plank
    after is not judged again (it was found only because all fours, tipped 7 deg head-down,
    had been taken for a plank first: a level pose no longer is). Missed; no second one."""
    s, a = _session(seed, None, False)
    truth = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
    found = [h for h in a.holds if h.exercise == "plank"]
    assert len(truth) == 1 and len(found) == int(found_too), found
    if found_too:
        assert found[0].start_s == pytest.approx(truth[0]["start_s"], abs=1.0)
        assert found[0].end_s == pytest.approx(truth[0]["end_s"], abs=1.0)


@pytest.mark.slow
def test_a_plank_left_without_rising_is_not_followed_by_another() -> None:
    """Only a rise a plank would be (plank_min_lift_m) counts as up onto all fours: a 0.0-cm
    "lift" right after a plank made a new rest pose there, and a 7-s plank was then found
    in it when it was left (seed 1000064: an uncalibrated IMU, a mounting named wrongly)."""
    s = simulate_session(1000064, SimOptions(classes=None, draw_more=True, mount=None, daily_life=None, exclude=()))
    a = analyze_samples(s.samples_as_read(), s.gaps, s.header)
    truth = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
    found = [h for h in a.holds if h.exercise == "plank"]
    assert len(truth) == 1 and len(found) == 1, found
    assert found[0].start_s == pytest.approx(truth[0]["start_s"], abs=1.0)


@pytest.mark.slow
def test_down_from_all_fours_into_a_sloping_pose_is_a_plank_not_the_floor() -> None:
    """From all fours down into a 7-s plank: the drop read 28 cm (true 10-30) with the
    pitch changing 4 deg, which is how lying down from all fours reads, so the plank was
    missed; it ended sloping 8.8 deg head-up, as no floor pose does (tuning session 103324)."""
    s, a = _session(103324, None, False)
    (truth,) = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
    found = [h for h in a.holds if h.exercise == "plank" and h.end_s > truth["start_s"] and h.start_s < truth["end_s"]]
    assert len(found) == 1, a.holds
    assert found[0].start_s == pytest.approx(truth["start_s"], abs=1.0)
    assert found[0].end_s == pytest.approx(truth["end_s"], abs=1.0)


@pytest.mark.slow
def test_a_plank_found_once_it_was_left_has_its_stability_measured() -> None:
    """A plank gone up into straight after lying down is the posture's first rest pose: it is
    known only when it is left, seconds after its samples went by. It was reported with sway,
    tremor, sag and score 0 ("very unsteady"); it is measured over the posture's kept samples
    like any hold (plank_from_floor, seed 671, at 50 Hz: the simulator's figures 0.35 deg
    sway, 3.4 deg/s tremor, 3.2 deg sag)."""
    s = simulate_session(671, SimOptions(classes=("plank_from_floor",), draw_more=True, mount=None, rate_hz=50.0))
    a = analyze_samples(s.samples, s.gaps, s.header)
    (truth,) = [h for h in s.truth["holds"] if h["exercise"] == "plank"]
    (found,) = [h for h in a.holds if h.exercise == "plank"]
    assert found.confidence == pytest.approx(0.6)  # the path under test: seen only as it was left
    # Tolerances as other holds meet them against the simulator: sway and tremor 15 %, sag 0.5 deg.
    assert found.sway_deg == pytest.approx(truth["sway_deg"], rel=0.15)
    assert found.tremor_dps == pytest.approx(truth["tremor_dps"], rel=0.15)
    assert found.sag_deg == pytest.approx(truth["sag_deg"], abs=0.5)
    assert 50.0 < found.score < 90.0


@pytest.mark.parametrize(
    ("seed", "activity"),
    [
        (104063, "cat_cow"),  # its level taken at the top of the first cow swing, left 20 s later
        (104074, "prone_phone"),  # elbows and phone: the level left for cat-cow 100 s later
    ],
)
def test_a_pose_rocked_out_of_and_back_was_no_plank(seed: int, activity: str) -> None:
    # Daily life worn on a hip with an uncalibrated IMU (tuning seeds of the evaluation).
    # The first rest level was left only when the pose ended, lower: a plank known once it
    # was left, had the pelvis not swung 15-35 deg off that level and back in between.
    held_out = ("single_leg_bridge", "side_plank_from_forearm", "backext_forearm_rest", "tired_set")
    held_out += ("knee_hugs", "cobra", "floor_sitting", "phone_rate", "mount_mismatch")
    s = simulate_session(seed, SimOptions(classes=None, draw_more=True, mount=None, daily_life=True, exclude=held_out))
    assert activity in s.truth["classes"] and "uncalibrated_imu" in s.truth["classes"]
    a = analyze_samples(s.samples_as_read(), s.gaps, s.header)
    assert not a.holds and not a.reps, (a.holds, a.reps)
