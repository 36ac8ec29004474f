"""Sets of reps in sessions of the class catalogue: how long people hold the top, how fast
they move, how they rest between reps and how a set goes when they tire.

- ``backext_top_hold``: coaches often ask for a "superman hold" of 3-4 s at the top; people
  who pause choose anything from none to ~5 s. Per set: half the sets aim at 3-4 s, the
  others at 0-5 s; each rep ±0.3 s around the aim. Holding chest and legs up is effortful:
  tremor 1-4 °/s, sway 0.15-0.5° at the top.
- ``backext_forearm_rest``: between reps the person props up on the forearms (the sphinx
  rest): the pelvis stays on the floor but tilts 2-6° (lumbar extension pulls it one way or
  the other, per person), for 3-10 s, after half to all of a set's reps; down again in
  0.8-1.5 s before the next rep.
- ``bridge_hold_range``: the hold people choose at the top of a bridge, 0-10 s: touch-and-go
  (0-1 s) a quarter of sets, 1-4 s a quarter, around the guide's 5 s (4-6 s) 30 %, long
  holds (6-10 s) a fifth; each rep ±0.4 s around the set's aim.
- ``single_leg_bridge``: one foot planted, the other leg lifted; one set per leg. Hip
  extension on one leg lifts less (8-25° of pelvic rotation, 6-18 cm); the pelvis rolls
  about its long axis, the unsupported side dropping 2-12° (the drop physiotherapists
  watch for; less with good control), and twists 2-8° toward that side; sway 0.3-1.0° and
  tremor 2-6 °/s at the top; 1-5 s holds.
- ``tempo_fast``: pulses of 0.3-0.6 s a movement (back extensions) or 0.4-0.7 s (bridges),
  at most 0.5 s at the top, 0.2-1.0 s between reps.
- ``tempo_slow``: controlled tempos such as 3-1-3: 2-4 s a movement, 0.5-2 s at the top of a
  back extension, 1-3 s between reps.
- ``tired_set``: the last set of an exercise, reps getting slower (movements up to 20-60 %
  longer by the last rep), lower (amplitude down 15-40 %), shakier (tremor up to 1.5-3×) and
  with longer pauses (2-6 s more by the end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sensor.sim.sim_reps import half_hearted_lift, rep
from sensor.sim.technique import Technique, move_time, set_direction

if TYPE_CHECKING:
    from sensor.sim.classes import SessionClasses
    from sensor.sim.sim_body import Body


@dataclass
class Tired:
    """How a tired set degrades by its last rep (none: ``progress`` is 0 throughout)."""

    slower: float = 0.0
    lower: float = 0.0
    shakier: float = 0.0
    pauses_s: float = 0.0

    @staticmethod
    def draw(rng: np.random.Generator) -> Tired:
        return Tired(float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.15, 0.4)), float(rng.uniform(0.5, 2.0)), float(rng.uniform(2, 6)))


def _tempo(cls: SessionClasses) -> str:
    return "fast" if "tempo_fast" in cls else "slow" if "tempo_slow" in cls else ""


def _own(cls: SessionClasses, names: tuple[str, ...]) -> list[str]:
    return [c for c in names if c in cls]


def bridge_sets(b: Body, w: Technique, cls: SessionClasses, short: bool) -> None:
    """The bridge block: one set, or one per leg on a single leg."""
    rng = b.rng
    single = "single_leg_bridge" in cls
    legs = [str(x) for x in rng.permutation(["left", "right"])] if single else [""]
    for k, leg in enumerate(legs, 1):
        n = w.bridge_reps or (int(rng.integers(4, 6)) if short else int(rng.integers(6, 13) if single else rng.integers(8, 15)))
        tired = Tired.draw(rng) if "tired_set" in cls and k == len(legs) else None
        aim = _bridge_aim(rng) if "bridge_hold_range" in cls else None
        own = _own(cls, ("bridge_hold_range", "single_leg_bridge", "tempo_fast", "tempo_slow"))
        own += ["tired_set"] if tired else []
        amp0 = float(rng.uniform(8, 25)) if single else w.bridge_amp_deg
        lift0 = float(rng.uniform(0.06, 0.18)) if single else w.bridge_lift_m
        drop = float(rng.uniform(2, 12))
        for i in range(n):
            p = i / max(n - 1, 1)
            if rng.random() < 0.08:  # a half-hearted lift that is not a rep
                half_hearted_lift(b)
            t = tired or Tired()
            amp = float(np.clip(amp0 + rng.uniform(-3, 3), 6, 35)) * (1 - t.lower * p)
            slow = 1 + t.slower * p
            tempo = _tempo(cls)
            if tempo == "fast":
                rise, lower = rng.uniform(0.4, 0.7, 2) * slow
            elif tempo == "slow":
                rise, lower = rng.uniform(2.0, 4.0, 2) * slow
            else:
                rise, lower = rng.uniform(0.7, 1.4, 2) * w.tempo_factor * slow
            if aim is not None:
                hold = float(np.clip(aim + rng.normal(0, 0.4), 0.0, 10.0))
            elif single:
                hold = float(rng.uniform(1.0, 5.0))
            elif tempo == "fast":
                hold = float(rng.uniform(0.0, 0.5))
            else:
                hold = float(np.clip(rng.normal(w.bridge_hold_s - 1.2 * p, w.bridge_hold_sd_s), 1.0, w.bridge_hold_s + 2.0))
            shake = 1 + t.shakier * p
            top = None
            sway_tremor = None
            if single:
                side = -1.0 if leg == "right" else 1.0  # a rotation about +y raises the right side of a supine pelvis
                d = float(np.clip(drop + rng.uniform(-2, 2), 0.5, 14)) * amp / max(amp0, 1e-6)
                top = (0.0, side * d, side * float(rng.uniform(2, 8)) * amp / max(amp0, 1e-6))
                sway_tremor = (float(rng.uniform(0.3, 1.0)), float(rng.uniform(2, 6)) * shake)
            elif tired:
                sway_tremor = (float(rng.uniform(0.1, 0.5)) * shake, float(rng.uniform(0.5, 2.0)) * shake)
            rec = rep(
                b,
                "bridge",
                amp,
                float(rise),
                hold,
                float(lower),
                lift0 * amp / max(amp0, 1e-6),
                partial=False,
                set_no=k,
                sign=-1.0,
                variant=("single_leg" if single else "low" if amp0 < 20 else "high"),
                classes=tuple(own),
                top_offset_deg=top,
                hold_sway_tremor=sway_tremor,
                move_tremor=1.0 * shake,
            )
            if single:
                rec["leg_lifted"] = leg
                rec["roll_deg"] = float(top[1]) if top else 0.0  # about the pelvis's long axis
                rec["twist_deg"] = float(top[2]) if top else 0.0  # about its front-back axis
            b.still(_pause(rng, tempo, (0.8, 2.5)) + t.pauses_s * p)
        if k < len(legs):
            b.still(float(rng.uniform(5, 20)), sway_deg=0.3, tremor_dps=0.5)


def _bridge_aim(rng: np.random.Generator) -> float:
    band = rng.choice(4, p=[0.25, 0.25, 0.3, 0.2])
    lo, hi = ((0.0, 1.0), (1.0, 4.0), (4.0, 6.0), (6.0, 10.0))[band]
    return float(rng.uniform(lo, hi))


def _pause(rng: np.random.Generator, tempo: str, usual: tuple[float, float]) -> float:
    lo, hi = {"fast": (0.2, 1.0), "slow": (1.0, 3.0)}.get(tempo, usual)
    return float(rng.uniform(lo, hi))


def backext_sets(b: Body, w: Technique, cls: SessionClasses, short: bool, rest: Callable[[Body, float], None]) -> None:
    """The back-extension block: three sets (one when short) with the breathers between
    them (``rest(b, seconds)``)."""
    rng = b.rng
    sets = w.backext_sets or (1 if short else 3)
    tempo = _tempo(cls)
    prop_deg = float(rng.choice([-1, 1]) * rng.uniform(2, 6))
    for s in range(1, sets + 1):
        direction = set_direction(rng, w)
        sign = 1.0 if direction == "head_up" else -1.0
        n = w.backext_reps or (int(rng.integers(4, 7)) if short else int(rng.integers(6, 16)))
        tired = Tired.draw(rng) if "tired_set" in cls and s == sets else None
        aim = (float(rng.uniform(3, 4)) if rng.random() < 0.5 else float(rng.uniform(0, 5))) if "backext_top_hold" in cls else None
        prop_share = float(rng.uniform(0.5, 1.0)) if "backext_forearm_rest" in cls else 0.0
        own = _own(cls, ("backext_top_hold", "backext_forearm_rest", "tempo_fast", "tempo_slow")) + (["tired_set"] if tired else [])
        t = tired or Tired()
        for i in range(n):
            p = i / max(n - 1, 1)
            slow = 1 + t.slower * p
            shake = 1 + t.shakier * p
            if tempo == "fast":
                up, down = rng.uniform(0.3, 0.6, 2) * slow
            elif tempo == "slow":
                up, down = rng.uniform(2.0, 4.0, 2) * slow
            else:
                up, down = move_time(rng, w.backext_move_s, w) * slow, move_time(rng, w.backext_move_s, w) * slow
            if aim is not None:
                hold = float(np.clip(aim + rng.normal(0, 0.3), 0.0, 5.0))
                sway_tremor: tuple[float, float] | None = (float(rng.uniform(0.15, 0.5)), float(rng.uniform(1, 4)) * shake)
            else:
                hold = float(
                    rng.uniform(0.0, 0.5)
                    if tempo == "fast"
                    else rng.uniform(0.5, 2.0)
                    if tempo == "slow"
                    else rng.uniform(0.0, w.backext_hold_max_s)
                )
                sway_tremor = (float(rng.uniform(0.1, 0.5)) * shake, float(rng.uniform(0.5, 2.0)) * shake) if tired else None
            amp = float(np.clip(w.backext_amp_deg + rng.uniform(-1, 1), 3.0, 15.0)) * (1 - t.lower * p)
            rep(
                b,
                "back_extension",
                amp,
                float(up),
                hold,
                float(down),
                w.backext_rise_m,
                partial=False,
                set_no=s,
                sign=sign,
                variant=direction,
                classes=tuple(own),
                hold_sway_tremor=sway_tremor,
                move_tremor=shake,
            )
            pause = _pause(rng, tempo, (0.5, 3.0)) + t.pauses_s * p
            if i < n - 1 and rng.random() < prop_share:
                _forearm_rest(b, prop_deg)
                pause = float(rng.uniform(0.3, 1.0))
            b.still(pause)
        if s < sets:
            rest(b, float(rng.uniform(20, 60)))


def _forearm_rest(b: Body, tilt_deg: float) -> None:
    """Up on the forearms for a breather, the pelvis on the floor, then down again."""
    rng = b.rng
    t0 = b.t
    e0 = float(np.degrees(b.cur_elev))
    b.move_elev(
        e0 + tilt_deg + float(rng.uniform(-1, 1)), float(rng.uniform(0.8, 1.5)), float(rng.uniform(0.0, 0.01)), sway=0.3, tremor=0.8
    )
    b.still(float(rng.uniform(3, 10)), sway_deg=0.3, tremor_dps=0.6)
    b.move_elev(e0, float(rng.uniform(0.8, 1.5)), b.floor["prone"].height_m - b.cur_pos[2] if b.floor else 0.0, sway=0.3, tremor=0.8)
    b.truth["activities"].append({"kind": "forearm_rest", "classes": ["backext_forearm_rest"], "start_s": t0, "end_s": b.t})
