"""Where samples become events: rep and hold detection as a streaming state machine.

In each lying posture the pelvis rests at some elevation; an exercise is an *excursion*
away from it: bridges lower the head end of the pelvis (supine), side planks raise it
(side-lying). Prone, the pelvis is the pivot of a back extension and rocks either way
(head end down when the legs lead, up when the chest does), so an excursion there is
taken in whichever direction it starts. The rest level follows only quiet samples (the
angle not changing) and is frozen during an excursion, so reps never drag it. What an
excursion was is decided elsewhere: ``sensor.signal.reps`` (bridge, back extension) when it falls
back, ``sensor.signal.holds`` (plank, side plank) as it settles.

The machine never visits samples one by one: over each chunk the threshold tests are
computed as arrays and it jumps from one transition (excursion starts, excursion ends,
timeout, roll out of the posture) to the next, so its Python cost is per movement, not
per sample.
"""

from __future__ import annotations

import math

import numpy as np

from sensor.events import Event, Hold, HoldExercise, HoldStarted, Rep, Side
from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.height import HeightTracker, rise_m
from sensor.signal.holds import ActiveHold, HoldWatch, SettleSearch, hold_end_s, make_hold
from sensor.signal.iir import butter, first_order, lfilter
from sensor.signal.movement import Trace, first_true, median, rise_times, step_times
from sensor.signal.poses import PoseBook, came_down_from_plank, lower_pose_ends_plank, plank_pose
from sensor.signal.posture import PRONE, SIDE_LEFT, SIDE_RIGHT, SITTING, STANDING, SUPINE
from sensor.signal.reps import classify_rep, confidence
from sensor.signal.stability import measure_stability

__all__ = ["STATES", "ActiveHold", "DetectorSettings", "ExcursionDetector"]

STATES = ("rest", "excursion", "hold")  # detector states, as traces name them
STATE_REST, STATE_EXCURSION, STATE_HOLD = range(3)
WINDOW = 512  # grid samples the machine first looks ahead for its next transition


class ExcursionDetector:
    """Reps and holds in one lying posture at a time; fed grid samples in order."""

    def __init__(self, rate_hz: float, settings: DetectorSettings, calibrated: bool) -> None:
        self.s = settings
        self.rate_hz = rate_hz
        self.calibrated = calibrated
        self._beta = float(np.exp(-1.0 / (settings.rest_tau_s * rate_hz)))
        # Tremor band, applied to a hold's stored gyro trace when the hold ends (the trace
        # starts seconds before the hold, so the filter has settled by then).
        self._tremor_ba = butter(2, [4.0, min(15.0, 0.45 * rate_hz)], btype="band", fs=rate_hz)
        self._quiet_a = float(np.exp(-1.0 / (settings.quiet_tau_s * rate_hz)))
        self._quiet_zi: float | None = None
        self._e_prev: float | None = None
        self._dir = 1.0  # direction of the excursion in progress (+1: head end up)
        self._settle: SettleSearch | None = None  # holdable postures: the search for a hold's start
        # Per-sample (time, rest level, state) for ``analyze --trace``; None: not kept.
        self.recorder: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self.posture = -1
        self.base: float | None = None
        # The last seconds of rest, in pieces: t, e, base, up(3), body rates(3), |f|, quiet, span.
        self._hist: list[tuple[np.ndarray, ...]] = []
        self._hist_n = 0
        self._keep = int(settings.history_s * rate_hz)
        self._trace: Trace | None = None
        self._frozen = 0.0
        self._peak = 0.0
        self._hold: ActiveHold | None = None
        self._watch: HoldWatch | None = None  # is the hold in progress still held?
        self._tail_t: float | None = None  # a rep fell back at this time: waiting to see it stop at rest
        self._qrun: tuple[int, float, float] = (0, 0.0, 0.0)  # quiet samples in a row in an excursion
        self._tail_min = 0.0
        self._tail_prev = 0.0
        self._fall_speed = 0.0  # the fastest the rep fell, deg/s
        self._left_plank: tuple[float, float] | None = None  # a plank the rest pose was, found as it was left
        self._lowered = False  # the settle just found came down from all fours to the floor
        self._last_rep_s = -math.inf  # when the last rep ended: a plank found when left held no reps
        self._lift_conf = 1.0
        self._t0 = 0.0  # when the excursion crossed its start threshold
        self.last_d = 0.0
        self._height = HeightTracker(rate_hz)  # the pelvis' height, level by level
        self.poses = PoseBook()  # the rest pose and the floor of the current posture
        self.last_h = float("nan")

    # -- posture plumbing ----------------------------------------------------------
    @property
    def sign(self) -> float:
        """Direction an exercise moves in this posture (prone: either; see ``_dir``)."""
        return -1.0 if self.posture == SUPINE else 1.0

    def quiet_mask(self, e: np.ndarray) -> np.ndarray:
        """Samples where the angle is not changing (smoothed rate under ``quiet_dps``);
        causal, with its state carried across calls."""
        prev = self._e_prev if self._e_prev is not None else float(e[0])
        rate = np.empty(e.size)
        rate[0] = e[0] - prev
        np.subtract(e[1:], e[:-1], out=rate[1:])
        rate *= self.rate_hz
        a = self._quiet_a
        if self._quiet_zi is None:
            self._quiet_zi = float(a * rate[0])
        sm, self._quiet_zi = first_order(1.0 - a, -a, rate, self._quiet_zi)
        self._e_prev = float(e[-1])
        return np.asarray(np.abs(sm) < self.s.quiet_dps)

    def _record(self, t: np.ndarray, rest: np.ndarray | float | None, state: int) -> None:
        if self.recorder is not None and t.size:
            r = np.nan if rest is None else rest
            self.recorder.append((t, np.broadcast_to(np.asarray(r, float), t.shape).copy(), np.full(t.size, state, np.int8)))

    @property
    def state(self) -> str:
        """What the machine is doing: rest, excursion or hold (for traces)."""
        if self._hold is not None:
            return "hold"
        return "excursion" if self._trace is not None else "rest"

    def set_posture(self, posture: int, t_now: float) -> list[Event]:
        events = self._close_hold(t_now) if self._hold else []
        events.extend(self._settle_tail())
        self.poses.reset()
        self.posture = posture
        self.base = None
        self._trace = None
        self._hist, self._hist_n = [], 0
        return events

    @property
    def active(self) -> bool:
        return self._trace is not None

    @property
    def hold_info(self) -> ActiveHold | None:
        return self._hold

    # -- feeding -------------------------------------------------------------------
    def feed(
        self, t: np.ndarray, e: np.ndarray, up: np.ndarray, gyr: np.ndarray, raw: np.ndarray, acc_norm: np.ndarray, span: np.ndarray
    ) -> list[Event]:
        """Grid samples of one confirmed-posture segment; e in degrees; ``raw`` is the
        instantaneous posture, which leaves the confirmed one when the wearer rolls;
        ``acc_norm`` is |specific force| in m/s²; ``span`` the seconds between the samples
        each point was interpolated from (long across a dropout: the gyro is a guess there)."""
        events: list[Event] = []
        if t.size == 0:
            return events
        quiet = self.quiet_mask(e)
        hgt = self._height.feed(t, acc_norm[:, None] * up, gyr, (raw == STANDING) | (raw == SITTING), quiet)[0]
        known = np.flatnonzero(np.isfinite(hgt))
        if known.size:
            self.last_h = float(hgt[known[-1]])
        if self.posture not in (SUPINE, PRONE, SIDE_LEFT, SIDE_RIGHT):
            return events
        away = np.flatnonzero(raw != self.posture)
        k = 0
        n = t.size
        win = WINDOW
        while k < n:
            # Rolling out of the posture: whatever was starting is not an exercise, and a
            # hold in progress ends where the roll began.
            j = int(np.searchsorted(away, k))
            limit = int(away[j]) if j < away.size else n
            if limit == k:
                if self._hold is not None:
                    events.extend(self._close_hold(float(t[k])))
                events.extend(self._settle_tail())
                self._trace = None
                self.base = None
                back = first_true(raw[k:] == self.posture)
                k2 = k + back if back >= 0 else n
                self._record(t[k:k2], None, STATE_REST)
                k = k2
                continue
            # Look a window ahead, not to the chunk's end: the next transition is usually
            # close, and the work of one step is then bounded by the window, not the chunk
            # (the window doubles while nothing happens in it).
            lim = min(limit, k + win)
            if self._trace is None:
                k2, ev = self._feed_rest(t[:lim], e[:lim], up[:lim], gyr[:lim], acc_norm[:lim], quiet[:lim], span[:lim], hgt[:lim], k)
            elif self._tail_t is not None:
                frozen = self._frozen
                k2, ev = self._feed_tail(t[:lim], e[:lim], up[:lim], gyr[:lim], acc_norm[:lim], quiet[:lim], span[:lim], hgt[:lim], k)
                self._record(t[k:k2], frozen, STATE_EXCURSION)
            else:
                state, frozen = (STATE_HOLD if self._hold is not None else STATE_EXCURSION), self._frozen
                k2, ev = self._feed_active(t[:lim], e[:lim], up[:lim], gyr[:lim], acc_norm[:lim], quiet[:lim], span[:lim], hgt[:lim], k)
                self._record(t[k:k2], frozen, state)
            events.extend(ev)
            self._last_rep_s = max([self._last_rep_s, *(x.end_s for x in ev if isinstance(x, Rep))])
            win = 2 * win if k2 == lim else WINDOW
            k = k2
        if self._trace is not None:
            self.last_d = float(self._dir * (e[-1] - self._frozen))
        else:
            self.last_d = float(self.sign * (e[-1] - self.base)) if self.base is not None else 0.0
        return events

    @property
    def rest_level(self) -> float | None:
        """The rest level excursions are measured from, degrees (None: not known yet)."""
        return self._frozen if self._trace is not None else self.base

    def _push_hist(self, *cols: np.ndarray) -> None:
        keep = self._keep
        if cols[0].size > keep:  # only the last seconds are kept: copy no more
            cols = tuple(c[-keep:] for c in cols)
        if cols[0].size:
            self._hist.append(cols)
            self._hist_n += cols[0].size
        while self._hist and self._hist_n - self._hist[0][0].size >= keep:
            self._hist_n -= self._hist.pop(0)[0].size

    def _history(self) -> tuple[np.ndarray, ...]:
        """The last ``history_s`` of rest before now (columns as pushed; may be empty)."""
        if len(self._hist) == 1:
            cols = self._hist[0]
        elif self._hist:
            cols = tuple(np.concatenate(c) for c in zip(*self._hist))
        else:
            return (np.empty(0),) * 3 + (np.empty((0, 3)),) * 2 + (np.empty(0),) * 4
        return tuple(c[-self._keep :] for c in cols)

    def _start_thr(self) -> float:
        if self.posture == SUPINE:
            return self.s.bridge_start_deg
        if self.posture == PRONE:
            return self.s.backext_start_deg
        return self.s.side_start_deg

    def _feed_rest(
        self,
        t: np.ndarray,
        e: np.ndarray,
        up: np.ndarray,
        gyr: np.ndarray,
        fn: np.ndarray,
        quiet: np.ndarray,
        span: np.ndarray,
        hgt: np.ndarray,
        k: int,
    ) -> tuple[int, list[Event]]:
        seg, q = e[k:], quiet[k:]
        qf = q.astype(np.float64)
        if self.base is None:
            # The rest level starts at the first quiet sample of the posture.
            first = first_true(q)
            stop = k + first if first >= 0 else t.size
            # Samples before it have no rest level, wherever the chunk began.
            self._push_hist(
                t[k:stop], seg[: stop - k], seg[: stop - k], up[k:stop], gyr[k:stop], fn[k:stop], qf[: stop - k], span[k:stop], hgt[k:stop]
            )
            self._record(t[k:stop], None, STATE_REST)
            if first < 0:
                return t.size, []
            self.base = float(seg[first])
            self.poses.start_rest(float(t[stop]), self.base, float(hgt[stop]))
            if first > 0:
                return stop, []
        b = self._beta
        # Only quiet samples move the rest level: a first-order filter over them alone,
        # held between them (vectorised: filter the quiet samples, then forward-fill).
        rq = first_order(1.0 - b, -b, seg[q], b * self.base)[0] if q.any() else seg[:0]
        # base[j] = the filter after the last quiet sample up to j (the old level before any).
        base = np.concatenate(([self.base], rq))[np.cumsum(q)]
        dev = seg - base
        if self.posture == PRONE:
            h = first_true(np.abs(dev) > self._start_thr())
        else:
            h = first_true(self.sign * dev > self._start_thr())
        # Or the pelvis was carried to another level without turning much: a new pose.
        n = h if h >= 0 else seg.size
        moved = self._level_moved(hgt[k : k + n])
        if moved >= 0:
            self._push_hist(
                t[k : k + moved],
                seg[:moved],
                base[:moved],
                up[k : k + moved],
                gyr[k : k + moved],
                fn[k : k + moved],
                qf[:moved],
                span[k : k + moved],
                hgt[k : k + moved],
            )
            self._record(t[k : k + moved], base[:moved], STATE_REST)
            i = k + moved
            return i + 1, self._new_level(float(t[i]), float(seg[moved]), float(hgt[i]))
        if h < 0:
            self.base = float(base[-1])
            self._push_hist(t[k:], seg, base, up[k:], gyr[k:], fn[k:], qf, span[k:], hgt[k:])
            self.poses.see_rest(hgt[k:])
            self._record(t[k:], base, STATE_REST)
            return t.size, []
        self._dir = float(np.sign(dev[h])) if self.posture == PRONE else self.sign
        self._push_hist(
            t[k : k + h], seg[:h], base[:h], up[k : k + h], gyr[k : k + h], fn[k : k + h], qf[:h], span[k : k + h], hgt[k : k + h]
        )
        self.poses.see_rest(hgt[k : k + h])
        self._record(t[k : k + h], base[:h], STATE_REST)
        # Freeze the rest level from before the movement began (0.5 s back).
        hist = self._history()
        ht, he, hb = hist[0], hist[1], hist[2]
        if ht.size:
            j = int(np.searchsorted(ht, t[k + h] - 0.5))
            self._frozen = float(hb[min(j, hb.size - 1)])
        else:
            self._frozen = float(base[h])
        self.base = self._frozen
        self._trace = Trace()
        if ht.size:
            self._trace.add(ht, self._dir * (he - self._frozen), *hist[3:])
        self._peak = 0.0
        self._qrun = (0, 0.0, 0.0)
        self._t0 = float(t[k + h])
        self._settle = SettleSearch(self.s, self.rate_hz, self.posture == PRONE, self._t0) if self._holdable() else None
        self._hist, self._hist_n = [], 0
        return k + h, []

    def _level_moved(self, hgt: np.ndarray) -> int:
        """Index of the first sample whose known height is a new level for the rest pose
        (``pose_step_m`` from it), or -1. Reps leave and come back to their level; only in
        postures with holds does a new level matter (supine, a bridge's top is one)."""
        rest = self.poses.rest
        if not self._holdable() or rest is None or not np.isfinite(rest.h):
            return -1
        diff = np.abs(hgt - rest.h)
        return first_true((diff >= self.s.pose_step_m) & (diff < 1.0))

    def _new_level(self, t_now: float, e_now: float, h_now: float) -> list[Event]:
        """The pelvis rests at a new level, reached by a movement that was no rep: if it came
        down from a plank the posture began in (or reached without turning the pelvis),
        that plank is reported now, from when it was reached to when it was left."""
        events: list[Event] = []
        rest = self.poses.rest
        if self.posture == PRONE and rest is not None and lower_pose_ends_plank(self.s, self.poses, h_now, e_now, self.calibrated):
            left = self._height_left_at(t_now, rest.since_s)
            if left - rest.since_s >= self._shortest_hold() and self._last_rep_s < rest.since_s:
                events.append(self._plank_after(rest.since_s, left))
        self._trace = None
        self.base = None  # found again at the next quiet sample, with the pose
        return events

    def _height_left_at(self, t_now: float, since: float) -> float:
        """When the pelvis left its last level (the height tracker's movement start)."""
        left = self._height.moved_at
        return float(left) if np.isfinite(left) and since <= left <= t_now else t_now

    def _plank_after(self, start: float, end: float, now: float | None = None) -> Hold:
        """A plank known only once it was over (no stability: its samples are gone)."""
        return Hold(
            exercise="plank",
            side=None,
            start_s=round(start, 3),
            end_s=round(end, 3),
            duration_s=round(end - start, 3),
            sway_deg=0.0,
            tremor_dps=0.0,
            sag_deg=0.0,
            detected_at_s=round(end if now is None else now, 3),
            score=0.0,
            confidence=0.6,  # seen only as it was left: check it
        )

    def _feed_active(
        self,
        t: np.ndarray,
        e: np.ndarray,
        up: np.ndarray,
        gyr: np.ndarray,
        fn: np.ndarray,
        quiet: np.ndarray,
        span: np.ndarray,
        hgt: np.ndarray,
        k: int,
    ) -> tuple[int, list[Event]]:
        events: list[Event] = []
        assert self._trace is not None
        d = self._dir * (e[k:] - self._frozen)
        run_peak = np.maximum.accumulate(np.maximum(d, self._peak))
        end = first_true(d < self._end_thresholds(run_peak))  # -1: still going at the chunk's end
        moved = self._watch.check(t[k:], d, quiet[k:], end) if self._hold is not None and self._watch else -1
        if moved >= 0:
            end = -1
        stop = end if end >= 0 else (moved if moved >= 0 else d.size)
        timed_out = False
        if self._hold is None:
            timeout = self.s.backext_timeout_s if self.posture == PRONE else self.s.rep_timeout_s
            # t - t0 never decreases: look for the first late sample only if the last is.
            if stop and t[k + stop - 1] - self._t0 > timeout:
                stop, timed_out = first_true(t[k : k + stop] - self._t0 > timeout), True
            # Or it came to rest at a new level, quiet there for longer than any rep's top.
            shifted = self._rested_at(quiet[k : k + stop], d[:stop])
            if shifted >= 0:
                stop, timed_out = shifted, True
        take = stop + (1 if end >= 0 and not timed_out and stop < d.size else 0)
        self._trace.add(
            t[k : k + take],
            d[:take],
            up[k : k + take],
            gyr[k : k + take],
            fn[k : k + take],
            quiet[k : k + take].astype(np.float64),
            span[k : k + take],
            hgt[k : k + take],
        )
        if take:
            self._peak = float(run_peak[take - 1])
        if self._hold is None and self._settle is not None:
            ev = self._try_confirm_hold()
            if isinstance(ev, float):
                j = int(np.searchsorted(t[k : k + take], ev, side="right"))
                i = k + max(j - 1, 0)
                events.extend(self._new_level(float(t[i]), float(e[i]), float(hgt[i])))
                return k + max(j, 1), events
            if isinstance(ev, Hold):
                # Came down out of a plank the pelvis rested in: that plank is over, and the
                # rest level is the one it came down to, found again from here.
                events.append(ev)
                j = int(np.searchsorted(t[k : k + take], ev.detected_at_s, side="right"))
                self._trace = None
                self.base = None
                return k + max(j, 1), events
            if ev is not None:
                events.append(ev)
                # From the confirmation on, the hold's own end rule applies: take the
                # samples after it again, so the result does not depend on where a chunk
                # happened to end.
                j = int(np.searchsorted(t[k : k + take], ev.detected_at_s, side="right"))
                if j < take:
                    self._trace.drop_last(take - j)
                    self._peak = float(run_peak[j - 1]) if j else self._peak
                    return k + j, events
        if moved >= 0 and self._watch is not None:
            if self._watch.left_s is None:
                self._watch.left_s = float(t[k + stop])  # left the held level: wait for where it goes
                return k + stop, events
            # Left by a quick movement that did not fall back to rest (a rep rocking the
            # hips, a shift to another pose): the hold ends where that began, and the rest
            # level is found again at the next quiet sample. But a movement that came to
            # rest still held up (from the hands down onto the forearms) is the same hold.
            t_tr, d_tr = self._trace.arrays()[:2]
            here = float(d_tr[-1])
            if (
                self._watch.rock_start_s is None
                and bool(quiet[k + stop])
                and here >= float(self._end_thresholds(np.array([0.0]))[0])
                and abs(here - self._watch.level) <= self.s.plank_max_pitch_change_deg
            ):
                self._watch.level, self._watch.left_s = here, None
                return k + stop, events
            events.extend(self._close_hold(self._watch.start_of(t_tr, d_tr)))
            self._trace = None
            self.base = None
            return k + stop, events
        if timed_out and self._hold is None:
            # Neither a rep nor a hold: the wearer settled somewhere new. Re-baseline there,
            # at the next quiet sample (and if that is lower, was where it came from a plank?).
            i = k + max(stop - 1, 0)
            events.extend(self._new_level(float(t[i]), float(e[i]), float(hgt[i])))
            return k + stop, events
        if end < 0 or (timed_out and stop < end):
            return (k + stop if timed_out else t.size), events
        if self._hold is None and self.posture in (SUPINE, PRONE):
            # Fell back: a rep if it stops at rest; a swing through it to the other side
            # (cat-cow, pelvic tilts) is none. Decided within ``rep_tail_s``.
            self._tail_t, self._tail_min = float(t[k + stop]), float(d[stop])
            self._tail_prev = float(d[stop])
            tt, dd = self._trace.arrays()[:2]
            fall = dd[tt >= tt[-1] - 1.5]
            self._fall_speed = float(np.max(np.abs(np.diff(fall)), initial=0.0)) * self.rate_hz
            return k + stop + 1, events
        events.extend(self._finish())
        self._trace = None
        self.base = self._frozen
        return k + stop + 1, events

    def _rested_at(self, quiet: np.ndarray, d: np.ndarray) -> int:
        """Index where the excursion has been quiet at one level (within
        ``rest_shift_tol_deg``) for ``rest_shift_s``, or -1. The run is carried across calls,
        so the answer does not depend on how the stream was cut."""
        need = int(self.s.rest_shift_s * self.rate_hz)
        need_near = int(self.s.rest_near_s * self.rate_hz)
        run, lo, hi = self._qrun
        i, n = 0, d.size
        while i < n:
            if not quiet[i]:
                j = i + int(np.argmax(quiet[i:])) if quiet[i:].any() else n
                run, i = 0, j
                continue
            j = i + (int(np.argmin(quiet[i:])) if not quiet[i:].all() else n - i)
            if run == 0:
                lo = hi = float(d[i])
            seg = d[i:j]
            mn = np.minimum.accumulate(np.minimum(seg, lo))
            mx = np.maximum.accumulate(np.maximum(seg, hi))
            wide = first_true(mx - mn > self.s.rest_shift_tol_deg)
            end = wide if wide >= 0 else seg.size
            # Steady long enough before it widened; or steady a moment just off the rest
            # level, lower than any rep's top: that level was taken too early (the pelvis
            # still settling after lying down) and the excursion would never end.
            cnt = run + np.arange(1, end + 1)
            near = np.maximum(np.abs(mn[:end]), np.abs(mx[:end])) < self.s.rest_near_deg
            hit = first_true((cnt >= need) | ((cnt >= need_near) & near))
            if hit >= 0:
                self._qrun = (0, 0.0, 0.0)
                return i + hit
            if wide >= 0:  # the level moved: the run starts again there
                run, lo, hi, i = 0, 0.0, 0.0, i + wide
                continue
            run, lo, hi, i = run + seg.size, float(mn[-1]), float(mx[-1]), j
        self._qrun = (run, lo, hi)
        return -1

    def _feed_tail(
        self,
        t: np.ndarray,
        e: np.ndarray,
        up: np.ndarray,
        gyr: np.ndarray,
        fn: np.ndarray,
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
        swing = d < -max(s.swing_min_deg, s.swing_frac * self._peak)
        # Stopping at rest: near it and slowed to a fraction of the fall's speed (a swing
        # passes rest at its fastest), or quiet there.
        prev = np.concatenate(([self._tail_prev], d[:-1]))
        speed = np.abs(d - prev) * self.rate_hz
        near = np.abs(d) <= s.backext_end_frac * self._peak
        stopped = near & (quiet[k:] | (speed < s.rep_stop_frac * self._fall_speed))
        done = stopped | (d > low + self._start_thr()) | (t[k:] - self._tail_t > s.rep_tail_s)
        i = first_true(swing | done)
        n = i + 1 if i >= 0 else d.size
        self._trace.add(
            t[k : k + n],
            d[:n],
            up[k : k + n],
            gyr[k : k + n],
            fn[k : k + n],
            quiet[k : k + n].astype(np.float64),
            span[k : k + n],
            hgt[k : k + n],
        )
        self._tail_min = float(low[n - 1])
        self._tail_prev = float(d[n - 1])
        if i < 0:
            return t.size, []
        events = [] if swing[i] else self._finish()
        self._tail_t = None
        self._trace = None
        self.base = self._frozen
        return k + i + 1, events

    def _settle_tail(self) -> list[Event]:
        """A rep waiting at the end of its tail when the posture ends: it stopped there."""
        if self._tail_t is None or self._trace is None:
            return []
        self._tail_t = None
        return self._finish()

    def _end_thresholds(self, run_peak: np.ndarray) -> np.ndarray:
        s = self.s
        if self._hold is not None:
            # Relative to the level the hold started at, not its peak: sway peaks and a
            # fatigue sag must not end a hold that is still going.
            if self.posture == PRONE:
                return np.full(run_peak.shape, max(s.plank_end_min_deg, s.plank_end_frac * self._hold.level))
            return np.full(run_peak.shape, max(s.hold_end_min_deg, s.hold_end_frac * self._hold.level))
        if self.posture in (SIDE_LEFT, SIDE_RIGHT):
            return np.maximum(s.hold_end_min_deg, s.hold_end_frac * run_peak)
        if self.posture == SUPINE:
            return np.maximum(s.bridge_start_deg * 0.5, s.bridge_end_frac * run_peak)
        return np.maximum(s.backext_end_deg, s.backext_end_frac * run_peak)

    def _holdable(self) -> bool:
        return self.posture in (PRONE, SIDE_LEFT, SIDE_RIGHT)

    def _try_confirm_hold(self) -> HoldStarted | Hold | float | None:
        """A hold confirmed where the excursion settled; or, where it settled after coming
        down out of a plank the rest pose was, that plank (reported now); or the time where
        it settled after coming down from all fours (a new rest level)."""
        assert self._trace is not None and self._settle is not None
        if self._trace.n == 0:
            return None
        t, d, up, gyr, fn, q, _, hgt = self._trace.arrays()
        self._left_plank = None
        self._lowered = False
        i = self._settle.find(t, d, up, fn, q, lambda i0, c: self._lifted(t, d, up, gyr, fn, hgt, i0, c))
        if i < 0:
            return None
        if self._left_plank is not None:
            start, end = self._left_plank
            return self._plank_after(start, end, float(t[i]))
        if self._lowered:
            return float(t[i])
        level = median(d[max(0, i - self._settle.w) : i + 1])
        rt = rise_times(t[: i + 1], d[: i + 1], level)
        start = rt[1] if rt else float(t[i])
        exercise: HoldExercise = "plank" if self.posture == PRONE else "side_plank"
        side: Side = None
        if exercise == "side_plank" and self.calibrated:
            side = "left" if self.posture == SIDE_LEFT else "right"
        h = self._hold = ActiveHold(exercise, side, round(min(start, float(t[i])), 3), round(float(t[i]), 3), level, self._lift_conf)
        self._watch = HoldWatch(self.s, self.rate_hz, level)
        return HoldStarted(h.exercise, h.side, h.start_s, h.detected_at_s)

    def _lifted(
        self, t: np.ndarray, d: np.ndarray, up: np.ndarray, gyr: np.ndarray, fn: np.ndarray, hgt: np.ndarray, i0: int, c: int
    ) -> bool:
        """Did the movement from the still moment ``i0`` to the settled one ``c`` take the
        pelvis to a held pose (a plank; a side plank lifted off the side)?"""
        lift = rise_m(t, fn[:, None] * up, gyr, i0, c)
        rest = self.poses.rest
        need = self.s.plank_min_lift_m if self.posture == PRONE else self.s.side_min_lift_m
        self._lift_conf = confidence([abs(lift) / max(need, 1e-9) - 1.0])
        if self.posture == PRONE:
            de = self._dir * float(d[c] - d[i0])
            e_abs = self._frozen + self._dir * float(d[c]) if self.calibrated else float("nan")  # needs the stand
            held = rest is not None and float(t[i0]) - rest.since_s >= self._shortest_hold() and self._last_rep_s < rest.since_s
            if held and rest is not None and came_down_from_plank(self.s, lift, de, e_abs):
                ts = step_times(t[: c + 1], d[: c + 1], float(d[i0]), float(d[c]))
                self._left_plank = (rest.since_s, ts[0] if ts else float(t[i0]))
                return True
            if lift <= -self.s.all_fours_min_m and abs(de) < self.s.all_fours_pitch_deg:
                # Down from all fours (or a kneel) to the floor: no rep and no hold, a new
                # rest level from here (reps start from it at once, not after rest_shift_s).
                self._lowered = True
                return True
            return plank_pose(self.s, lift, de, e_abs)
        return bool(lift >= self.s.side_min_lift_m)

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

    def _shortest_hold(self) -> float:
        """The shortest hold reported: no one planks for under ``plank_min_s``."""
        return max(self.s.hold_min_s, self.s.plank_min_s) if self.posture == PRONE else self.s.hold_min_s

    def _close_hold(self, t_end: float) -> list[Event]:
        """End a confirmed hold at a posture change (no fall to measure)."""
        if self._trace is None or self._hold is None:
            self._hold = None
            return []
        t, d, up, gyr = self._trace.arrays()[:4]
        ev = make_hold(self._hold, t, d, up, gyr, min(t_end, float(t[-1])), self._tremor_ba, self.s.hold_min_s)
        rocked = self._watch is not None and self._watch.rock_start_s is not None
        self._hold = None
        self._trace = None
        return [ev] if ev.duration_s >= (max(self._shortest_hold(), self.s.hold_rock_min_s) if rocked else self._shortest_hold()) else []

    def _finish(self) -> list[Event]:
        """The excursion fell back below its end threshold: what was it?"""
        assert self._trace is not None
        t, d, up, gyr, fn, q, span = self._trace.arrays()[:7]
        if self._hold is not None:
            ev = make_hold(self._hold, t, d, up, gyr, max(hold_end_s(t, d, q), self._hold.start_s), self._tremor_ba, self.s.hold_min_s)
            self._hold = None
            if self.posture == PRONE and ev.duration_s < self.s.plank_min_s:
                # Up and back to the rest it left, held no longer than a back extension's
                # top (0-5 s; no one planks that briefly): a rep held at the top, if it
                # passes as one.
                rep = classify_rep(t, d, up, gyr, fn, span, self._dir, self.posture, self.s, q > 0.5)
                if rep is not None:
                    return [rep]
            return [ev] if ev.duration_s >= self._shortest_hold() else []
        if self.calibrated and abs(self._frozen) > self.s.back_lying_max_deg:
            return []  # not lying flat (child's pose, propped up): no rep starts there (elevations need the stand)
        rep = classify_rep(t, d, up, gyr, fn, span, self._dir, self.posture, self.s, q > 0.5)
        return [rep] if rep is not None else []

    def finish(self, t_end: float) -> list[Event]:
        """End of stream: a hold still going is reported up to the last sample."""
        if self._hold is not None:
            return self._close_hold(t_end)
        return self._settle_tail()
