"""The named classes of the simulated wearer: ways of doing the routine, ways into a plank,
stretches and daily life with nothing to count, sensors and how they are worn. A session's
truth lists the classes in it (``truth["classes"]``) and every rep, hold, set and stretch
carries its own, so that ``holdtrack evaluate`` reports every figure per class and on
classes held out of tuning (``sensor.sim.class_groups``).

Scope says what a class covers: ``event`` classes belong to reps, holds and sets;
``session`` classes to the whole session (the sensor, its mounting, a belt that slips);
``activity`` classes are stretches and daily life, spans of the session with nothing to
count (their false events are counted per hour of the span).

The probabilities are for a session drawn from the whole catalogue (``evaluate
--simulate`` without ``--classes``): common habits are common, the odd ones still appear
in a few dozen sessions. The reasoning for each class's ranges is beside the code that
makes it (``technique.py``, ``poses.py``, ``entries.py``, ``stretches.py``,
``sim_sensor.py``, ``sim_clock.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sensor.vocab import MOUNTS

Category = Literal["technique", "entry", "sensor", "slip", "stretch", "mount"]
Scope = Literal["event", "session", "activity"]


@dataclass(frozen=True)
class ClassInfo:
    category: Category
    scope: Scope
    p: float  # chance in a session drawn from the whole catalogue (where it can occur)
    needs: tuple[str, ...] = ()  # exercises of which the session must have one
    what: str = ""


REPS = ("bridge", "back_extension")
CLASSES: dict[str, ClassInfo] = {
    # techniques
    "backext_top_hold": ClassInfo("technique", "event", 0.3, ("back_extension",), "0-5 s held at the top of a back extension"),
    "backext_forearm_rest": ClassInfo("technique", "event", 0.2, ("back_extension",), "propped on the forearms between reps"),
    "bridge_hold_range": ClassInfo("technique", "event", 0.3, ("bridge",), "0-10 s held at the top of a bridge"),
    "single_leg_bridge": ClassInfo("technique", "event", 0.15, ("bridge",), "bridges on one leg: the pelvis rolls"),
    "knee_side_plank": ClassInfo("technique", "event", 0.35, ("side_plank",), "side planks on the knees"),
    "side_plank_repeat_same_side": ClassInfo("technique", "event", 0.25, ("side_plank",), "2-3 holds on a side, short rests"),
    "tempo_fast": ClassInfo("technique", "event", 0.15, REPS, "reps at 0.3-0.7 s a movement"),
    "tempo_slow": ClassInfo("technique", "event", 0.15, REPS, "reps at 2-4 s a movement"),
    "tired_set": ClassInfo("technique", "event", 0.25, REPS, "later reps slower, lower, shakier"),
    # ways into a plank
    "plank_from_floor": ClassInfo("entry", "event", 0.4, ("plank",), "lifted from lying prone"),
    "plank_from_all_fours": ClassInfo("entry", "event", 0.35, ("plank",), "hips go down from all fours"),
    "plank_from_pushup": ClassInfo("entry", "event", 0.25, ("plank",), "lowered from a push-up position"),
    "side_plank_from_forearm": ClassInfo("entry", "event", 0.3, ("side_plank",), "begun already propped on the forearm"),
    # stretches and daily life: nothing to count
    "cat_cow": ClassInfo("stretch", "activity", 0.3, (), "on all fours, pelvis tilting through its rest"),
    "childs_pose": ClassInfo("stretch", "activity", 0.3, (), "sitting back on the heels, trunk down"),
    "pelvic_tilts": ClassInfo("stretch", "activity", 0.3, (), "supine, knees bent, small tilts"),
    "knee_hugs": ClassInfo("stretch", "activity", 0.3, (), "supine, knees pulled to the chest"),
    "cobra": ClassInfo("stretch", "activity", 0.25, (), "prone press-up, pelvis on the floor"),
    "prone_phone": ClassInfo("stretch", "activity", 0.3, (), "lying prone with a phone, propped on the elbows"),
    "floor_sitting": ClassInfo("stretch", "activity", 0.3, (), "sitting on the floor, leaning and shifting"),
    # sensors
    "uncalibrated_imu": ClassInfo("sensor", "session", 0.2, (), "hobby IMU: biases, scale errors, noise"),
    "phone_rate": ClassInfo("sensor", "session", 0.25, (), "phone timing: 50-200 Hz, jitter, batches"),
    "belt_slip": ClassInfo("slip", "session", 0.2, (), "the sensor turns 5-15 deg in its belt during a roll"),
    # mountings
    **{f"mount_{m}": ClassInfo("mount", "session", 0.0, (), f"worn on the {m}") for m in MOUNTS},
    "mount_mismatch": ClassInfo("mount", "session", 0.15, (), "analysed with another --mount than the one worn"),
}
CATEGORIES: tuple[Category, ...] = ("technique", "entry", "sensor", "slip", "stretch", "mount")
STRETCHES = tuple(c for c, i in CLASSES.items() if i.category == "stretch")
# Frozen as held out before any was written, never run while tuning (README: "the honest state");
# side_plank_from_forearm was read and tuned on from 4c157ba (kept here: the sessions that
# tests draw with these excluded stay the same).
HELD_OUT = (
    "single_leg_bridge",
    "side_plank_from_forearm",
    "backext_forearm_rest",
    "tired_set",
    "knee_hugs",
    "cobra",
    "floor_sitting",
    "phone_rate",
)
# The classes still held out: left out while tuning (`holdtrack evaluate --exclude`), reported
# apart (`--hold-out`).
STILL_HELD_OUT = tuple(c for c in HELD_OUT if c != "side_plank_from_forearm")
PLANK_ENTRIES = ("plank_from_floor", "plank_from_all_fours", "plank_from_pushup")
TEMPOS = ("tempo_fast", "tempo_slow")
ONE_OF = (PLANK_ENTRIES, TEMPOS, tuple(f"mount_{m}" for m in MOUNTS))  # never two of one group
WARM_UPS = ("cat_cow", "pelvic_tilts", "knee_hugs")  # before a routine, when drawn
COOL_DOWNS = ("childs_pose", "knee_hugs", "cobra", "floor_sitting")  # after it
STRETCH_SESSION_P = 0.25  # a drawn session of stretches and daily life only (nothing to count)
WARM_UP_P = 0.25  # a routine session begun with a stretch; the same for ending with one


def expand(names: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Class names from a comma-separated list or sequence; a category name stands for all
    its classes (``stretch``). Raises ``ValueError`` naming what is not a class."""
    items = [n.strip() for n in names.split(",")] if isinstance(names, str) else [n.strip() for n in names]
    out: list[str] = []
    for n in items:
        if not n:
            continue
        if n in CATEGORIES:
            out.extend(c for c, i in CLASSES.items() if i.category == n and c not in out)
        elif n in CLASSES:
            if n not in out:
                out.append(n)
        else:
            raise ValueError(f"unknown class {n!r} (classes: {', '.join(CLASSES)}; or a category: {', '.join(CATEGORIES)})")
    return tuple(out)


@dataclass
class SessionClasses:
    """The classes one session has: what the body, the routine and the sensor do."""

    names: set[str] = field(default_factory=set)
    stretch_session: bool = False  # stretches and daily life only
    warm_up: tuple[str, ...] = ()  # stretches before the routine
    cool_down: tuple[str, ...] = ()  # and after it

    def __contains__(self, name: object) -> bool:
        return name in self.names

    @property
    def active(self) -> bool:
        """A session of the class catalogue (the measured floor model), not the first one."""
        return bool(self.names) or self.stretch_session

    def stretches(self) -> tuple[str, ...]:
        return tuple(c for c in STRETCHES if c in self.names)


def _conflicts(name: str, have: set[str]) -> bool:
    return any(name in g and have & (set(g) - {name}) for g in ONE_OF)


def choose(
    rng: np.random.Generator,
    given: tuple[str, ...],
    *,
    exercises: tuple[str, ...],
    mount: str,
    daily_life: bool | None,
    draw_more: bool,
    exclude: frozenset[str] = frozenset(),
) -> SessionClasses:
    """The session's classes: ``given`` ones (all of them), and with ``draw_more`` the rest
    drawn from the catalogue's probabilities, never one of ``exclude`` (classes held out of
    tuning stay out of the tuning sessions). ``mount`` is the mounting worn."""
    if set(given) & exclude:
        raise ValueError(f"classes {sorted(set(given) & exclude)} are both asked for and excluded")
    for g in ONE_OF:
        if len(set(given) & set(g)) > 1:
            raise ValueError(f"classes {sorted(set(given) & set(g))} cannot be in one session")
    worn = f"mount_{mount}"
    if any(c.startswith("mount_") and c != "mount_mismatch" and c != worn for c in given):
        raise ValueError(f"classes name another mounting than the one worn ({mount})")
    have = set(given) | {worn}
    stretch_named = [c for c in given if CLASSES[c].scope == "activity"]
    exercise_named = [c for c in given if CLASSES[c].scope == "event"]
    if daily_life is not None:
        stretch_only = daily_life
    elif exercise_named:
        stretch_only = False
    elif stretch_named:  # on their own, or around a routine
        stretch_only = bool(rng.random() < 0.5)
    else:
        stretch_only = draw_more and bool(rng.random() < STRETCH_SESSION_P)
    if stretch_only and exercise_named:
        raise ValueError(f"a session of stretches has no exercise for {exercise_named}")
    out = SessionClasses(have, stretch_session=stretch_only)
    if draw_more:
        for name, info in CLASSES.items():
            if name in have or name in exclude or info.p <= 0 or _conflicts(name, have):
                continue
            if info.scope == "event" and (stretch_only or not set(info.needs) & set(exercises)):
                continue
            if info.scope == "activity":
                continue  # stretches are placed below
            if rng.random() < info.p:
                have.add(name)
    if not stretch_only and "plank" in exercises and not have & set(PLANK_ENTRIES):
        # Every plank has a way in: drawn by the entries' probabilities.
        ways = [c for c in PLANK_ENTRIES if c not in exclude]
        if not ways:
            raise ValueError("a plank needs a way in, and every one is excluded")
        ps = np.array([CLASSES[c].p for c in ways])
        have.add(str(rng.choice(ways, p=ps / ps.sum())) if draw_more or "plank_from_floor" not in ways else "plank_from_floor")
    if stretch_only:
        picked = list(stretch_named)
        if not picked and not set(STRETCHES) - exclude:
            raise ValueError("a session of stretches, and every stretch is excluded")
        if draw_more or not picked:
            n = int(rng.integers(2, 5))
            others = [c for c in STRETCHES if c not in picked and c not in exclude]
            picked += [str(c) for c in rng.choice(others, size=max(0, min(len(others), n - len(picked))), replace=False)]
        have.update(picked)
    else:
        warm = [c for c in stretch_named if c in WARM_UPS]
        cool = [c for c in stretch_named if c not in warm]
        if draw_more and not stretch_named:
            ups = [c for c in WARM_UPS if c not in exclude]
            if rng.random() < WARM_UP_P and ups:
                warm.append(str(rng.choice(ups)))
            downs = [c for c in COOL_DOWNS if c not in warm and c not in exclude]
            if rng.random() < WARM_UP_P and downs:
                cool.append(str(rng.choice(downs)))
        out.warm_up, out.cool_down = tuple(warm), tuple(cool)
        have.update(warm + cool)
    for c in have:
        needs = CLASSES[c].needs
        if needs and not stretch_only and not set(needs) & set(exercises):
            raise ValueError(f"class {c} needs one of the exercises {', '.join(needs)} in the session")
    return out
