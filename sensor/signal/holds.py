"""Holds (plank, side plank): when an excursion becomes a hold, where it ends, and the
hold's stability (the rest of the state machine is in ``sensor.signal.detectors``).

A hold is an excursion that settles *and* whose start lifted the pelvis off the floor:
the vertical displacement, integrated twice from the accelerometer between two moments
of stillness, tells a plank (15–30 cm) from a back extension held at the top (0–2 cm).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sensor.events import Hold, HoldExercise, Side
from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.iir import Coefficients, first_order, lfilter
from sensor.signal.movement import fall_times, first_true, last_true, median, step_times, still_before
from sensor.signal.reps import confidence
from sensor.signal.stability import measure_stability, stability_score


@dataclass
class ActiveHold:
    """A hold confirmed and still going."""

    exercise: HoldExercise
    side: Side
    start_s: float
    detected_at_s: float
    level: float  # elevation above rest when it was confirmed, degrees
    confidence: float = 1.0  # how clearly the movement into it was a lift (see reps.confidence)
    found_late: bool = False  # found at rest there (not as it settled): a movement that comes to rest ends it
    base: float = 0.0  # the level (above rest) it was lifted from: a side plank lifted off the forearm


class SettleSearch:
    """Looks, as an excursion grows, for the first moment it settles with the pelvis
    lifted. Each sample is judged once: what decides it lies at or before it, so the
    answer does not depend on how the trace arrived."""

    def __init__(self, s: DetectorSettings, rate_hz: float, prone: bool, t0: float) -> None:
        self.s = s
        self.rate_hz = rate_hz
        self.t0 = t0  # when the excursion crossed its start threshold
        self.w = max(1, int(s.settle_window_s * rate_hz))
        self.min_deg = s.plank_min_deg if prone else s.side_min_deg
        self.cos_turn = math.cos(math.radians(s.settle_turn_deg))
        self.tried_t = -math.inf  # last settle point where a lift was looked for
        self.first_t = math.inf  # the first settle point: a hold is judged within a second of it
        self.first_d = 0.0  # ... and its level
        self.next = self.w  # first trace index not judged yet
        self.over = False  # settling now would be too late: a slow change of pose
        self._i0: int | None = None  # the still moment before t0 (fixed: the trace before t0 is)
        # On a side, a stage judged on the floor (propped on the forearm) is a pose the next
        # stage is lifted from: judged in turn, from the still moment before it.
        self.stages = not prone
        self.base_d = 0.0  # the level of the stage the one judged was lifted from (0: rest)

    def find(self, t: np.ndarray, d: np.ndarray, up: np.ndarray, q: np.ndarray, lifted: Callable[[int, int], bool]) -> int:
        """Trace index where the hold is confirmed, or -1 (not yet, or never); ``lifted(i0,
        c)`` says whether the movement from the still moment ``i0`` to ``c`` reached a held pose."""
        a, n, w = self.next, d.size, self.w
        if self.over or a >= n:
            return -1
        self.next = n
        cur, past = d[a:], d[a - w : n - w]
        tol = np.maximum(self.s.settle_tol_deg, 0.06 * cur)
        # Still about every axis, not only in pitch: rolling over to a side is no hold.
        still = np.einsum("ij,ij->i", up[a:], up[a - w : n - w]) >= self.cos_turn
        # ... and the angle not changing at that moment (the start of a quick lowering can
        # look settled over the window; the lift integral needs the pelvis at rest there).
        settled = (np.abs(cur - past) <= tol) & still & (q[a:] > 0.5)
        high = cur >= self.min_deg
        # On a side every settled stage counts, the ones too low to be a hold too (a
        # forearm prop 3-10° up): the next is lifted from it.
        ok = np.flatnonzero(settled if self.stages else settled & high)
        late = self.t0 + self.s.lift_settle_s
        for c in (ok + a).tolist():
            # Settled: did getting here lift the pelvis off the floor? (Checked at most
            # every half second; a back extension held at the top settles too.)
            tc = float(t[c])
            if self.first_t == math.inf or abs(float(d[c]) - self.first_d) > 3.0 * self.s.settle_tol_deg:
                # The first settled moment, or a new stage (all fours, hips shifted back,
                # then down into the plank): judged within settle_judge_s of it.
                if self.stages and self.first_t != math.inf:
                    self.base_d = self.first_d
                    self._next_stage(t, d, q, c)
                    late = self.t0 + self.s.lift_settle_s
                self.first_t, self.first_d, self.tried_t = tc, float(d[c]), -math.inf
            if not high[c - a] or tc > late or tc > self.first_t + self.s.settle_judge_s:
                if self.stages:
                    continue  # a pose on the floor: the next stage is judged from it
                self.over = True  # settling this late is a slow change of pose (and the integral drifts)
                return -1
            if tc < self.tried_t + 0.5:
                continue
            self.tried_t = tc
            if self._i0 is None:
                self._i0 = still_before(t, q, self.t0, self.s.lift_window_s, int(0.3 * self.rate_hz))
            if lifted(self._i0, c):
                return c
        return -1

    def _next_stage(self, t: np.ndarray, d: np.ndarray, q: np.ndarray, c: int) -> None:
        """A new stage settled at ``c``: its movement left the last stage's level where the
        angle was last within the settle tolerance of it; the lift is integrated from the
        still moment before that."""
        off = np.flatnonzero(np.abs(d[: c + 1] - self.first_d) <= 3.0 * self.s.settle_tol_deg)
        self.t0 = float(t[off[-1]]) if off.size else float(t[c])
        self._i0 = still_before(t, q, self.t0, self.s.lift_window_s, int(0.3 * self.rate_hz))


class HoldWatch:
    """Whether a confirmed hold is still held: the pelvis stays near a level that follows
    it slowly (sway and a fatigue sag move it a little, and slowly). A quick departure of
    ``hold_move_deg`` either way (a rep rocking the hips, a shift to another pose) means
    the body is no longer held still: once that movement comes to rest (or has gone on for
    ``hold_move_wait_s``), the hold ends where the movement began. A departure that falls
    back to rest ends the hold by the ordinary rule instead."""

    def __init__(self, s: DetectorSettings, rate_hz: float, level: float) -> None:
        self.a = float(np.exp(-1.0 / (s.hold_level_tau_s * rate_hz)))
        self.move = s.hold_move_deg
        self.wait_s = s.hold_move_wait_s
        self.level = level  # the held level, following sway and sag
        self.left_s: float | None = None  # when the departure crossed hold_move_deg
        self.rock = s.hold_rock_deg
        self.rock_window_s = s.hold_rock_window_s
        self._rocking = False  # inside a small departure (left rock_deg, not yet back within half)
        self._rock_t: float = -math.inf  # when the last small departure began
        self.rock_start_s: float | None = None  # set when rocking ends the hold: where it began

    def check(self, t: np.ndarray, d: np.ndarray, quiet: np.ndarray, end: int) -> int:
        """Index where the hold stops being held (a departure, then where that comes to
        rest), or -1; ``end`` is where it falls back to rest by the ordinary rule (-1: not
        in these samples), which comes first when it is earlier."""
        n = end if end >= 0 else d.size
        return self.departure(t[:n], d[:n]) if self.left_s is None else self.settled(t[:n], quiet[:n])

    def departure(self, t: np.ndarray, d: np.ndarray) -> int:
        """Index of the first sample that left the held level (or of the second small
        departure of a rocking), or -1 (then the level has followed all of ``d``)."""
        if d.size == 0:
            return -1
        lvl, zi = first_order(1.0 - self.a, -self.a, d, self.a * self.level)
        before = np.concatenate(([self.level], lvl[:-1]))
        off = np.abs(d - before)
        away = off > self.move
        i = int(away.argmax()) if away.any() else d.size
        r = self._rocked(t[:i], off[:i])
        if r >= 0:
            i = r
        elif i == d.size:
            self.level = zi / self.a
            return -1
        self.level = float(before[i])
        return i

    def _rocked(self, t: np.ndarray, off: np.ndarray) -> int:
        """Index where a small departure follows a returned one within the window (with
        hysteresis: back within half of ``rock``), or -1; the state carries across chunks."""
        above = np.flatnonzero(off > self.rock)
        below = np.flatnonzero(off < 0.5 * self.rock)
        pos = 0
        while True:
            nxt = below if self._rocking else above
            j = int(np.searchsorted(nxt, pos))
            if j == nxt.size:
                return -1
            pos = int(nxt[j])
            if self._rocking:
                self._rocking = False
                continue
            self._rocking = True
            ts = float(t[pos])
            if ts - self._rock_t <= self.rock_window_s:
                self.rock_start_s = self._rock_t
                return pos
            self._rock_t = ts

    def settled(self, t: np.ndarray, quiet: np.ndarray) -> int:
        """After a departure: index of the first sample where the movement has come to rest
        (or gone on too long), or -1."""
        assert self.left_s is not None
        done = quiet | (t - self.left_s > self.wait_s)
        return first_true(done)

    def start_of(self, t: np.ndarray, d: np.ndarray) -> float:
        """Where the movement that ends the trace ``t, d`` left the held level (the model
        of a smooth movement between the held level and where it came to rest)."""
        if self.rock_start_s is not None:
            return self.rock_start_s
        ts = step_times(t, d, self.level, float(d[-1]))
        return ts[0] if ts else float(t[-1])


def hold_end_s(t: np.ndarray, d: np.ndarray, q: np.ndarray) -> float:
    """Where a hold's lowering began, once the excursion has fallen back (last sample)."""
    tc = float(t[-1])
    # The level the lowering starts from: just before the last quiet moment ahead of the
    # fall (a fatigue sag earlier in the hold must not move the end).
    iq = last_true((q > 0.5) & (t >= tc - 2.5) & (t < tc))
    if iq >= 0:
        win = (t >= t[iq] - 0.5) & (t <= t[iq])
    else:
        win = (t >= tc - 2.5) & (t <= tc - 1.0)
    level = median(d[win]) if win.any() else median(d)
    ft = fall_times(t, d, level)
    return ft[0] if ft else tc


def held_from(t: np.ndarray, d: np.ndarray, start: float, end: float, move_deg: float, way_in_s: float, step_s: float) -> float:
    """Where the level a hold is held at was reached. A pose held briefly first, more than
    ``move_deg`` off that level within the first ``way_in_s`` and left for it within
    ``step_s`` (on the hands, then down onto the forearms in stages the watch's level
    follows; not a fatigue sag, which takes tens of seconds), was the way in."""
    ref = (t >= start + way_in_s) & (t <= min(end, start + way_in_s + 5.0))
    if ref.sum() < 3:
        return start
    level = median(d[ref])
    early = np.flatnonzero((t >= start) & (t < start + way_in_s))
    far = early[np.abs(d[early] - level) > move_deg]
    if far.size == 0:
        return start
    near = np.flatnonzero((t > t[far[-1]]) & (np.abs(d - level) <= 0.25 * move_deg))
    return float(t[near[0]]) if near.size and t[near[0]] - t[far[-1]] <= step_s else start


def hold_stability(
    t: np.ndarray, d: np.ndarray, up: np.ndarray, gyr: np.ndarray, start: float, end: float, tremor_ba: Coefficients
) -> tuple[float, float, float]:
    """(sway, tremor, sag) of a hold from ``start`` to ``end``, measured away from its first
    and last half second (the getting in and out) when it is long enough. The samples should
    begin before ``start``: the tremor band filter starts from rest there."""
    m = (t >= start + 0.5) & (t <= end - 0.5)
    if m.sum() < 4:
        m = (t >= start) & (t <= end)
    band = lfilter(tremor_ba[0], tremor_ba[1], gyr, axis=0)
    return measure_stability(t[m], up[m], band[m], d[m])


def make_hold(
    h: ActiveHold, t: np.ndarray, d: np.ndarray, up: np.ndarray, gyr: np.ndarray, end: float, tremor_ba: Coefficients, s: DetectorSettings
) -> Hold:
    """The finished hold with its stability, measured away from its first and last
    half second (the getting in and out), timed from where its level was reached
    (``held_from``); ``s.hold_min_s`` is the shortest hold reported (one barely longer
    is less certain)."""
    start = held_from(t, d, h.start_s, end, s.hold_move_deg, s.hold_way_in_s, s.hold_move_wait_s)
    sway, tremor, sag = hold_stability(t, d, up, gyr, start, end, tremor_ba)
    return Hold(
        exercise=h.exercise,
        side=h.side,
        start_s=round(start, 3),
        end_s=round(end, 3),
        duration_s=round(max(0.0, end - start), 3),
        sway_deg=round(sway, 3),
        tremor_dps=round(tremor, 3),
        sag_deg=round(sag, 3),
        detected_at_s=round(h.detected_at_s, 3),
        score=stability_score(sway, tremor, sag),
        confidence=min(h.confidence, confidence([(end - start) / s.hold_min_s - 1.0])),
    )
