"""Ways into and out of planks and side planks, in sessions of the class catalogue.

- ``plank_from_floor``: from lying prone, up onto the forearms and toes in one movement
  (0.8-1.6 s): the hips rise from the prone height to the plank's; down to the floor after.
- ``plank_from_all_fours``: on all fours (hips ~0.5 m) the person lowers onto the forearms
  (the shoulders drop ~0.25 m, the pelvis pitches 5-12° head-down while the knees still
  carry it), then walks the legs back into the plank: one leg and then the other (7 in 10;
  the pelvis rolls 3-8° toward the extending leg's side and back) or both at once. The hips
  go *down* 0.1-0.3 m into the plank and back 0.2-0.4 m. After the hold the knees come down
  again (back up to all fours: the hips rise) or the body is lowered to the floor.
- ``plank_from_pushup``: on the hands and toes first (from all fours stepping back, or
  pressed up from the floor), a moment there (1-3 s), then down onto one forearm and the
  other (0.6-1.2 s each; the pelvis rolls 3-7° while one arm is down): the hips go down
  ~0.1 m and the pitch falls from the push-up's 12-20° to the plank's. After: down to the
  floor, or knees down to all fours.
- Side planks: from lying on the side, the hips lift 10-22 cm and tilt 11-20° (8-13° and
  10-15 cm on the knees, ``knee_side_plank``). ``side_plank_from_forearm``: already propped
  on the forearm (pelvis tilted 3-10°, on the floor) for 3-20 s before lifting, and back
  onto it after, so the lift starts from a tilted rest. ``side_plank_repeat_same_side``:
  2-3 holds on a side, with 5-30 s of rest on that side between (lying or propped), before
  turning to the other side.
- Hold lengths as in the first catalogue (a quarter cut short at 5-10 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sensor.sim.sim_reps import held
from sensor.sim.technique import Technique, hold_time

if TYPE_CHECKING:
    from sensor.sim.classes import SessionClasses
    from sensor.sim.sim_body import Body


def plank(b: Body, w: Technique, cls: SessionClasses, short: bool) -> None:
    """One front plank, entered and left as the session's entry class says."""
    assert b.floor is not None
    rng = b.rng
    tf = w.tempo_factor
    entry = next(c for c in ("plank_from_all_fours", "plank_from_pushup", "plank_from_floor") if c in cls)
    pl = b.floor["plank"]
    pitch = float(np.clip(pl.pitch_deg + rng.uniform(-1, 1), 3, 16))
    dur, variant = hold_time(rng, 12, 25, w.plank_hold_s) if short else hold_time(rng, 20, 60, w.plank_hold_s)
    if entry == "plank_from_floor":
        b.go("prone", tf)
        b.change_posture("prone", float(rng.uniform(0.8, 1.6)) * tf, pl.height_m, pitch_deg=pitch)
    elif entry == "plank_from_all_fours":
        b.go("all_fours", tf)
        b.still(float(rng.uniform(1, 3)), sway_deg=0.3, tremor_dps=1.0)
        af = b.floor["all_fours"]
        h1 = af.height_m - float(rng.uniform(0.02, 0.06))
        b.change_posture("prone", float(rng.uniform(1.0, 2.0)) * tf, h1, pitch_deg=af.pitch_deg - float(rng.uniform(5, 12)))
        b.still(float(rng.uniform(0.3, 1.0)), sway_deg=0.3, tremor_dps=1.0)
        back = float(rng.uniform(-0.4, -0.2))
        if rng.random() < 0.7:  # one leg, then the other
            roll = float(rng.choice([-1, 1]) * rng.uniform(3, 8))
            mid_h, mid_e = 0.5 * (h1 + pl.height_m), 0.5 * (float(np.degrees(b.cur_elev)) + pitch)
            b.change_posture(
                "prone", float(rng.uniform(0.8, 1.5)) * tf, mid_h, pitch_deg=mid_e, shift_m=back / 2, offset_deg=(0.0, roll, 0.0)
            )
            b.still(float(rng.uniform(0.2, 0.8)), sway_deg=0.4, tremor_dps=2.0)
            b.change_posture("prone", float(rng.uniform(0.8, 1.5)) * tf, pl.height_m, pitch_deg=pitch, shift_m=back / 2)
        else:
            b.change_posture("prone", float(rng.uniform(1.0, 2.0)) * tf, pl.height_m, pitch_deg=pitch, shift_m=back)
    else:
        if rng.random() < 0.6:
            b.go("all_fours", tf)
            b.still(float(rng.uniform(0.5, 2)), sway_deg=0.3, tremor_dps=1.0)
            b.go("pushup", tf)
        else:  # pressed up from the floor
            b.go("prone", tf)
            pu = b.floor["pushup"]
            b.change_posture("prone", float(rng.uniform(1.2, 2.5)) * tf, pu.height_m, pitch_deg=pu.pitch_deg)
        b.still(float(rng.uniform(1, 3)), sway_deg=0.4, tremor_dps=3.0)
        roll = float(rng.choice([-1, 1]) * rng.uniform(3, 7))
        mid_h, mid_e = 0.5 * (b.cur_pos[2] + pl.height_m), 0.5 * (float(np.degrees(b.cur_elev)) + pitch)
        b.change_posture("prone", float(rng.uniform(0.6, 1.2)) * tf, mid_h, pitch_deg=mid_e, offset_deg=(0.0, roll, 0.0))
        b.still(float(rng.uniform(0.1, 0.5)), sway_deg=0.4, tremor_dps=2.0)
        b.change_posture("prone", float(rng.uniform(0.6, 1.2)) * tf, pl.height_m, pitch_deg=pitch)
    b.pose_name = "plank"
    held(b, "plank", None, dur, w, knees=False, variant=variant, elev_deg=pitch, classes=(entry,))["elev_deg"] = pitch
    if entry != "plank_from_floor" and rng.random() < 0.5:  # knees down, back up onto all fours
        af = b.floor["all_fours"]
        b.change_posture(
            "prone", float(rng.uniform(1.0, 2.0)) * tf, af.height_m, pitch_deg=af.pitch_deg, shift_m=float(rng.uniform(0.2, 0.4))
        )
        b.pose_name = "all_fours"
    else:  # down to the floor
        b.change_posture("prone", float(rng.uniform(0.8, 1.6)) * tf, b.floor["prone"].height_m)
        b.pose_name = "prone"


def side_planks(b: Body, w: Technique, cls: SessionClasses, short: bool, rest: Callable[[Body, float], None]) -> None:
    """The side-plank block: both sides, twice each (once when short), or 2-3 holds on a
    side with short rests when the session repeats a side."""
    assert b.floor is not None
    rng = b.rng
    tf = w.tempo_factor
    knees = "knee_side_plank" in cls
    forearm = "side_plank_from_forearm" in cls
    elev0 = float(rng.uniform(8, 13) if knees else rng.uniform(11, 20))
    lift0 = float(rng.uniform(0.10, 0.15) if knees else rng.uniform(0.14, 0.22))
    first = "right" if rng.random() < 0.6 else "left"
    other = "left" if first == "right" else "right"
    if "side_plank_repeat_same_side" in cls:
        plan = [first] * int(rng.integers(2, 4)) + [other] * (int(rng.integers(2, 4)) if not short else 1)
    else:
        plan = [first, other] if short else [first, other, first, other]
    prev = None
    for side in plan:
        repeat = side == prev
        lying, propped = f"side_{side}", f"side_{side}_propped"
        if not repeat:
            b.go(lying, tf)
            b.still(float(rng.uniform(2.0, 4.0)))
            if forearm:
                b.to_pose(propped, float(rng.uniform(1.0, 2.0)) * tf)
                b.still(float(rng.uniform(3, 20)), sway_deg=0.3, tremor_dps=1.0)
        elev = float(np.clip(elev0 + rng.uniform(-1.5, 1.5), 8, 20))
        dur, cut = hold_time(rng, 12, 20, w.side_hold_s) if short else hold_time(rng, 15, 40, w.side_hold_s)
        variant = ("knees" if knees else "straight") + ("_cut_short" if cut == "cut_short" else "")
        own = tuple(
            c for c, on in (("knee_side_plank", knees), ("side_plank_from_forearm", forearm), ("side_plank_repeat_same_side", repeat)) if on
        )
        h0 = b.floor[lying].height_m
        b.change_posture(lying, float(rng.uniform(0.8, 1.6)) * tf, h0 + lift0, pitch_deg=elev)
        rec = held(b, "side_plank", side, dur, w, knees=knees, variant=variant, elev_deg=elev, classes=own)
        rec["elev_deg"] = elev
        if repeat:
            rec["repeat"] = sum(1 for h in b.truth["holds"] if h["exercise"] == "side_plank" and h["side"] == side)
        back = propped if forearm else lying
        b.to_pose(back, float(rng.uniform(0.8, 1.6)) * tf)
        gap = float(rng.uniform(5, 30))
        if forearm:
            b.still(gap, sway_deg=0.3, tremor_dps=1.0)
        else:
            rest(b, gap)
        prev = side
