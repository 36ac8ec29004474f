"""Reps are counted in sets: movements shaped like reps, of one exercise, each within a
set's pause (``sensor.routine.SET_PAUSE_S``) of the one before, and at least
``sensor.routine.MIN_SET_REPS`` of them; fewer are no reps.

The routine has no set of one or two, and neither does any physiotherapist's: a lone "rep"
is a single shift onto the elbows with a phone, one pelvic tilt, a stretch's half cycle, and
a pair is two of them. On the tuning sessions 0 of 2,323 true reps stood alone and 35 of 47
false ones did (92 of 126 with the stretching and daily-life ones); of what was left, pairs
were 6 of 9 false events in 4 hours of daily life (seeds 104160-104199), against 2 true
reps of 1,996 (seeds 104100-104159: two found of a set of 11). Live, every rep is shown as
it is found (the count never waits); a session's analysis keeps those in sets.
"""

from __future__ import annotations

from collections.abc import Sequence

from sensor.events import Rep


def reps_in_sets(reps: Sequence[Rep], pause_s: float, min_reps: int) -> tuple[list[Rep], list[Rep]]:
    """(reps in sets of at least ``min_reps``, the others), each in the order given. A set:
    reps of one exercise, each within ``pause_s`` of the one before (a rep of another
    exercise between them does not split it, unlike ``sensor.routine.group_sets``)."""
    lone: set[int] = set()
    for ex in {r.exercise for r in reps}:
        runs: list[list[int]] = []
        for i in sorted((i for i, r in enumerate(reps) if r.exercise == ex), key=lambda i: reps[i].start_s):
            if runs and reps[i].start_s - reps[runs[-1][-1]].end_s <= pause_s:
                runs[-1].append(i)
            else:
                runs.append([i])
        lone.update(i for run in runs if len(run) < min_reps for i in run)
    return [r for i, r in enumerate(reps) if i not in lone], [reps[i] for i in sorted(lone)]
