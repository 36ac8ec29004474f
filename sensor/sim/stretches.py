"""Stretches, warm-ups and daily life on the floor: nothing in them is an exercise of the
routine, and the truth has no rep or hold for them, only an activity span with its class.

- ``cat_cow`` (on all fours): the pelvis tilts anteriorly (cow: the tail lifts, the head end
  of the pelvis goes down) and posteriorly (cat: tail tucked, head end up) 10-20° each way
  through its rest, in cycles of 3-8 s (one breath in and out), 5-15 cycles. It turns about
  the hip joints, the sacrum 3-6 cm above and 8-12 cm behind them, so the sensor also
  moves up and down a few centimetres.
- ``childs_pose``: from all fours the hips sit back onto the heels (0.2-0.35 m back and
  down to 0.28-0.38 m, the pelvis pitched 20-45° head-down, ``poses.py``), 20-90 s of slow
  breathing (the pelvis rocks 0.5-1.5° at 0.15-0.3 Hz); a third of people also walk the
  hands to one side (the pelvis rolls 3-6°); back up to all fours.
- ``pelvic_tilts`` (supine, knees bent): posterior tilts of 5-12° (flattening the low
  back: head end of the pelvis down, as in a bridge) held 1-5 s, half of people alternating
  with anterior tilts of 3-8°; 8-20 of them, 1-2.5 s a movement. The pelvis stays on the
  floor or lifts a centimetre.
- ``knee_hugs`` (supine): both knees pulled to the chest (the pelvis curls 10-25°
  posteriorly and the sacrum lifts 1-4 cm) or one knee at a time (5-12°, rolling 2-5° to
  that side); held 10-30 s, a third of people rocking gently (2-4° at 0.3-0.5 Hz); 2-5 hugs
  with 3-10 s between.
- ``cobra`` (prone press-up): the arms push the chest up while the pelvis stays on the
  floor; it tips 1-5° head-up as the lumbar spine extends and rises at most 1.5 cm; up and
  down in 1.5-3 s, held 1-10 s (a McKenzie press-up briefly, a yoga cobra longer), 5-10
  times with 1-4 s between.
- ``prone_phone``: lying on the stomach reading a phone, propped on the elbows (the pelvis
  settles tilted 2-8° either way), 30-240 s with fidgets and the odd spell lying flat.
- ``floor_sitting`` (legs out or crossed): 30-180 s of sitting still, leaning back on the
  hands (the pelvis rolls back 5-15° more), reaching for the toes (forward 15-35°, the
  sacrum moving forward over the seat bones) and shifting weight side to side (4-10°).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sensor.sim.sim_body import Body


def _span(b: Body, name: str, t0: float, **details: Any) -> None:
    b.truth["activities"].append({"kind": name, "classes": [name], "start_s": t0, "end_s": b.t, **details})


def _settle(b: Body, pose: str, tempo: float, lo: float = 1.0, hi: float = 3.0) -> tuple[float, float]:
    """Get into ``pose`` and settle there; the stretch's start and the pelvis's rest pitch."""
    b.go(pose, tempo)
    b.still(float(b.rng.uniform(lo, hi)), sway_deg=0.3, tremor_dps=1.0)
    return b.t, math.degrees(b.cur_elev)


def cat_cow(b: Body, tempo: float) -> None:
    rng = b.rng
    t0, rest = _settle(b, "all_fours", tempo)
    cow, cat = float(rng.uniform(10, 20)), float(rng.uniform(10, 20))
    period = float(rng.uniform(3, 8))
    n = int(rng.integers(5, 16))
    pivot = (0.0, float(rng.uniform(0.03, 0.06)), float(rng.uniform(0.08, 0.12)))
    b.move_elev(rest - cow, period / 4, sway=0.2, tremor=0.8, pivot_m=pivot)
    for i in range(n):
        half = period * float(rng.uniform(0.85, 1.15)) / 2
        b.still(float(rng.uniform(0.0, 0.5)), sway_deg=0.1, tremor_dps=0.5)
        b.move_elev(rest + cat * float(rng.uniform(0.85, 1.1)), half, sway=0.2, tremor=0.8, pivot_m=pivot)
        b.still(float(rng.uniform(0.0, 0.5)), sway_deg=0.1, tremor_dps=0.5)
        if i < n - 1:
            b.move_elev(rest - cow * float(rng.uniform(0.85, 1.1)), half, sway=0.2, tremor=0.8, pivot_m=pivot)
    b.move_elev(rest, period / 4, sway=0.2, tremor=0.8, pivot_m=pivot)
    _span(b, "cat_cow", t0, cycles=n, cow_deg=cow, cat_deg=cat, period_s=period, rest_deg=rest)


def childs_pose(b: Body, tempo: float) -> None:
    rng = b.rng
    b.go("all_fours", tempo)
    b.still(float(rng.uniform(0.5, 2)), sway_deg=0.3, tremor_dps=1.0)
    b.go("childs_pose", tempo)
    t0 = b.t
    total = float(rng.uniform(20, 90))
    amp, f = float(rng.uniform(0.5, 1.5)), float(rng.uniform(0.15, 0.3))
    if rng.random() < 1 / 3:  # hands walked to one side and the other
        part = total / 3
        b.oscillate(part, amp, f)
        for side in rng.permutation([-1.0, 1.0]):
            roll = float(side * rng.uniform(3, 6))
            b.move_elev(math.degrees(b.cur_elev), float(rng.uniform(1, 2)), offset_deg=(0.0, roll, 0.0))
            b.oscillate(part / 2, amp, f)
        b.move_elev(math.degrees(b.cur_elev), float(rng.uniform(1, 2)), offset_deg=(0.0, 0.0, 0.0))
    else:
        b.oscillate(total, amp, f)
    _span(b, "childs_pose", t0, pitch_deg=b.floor["childs_pose"].pitch_deg if b.floor else None)
    b.go("all_fours", tempo)


def pelvic_tilts(b: Body, tempo: float) -> None:
    rng = b.rng
    t0, rest = _settle(b, "supine", tempo)
    post = float(rng.uniform(5, 12))
    ant = float(rng.uniform(3, 8)) if rng.random() < 0.5 else 0.0
    lift = float(rng.uniform(0.0, 0.01))
    n = int(rng.integers(8, 21))
    for _ in range(n):
        b.move_elev(rest - post * float(rng.uniform(0.85, 1.1)), float(rng.uniform(1, 2.5)), lift, sway=0.2, tremor=0.8)
        b.still(float(rng.uniform(1, 5)), sway_deg=0.2, tremor_dps=1.0)
        b.move_elev(rest + ant, float(rng.uniform(1, 2.5)), -lift, sway=0.2, tremor=0.8)
        if ant:
            b.still(float(rng.uniform(0.5, 2)), sway_deg=0.2, tremor_dps=1.0)
            b.move_elev(rest, float(rng.uniform(0.8, 1.5)), sway=0.2, tremor=0.5)
        b.still(float(rng.uniform(0.5, 2)))
    _span(b, "pelvic_tilts", t0, tilts=n, posterior_deg=post, anterior_deg=ant, lift_m=lift)


def knee_hugs(b: Body, tempo: float) -> None:
    rng = b.rng
    t0, rest = _settle(b, "supine", tempo)
    both = rng.random() < 0.6
    rock = rng.random() < 1 / 3
    n = int(rng.integers(2, 6))
    for i in range(n):
        if both:
            tilt, roll, lift = float(rng.uniform(10, 25)), 0.0, float(rng.uniform(0.01, 0.04))
        else:
            tilt, roll, lift = float(rng.uniform(5, 12)), (1.0 if i % 2 else -1.0) * float(rng.uniform(2, 5)), float(rng.uniform(0.0, 0.02))
        b.move_elev(rest - tilt, float(rng.uniform(1.5, 3)), lift, sway=0.3, tremor=1.0, offset_deg=(0.0, roll, 0.0))
        hold = float(rng.uniform(10, 30))
        if rock:
            b.oscillate(hold, float(rng.uniform(2, 4)), float(rng.uniform(0.3, 0.5)), sway_deg=0.4)
        else:
            b.still(hold, sway_deg=0.5, tremor_dps=1.0)
        b.move_elev(rest, float(rng.uniform(1.5, 3)), -lift, sway=0.3, tremor=1.0, offset_deg=(0.0, 0.0, 0.0))
        b.still(float(rng.uniform(3, 10)))
    _span(b, "knee_hugs", t0, hugs=n, both_knees=both, rocking=rock)


def cobra(b: Body, tempo: float) -> None:
    rng = b.rng
    t0, rest = _settle(b, "prone", tempo)
    tip = float(rng.uniform(1, 5))
    hold = float(rng.uniform(1, 10))
    n = int(rng.integers(5, 11))
    for _ in range(n):
        lift = float(rng.uniform(0.0, 0.015))
        b.move_elev(rest + tip * float(rng.uniform(0.8, 1.2)), float(rng.uniform(1.5, 3)), lift, sway=0.2, tremor=1.0)
        b.still(hold * float(rng.uniform(0.7, 1.3)), sway_deg=0.3, tremor_dps=1.5)
        b.move_elev(rest, float(rng.uniform(1.5, 3)), -lift, sway=0.2, tremor=1.0)
        b.still(float(rng.uniform(1, 4)))
    _span(b, "cobra", t0, presses=n, tip_deg=tip, hold_s=hold)


def prone_phone(b: Body, tempo: float) -> None:
    rng = b.rng
    t0, _ = _settle(b, "prone", tempo, 2, 4)
    tilt = float(rng.choice([-1, 1]) * rng.uniform(2, 8))
    b.move_elev(tilt, float(rng.uniform(1.0, 3.0)), sway=0.3, tremor=0.5)
    left = float(rng.uniform(30, 240))
    while left > 0:
        piece = min(left, float(rng.uniform(3, 12)))
        b.still(piece, sway_deg=0.3, tremor_dps=0.5)
        left -= piece
        r = rng.random()
        if r < 0.4:
            b.fidget()
        elif r < 0.5:  # flat for a while, then up on the elbows again
            b.move_elev(0.0, float(rng.uniform(1.0, 3.0)), sway=0.3, tremor=0.5)
            b.still(float(rng.uniform(3, 15)), sway_deg=0.3, tremor_dps=0.5)
            b.move_elev(tilt, float(rng.uniform(1.0, 3.0)), sway=0.3, tremor=0.5)
    b.move_elev(0.0, float(rng.uniform(1.0, 3.0)), sway=0.3, tremor=0.5)
    _span(b, "prone_phone", t0, tilt_deg=tilt)


def floor_sitting(b: Body, tempo: float) -> None:
    rng = b.rng
    assert b.floor is not None
    b.go("floor_sitting", tempo)
    t0 = b.t
    pose = b.floor["floor_sitting"]
    left = float(rng.uniform(30, 180))
    while left > 0:
        t = b.t
        what = rng.choice(["still", "lean_back", "reach", "shift", "fidget"], p=[0.35, 0.2, 0.15, 0.2, 0.1])
        if what == "still":
            b.still(float(rng.uniform(3, 15)), sway_deg=0.4, tremor_dps=1.0)
        elif what in ("lean_back", "reach"):
            d = float(rng.uniform(5, 15)) if what == "lean_back" else -float(rng.uniform(15, 35))
            fwd = -0.12 * math.sin(math.radians(d))  # the sacrum turns over the seat bones
            b.change_posture("standing", float(rng.uniform(1.0, 2.5)), pose.height_m, tilt_deg=pose.pitch_deg + d, shift_m=fwd)
            b.still(float(rng.uniform(5, 25)), sway_deg=0.4, tremor_dps=1.5)
            b.change_posture("standing", float(rng.uniform(1.0, 2.5)), pose.height_m, tilt_deg=pose.pitch_deg, shift_m=-fwd)
        elif what == "shift":
            for side in (1.0, -1.0, 0.0):
                b.change_posture(
                    "standing",
                    float(rng.uniform(0.8, 1.5)),
                    pose.height_m,
                    tilt_deg=pose.pitch_deg,
                    offset_deg=(0.0, 0.0, side * float(rng.uniform(4, 10))),
                )
                b.still(float(rng.uniform(1, 5)), sway_deg=0.3, tremor_dps=1.0)
        else:
            b.fidget()
        left -= b.t - t
    _span(b, "floor_sitting", t0, tilt_deg=pose.pitch_deg)


STRETCH_MOVES: dict[str, Callable[[Body, float], None]] = {
    "cat_cow": cat_cow,
    "childs_pose": childs_pose,
    "pelvic_tilts": pelvic_tilts,
    "knee_hugs": knee_hugs,
    "cobra": cobra,
    "prone_phone": prone_phone,
    "floor_sitting": floor_sitting,
}
