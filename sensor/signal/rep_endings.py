"""How an excursion that is no hold ends: fallen back to rest (a rep, if ``sensor.signal.reps``
says so; a swing through rest is none), or quiet at a new level (the rest level moves)."""

from __future__ import annotations

import numpy as np

from sensor.events import Event, Hold
from sensor.signal.detector_state import DetectorState
from sensor.signal.holds import hold_end_s, make_hold
from sensor.signal.movement import first_true, steady_run
from sensor.signal.posture import PRONE
from sensor.signal.reps import classify_rep


class RepEndings(DetectorState):
    """The excursion detector's rules for an excursion's end."""

    def _rested_at(self, quiet: np.ndarray, d: np.ndarray) -> int:
        """Index where the excursion has been quiet at one level (within
        ``rest_shift_tol_deg``) for ``rest_shift_s``, or -1. Or steady a moment just off the
        rest level, lower than any rep's top: that level was taken too early (the pelvis still
        settling after lying down) and the excursion would never end."""
        hit, self._qrun = steady_run(
            quiet,
            d,
            int(self.s.rest_shift_s * self.rate_hz),
            self.s.rest_shift_tol_deg,
            self._qrun,
            near=self.s.rest_near_deg,
            need_near=int(self.s.rest_near_s * self.rate_hz),
        )
        return hit

    def _see_plateaus(self, quiet: np.ndarray, d: np.ndarray) -> None:
        """Note where the pelvis was steady (``rest_first_s`` within ``rest_first_tol_deg``)
        in this excursion: the last such level, absolute."""
        need, tol = int(self.s.rest_first_s * self.rate_hz), self.s.rest_first_tol_deg
        i = 0
        while i < d.size:
            hit, self._prun = steady_run(quiet[i:], d[i:], need, tol, self._prun)
            if hit < 0:
                return
            self._plateau = self._frozen + self._dir * float(d[i + hit])
            i += hit + 1

    def _swing_rest(self) -> float:
        """The rest level after a swing through it. Swings that come and go from one steady
        level, one after another, with no rep between: the rest is that level, not the one
        they swing through (it was taken where the pelvis only passed, e.g. before a belt
        slipped), and the reps that follow are measured from it."""
        self._swing_levels = [*self._swing_levels[-2:], self._plateau]
        self._plateau, self._prun = None, (0, 0.0, 0.0)
        seen = [x for x in self._swing_levels if x is not None]
        if len(seen) >= 2 and abs(seen[-1] - seen[-2]) <= self.s.rest_first_tol_deg:
            level = 0.5 * (seen[-1] + seen[-2])
            if abs(level - self._frozen) > self._start_thr():
                self._swing_levels = []
                return level
        return self._frozen

    def _feed_tail(
        self,
        t: np.ndarray,
        e: np.ndarray,
        up: np.ndarray,
        gyr: np.ndarray,
        acc: np.ndarray,
        quiet: np.ndarray,
        span: np.ndarray,
        hgt: np.ndarray,
        k: int,
    ) -> tuple[int, list[Event]]:
        """After a rep fell back: does the pelvis stop at rest (a rep), go on through it to
        the other side (a swing), or start the next rep? Decided at the first of these, or
        after ``rep_tail_s``."""
        assert self._trace is not None and self._tail_t is not None
        s = self.s
        d = self._dir * (e[k:] - self._frozen)
        low = np.minimum.accumulate(np.minimum(d, self._tail_min))
        depth = max(s.swing_min_deg, s.swing_frac * self._peak)
        m = self._tail_prev.size
        prev = np.concatenate((self._tail_prev, d))[: d.size]  # m samples before each
        speed = np.abs(d - prev) * self.rate_hz / m
        slowed = quiet[k:] | (speed < s.rep_stop_frac * self._fall_speed)
        # A rep stops at rest, overshooting it a little. Half a swing's depth past it is
        # neither at once: a stop there (the rest level taken off, as while the pelvis
        # settled) if it stays until rep_tail_max_s; the far side of a swing if it turns back
        # first (cat-cow on a shallow side, turning at once or after a moment's pause).
        beyond = d < -0.5 * depth
        rose = d > low + self._start_thr()  # back up from the lowest point of the tail
        swing = (d < -depth) | ((low < -0.5 * depth) & rose)
        # Stopping at rest: near it and slowed to a fraction of the fall's speed (a swing
        # passes rest at its fastest), or quiet there.
        near = (d <= s.backext_end_frac * self._peak) & ~beyond
        stopped = near & slowed
        # Not stopped by rep_tail_s: a rep if it has slowed by then; still going fast past
        # rest, it is on its way to the other side (a slow cat-cow passes rest at 10-15°/s
        # and takes a second to get a swing's depth past it), decided by rep_tail_max_s.
        late = t[k:] - self._tail_t
        done = stopped | rose | ((late > s.rep_tail_s) & slowed & ~beyond) | (late > s.rep_tail_max_s)
        i = first_true(swing | done)
        n = i + 1 if i >= 0 else d.size
        self._trace.add(
            t[k : k + n],
            d[:n],
            up[k : k + n],
            gyr[k : k + n],
            acc[k : k + n],
            quiet[k : k + n].astype(np.float64),
            span[k : k + n],
            hgt[k : k + n],
        )
        self._tail_min = float(low[n - 1])
        self._tail_prev = np.concatenate((self._tail_prev, d[:n]))[-m:]
        if i < 0:
            return t.size, []
        holding = self._hold is not None
        events = [] if swing[i] else self._finish()
        if not swing[i] and not holding and not events and self._peak >= s.hold_move_deg:
            # Off and back, as no hold moves, and no rep (cat-cow from a level taken at the
            # top of its cow swing): the pose it came back to was not held through it.
            self._last_move_s = max(self._last_move_s, float(t[k + i]))
        if swing[i] and self._peak >= s.hold_move_deg:
            # Cat-cow passes through rest every few seconds, 10-18 deg each way: the pose it
            # swings through is no held one (a plank found only when left began after the
            # last such swing; a plank's own sway of a degree or two through its level is
            # no move off it).
            self._last_move_s = max(self._last_move_s, float(t[k + i]))
        self._tail_t = None
        self._trace = None
        self.base = self._swing_rest() if swing[i] else self._frozen
        if events:
            self._swing_levels = []
        return k + i + 1, events

    def _settle_tail(self) -> list[Event]:
        """A rep waiting at the end of its tail when the posture ends: it stopped there."""
        if self._tail_t is None or self._trace is None:
            return []
        self._tail_t = None
        return self._finish()

    def _note_plank_end(self, ev: Hold) -> None:
        """Remember when a plank worth reporting ended, however it was left (a rise soon
        after is onto all fours: ``HoldRules._lifted``)."""
        if ev.exercise == "plank" and ev.duration_s >= self.s.plank_min_s:
            self._plank_left_s = float(ev.end_s)

    def _finish(self) -> list[Event]:
        """The excursion fell back below its end threshold: what was it?"""
        assert self._trace is not None
        t, d, up, gyr, acc, q, span = self._trace.arrays()[:7]
        if self._hold is not None:
            ev = make_hold(self._hold, t, d, up, gyr, max(hold_end_s(t, d, q), self._hold.start_s), self._tremor_ba, self.s)
            self._hold = None
            self._note_plank_end(ev)
            if self.posture == PRONE and ev.duration_s < self.s.plank_min_s:
                # Up and back to the rest it left, held no longer than a back extension's
                # top (0-5 s; no one planks that briefly): a rep held at the top, if it
                # passes as one.
                rep = classify_rep(t, d, up, gyr, acc, span, self._dir, self.posture, self.s, q > 0.5, self.depth_m)
                if rep is not None:
                    return [rep]
            return [ev] if ev.duration_s >= self._shortest_hold() else []
        if self.calibrated and abs(self._frozen) > self.s.back_lying_max_deg:
            return []  # not lying flat (child's pose, propped up): no rep starts there (elevations need the stand)
        rep = classify_rep(t, d, up, gyr, acc, span, self._dir, self.posture, self.s, q > 0.5, self.depth_m)
        return [rep] if rep is not None else []
