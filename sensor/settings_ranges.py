"""What each analysis setting may be when it comes from outside (a recording's header):
one table, dotted name -> (lowest, highest, why). Every numeric setting of
``sensor.settings.PipelineSettings`` (the calibration, clock and detector settings nested)
has a row, and every default lies inside its row (tests/test_settings_ranges.py checks
both, so a new setting must get one). Outside, a value is not a way of analysing a workout
but a typo or a hostile file: division by zero, filters that cannot be designed, no event
ever found, or gigabytes of grid (``grid_hz`` 1e6).

Standard library only: the header reader imports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sensor.vocab import MOUNTS

# fmt: off
RANGES: dict[str, tuple[float, float, str]] = {
    # -- the pipeline ------------------------------------------------------------------
    "grid_hz": (25.0, 200.0, "the tilt and tremor filters need 25 Hz; movements are under 5 Hz and tremor under 15 Hz, so more only costs memory and time"),
    "max_gap_s": (0.1, 10.0, "a hole under 0.1 s is a dropped sample or two; bridging 10 s by a straight line would invent movements"),
    "batch_s": (0.0, 5.0, "live samples wait at most this long before the filters run; 5 s is already too late for live cues"),
    "posture_confirm_s": (0.1, 10.0, "a posture must last a few samples to count; 10 s would miss the start of every set"),
    "lp_hz": (0.5, 10.0, "the tilt's low-pass: under 0.5 Hz it lags a 1-s lift, over 10 Hz it passes tremor and nears the 25-Hz grid's limit"),
    "fusion_tau_s": (0.05, 5.0, "how long the gyro is trusted over gravity: under 0.05 s it is ignored, over 5 s its drift shows"),
    # -- the opening stand (CalibrationSettings) ---------------------------------------------
    "calibration.still_s": (0.5, 10.0, "a stand is about 3 s; under 0.5 s any pause counts, over 10 s nobody stands that still"),
    "calibration.window_s": (15.0, 600.0, "how long into the stream a stand is looked for: at least past the first stand, at most 10 min"),
    "calibration.upright_s": (0.5, 60.0, "upright time that gives the long axis without a stand"),
    "calibration.start_within_s": (1.0, 120.0, "a stand begins within seconds of the start, not minutes"),
    # -- stamping streams without device times (ClockSettings) --------------------------------
    "clock.settle_s": (0.0, 2.0, "a late packet waits this long for its burst; longer delays every live sample"),
    "clock.max_hold_s": (0.1, 30.0, "the longest a packet is held back for its burst"),
    "clock.anchor_s": (0.0, 5.0, "a connection's first packets wait this long for the least-delayed one; longer delays the first samples"),
    "clock.device_window_s": (1.0, 120.0, "the minimum-delay window of a device clock: seconds, not hours"),
    "clock.device_max_slew": (0.0, 0.05, "drift absorbed per second: crystal clocks drift under 1e-4; 5 % is not a clock"),
    # -- the detector (DetectorSettings): degrees of pelvis elevation away from rest -------------
    "detector.rest_tau_s": (0.2, 30.0, "the rest level must follow slow changes but not the reps themselves"),
    "detector.quiet_dps": (0.1, 20.0, "a quiet pelvis turns under a few °/s; 20 °/s is a movement"),
    "detector.quiet_tau_s": (0.02, 2.0, "smoothing of the rate for the quiet test: a sample or two up to 2 s"),
    "detector.history_s": (1.0, 30.0, "seconds of signal kept to look back over; more only costs memory"),
    "detector.bridge_start_deg": (1.0, 30.0, "a bridge lifts the pelvis 15-40°: it starts within the first 30°"),
    "detector.bridge_min_peak_deg": (1.0, 90.0, "the least peak that is a bridge: under 1° is noise; 90° (upright) counts none"),
    "detector.bridge_end_frac": (0.0, 0.9, "a fraction of the peak"),
    "detector.backext_start_deg": (0.3, 20.0, "a back extension tilts the pelvis 3-15°: it starts within the first 20°"),
    "detector.backext_min_peak_deg": (0.3, 30.0, "the least peak that is a back extension"),
    "detector.backext_max_peak_deg": (5.0, 90.0, "the most a back extension tilts the pelvis: at most upright"),
    "detector.backext_end_deg": (0.0, 10.0, "back within this of rest ends a back extension"),
    "detector.backext_end_frac": (0.0, 0.9, "a fraction of the peak"),
    "detector.backext_timeout_s": (2.0, 60.0, "a rep is at most 5 + 8 + 5 s; a minute is a new pose"),
    "detector.backext_min_s": (0.1, 5.0, "the briskest rep takes about 1 s"),
    "detector.backext_max_s": (1.0, 60.0, "the slowest rep takes under 10 s"),
    "detector.backext_max_hold_s": (0.5, 30.0, "people hold a back extension 0-5 s at the top"),
    "detector.backext_max_move_s": (0.3, 10.0, "lifting or lowering takes 0.5-1.5 s, 2-4 s when slow"),
    "detector.plank_min_deg": (0.5, 30.0, "the least tilt of a plank's lift"),
    "detector.plank_min_lift_m": (0.0, 0.5, "a plank lifts the pelvis 15-30 cm; no body lifts it 50 cm"),
    "detector.plank_end_frac": (0.0, 0.9, "a fraction of the hold's level"),
    "detector.plank_end_min_deg": (0.0, 10.0, "back within this of rest ends a plank"),
    "detector.side_start_deg": (0.5, 30.0, "a side plank tilts the pelvis 5-20°"),
    "detector.side_min_deg": (0.5, 45.0, "the least tilt of a side plank"),
    "detector.side_min_lift_m": (0.0, 0.5, "a side plank lifts the pelvis 10-25 cm; no body lifts it 50 cm"),
    "detector.side_prop_end_frac": (0.0, 0.9, "a fraction of the way from the forearm prop up to the hold's level"),
    "detector.plank_again_s": (0.0, 30.0, "seconds after a plank in which a lift is onto all fours, not a new plank"),
    "detector.lift_window_s": (0.5, 10.0, "how far before a hold the lift is integrated from: seconds, within the history kept"),
    "detector.lift_settle_s": (0.5, 20.0, "a lift settles within seconds (longer, the integral drifts)"),
    "detector.hold_end_frac": (0.0, 0.9, "a fraction of the hold's level"),
    "detector.hold_min_s": (0.5, 60.0, "the shortest hold worth a line: a wobble is under 0.5 s; every routine target is under 60 s"),
    "detector.hold_end_min_deg": (0.0, 20.0, "back within this of rest ends a hold"),
    "detector.hold_move_deg": (0.5, 45.0, "a departure that ends a hold: above sway (about 1° RMS), under a whole pose change"),
    "detector.hold_level_tau_s": (0.1, 60.0, "how fast a hold's level follows sway and sag: a sample to a minute"),
    "detector.hold_rock_deg": (0.5, 45.0, "a departure counted as rocking: above sway (about 1° RMS), a rep of a few degrees"),
    "detector.hold_way_in_s": (0.0, 60.0, "a first level left this soon was the way into the hold (on the hands, then the forearms)"),
    "detector.hold_rock_window_s": (0.5, 120.0, "two departures this close are rocking, not a shift of the hips"),
    "detector.hold_rock_min_s": (0.0, 60.0, "a pause before rocking reps, not a plank: up to a minute"),
    "detector.hold_move_wait_s": (0.1, 30.0, "how long a departure may go on before the hold is ended anyway"),
    "detector.settle_window_s": (0.02, 3.0, "the window a hold's level must be steady over"),
    "detector.settle_tol_deg": (0.05, 10.0, "how steady that is, in degrees"),
    "detector.settle_turn_deg": (0.1, 30.0, "how far gravity may turn over that window"),
    "detector.rep_timeout_s": (2.0, 120.0, "a rep held longer than 2 min is a pose, not a rep"),
    "detector.off_axis_frac": (0.05, 5.0, "sideways tilt allowed in a rep, as a fraction of its peak"),
    "detector.rep_min_turn_frac": (0.0, 1.0, "a fraction of the rise and fall the gyro must see"),
    "detector.bridge_guess_min_peak_deg": (0.0, 90.0, "a turn that is a bridge without its lift: 0 (any) to a quarter turn"),
    "detector.bridge_gap_estimate_s": (0.0, 5.0, "a dropout the lift is estimated across: none to a whole movement"),
    "detector.bridge_gap_estimate_frac": (0.0, 1.0, "the part of a rise a dropout may hide with the lift still estimated: none to all of it"),
    "detector.bridge_min_lift_m": (0.0, 0.3, "a bridge lifts the hips 8-25 cm; a pelvic tilt 0-2 cm: 0 turns the check off"),
    "detector.bridge_min_pivot_m": (-10.0, 1.0, "a bridge turns the pelvis about the shoulders, 20-50 cm away; a pelvic tilt about the sacrum: -10 turns the check off"),
    "detector.bridge_pivot_alone_m": (0.0, 10.0, "a turn about an axis this far off is a bridge whatever the lift reads: 10 (never) down to 0"),
    "detector.plank_max_raise_m": (0.1, 1.0, "a push-up position holds the pelvis up to ~35 cm over the floor; a metre is standing"),
    "detector.plank_max_drop_m": (0.05, 1.0, "from all fours to a plank the pelvis goes down 8-30 cm"),
    "detector.plank_drop_pitch_deg": (0.0, 30.0, "the head-up tilt a plank takes on over the pose before it"),
    "detector.plank_min_s": (0.0, 60.0, "shorter prone holds may be back extensions held at the top: 0 (never) to a minute"),
    "detector.plank_lift_min_pitch_deg": (-45.0, 10.0, "how far head-down a lift into a plank may turn the pelvis: up to child's pose"),
    "detector.plank_max_head_down_deg": (0.0, 90.0, "how far head-down a plank may tip: child's pose is 20-45°"),
    "detector.childs_pose_min_deg": (0.0, 90.0, "how far head-down a pose is child's pose (20-45°), not a floor on a slipped belt (up to 15°)"),
    "detector.stand_zero_error_deg": (0.0, 45.0, "how far the stand's zero may be off a person's pelvis (standing tilt, a tucked plank)"),
    "detector.plank_sure_lift_m": (0.0, 1.0, "a lift into a plank no tilt reads as one (those read under 0.1 m)"),
    "detector.plank_min_elev_deg": (-90.0, 90.0, "the least slope a plank reads with the stand (true 3-16° head-up, less the sensor's error)"),
    "detector.plank_max_pitch_change_deg": (1.0, 90.0, "the most a plank tips the pelvis from the pose before it"),
    "detector.back_lying_max_deg": (1.0, 90.0, "how far from level the pelvis rests when a rep may start"),
    "detector.all_fours_min_m": (0.05, 1.0, "all fours holds the pelvis 24-42 cm over its prone height"),
    "detector.all_fours_max_elev_deg": (-10.0, 45.0, "how far head-up all fours may tip the pelvis: level to steeper than any plank"),
    "detector.all_fours_pitch_deg": (0.0, 45.0, "all fours is level with the floor pose, a push-up slopes 12-20°"),
    "detector.pose_step_m": (0.01, 1.0, "a new pose is a step in height; a rep's top is 0-2 cm"),
    "detector.pose_move_max_s": (0.5, 8.0, "a pose change takes 1-4 s; longer integrals drift, and 8 s is the longest integrated"),
    "detector.brisk_rise_s": (0.0, 10.0, "a rise quicker than this reverses too sharply to read gravity at its top: 0 trusts every top"),
    "detector.backext_max_lift_m": (0.05, 2.0, "a back extension lifts the pelvis 0-2 cm, all fours 24-42 cm; a hobby IMU errs by up to 0.24 m"),
    "detector.settle_judge_s": (0.1, 10.0, "a hold is judged at its first settled moments"),
    "detector.rest_shift_s": (1.0, 120.0, "longer than any rep's top (0-10 s), shorter than a pose held for minutes"),
    "detector.rest_near_s": (0.0, 60.0, "quiet this long just off the rest level re-takes it: a sample to a minute"),
    "detector.rest_first_s": (0.0, 5.0, "steady this long before a posture's first rest level: none to a few seconds of lying still"),
    "detector.rest_first_tol_deg": (0.1, 5.0, "steady within this: above sensor noise, below a settling drift of a few degrees"),
    "detector.arrive_deg": (0.5, 20.0, "a plank wobbles 1-2° about its level; every way into a pose moves the pelvis 5° or more"),
    "detector.rest_first_wait_s": (0.0, 30.0, "then the first quiet sample: before the first rep people lie at most seconds"),
    "detector.rest_near_deg": (0.0, 10.0, "just off the rest level: under the lowest rep top (a few degrees)"),
    "detector.rest_shift_tol_deg": (0.1, 20.0, "how steady a new rest level is, in degrees"),
    "detector.rep_tail_s": (0.0, 5.0, "how long after falling back a rep may take to stop at rest"),
    "detector.rep_tail_max_s": (0.0, 10.0, "how long a fall still moving fast past rest is followed before it counts as stopped"),
    "detector.swing_frac": (0.0, 2.0, "how far past rest a swing goes, as a fraction of the peak"),
    "detector.swing_min_deg": (0.0, 30.0, "... and at least this far, in degrees"),
    "detector.rep_stop_frac": (0.0, 1.0, "a fraction of the fall's fastest speed"),
    "detector.rep_max_jolt_mps2": (0.05, 20.0, "simulated reps jolt at most 0.26 m/s², running 3.4: 20 is a fall"),
}
# fmt: on

DEFAULTS_HELP = "analyse with today's default settings, not those the recording was made with (when they are refused)"
DEFAULTS_NOTE = "note: analysed with today's default settings (--default-settings), not those the recording was made with"

CHOICES: dict[str, tuple[str, ...]] = {"mount": MOUNTS}
"""Settings that are words, with the words they may be."""


def leaves(obj: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of every setting in a settings JSON (``PipelineSettings.to_json``)."""
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaves(value, f"{name}.")
        else:
            yield name, value


def check_ranges(obj: dict[str, Any]) -> None:
    """ValueError naming the first setting outside its range, with the range and why."""
    for name, value in leaves(obj):
        if name in CHOICES and value not in CHOICES[name]:
            raise ValueError(f"setting {name} {str(value)[:20]!r} is not one of {', '.join(CHOICES[name])}")
        if name not in RANGES or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        low, high, why = RANGES[name]
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"setting {name} = {value:g} is outside {low:g}..{high:g} ({why})")
