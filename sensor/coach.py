"""The live coach: what to say (or beep) and when, and where the user is in the routine.

Pure computation on the live stream: ``Coach.update`` is called by the live runner after
every piece it feeds (status + new events, stream time), and returns the cues that became
due. Cues carry their stream time and a sequence number, so a view can play each once.
Sets are split by ``routine.group_sets``, the function ``analyze`` and the store use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sensor.events import Event, Hold, HoldStarted, Rep
from sensor.routine import SET_PAUSE_S, Routine, group_sets, reaches
from sensor.signal.detector_settings import DetectorSettings
from sensor.vocab import LABELS, REP_EXERCISES

MARK_S = 10.0  # holds: a spoken mark every 10 s
UNSTEADY_SCORE = 60.0  # hold stability so far below this: the calm cue (the "wobbly" verdict starts here)
SETTLE_S = 5.0  # the stability score of a hold's first seconds is not judged yet
_BRIDGE_UP_DEG = DetectorSettings().bridge_min_peak_deg  # hips this far up: at the top of a bridge


@dataclass(frozen=True, slots=True)
class Cue:
    """One thing to play: a tone (``tone``: rep, mark, done, calm) and/or words."""

    seq: int  # 1, 2, 3... in the order they became due
    kind: str  # rep, bridge_hold, hold_mark, hold_target, unsteady, set_done, rest_over
    at_s: float  # stream time at which it became due
    say: str = ""
    tone: str = ""


@dataclass(frozen=True, slots=True)
class SetProgress:
    """The set in progress (or just finished) of a rep exercise, as ``analyze`` will split it."""

    exercise: str
    set_no: int  # 1-based, among this session's sets of this exercise
    reps: int
    target: int
    sets_target: int
    resting_s: float | None  # time since its last rep once the set is over (None: still going)

    @property
    def words(self) -> str:
        return f"set {self.set_no} · {self.reps} of {self.target}"


def set_progress(reps: Sequence[Rep], now_s: float, routine: Routine, sets: list[list[int]] | None = None) -> SetProgress | None:
    """The last set so far; over once ``SET_PAUSE_S`` passed without a rep (a later rep
    starts a new set, by ``group_sets``) or once its target is reached. ``sets``:
    ``group_sets(reps)`` when the caller has it already."""
    if not reps:
        return None
    sets = sets if sets is not None else group_sets(reps)
    last = [reps[i] for i in sets[-1]]
    ex = last[-1].exercise
    target = routine.rep_target(ex)
    n_set = sum(1 for s in sets if reps[s[0]].exercise == ex)
    idle = now_s - max(r.end_s for r in last)
    over = idle > SET_PAUSE_S or len(last) >= target.reps_per_set
    return SetProgress(ex, n_set, len(last), target.reps_per_set, target.sets_per_session, max(0.0, idle) if over else None)


def _steps(routine: Routine) -> list[tuple[str, str | None, int]]:
    """The routine in order, as (exercise, side, how many): sets of reps, holds per side."""
    steps: list[tuple[str, str | None, int]] = []
    for ex in REP_EXERCISES:
        t = routine.rep_target(ex)
        if t.sessions_per_week > 0:
            steps.append((ex, None, t.sets_per_session))
    if routine.side_plank.sessions_per_week > 0:
        # The guide starts on the right side; alternate so both sides rest between holds.
        for _ in range(routine.side_plank.holds):
            steps += [("side_plank", "right", 1), ("side_plank", "left", 1)]
    if routine.plank.sessions_per_week > 0:
        steps.append(("plank", None, routine.plank.holds))
    return steps


def next_step(reps: Sequence[Rep], holds: Sequence[Hold], routine: Routine, holding: tuple[str, str | None] | None = None) -> str:
    """The routine's first step not done yet, in words ("side plank, left"); "" when all
    is done. Every set of ``reps`` counts as done, and so does ``holding`` (a hold to count
    as done besides ``holds``). Live, ``routine_place`` says which of them are."""
    sets: Counter[str] = Counter(reps[s[0]].exercise for s in group_sets(reps))
    held: Counter[tuple[str, str | None]] = Counter((h.exercise, h.side if h.exercise == "side_plank" else None) for h in holds)
    if holding is not None:
        held[holding] += 1
    return _first_missing(sets, held, routine)


def _first_missing(sets: Counter[str], held: Counter[tuple[str, str | None]], routine: Routine) -> str:
    """The first step of the routine that ``sets`` (done per exercise) and ``held`` (holds
    done per exercise and side) leave undone, in words; "" when none."""
    held = Counter(held)
    for ex, side, n in _steps(routine):
        name = LABELS[ex].lower()
        if ex in REP_EXERCISES:
            if sets[ex] < n:
                return f"{name}, set {sets[ex] + 1} of {n}" if n > 1 else name
            continue
        # A side plank whose side is not known (no opening stand) stands in for either side.
        for key in ((ex, side), (ex, None)) if side else ((ex, side),):
            take = min(n, held[key])
            held[key] -= take
            n -= take
        if n > 0:
            return f"{name}, {side}" if side else name
    return ""


@dataclass(frozen=True, slots=True)
class Place:
    """Where the user is in the routine: the set or hold in progress that is short of its
    target (``now``, in words with what is left of it) and the first step not done after
    everything finished or at its target (``next``). Neither: the routine is done."""

    now: str = ""
    next: str = ""

    @property
    def done(self) -> bool:
        return not self.now and not self.next

    @property
    def words(self) -> str:
        if self.now:
            return f"now: {self.now}"
        return f"next: {self.next}" if self.next else "routine done ✓"


def routine_place(
    reps: Sequence[Rep], holds: Sequence[Hold], routine: Routine, now_s: float, hold: Any = None, sets: list[list[int]] | None = None
) -> Place:
    """``Place`` of a live session at stream time ``now_s``: ``reps`` and ``holds`` found so
    far, ``hold`` the pipeline's hold in progress (``HoldStatus``: exercise, side,
    elapsed_s) or None. A set in progress counts once it reaches its target or is over
    (``set_progress``); a hold in progress once it reaches its target time. So the last
    side plank at 12 of 30 s is "now", never "routine done", and a bridge set at rep 1 of
    12 is "now", not a reason to name the next exercise. ``sets``: ``group_sets(reps)``
    when the caller has it already."""
    sets_idx = sets if sets is not None else group_sets(reps)
    done: Counter[str] = Counter(reps[s[0]].exercise for s in sets_idx)
    held: Counter[tuple[str, str | None]] = Counter((h.exercise, h.side if h.exercise == "side_plank" else None) for h in holds)
    now = ""
    p = set_progress(reps, now_s, routine, sets_idx)
    if p is not None and p.resting_s is None:  # still going, short of its target
        done[p.exercise] -= 1
        left = p.target - p.reps
        now = f"{LABELS[p.exercise].lower()}, set {p.set_no}, {left} rep{'' if left == 1 else 's'} to go"
    if hold is not None:
        ex = str(hold.exercise)
        side = hold.side if ex == "side_plank" else None
        target = routine.hold_target(ex).hold_s
        elapsed = float(hold.elapsed_s)
        if reaches(elapsed, target):
            held[(ex, side)] += 1
        else:
            name = LABELS[ex].lower() + (f", {side}" if side else "")
            now = f"{name}, {max(0.0, target - elapsed):.0f} s to go"
    return Place(now, _first_missing(done, held, routine))


@dataclass(slots=True)
class Coach:
    """Turns the live stream into cues (see the module docstring)."""

    routine: Routine = field(default_factory=Routine)
    cues: list[Cue] = field(default_factory=list)
    place: Place = field(default_factory=Place)  # where the user is, as of the last update
    _hold_now: Any = None  # the pipeline's hold in progress, as of the last status
    _reps: list[Rep] = field(default_factory=list)
    _sets: list[list[int]] = field(default_factory=list)  # group_sets(_reps), redone when a rep comes
    _holds: list[Hold] = field(default_factory=list)
    _hold_marks: int = 0  # 10-s marks said for the hold in progress
    _hold_target_said: bool = False
    _hold_unsteady_said: bool = False
    _hold_key: float | None = None  # start_s of the hold in progress
    _bridge_up_s: float | None = None
    _bridge_said: bool = False
    _set_done_for: float | None = None  # start_s of the first rep of the last set announced as done
    _rest_over_for: float | None = None

    def _cue(self, kind: str, at_s: float, say: str = "", tone: str = "") -> Cue:
        c = Cue(len(self.cues) + 1, kind, round(at_s, 3), say, tone)
        self.cues.append(c)
        return c

    def update(self, status: Any, events: Sequence[Event], now_s: float) -> list[Cue]:
        """Cues due after ``events`` (new since the last call) and ``status`` at ``now_s``."""
        out: list[Cue] = []
        for e in events:
            if isinstance(e, Rep):
                self._reps.append(e)
                self._sets = group_sets(self._reps)
                out.append(self._cue("rep", e.detected_at_s, tone="rep"))
            elif isinstance(e, HoldStarted):
                self._hold_key, self._hold_marks = e.start_s, 0
                self._hold_target_said = self._hold_unsteady_said = False
            elif isinstance(e, Hold):
                self._holds.append(e)
                self._hold_key = self._hold_now = None
        out += self._set_cues(now_s)
        if status is not None:  # (a gap or the end brings none: the hold in progress is still in progress)
            self._hold_now = getattr(status, "hold", None)
            out += self._bridge_cues(status, now_s)
            out += self._hold_cues(self._hold_now, now_s)
        self.place = routine_place(self._reps, self._holds, self.routine, now_s, self._hold_now, self._sets)
        return out

    def _set_cues(self, now_s: float) -> list[Cue]:
        p = set_progress(self._reps, now_s, self.routine, self._sets)
        if p is None or p.resting_s is None:
            return []
        # A set is known by its first rep: announced once, even if reps past the target join it.
        key = self._reps[self._sets[-1][0]].start_s
        out: list[Cue] = []
        if self._set_done_for != key:
            self._set_done_for = key
            word = "rep" if p.reps == 1 else "reps"
            extra = ""
            if p.set_no >= p.sets_target:
                nxt = next_step(self._reps, self._holds, self.routine)
                extra = f". Next: {nxt}" if nxt else ". Routine done, well done"
            out.append(self._cue("set_done", now_s, f"Set {p.set_no} done, {p.reps} {word}{extra}.", "done"))
        more = p.set_no < p.sets_target
        if more and self._rest_over_for != key and p.resting_s >= self.routine.audio.rest_s:
            self._rest_over_for = key
            out.append(self._cue("rest_over", now_s, f"Rest over. Set {p.set_no + 1} when you are ready.", "done"))
        return out

    def _bridge_cues(self, status: Any, now_s: float) -> list[Cue]:
        """Bridges: say the target hold ("5 seconds") once the hips have been up that long."""
        up = status.posture == "supine" and float(getattr(status, "excursion_deg", 0.0)) >= _BRIDGE_UP_DEG
        if not up:
            self._bridge_up_s, self._bridge_said = None, False
            return []
        if self._bridge_up_s is None:
            self._bridge_up_s = now_s
        target = self.routine.bridge.hold_s
        if not self._bridge_said and target > 0 and now_s - self._bridge_up_s >= target:
            self._bridge_said = True
            return [self._cue("bridge_hold", now_s, f"{target:g} seconds. Lower slowly.", "mark")]
        return []

    def _hold_cues(self, hold: Any, now_s: float) -> list[Cue]:
        """Planks and side planks: every 10 s a mark, the target in words, a calm cue when
        the hold gets wobbly."""
        if hold is None or self._hold_key is None:
            return []
        out: list[Cue] = []
        target = self.routine.hold_target(hold.exercise).hold_s
        elapsed = float(hold.elapsed_s)
        if not self._hold_target_said and elapsed >= target:
            self._hold_target_said = True
            self._hold_marks = max(self._hold_marks, int(elapsed // MARK_S))
            out.append(self._cue("hold_target", now_s, f"{target:g}. Target reached.", "done"))
        while (self._hold_marks + 1) * MARK_S <= elapsed:
            self._hold_marks += 1
            out.append(self._cue("hold_mark", now_s, f"{self._hold_marks * MARK_S:g}", "mark"))
        score = getattr(hold, "score", None)
        if not self._hold_unsteady_said and score is not None and elapsed >= SETTLE_S and score < UNSTEADY_SCORE:
            self._hold_unsteady_said = True
            out.append(self._cue("unsteady", now_s, "Breathe. Brace your belly and keep the hips still.", "calm"))
        return out
