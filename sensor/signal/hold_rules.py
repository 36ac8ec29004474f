"""How a hold is found, followed and ended, and planks found only when left (the rest
pose was one): the excursion detector's hold rules."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sensor.events import Event, Hold, HoldExercise, HoldStarted, Side
from sensor.signal.height import comparable, rise_m
from sensor.signal.holds import ActiveHold, HoldWatch, hold_stability, make_hold
from sensor.signal.iir import lfilter
from sensor.signal.movement import median, rise_times, step_times, still_before
from sensor.signal.poses import came_down_from_plank, lower_pose_ends_plank, off_floor_slope, plank_pose
from sensor.signal.posture import PRONE, SIDE_LEFT
from sensor.signal.rep_endings import RepEndings
from sensor.signal.reps import confidence
from sensor.signal.stability import measure_stability, stability_score

TREMOR_LEAD_S = 2.0  # samples taken before a plank found late: the tremor band filter settles on them


class HoldRules(RepEndings):
    """The excursion detector's rules for holds."""

    def _new_level(self, t_now: float, e_now: float, h_now: float) -> list[Event]:
        """The pelvis rests at a new level, reached by a movement that was no rep: if it came
        down from a plank the posture began in (or reached without turning the pelvis),
        that plank is reported now, from when it was reached to when it was left."""
        events: list[Event] = []
        rest = self.poses.rest
        if self.posture == PRONE and rest is not None and lower_pose_ends_plank(self.s, self.poses, h_now, e_now, self.calibrated):
            left = self._height_left_at(t_now, rest.since_s)
            if left - rest.since_s >= self._shortest_hold() and self._rest_held_alone(rest.since_s):
                events.append(self._plank_after(rest.since_s, left))
        if not events:
            self.poses.keep(h_now, self.s.plank_min_lift_m)
        self._trace = None
        self.base = None  # found again at the next quiet sample, with the pose
        return events

    def _rest_held_alone(self, since: float) -> bool:
        """Was the rest pose held since ``since`` with no rep and no reported plank in it?
        (The pose a plank was entered from, found again after it as the knees come down
        onto all fours, keeps its start: a plank found when it is left would span the one
        reported.)"""
        return self._last_move_s < since and self._plank_left_s < since

    def _height_left_at(self, t_now: float, since: float) -> float:
        """When the pelvis left its last level (the height tracker's movement start)."""
        left = self._height.moved_at
        return float(left) if np.isfinite(left) and since <= left <= t_now else t_now

    def _plank_after(self, start: float, end: float, now: float | None = None) -> Hold:
        """A plank known only once it was over, its stability measured over the samples
        kept of the posture (``_recent``: the last ``RECENT_S``; a plank longer than that
        over its end)."""
        stab = None
        cols = self._recent.window(start - TREMOR_LEAD_S, end)
        if cols is not None and np.count_nonzero(cols[0] >= start) >= 4:
            t, e, up, gyr = cols
            stab = hold_stability(t, self.sign * e, up, gyr, max(start, float(t[0]) + TREMOR_LEAD_S), end, self._tremor_ba)
        sway, tremor, sag = stab or (0.0, 0.0, 0.0)
        return Hold(
            exercise="plank",
            side=None,
            start_s=round(start, 3),
            end_s=round(end, 3),
            duration_s=round(end - start, 3),
            sway_deg=round(sway, 3),
            tremor_dps=round(tremor, 3),
            sag_deg=round(sag, 3),
            detected_at_s=round(end if now is None else now, 3),
            score=stability_score(sway, tremor, sag) if stab else 0.0,
            confidence=0.6,  # seen only as it was left: check it
        )

    def _try_confirm_hold(self) -> HoldStarted | Hold | float | None:
        """A hold confirmed where the excursion settled; or, where it settled after coming
        down out of a plank the rest pose was, that plank (reported now); or the time where
        it settled after coming down from all fours, or up out of a plank just left (a new
        rest level)."""
        assert self._trace is not None and self._settle is not None
        if self._trace.n == 0:
            return None
        t, d, up, gyr, acc, q, _, hgt = self._trace.arrays()
        self._left_plank = None
        self._new_rest = False
        i = self._settle.find(t, d, up, q, lambda i0, c: self._lifted(t, d, up, gyr, acc, hgt, i0, c))
        if i < 0:
            return None
        if self._left_plank is not None:
            start, end = self._left_plank
            return self._plank_after(start, end, float(t[i]))
        if self._new_rest:
            return float(t[i])
        level = median(d[max(0, i - self._settle.w) : i + 1])
        rt = rise_times(t[: i + 1], d[: i + 1], level)
        start = rt[1] if rt else float(t[i])
        exercise: HoldExercise = "plank" if self.posture == PRONE else "side_plank"
        side: Side = None
        if exercise == "side_plank" and self.calibrated:
            side = "left" if self.posture == SIDE_LEFT else "right"
        h = self._hold = ActiveHold(
            exercise, side, round(min(start, float(t[i])), 3), round(float(t[i]), 3), level, self._lift_conf, base=self._settle.base_d
        )
        known = np.flatnonzero(np.isfinite(hgt[: i + 1]))
        # The hold's height (NaN until known): leaving it for another far enough ends it.
        self.poses.level_h = float(hgt[known[-1]]) if known.size and float(t[known[-1]]) >= start else float("nan")
        self._watch = HoldWatch(self.s, self.rate_hz, level)
        return HoldStarted(h.exercise, h.side, h.start_s, h.detected_at_s)

    def _plank_found_late(self) -> HoldStarted | None:
        """Prone, an excursion quiet at a new level for ``rest_shift_s`` with no hold
        confirmed as it settled (a slow way in: from all fours the legs walked back one at a
        time, longer than one movement integrates well): a plank if that level, against the
        rest pose it left (height and pitch, as ``plank_pose`` judges), is one. Timed from
        when the pelvis got there, and followed from now as any hold."""
        rest = self.poses.rest
        if self.posture != PRONE or self._trace is None or self._trace.n == 0 or rest is None:
            return None
        t, d, hgt = (self._trace.arrays()[i] for i in (0, 1, 7))
        known = np.flatnonzero(np.isfinite(hgt))
        if known.size == 0 or not (np.isfinite(rest.h) and comparable(rest.h, float(hgt[known[-1]]))):
            return None
        dh = float(hgt[known[-1]]) - rest.h
        e_now = self._frozen + self._dir * float(d[-1])
        far = np.flatnonzero(np.abs(d - d[-1]) > self.s.arrive_deg)
        start = float(t[far[-1] + 1]) if far.size else float(t[0])
        if float(t[-1]) - start < 0.9 * self.s.rest_shift_s:
            return None  # not there long (ended early: steady just off a level taken too early)
        if not plank_pose(self.s, dh, e_now - rest.e, e_now if self.calibrated else float("nan")):
            return None
        self.poses.level_h = float(hgt[known[-1]])  # the plank's height: leaving it for another ends it
        if d[-1] < 0:
            # Entered through the other side of rest (from all fours the pelvis first tips
            # head-down onto the forearms): the hold is measured the way it went in the end.
            self._dir = -self._dir
            d *= -1.0  # the trace's own column (a view)
        level = median(d[-max(1, int(self.s.settle_window_s * self.rate_hz)) :])
        self._peak = float(d.max())
        # Judged on the levels, not as it settled: as sure as the height margin says, no surer than a plank seen only when left.
        need = self.s.plank_min_lift_m
        conf = min(0.8, confidence([abs(dh) / max(need, 1e-9) - 1.0]))
        h = self._hold = ActiveHold("plank", None, round(start, 3), round(float(t[-1]), 3), level, conf, found_late=True)
        self._watch = HoldWatch(self.s, self.rate_hz, level)
        return HoldStarted(h.exercise, h.side, h.start_s, h.detected_at_s)

    def _hold_left_at(self, t: np.ndarray, e: np.ndarray, hgt: np.ndarray, k: int, lim: int) -> int:
        """A prone hold ends where the pelvis is still at a new height reached in one
        movement. A plank found late is measured from the pose it came from, whose pitch
        may be anything (the forearms on all fours tip the pelvis head-down, the floor is
        level): ``pose_step_m`` off the plank's height either way. Any other: up by
        ``plank_min_lift_m`` with the pelvis ``plank_drop_pitch_deg`` off the level it was
        held at (up onto all fours or the knees, which level it; a shift within a long plank
        reads 5-10 cm either way, and does not turn it), or down by ``all_fours_min_m``
        (down to the floor from all fours: no plank is that high over a pose it is lowered
        into). Index of that sample in ``[k, lim)``, or ``lim``."""
        h = self._hold
        if h is None or self.posture != PRONE:
            return lim
        if h.found_late:
            j = self._new_level_at(t[k:lim], hgt[k:lim])
            return k + j if j >= 0 else lim
        i = k
        while i < lim:
            before = self.poses.level_h
            j = self.poses.step_at(hgt[i:lim], self.s.plank_min_lift_m, self._sure_step(t[i:lim]), self.s.all_fours_min_m)
            if j < 0:
                return lim
            turned = abs(self._dir * (float(e[i + j]) - self._frozen) - h.level) >= self.s.plank_drop_pitch_deg
            if self.poses.level_h < before or turned:
                return i + j
            i += j + 1
        return lim

    def _lifted_off_stage(self, here: float) -> HoldStarted | None:
        """On a side, a hold that rose ``hold_move_deg`` or more and came to rest there,
        lifted by a side plank's lift: what was held was a stage on the floor (propped on
        the forearm, its lift misread) and the side plank starts now, lifted from it."""
        h, w = self._hold, self._watch
        if h is None or w is None or w.left_s is None or self.posture == PRONE or here - w.level < self.s.hold_move_deg:
            return None
        assert self._trace is not None
        t, d, _, gyr, acc, q = self._trace.arrays()[:6]
        i0 = still_before(t, q, w.left_s, self.s.lift_window_s, int(0.3 * self.rate_hz))
        if rise_m(t, acc, gyr, i0, t.size - 1, causal=True) < self.s.side_min_lift_m:
            return None
        ts = step_times(t, d, w.level, here)
        start = ts[1] if ts else float(t[-1])
        self._hold = ActiveHold(h.exercise, h.side, round(start, 3), round(float(t[-1]), 3), here, h.confidence, base=w.level)
        return HoldStarted(h.exercise, h.side, self._hold.start_s, self._hold.detected_at_s)

    def _sure_step(self, t: np.ndarray) -> Callable[[int], bool]:
        """Whether the movement into the level known at ``t[j]`` was short enough to integrate well."""
        return lambda j: self._height.move_s(float(t[j])) <= self.s.pose_move_max_s

    def _new_level_at(self, t: np.ndarray, hgt: np.ndarray) -> int:
        """Index of the first sample whose known height is ``pose_step_m`` off the level
        before it, or -1. Over a long movement (a set of brisk reps with no still moment
        between) the integral drifts by tenths of a metre: no new level is known from it."""
        return self.poses.step_at(hgt, self.s.pose_step_m, self._sure_step(t))

    def _await_steady(self, t_now: float) -> None:
        """Lying down (or rolling back) the pelvis is still settling: slow drifts of a few
        degrees pass the quiet test, and a level taken there makes every rep after it a swing
        through rest. The first level waits for ``rest_first_s`` steady within
        ``rest_first_tol_deg``, for at most ``rest_first_wait_s``."""
        self._steady_until = t_now + self.s.rest_first_wait_s
        self._first_run = (0, 0.0, 0.0)

    def _end_at_new_height(
        self,
        t: np.ndarray,
        e: np.ndarray,
        up: np.ndarray,
        gyr: np.ndarray,
        acc: np.ndarray,
        quiet: np.ndarray,
        span: np.ndarray,
        hgt: np.ndarray,
        i: int,
    ) -> list[Event]:
        """The prone hold left for another height at sample ``i``: it ends where the
        movement there left its level (a plank found late: as the pitch tells; any other:
        as the height tracker does, the pitch may have re-levelled the watch on the way);
        the rest level is found again once the pelvis is steady (from a plank people come
        down in stages: knees, then hips)."""
        assert self._trace is not None and self._watch is not None and self._hold is not None
        sl = slice(i, i + 1)
        d = self._dir * (e[sl] - self._frozen)
        self._trace.add(t[sl], d, up[sl], gyr[sl], acc[sl], quiet[sl].astype(np.float64), span[sl], hgt[sl])
        t_tr, d_tr = self._trace.arrays()[:2]
        end = self._watch.start_of(t_tr, d_tr)
        if not self._hold.found_late:
            moved = self._height.moved_into(float(t[i]))
            end = max(moved, self._hold.start_s) if np.isfinite(moved) else end
        events = self._close_hold(end)
        self._trace = None
        self.base = None
        self._await_steady(float(t[i]))
        return events

    def _lifted(
        self, t: np.ndarray, d: np.ndarray, up: np.ndarray, gyr: np.ndarray, acc: np.ndarray, hgt: np.ndarray, i0: int, c: int
    ) -> bool:
        """Did the movement from the still moment ``i0`` to the settled one ``c`` take the
        pelvis to a held pose (a plank; a side plank lifted off the side)?"""
        lift = rise_m(t, acc, gyr, i0, c, causal=True)  # judged as it settles: nothing after c
        rest = self.poses.rest
        need = self.s.plank_min_lift_m if self.posture == PRONE else self.s.side_min_lift_m
        self._lift_conf = confidence([abs(lift) / max(need, 1e-9) - 1.0])
        if self.posture == PRONE:
            de = self._dir * float(d[c] - d[i0])
            e_abs = self._frozen + self._dir * float(d[c]) if self.calibrated else float("nan")  # needs the stand
            held = rest is not None and float(t[i0]) - rest.since_s >= self._shortest_hold() and self._rest_held_alone(rest.since_s)
            if held and rest is not None and came_down_from_plank(self.s, lift, de, e_abs) and not self._stayed_up(t, hgt, i0, c):
                ts = step_times(t[: c + 1], d[: c + 1], float(d[i0]), float(d[c]))
                self._left_plank = (rest.since_s, ts[0] if ts else float(t[i0]))
                return True
            if lift >= self.s.plank_min_lift_m and float(t[i0]) - self._plank_left_s < self.s.plank_again_s:
                # Up out of a plank just left: onto all fours (the knees down), never into a
                # new plank (one is entered from the floor or from all fours, seconds later).
                # No rep and no hold: a new rest level from here.
                self._new_rest = True
                return True
            if lift <= -self.s.all_fours_min_m and abs(de) < self.s.all_fours_pitch_deg and not off_floor_slope(self.s, e_abs):
                # Down from all fours (or a kneel) to the floor: no rep and no hold, a new
                # rest level from here (reps start from it at once, not after rest_shift_s).
                # Not if it ends sloping head-up as no floor pose does: down into a plank,
                # judged as one (the drop reads long: 28 cm for 10-30).
                self._new_rest = True
                return True
            return plank_pose(self.s, lift, de, e_abs)
        return bool(lift >= self.s.side_min_lift_m)

    def _stayed_up(self, t: np.ndarray, hgt: np.ndarray, i0: int, c: int) -> bool:
        """Does the height tracker, where it already knows the level the movement from
        ``i0`` to ``c`` came to, place it no lower than the rest pose (less than half a
        plank's least height below)? Then the pelvis did not come down out of a plank,
        whatever the movement's own integral says (a tilt off the elbows on an
        uncalibrated IMU reads as an 8-cm drop)."""
        rest = self.poses.rest
        if rest is None or not np.isfinite(hgt[c]) or not comparable(rest.h, float(hgt[c])):
            return False
        if self._height.moved_into(float(t[c])) < float(t[i0]) - 0.5:
            return False  # the level known at c is still the one before this movement
        return float(hgt[c]) - rest.h > -0.5 * self.s.plank_min_lift_m

    def stability_so_far(self) -> tuple[float, float, float] | None:
        """(sway, tremor, sag) of the hold in progress, once it has lasted a second."""
        if self._hold is None or self._trace is None:
            return None
        t, d, up, gyr = self._trace.arrays()[:4]
        m = t >= self._hold.start_s + 0.5
        if m.sum() < int(self.rate_hz):
            return None
        band = lfilter(self._tremor_ba[0], self._tremor_ba[1], gyr, axis=0)
        return measure_stability(t[m], up[m], band[m], d[m])

    def _close_hold(self, t_end: float) -> list[Event]:
        """End a confirmed hold at a posture change (no fall to measure)."""
        if self._trace is None or self._hold is None:
            self._hold = None
            return []
        t, d, up, gyr = self._trace.arrays()[:4]
        ev = make_hold(self._hold, t, d, up, gyr, min(t_end, float(t[-1])), self._tremor_ba, self.s)
        rocked = self._watch is not None and self._watch.rock_start_s is not None
        self._note_plank_end(ev)
        self._hold = None
        self._trace = None
        return [ev] if ev.duration_s >= (max(self._shortest_hold(), self.s.hold_rock_min_s) if rocked else self._shortest_hold()) else []
