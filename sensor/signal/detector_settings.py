"""The detector's thresholds and timings, in one place (read by ``sensor.signal.detectors``,
``sensor.signal.reps``, ``sensor.signal.holds`` and the coach)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds in degrees of pelvis elevation away from rest."""

    rest_tau_s: float = 2.0  # how fast the rest level follows slow changes (quiet samples only)
    quiet_dps: float = 1.5  # the smoothed angle changing slower than this is "quiet"
    quiet_tau_s: float = 0.15  # smoothing of the angle's rate for the quiet test
    history_s: float = 4.0
    bridge_start_deg: float = 5.0
    bridge_min_peak_deg: float = 7.0
    bridge_end_frac: float = 0.15
    bridge_guess_min_peak_deg: float = 11.0  # a bridge turns the pelvis 12-33°, a pelvic tilt 5-12°: when a dropout hides the lift
    bridge_gap_estimate_s: float = 0.6  # a dropout up to this long in a bridge's rise: its lift is still estimated across it ...
    bridge_gap_estimate_frac: float = 0.3  # ... when it hides no more of the rise than this
    bridge_min_lift_m: float = 0.04  # a bridge lifts the hips 8-25 cm; a pelvic tilt or a knee hug 0-2 cm at the sacrum
    # A bridge turns the pelvis about the shoulders, a pelvic tilt about the sacrum: how far
    # from its axis the pelvis turned (``reps.pivot_m``) read 0.23-0.88 m on bridges (5-95 %)
    # and -0.14 to 0.2 m on pelvic tilts and other supine turns (tuning 103700-103859).
    bridge_min_pivot_m: float = 0.1
    # ... and one this far is a bridge whatever the lift's integral reads (other supine
    # turns reached 0.2 m at most, an uncalibrated IMU's, of ~700 on tuning sessions).
    bridge_pivot_alone_m: float = 0.25
    # A rise quicker than this reverses at the top too sharply for the reading there to be
    # taken for gravity (a lift's reversal accelerates ~6·h/T²; an accelerometer's scale
    # errors change the still reading by ~0.05 m/s² in a 30° turn, about as much at 2-3 s).
    brisk_rise_s: float = 2.0
    backext_start_deg: float = 1.4
    backext_min_peak_deg: float = 2.4
    backext_max_peak_deg: float = 20.0  # the pelvis rocks 3-15° in a back extension; cat-cow swings 20-40° end to end
    backext_end_deg: float = 0.8
    backext_end_frac: float = 0.3
    # A back extension leaves the pelvis on the floor (0-2 cm at the sacrum); getting up onto
    # all fours lifts it 24-42 cm, into a push-up position 18-34 cm. The integral of a hobby
    # IMU errs by up to ~0.24 m over a slow rep's 4-5 s (simulated uncalibrated_imu; 0.12
    # calibrated): what is beyond that is a change of pose, whatever the sensor.
    backext_max_lift_m: float = 0.25
    backext_timeout_s: float = 20.0  # longest rep (backext_max_s) and two seconds to spare: longer is a new pose
    # A lift and a lowering take 0.5 s each at the briskest, and the rep is timed between
    # its crossings of partial levels: 0.6-0.8 s. (A phone carried flat made 0.76-s "reps";
    # the jolt and turn checks remove those: the real walks and bus ride give none at 0.6.)
    backext_min_s: float = 0.6
    backext_max_s: float = 18.0  # two slowest movements and the longest top
    backext_max_hold_s: float = 8.0  # people hold 0-5 s at the top (the "superman hold" 3-4 s); a longer pose is not a rep
    backext_max_move_s: float = 5.0  # lifting or lowering (also a bridge's) takes 0.5-1.5 s, 2-4 s in a slow ("3 up, 3 down") or tired set
    plank_min_deg: float = 2.5  # either way: the lift, not the angle, makes a plank
    plank_min_lift_m: float = 0.07  # a forearm plank holds the pelvis 9-22 cm over its prone height; a back extension lifts it 0-2 cm
    plank_max_raise_m: float = 0.40  # a push-up position 18-34 cm; higher is standing up, not a plank
    plank_max_drop_m: float = 0.30  # all fours to a plank: down 8-30 cm (to the floor: 25-42 cm, with no tilt)
    # A plank slopes head-up from the feet (the pelvis 3-16°); the stand's calibration, a
    # hobby IMU's tilt error (up to 2.6°) and a sag take a few degrees off: a pose reading
    # further head-down than this is none (lying propped on the elbows, all fours).
    plank_min_elev_deg: float = 3.0
    # ... or this much less where the movement into it was sure (plank_sure_lift_m): the
    # stand's zero is a person's standing pelvic tilt, a few degrees either way, and a
    # plank tucks the pelvis.
    stand_zero_error_deg: float = 4.5
    plank_sure_lift_m: float = 0.12  # a lift or drop this large is no tilt read as one (those read under 0.1 m)
    plank_drop_pitch_deg: float = 3.0  # ... and the pelvis tips head-up, the body now sloping from the feet
    # No one planks for less (a cut-short plank lasts 5-10 s); a prone hold back to rest
    # sooner may be a back extension held at the top (0-5 s).
    plank_min_s: float = 5.0
    # Up out of a plank within this of leaving it is onto all fours (the knees set down and
    # the hips pushed back: 1-2 s), not a new plank: that starts from the floor or all fours.
    plank_again_s: float = 2.0
    # Lifted into a plank the pelvis tips head-up, or a little down; more is all fours out
    # of child's pose or out of a plank.
    plank_lift_min_pitch_deg: float = -8.0
    # More head-down than this: child's pose (20-45°), not the floor under a plank (a
    # slipped belt tilts it 5-15°).
    plank_max_head_down_deg: float = 12.0
    # Folded back in child's pose the pelvis tips 20-45° head-down (read from 17.8°, the
    # stand's zero a few degrees off); a floor reads up to 15° head-down on a slipped belt.
    # A lift from a pose folded further is onto all fours.
    childs_pose_min_deg: float = 15.0
    plank_max_pitch_change_deg: float = 22.0  # lying to a plank tips the pelvis 4-20° head-up; child's pose to all fours 20-45°
    # A back extension or a bridge starts lying flat: the pelvis within this of level
    # (child's pose is 20-45° head-down; a floor reads up to 15° on a slipped belt, as for
    # childs_pose_min_deg: at 22° breaths in a child's pose of 21° were back extensions).
    back_lying_max_deg: float = 18.0
    all_fours_min_m: float = 0.24  # all fours: the pelvis 24-42 cm over its prone height ...
    all_fours_pitch_deg: float = 8.0  # ... and level with the floor pose (a push-up position slopes 12-20°)
    all_fours_max_elev_deg: float = 5.0  # ... the pelvis level within ±5° (a plank slopes 4-15° head-up)
    pose_step_m: float = 0.06  # the pelvis rests this much higher or lower: a new pose (a rep's top is 0-2 cm for a back extension)
    pose_move_max_s: float = 5.0  # ... reached in one movement of at most this (getting onto all fours: 1-4 s); longer ones drift
    plank_end_frac: float = 0.3  # not above the rep rule (backext_end_*): chunk invariance
    plank_end_min_deg: float = 0.8
    side_start_deg: float = 4.0
    side_min_deg: float = 5.5
    side_min_lift_m: float = 0.06
    # A side plank lifted off a forearm prop is over this fraction of the way back up from
    # the prop (most of the way down to it): its sag (2-3° over a 30-s hold) is not its end.
    side_prop_end_frac: float = 0.3
    lift_window_s: float = 2.5  # how far before the start crossing the lift is integrated from
    settle_judge_s: float = (
        1.0  # a hold is judged at its first settled moments: later ones are the top of a rep or the start of its lowering
    )
    lift_settle_s: float = 4.0  # a lift settles within this long of the start crossing (longer: the integral drifts)
    hold_end_frac: float = 0.25
    hold_min_s: float = 2.0  # shorter "holds" were a wobble on the way somewhere else
    hold_end_min_deg: float = 2.5
    # A hold ends when the body stops being held still: a quick departure this far from the
    # level it is held at (which follows sway and sag with this time constant). Sway is at
    # most ~1° RMS and a fatigue sag a few degrees over tens of seconds; a rep rocks 3-15°
    # within a second.
    hold_move_deg: float = 5.0
    hold_level_tau_s: float = 2.0
    hold_move_wait_s: float = 3.0  # a departure that has not come to rest this long after ends the hold anyway
    # Rocking is not holding: smaller departures (reps of a few degrees rocking the hips,
    # over a level wrongly taken for a hold) end the hold once one returns and another
    # follows within hold_rock_window_s. Sway stays under ~1°; one shift of the hips is one.
    hold_rock_deg: float = 2.5
    hold_rock_window_s: float = 10.0
    hold_rock_min_s: float = 5.0  # a "hold" rocked out of sooner was the pause before a set of reps
    # A level held first, hold_move_deg off the one held after, is the way in if it was left
    # within this long (1-3 s on the hands, then onto one forearm and the other).
    hold_way_in_s: float = 8.0
    settle_window_s: float = 0.25
    settle_tol_deg: float = 0.6
    settle_turn_deg: float = 1.5  # the gravity direction may turn this much over the settle window
    rep_timeout_s: float = 22.0  # a bridge held 10 s at the top (people choose 0-10 s) between two 5-s movements, and a second to spare
    # An excursion quiet at one level (within rest_shift_tol_deg) for longer than any rep's
    # top (backext_max_hold_s) is the pelvis settled somewhere new: the rest level moves there.
    rest_shift_s: float = 12.0  # tops are held 0-10 s (a bridge), 0-5 s (a back extension)
    rest_shift_tol_deg: float = 1.5
    # ... or for rest_near_s at under rest_near_deg from it (no rep tops out that low).
    rest_near_s: float = 1.0
    rest_near_deg: float = 1.5
    # A posture's first rest level: once steady this long within this much (lying down, the
    # pelvis drifts a few degrees for a second or two), else the first quiet sample after
    # waiting rest_first_wait_s (a pelvis that never steadies: breathing, a noisy sensor).
    rest_first_s: float = 1.0
    rest_first_tol_deg: float = 0.8
    rest_first_wait_s: float = 4.0
    arrive_deg: float = 3.0  # a pose begins once within this of its level: above a plank's wobble, below any way into a pose
    # A rep stops at rest; cat-cow and pelvic tilts swing on through it to the other side.
    # Within rep_tail_s of falling back, going this far past rest (a fraction of the peak, at
    # least swing_min_deg) is a swing.
    rep_tail_s: float = 0.8
    rep_tail_max_s: float = 2.0  # ... or later, while it still moves fast past rest (a swing on its way)
    swing_frac: float = 0.3
    swing_min_deg: float = 1.5
    rep_stop_frac: float = 0.5  # near rest and slower than this fraction of its fall's fastest: stopped (a min-jerk movement is at 13 % of its peak speed 10 % from its end; a swing passes rest at its fastest)
    off_axis_frac: float = 0.6
    # A rep turns the pelvis: the gyro must see at least this fraction of the rise and of the
    # fall in elevation (a vehicle braking or a stride tilts the accelerometer, not the pelvis).
    rep_min_turn_frac: float = 0.5
    # A rep is a controlled movement: the median jolt (|specific force| about its median over
    # the rep, m/s²) stays small. Simulated reps: at most 0.26; a phone carried on a bus or
    # while walking or running: 0.7-3.4 (the real exports in ../shared/vectors).
    rep_max_jolt_mps2: float = 0.5
