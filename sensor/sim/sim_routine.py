"""What the simulated wearer does in a session: the routine (exercises in a shuffled
order, with the technique drawn from ``sensor.sim.technique``) or a stretch of daily life.
The movements themselves are ``sensor.sim.sim_body.Body``'s segments."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sensor.sim.sim_reps import half_hearted_lift, hold_exercise, rep
from sensor.sim.technique import Technique, hold_time, move_time, set_direction

if TYPE_CHECKING:
    from sensor.sim.sim_body import Body
    from sensor.sim.sim_sensor import SimOptions


def walk_in(b: Body, opt: SimOptions) -> None:
    """The calibration stand (when the session has one), a few steps to the mat, a turn."""
    rng = b.rng
    if opt.standing_start:
        b.still(rng.uniform(3.5, 6.0), sway_deg=0.1, tremor_dps=0.2)
    b.walk(rng.uniform(5, 12))
    b.turn(rng.uniform(-math.pi, math.pi), rng.uniform(1.0, 2.0))
    b.still(rng.uniform(0.5, 1.5))


def _opening(b: Body, w: Technique, opt: SimOptions) -> None:
    rng = b.rng
    walk_in(b, opt)
    b.change_posture("sitting", rng.uniform(1.2, 2.0) * w.tempo_factor, 0.45)
    b.still(rng.uniform(1.0, 3.0), sway_deg=0.4, tremor_dps=1.0)
    b.change_posture("supine", rng.uniform(1.5, 2.5) * w.tempo_factor, 0.12)
    b.still(rng.uniform(2.0, 4.0))


def _closing(b: Body, w: Technique) -> None:
    rng = b.rng
    _go(b, "supine", w)
    b.change_posture("sitting", rng.uniform(1.5, 2.5) * w.tempo_factor, 0.45)
    b.still(rng.uniform(1, 2), sway_deg=0.4, tremor_dps=1.0)
    b.change_posture("standing", rng.uniform(1.2, 2.0) * w.tempo_factor, 1.0)
    b.still(rng.uniform(1, 3))
    b.walk(rng.uniform(4, 8))


def blocks(b: Body, opt: SimOptions) -> list[str]:
    """The session's exercises in the order done (shuffled unless told not to)."""
    out = list(opt.exercises)
    if opt.shuffle:
        b.rng.shuffle(out)
    return out


def routine_session(b: Body, w: Technique, opt: SimOptions) -> None:
    rng = b.rng
    short = opt.short
    _opening(b, w, opt)
    for block in blocks(b, opt):
        if block == "bridge":
            _go(b, "supine", w)
            n = w.bridge_reps or (int(rng.integers(4, 6)) if short else int(rng.integers(8, 15)))
            for i in range(n):
                if rng.random() < 0.08:  # a half-hearted lift that is not a rep
                    half_hearted_lift(b)
                fatigue = i / max(n - 1, 1)
                amp = float(np.clip(w.bridge_amp_deg + rng.uniform(-3, 3), 10, 35))
                rep(
                    b,
                    "bridge",
                    amp,
                    rng.uniform(0.7, 1.4) * w.tempo_factor,
                    float(np.clip(rng.normal(w.bridge_hold_s - 1.2 * fatigue, w.bridge_hold_sd_s), 1.0, w.bridge_hold_s + 2.0)),
                    rng.uniform(0.7, 1.4) * w.tempo_factor,
                    w.bridge_lift_m * amp / w.bridge_amp_deg,
                    partial=False,
                    set_no=1,
                    sign=-1.0,
                    variant="low" if w.bridge_amp_deg < 20 else "high",  # per session: a set is one variant
                )
                b.still(rng.uniform(0.8, 2.5))
            rest(b, rng.uniform(4, 10))
        elif block == "back_extension":
            _go(b, "prone", w)
            sets = w.backext_sets or (1 if short else 3)
            for s in range(1, sets + 1):
                direction = set_direction(rng, w)
                sign = 1.0 if direction == "head_up" else -1.0
                n = w.backext_reps or (int(rng.integers(4, 7)) if short else int(rng.integers(6, 16)))
                for _ in range(n):
                    rep(
                        b,
                        "back_extension",
                        float(np.clip(w.backext_amp_deg + rng.uniform(-1, 1), 3.0, 15.0)),
                        move_time(rng, w.backext_move_s, w),
                        float(rng.uniform(0.0, w.backext_hold_max_s)),
                        move_time(rng, w.backext_move_s, w),
                        w.backext_rise_m,
                        partial=False,
                        set_no=s,
                        sign=sign,
                        variant=direction,
                    )
                    b.still(rng.uniform(0.5, 3.0))
                if s < sets:
                    rest(b, rng.uniform(20, 60))
            rest(b, rng.uniform(4, 10))
        elif block == "plank":
            _go(b, "prone", w)
            dur, variant = hold_time(rng, 12, 25, w.plank_hold_s) if short else hold_time(rng, 20, 60, w.plank_hold_s)
            hold_exercise(b, "plank", None, w.plank_elev_deg + rng.uniform(-1, 1), w.plank_lift_m, dur, w, knees=False, variant=variant)
            rest(b, rng.uniform(5, 12))
        elif block == "side_plank":
            sides = ["right", "left"] if short else ["right", "left", "right", "left"]
            for side in sides:
                _go(b, f"side_{side}", w)
                b.still(rng.uniform(2.0, 4.0))
                elev = float(np.clip(w.side_elev_deg + rng.uniform(-1.5, 1.5), 8, 20))
                dur, cut = hold_time(rng, 12, 20, w.side_hold_s) if short else hold_time(rng, 15, 40, w.side_hold_s)
                variant = ("knees" if w.knee_side_plank else "straight") + ("_cut_short" if cut == "cut_short" else "")
                hold_exercise(b, "side_plank", side, elev, w.side_lift_m, dur, w, knees=w.knee_side_plank, variant=variant)
                rest(b, rng.uniform(4, 10))
    _closing(b, w)


def daily_life(b: Body, w: Technique, opt: SimOptions) -> None:
    """Lying about without exercising: on the stomach with a phone, propped on the elbows,
    turning over, on a side. Nothing here is an exercise."""
    rng = b.rng
    _opening(b, w, opt)
    # Always some time on the stomach and on a side, then a few more of anything.
    kinds = ["phone", "propped", "turn", "side"]
    acts = [str(rng.choice(["phone", "propped"])), "side", *rng.choice(kinds, int(rng.integers(1, 5))).tolist()]
    rng.shuffle(acts)
    for what in acts:
        t0 = b.t
        if what in ("phone", "propped"):
            _go(b, "prone", w)
            if what == "propped":  # up on the elbows: the pelvis settles tilted, either way
                b.prone_pose(float(rng.choice([-1, 1]) * rng.uniform(2, 8)), rng.uniform(1.0, 3.0))
            left = rng.uniform(10, 90)
            while left > 0:
                piece = min(left, rng.uniform(3, 12))
                b.still(piece, sway_deg=0.3, tremor_dps=0.5)
                left -= piece
                if rng.random() < 0.5:
                    b.fidget()
            b.prone_pose(0.0, rng.uniform(1.0, 3.0))
            b.still(rng.uniform(2, 5))
        elif what == "turn":  # over to the back and back again
            _go(b, "prone", w)
            _go(b, "supine", w)
            rest(b, rng.uniform(5, 20))
            _go(b, "prone", w)
            rest(b, rng.uniform(5, 20))
        else:
            _go(b, f"side_{rng.choice(['left', 'right'])}", w)
            rest(b, rng.uniform(10, 60))
        b.truth["activities"].append({"kind": what, "start_s": t0, "end_s": b.t})
    _closing(b, w)


def _go(b: Body, posture: str, w: Technique) -> None:
    if b.posture != posture:
        b.change_posture(posture, b.rng.uniform(1.5, 3.0) * w.tempo_factor, 0.12)
        b.still(b.rng.uniform(2.0, 4.0))


def rest(b: Body, dur: float) -> None:
    """Lie resting, with the odd fidget."""
    rng = b.rng
    left = dur
    while left > 0:
        piece = min(left, rng.uniform(2.0, 8.0))
        b.still(piece)
        left -= piece
        if left > 2 and rng.random() < 0.5:
            b.fidget()
            b.still(1.5)
