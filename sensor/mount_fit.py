"""The mounting from the exercises, when nothing else in the recording told it.

Sitting and walking tell where the sensor is worn (``sensor.signal.mount``). A routine
recorded from the opening stand straight down to the floor has neither, and lying alone
cannot tell lying on the back with the sensor there from lying on a side with it on a hip.
The exercises can. Analysed as worn where it is, a routine has bridges (supine, the hips
lifted 8-20 cm) and back extensions (prone, the pelvis hardly lifted). Analysed as worn
anywhere else the postures are swapped (back and front mirror supine and prone; a hip
mounting turns them into lying on a side), the lifts no longer fit them, and at most a
few of one kind are found. On tuning sessions (seeds 100900-100945, 46 of them, routine
and stretching, every mounting): as worn, 6-14 bridges with 21-37 back extensions; as worn
anywhere else at most 7 bridges or 16 back extensions, never 6 with 12; stretching and
daily life (seeds 100600-100639) under any mounting at most 4 bridges with 11.

Bridges alone tell it too, where there is no routine (a short one, single-leg bridges that
are hard to find, bridges without back extensions): a mounting other than the one worn
finds none. Tuning seeds 104300-104339 (routines and stretching, every mounting): 8-14
bridges as worn, 0 as worn anywhere else (bridges read from the mirrored mounting are back
extensions, 4-12 of them); daily life 104340-104399 (60 sessions): 0 bridges under every
mounting, and 5-18 back extensions under the mirrored one. Back extensions alone cannot
tell it: from the mirrored mounting, pelvic tilts and bridges are back extensions.
"""

from __future__ import annotations

from collections.abc import Callable

from sensor.events import Analysis
from sensor.routine import MIN_SET_REPS
from sensor.vocab import MOUNTS

ROUTINE_BRIDGES = 6  # a routine: this many bridges ...
ROUTINE_BACK_EXTENSIONS = 12  # ... and this many back extensions, under one mounting
BRIDGE_SET = MIN_SET_REPS  # ... or a set of bridges under one mounting only
ROUTINE_MIN_S = 60.0  # ... which take a minute at the least (1.2 s a brisk rep, a roll between): shorter is not tried


def routine_counts(a: Analysis) -> tuple[int, int]:
    """(bridges, back extensions) found."""
    bridges = sum(r.exercise == "bridge" for r in a.reps)
    return bridges, len(a.reps) - bridges


def fits_routine(a: Analysis) -> bool:
    """Does the analysis hold a routine's bridges and back extensions?"""
    b, e = routine_counts(a)
    return b >= ROUTINE_BRIDGES and e >= ROUTINE_BACK_EXTENSIONS


def worth_fitting(a: Analysis) -> bool:
    """Could another mounting make a routine of what this analysis, unchecked by the data
    and no routine, found?"""
    return a.mount_check in ("unchecked", "doubt") and not fits_routine(a) and a.duration_s >= ROUTINE_MIN_S


def fit_mount(first: Analysis, analyse_as: Callable[[str], Analysis]) -> Analysis:
    """``first``: analysed with the mounting given. When the data could not check that
    mounting (or walking doubted it, but no sitting said where it is) and the events are
    no routine, each other mounting is tried (``analyse_as``); if exactly one makes a
    routine of the session (or, with none, exactly one finds a set of bridges where the
    mounting given found none), its analysis is returned, corrected and said so.
    Otherwise ``first``, saying how far it was checked."""
    if first.mount_check not in ("unchecked", "doubt"):
        return first
    if first.mount_check == "unchecked" and fits_routine(first):
        b, e = routine_counts(first)
        first.mount_check = "confirmed"
        first.mount_note = f"mounting {first.mount} confirmed by the exercises ({b} bridges and {e} back extensions fit it)"
        return first
    if not worth_fitting(first):
        return first
    tried = [a for m in MOUNTS if m != first.mount and (a := analyse_as(m)).mount_check == "unchecked"]
    fits = [a for a in tried if fits_routine(a)]
    if len(fits) == 1:
        return _corrected(fits[0], first, "only that fits the exercises")
    lifted = [a for a in tried if routine_counts(a)[0] > 0]
    if not fits and routine_counts(first)[0] == 0 and len(lifted) == 1 and routine_counts(lifted[0])[0] >= BRIDGE_SET:
        # No routine (a short one, bridges of a kind hard to find, one exercise): a set of
        # bridges still says where the sensor is, as only the mounting worn finds any.
        return _corrected(lifted[0], first, "only that finds bridges")
    return first


def _corrected(a: Analysis, first: Analysis, why: str) -> Analysis:
    b, e = routine_counts(a)
    a.mount_check = "corrected"
    a.mount_note = (
        f"the sensor is worn on the {a.mount}, not the {first.mount}: {why} "
        f"({b} bridges and {e} back extensions; as given {sum(routine_counts(first))} reps): analysed as worn on the {a.mount}"
    )
    return a
