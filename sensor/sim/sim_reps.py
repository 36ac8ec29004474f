"""Exercise segments of the simulated wearer's body: a rep (up, held, down) and a hold
(sway, tremor, fatigue sag), each writing its truth."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sensor.sim.sim_body import Body
from sensor.sim.technique import Technique


def rep(
    b: Body,
    exercise: str,
    amp_deg: float,
    rise: float,
    hold: float,
    lower: float,
    dz: float,
    *,
    partial: bool,
    set_no: int,
    sign: float = 1.0,
    variant: str = "",
    classes: tuple[str, ...] = (),
    top_offset_deg: tuple[float, float, float] | None = None,
    hold_sway_tremor: tuple[float, float] | None = None,
    move_tremor: float = 1.0,
) -> dict[str, Any]:
    """One rep: the pelvis pitches by ``sign * amp_deg`` (bridges: head end down);
    ``top_offset_deg``: a roll or twist reached at the top (a single-leg bridge)."""
    t0 = b.t
    e0 = math.degrees(b.cur_elev)
    ox, oy, oz = (float(x) for x in np.degrees(b.offset))
    b.move_elev(e0 + sign * amp_deg, rise, dz, sway=0.2, tremor=move_tremor, offset_deg=top_offset_deg)
    t_top = b.t
    sway, tremor = hold_sway_tremor or (b.rng.uniform(0.1, 0.5), b.rng.uniform(0.5, 2.0))
    b.hold(hold, sway, tremor, 0.0)
    t_down = b.t
    b.move_elev(e0, lower, -dz, sway=0.2, tremor=move_tremor, offset_deg=(ox, oy, oz) if top_offset_deg is not None else None)
    rec: dict[str, Any] = {
        "exercise": exercise,
        "start_s": t0,
        "end_s": b.t,
        "hold_s": t_down - t_top,
        "peak_deg": amp_deg,
        "set": set_no,
        "variant": variant,
    }
    if classes:
        rec["classes"] = list(classes)
    (b.truth["partials"] if partial else b.truth["reps"]).append(rec)
    return rec


def half_hearted_lift(b: Body) -> None:
    """A bridge of 2-5° that is not a rep (a lift given up at once), and a pause."""
    rng = b.rng
    rep(
        b,
        "bridge",
        rng.uniform(2, 5),
        rng.uniform(0.5, 1.0),
        rng.uniform(0.0, 1.0),
        rng.uniform(0.5, 1.0),
        0.02,
        partial=True,
        set_no=0,
        sign=-1.0,
    )
    b.still(rng.uniform(1.0, 2.0))


def hold_exercise(
    b: Body,
    exercise: str,
    side: str | None,
    elev_deg: float,
    lift_m: float,
    dur: float,
    w: Technique,
    *,
    knees: bool,
    variant: str,
    classes: tuple[str, ...] = (),
) -> None:
    """Lift into a hold from the floor, hold, lower back (the first catalogue's way)."""
    rng = b.rng
    e0 = math.degrees(b.cur_elev)
    b.move_elev(e0 + elev_deg, rng.uniform(0.8, 1.6) * w.tempo_factor, lift_m, sway=0.3, tremor=2.0)
    held(b, exercise, side, dur, w, knees=knees, variant=variant, elev_deg=elev_deg, classes=classes)
    b.move_elev(e0, rng.uniform(0.8, 1.6) * w.tempo_factor, -lift_m, sway=0.3, tremor=2.0)


def held(
    b: Body,
    exercise: str,
    side: str | None,
    dur: float,
    w: Technique,
    *,
    knees: bool,
    variant: str,
    elev_deg: float,
    classes: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A hold in the position reached: sway, tremor and a fatigue sag of at most 30 % of
    the hold's ``elev_deg`` (a hold that sags to the floor has ended); its truth."""
    rng = b.rng
    start = b.t
    sway = rng.uniform(0.15, 0.8) * w.steadiness
    tremor = rng.uniform(0.8, 8.0) * w.steadiness
    sag = rng.uniform(0.0, min(6.0, 0.3 * elev_deg))
    stab = b.hold(dur, sway, tremor, sag)
    end = b.t
    rec: dict[str, Any] = {
        "exercise": exercise,
        "side": side,
        "start_s": start,
        "end_s": end,
        "duration_s": end - start,
        "knees": knees,
        "variant": variant,
        **stab,
    }
    if classes:
        rec["classes"] = list(classes)
    b.truth["holds"].append(rec)
    return rec
