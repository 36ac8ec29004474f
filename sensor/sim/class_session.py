"""Sessions of the class catalogue (``sensor.sim.classes``): the routine with the session's
techniques, ways into the planks, stretches before and after, or a session of stretches
and daily life only; the body on the floor model (``sensor.sim.poses``) throughout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sensor.sim.entries import plank, side_planks
from sensor.sim.rep_sets import backext_sets, bridge_sets
from sensor.sim.sim_routine import blocks, rest, walk_in
from sensor.sim.stretches import STRETCH_MOVES

if TYPE_CHECKING:
    from sensor.sim.classes import SessionClasses
    from sensor.sim.sim_body import Body
    from sensor.sim.sim_sensor import SimOptions
    from sensor.sim.technique import Technique


def _closing(b: Body, w: Technique) -> None:
    b.go("standing", w.tempo_factor)
    b.still(b.rng.uniform(1, 3))
    b.walk(b.rng.uniform(4, 8))


def _stretch(b: Body, name: str, w: Technique) -> None:
    STRETCH_MOVES[name](b, w.tempo_factor)
    b.still(b.rng.uniform(2, 6))


def class_routine(b: Body, w: Technique, opt: SimOptions, cls: SessionClasses) -> None:
    rng = b.rng
    tf = w.tempo_factor
    walk_in(b, opt)
    for name in cls.warm_up:
        _stretch(b, name, w)
    for block in blocks(b, opt):
        if block == "bridge":
            b.go("supine", tf)
            b.still(rng.uniform(2.0, 4.0))
            bridge_sets(b, w, cls, opt.short)
            rest(b, rng.uniform(4, 10))
        elif block == "back_extension":
            b.go("prone", tf)
            b.still(rng.uniform(2.0, 4.0))
            backext_sets(b, w, cls, opt.short, rest)
            rest(b, rng.uniform(4, 10))
        elif block == "plank":
            plank(b, w, cls, opt.short)
            rest(b, rng.uniform(5, 12))
        elif block == "side_plank":
            side_planks(b, w, cls, opt.short, rest)
    for name in cls.cool_down:
        _stretch(b, name, w)
    _closing(b, w)


def stretch_session(b: Body, w: Technique, opt: SimOptions, cls: SessionClasses) -> None:
    """Stretches and daily life on the floor, in a shuffled order: nothing to count."""
    walk_in(b, opt)
    names = list(cls.stretches())
    b.rng.shuffle(names)
    for name in names:
        _stretch(b, name, w)
    _closing(b, w)
