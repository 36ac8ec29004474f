"""Reps are counted in sets: a movement shaped like a rep with no other of its kind within a
set's pause (``sensor.routine.SET_PAUSE_S``, the pause that ends a set) before or after it
is no rep.

The routine has no set of one, and neither does any physiotherapist's: a lone "rep" is a
single shift onto the elbows with a phone, one pelvic tilt, a stretch's half cycle. On the
tuning sessions 0 of 2,323 true reps stood alone and 35 of 47 false ones did (92 of 126
with the stretching and daily-life ones). Live, every rep is shown as it is found (the
count never waits); a session's analysis keeps those in sets.
"""

from __future__ import annotations

from collections.abc import Sequence

from sensor.events import Rep


def reps_in_sets(reps: Sequence[Rep], pause_s: float) -> tuple[list[Rep], list[Rep]]:
    """(reps in sets, lone reps), each in the order given."""
    lone: set[int] = set()
    for ex in {r.exercise for r in reps}:
        idx = sorted((i for i, r in enumerate(reps) if r.exercise == ex), key=lambda i: reps[i].start_s)
        for k, i in enumerate(idx):
            before = k > 0 and reps[i].start_s - reps[idx[k - 1]].end_s <= pause_s
            after = k + 1 < len(idx) and reps[idx[k + 1]].start_s - reps[i].end_s <= pause_s
            if not (before or after):
                lone.add(i)
    return [r for i, r in enumerate(reps) if i not in lone], [reps[i] for i in sorted(lone)]
