"""Where samples become events: rep and hold detection as a streaming state machine.

In each lying posture the pelvis rests at some elevation; an exercise is an *excursion*
away from it: bridges lower the head end of the pelvis (supine), side planks raise it
(side-lying). Prone, the pelvis is the pivot of a back extension and rocks either way
(head end down when the legs lead, up when the chest does), so an excursion there is
taken in whichever direction it starts. The rest level follows only quiet samples (the
angle not changing) and is frozen during an excursion, so reps never drag it. A hold
(plank, side plank) is an excursion that settles *and* whose start lifted the pelvis off
the floor: the vertical displacement, integrated twice from the accelerometer between two
moments of stillness, tells a plank (15–30 cm) from a back extension held at the top
(0–2 cm), whatever the angles. The machine finds excursions with threshold crossings found vectorised
over each chunk, and only loops over the few crossings. Timing comes from the shape of
the movement: a rise's 10/50/90 % crossings give its midpoint and length (a min-jerk
movement spans 52 % of its length between 10 % and 90 %), so start, top and end are
placed where the movement really begins and ends, not where a threshold was passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensor.events import Event, Hold, HoldExercise, HoldStarted, Rep, Side
from sensor.iir import butter, lfilter
from sensor.movement import Trace, fall_times, lift_m, rise_times, still_before
from sensor.posture import PRONE, SIDE_LEFT, SIDE_RIGHT, SUPINE
from sensor.stability import measure_stability, stability_score

STATES = ("rest", "excursion", "hold")  # detector states, as traces name them
STATE_REST, STATE_EXCURSION, STATE_HOLD = range(3)


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds in degrees of pelvis elevation away from rest."""

    rest_tau_s: float = 2.0  # how fast the rest level follows slow changes (quiet samples only)
    quiet_dps: float = 1.5  # the smoothed angle changing slower than this is "quiet"
    quiet_tau_s: float = 0.15  # smoothing of the angle's rate for the quiet test
    history_s: float = 4.0
    bridge_start_deg: float = 5.0
    bridge_min_peak_deg: float = 7.0
    bridge_end_frac: float = 0.15
    backext_start_deg: float = 1.4
    backext_min_peak_deg: float = 2.4
    backext_max_peak_deg: float = 30.0
    backext_end_deg: float = 0.8
    backext_end_frac: float = 0.3
    backext_timeout_s: float = 9.0  # a rep is at most 1.5 + 3 + 1.5 s; longer is a new pose
    backext_min_s: float = 0.8  # a lift and a lowering take 0.5 s each at the briskest
    backext_max_s: float = 7.5
    backext_max_hold_s: float = 3.6  # people hold a back extension 0-3 s at the top
    backext_max_move_s: float = 1.8  # lifting or lowering takes 0.5-1.5 s; slower is settling into a pose
    plank_min_deg: float = 2.5  # either way: the lift, not the angle, makes a plank
    plank_min_lift_m: float = 0.08  # a plank lifts the pelvis 15-30 cm; a back extension 0-2 cm
    plank_end_frac: float = 0.3  # not above the rep rule (backext_end_*): chunk invariance
    plank_end_min_deg: float = 0.8
    side_start_deg: float = 4.0
    side_min_deg: float = 5.5
    side_min_lift_m: float = 0.06
    lift_window_s: float = 2.5  # how far before the start crossing the lift is integrated from
    lift_settle_s: float = 4.0  # a lift settles within this long of the start crossing (longer: the integral drifts)
    hold_end_frac: float = 0.25
    hold_min_s: float = 2.0  # shorter "holds" were a wobble on the way somewhere else
    hold_end_min_deg: float = 2.5
    settle_window_s: float = 0.25
    settle_tol_deg: float = 0.6
    settle_turn_deg: float = 1.5  # the gravity direction may turn this much over the settle window
    rep_timeout_s: float = 15.0
    off_axis_frac: float = 0.6


@dataclass
class ActiveHold:
    """A hold confirmed and still going."""

    exercise: HoldExercise
    side: Side
    start_s: float
    detected_at_s: float
    level: float  # elevation above rest when it was confirmed, degrees


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
        self._quiet_zi: np.ndarray | None = None
        self._e_prev: float | None = None
        self._dir = 1.0  # direction of the excursion in progress (+1: head end up)
        self._lift_tried_t = -np.inf  # last settle point where a lift was looked for
        # Per-sample (time, rest level, state) for ``analyze --trace``; None: not kept.
        self.recorder: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self.posture = -1
        self.base: float | None = None
        self._hist: tuple[np.ndarray, ...] | None = None  # t, e, base, up(3), body rates(3)
        self._trace: Trace | None = None
        self._frozen = 0.0
        self._peak = 0.0
        self._hold: ActiveHold | None = None
        self._t0 = 0.0  # when the excursion crossed its start threshold
        self.last_d = 0.0

    # -- posture plumbing ----------------------------------------------------------
    @property
    def sign(self) -> float:
        """Direction an exercise moves in this posture (prone: either; see ``_dir``)."""
        return -1.0 if self.posture == SUPINE else 1.0

    def quiet_mask(self, e: np.ndarray) -> np.ndarray:
        """Samples where the angle is not changing (smoothed rate under ``quiet_dps``);
        causal, with its state carried across calls."""
        prev = self._e_prev if self._e_prev is not None else float(e[0])
        rate = np.diff(np.concatenate(([prev], e))) * self.rate_hz
        a = self._quiet_a
        if self._quiet_zi is None:
            self._quiet_zi = np.array([a * rate[0]])
        sm, self._quiet_zi = lfilter([1.0 - a], [1.0, -a], rate, zi=self._quiet_zi)
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
        self.posture = posture
        self.base = None
        self._trace = None
        self._hist = None
        return events

    @property
    def active(self) -> bool:
        return self._trace is not None

    @property
    def hold_info(self) -> ActiveHold | None:
        return self._hold

    # -- feeding -------------------------------------------------------------------
    def feed(self, t: np.ndarray, e: np.ndarray, up: np.ndarray, gyr: np.ndarray, raw: np.ndarray, acc_norm: np.ndarray) -> list[Event]:
        """Grid samples of one confirmed-posture segment; e in degrees; ``raw`` is the
        instantaneous posture, which leaves the confirmed one when the wearer rolls;
        ``acc_norm`` is |specific force| in m/s²."""
        events: list[Event] = []
        if t.size == 0:
            return events
        quiet = self.quiet_mask(e)
        if self.posture not in (SUPINE, PRONE, SIDE_LEFT, SIDE_RIGHT):
            return events
        away = np.flatnonzero(raw != self.posture)
        k = 0
        n = t.size
        while k < n:
            # Rolling out of the posture: whatever was starting is not an exercise, and a
            # hold in progress ends where the roll began.
            nxt_away = away[away >= k]
            limit = int(nxt_away[0]) if nxt_away.size else n
            if limit == k:
                if self._hold is not None:
                    events.extend(self._close_hold(float(t[k])))
                self._trace = None
                self.base = None
                back = np.flatnonzero(raw[k:] == self.posture)
                k2 = k + int(back[0]) if back.size else n
                self._record(t[k:k2], None, STATE_REST)
                k = k2
                continue
            if self._trace is None:
                k = self._feed_rest(t[:limit], e[:limit], up[:limit], gyr[:limit], acc_norm[:limit], quiet[:limit], k)
            else:
                state, frozen = (STATE_HOLD if self._hold is not None else STATE_EXCURSION), self._frozen
                k2, ev = self._feed_active(t[:limit], e[:limit], up[:limit], gyr[:limit], acc_norm[:limit], quiet[:limit], k)
                self._record(t[k:k2], frozen, state)
                k = k2
                events.extend(ev)
        if self._trace is not None:
            self.last_d = float(self._dir * (e[-1] - self._frozen))
        else:
            self.last_d = float(self.sign * (e[-1] - self.base)) if self.base is not None else 0.0
        return events

    @property
    def rest_level(self) -> float | None:
        """The rest level excursions are measured from, degrees (None: not known yet)."""
        return self._frozen if self._trace is not None else self.base

    def _push_hist(
        self, t: np.ndarray, e: np.ndarray, base: np.ndarray, up: np.ndarray, gyr: np.ndarray, fn: np.ndarray, q: np.ndarray
    ) -> None:
        cols = (t, e, base, up, gyr, fn, q)
        if self._hist is None:
            self._hist = cols
        else:
            self._hist = tuple(np.concatenate((h, c)) for h, c in zip(self._hist, cols))
        keep = int(self.s.history_s * self.rate_hz)
        if self._hist[0].size > keep:
            self._hist = tuple(h[-keep:] for h in self._hist)

    def _start_thr(self) -> float:
        if self.posture == SUPINE:
            return self.s.bridge_start_deg
        if self.posture == PRONE:
            return self.s.backext_start_deg
        return self.s.side_start_deg

    def _feed_rest(self, t: np.ndarray, e: np.ndarray, up: np.ndarray, gyr: np.ndarray, fn: np.ndarray, quiet: np.ndarray, k: int) -> int:
        qf = quiet.astype(np.float64)
        seg, q = e[k:], quiet[k:]
        if self.base is None:
            # The rest level starts at the first quiet sample of the posture.
            first = np.flatnonzero(q)
            if first.size == 0:
                self._push_hist(t[k:], seg, seg, up[k:], gyr[k:], fn[k:], qf[k:])
                self._record(t[k:], None, STATE_REST)
                return t.size
            self.base = float(seg[first[0]])
        b = self._beta
        # Only quiet samples move the rest level: a first-order filter over them alone,
        # held between them (vectorised: filter the quiet samples, then forward-fill).
        iq = np.flatnonzero(q)
        base = np.full(seg.size, self.base)
        if iq.size:
            rq, _ = lfilter([1.0 - b], [1.0, -b], seg[iq], zi=[b * self.base])
            pos = np.cumsum(q) - 1
            base = np.where(pos >= 0, rq[np.maximum(pos, 0)], self.base)
        dev = seg - base
        if self.posture == PRONE:
            hit = np.flatnonzero(np.abs(dev) > self._start_thr())
        else:
            hit = np.flatnonzero(self.sign * dev > self._start_thr())
        if hit.size == 0:
            self.base = float(base[-1])
            self._push_hist(t[k:], seg, base, up[k:], gyr[k:], fn[k:], qf[k:])
            self._record(t[k:], base, STATE_REST)
            return t.size
        h = int(hit[0])
        self._dir = float(np.sign(dev[h])) if self.posture == PRONE else self.sign
        self._push_hist(t[k : k + h], seg[:h], base[:h], up[k : k + h], gyr[k : k + h], fn[k : k + h], qf[k : k + h])
        self._record(t[k : k + h], base[:h], STATE_REST)
        # Freeze the rest level from before the movement began (0.5 s back).
        assert self._hist is not None
        ht, he, hb = self._hist[0], self._hist[1], self._hist[2]
        if ht.size:
            j = int(np.searchsorted(ht, t[k + h] - 0.5))
            self._frozen = float(hb[min(j, hb.size - 1)])
        else:
            self._frozen = float(base[h])
        self.base = self._frozen
        self._trace = Trace()
        if ht.size:
            self._trace.add(ht, self._dir * (he - self._frozen), *self._hist[3:])
        self._peak = 0.0
        self._t0 = float(t[k + h])
        self._lift_tried_t = -np.inf
        self._hist = None
        return k + h

    def _feed_active(
        self, t: np.ndarray, e: np.ndarray, up: np.ndarray, gyr: np.ndarray, fn: np.ndarray, quiet: np.ndarray, k: int
    ) -> tuple[int, list[Event]]:
        events: list[Event] = []
        assert self._trace is not None
        d = self._dir * (e[k:] - self._frozen)
        run_peak = np.maximum.accumulate(np.maximum(d, self._peak))
        end = np.flatnonzero(d < self._end_thresholds(run_peak))
        stop = int(end[0]) if end.size else d.size
        timed_out = False
        if self._hold is None:
            timeout = self.s.backext_timeout_s if self.posture == PRONE else self.s.rep_timeout_s
            late = np.flatnonzero(t[k : k + stop] - self._t0 > timeout)
            if late.size:
                stop, timed_out = int(late[0]), True
        take = stop + (1 if end.size and not timed_out and stop < d.size else 0)
        self._trace.add(
            t[k : k + take], d[:take], up[k : k + take], gyr[k : k + take], fn[k : k + take], quiet[k : k + take].astype(np.float64)
        )
        if take:
            self._peak = float(run_peak[take - 1])
        if self._hold is None and self._holdable():
            ev = self._try_confirm_hold()
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
        if timed_out and self._hold is None:
            # Neither a rep nor a hold: the wearer settled somewhere new. Re-baseline there,
            # at the next quiet sample.
            self._trace = None
            self.base = None
            return k + stop, events
        if not end.size or (timed_out and stop < int(end[0])):
            return (k + stop if timed_out else t.size), events
        events.extend(self._finish())
        self._trace = None
        self.base = self._frozen
        return k + stop + 1, events

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

    def _hold_min(self) -> float:
        return self.s.plank_min_deg if self.posture == PRONE else self.s.side_min_deg

    def _try_confirm_hold(self) -> HoldStarted | None:
        assert self._trace is not None
        t, d, up, _, fn, q = self._trace.arrays()
        w = max(1, int(self.s.settle_window_s * self.rate_hz))
        if d.size <= w:
            return None
        cur, past = d[w:], d[:-w]
        tol = np.maximum(self.s.settle_tol_deg, 0.06 * cur)
        # Still about every axis, not only in pitch: rolling over to a side is no hold.
        cos_turn = np.einsum("ij,ij->i", up[w:], up[:-w])
        still = cos_turn >= math.cos(math.radians(self.s.settle_turn_deg))
        # ... and the angle not changing at that moment (the start of a quick lowering can
        # look settled over the window; the lift integral needs the pelvis at rest there).
        ok = np.flatnonzero((cur >= self._hold_min()) & (np.abs(cur - past) <= tol) & still & (q[w:] > 0.5))
        i = -1
        for c in ok + w:
            # Settled: did getting here lift the pelvis off the floor? (Checked at most
            # every half second; a back extension held at the top settles too.)
            if t[c] > self._t0 + self.s.lift_settle_s:
                break  # settling this late is a slow change of pose (and the integral drifts)
            if t[c] < self._lift_tried_t + 0.5:
                continue
            self._lift_tried_t = float(t[c])
            i0 = still_before(t, q, self._t0, self.s.lift_window_s, int(0.3 * self.rate_hz))
            min_lift = self.s.plank_min_lift_m if self.posture == PRONE else self.s.side_min_lift_m
            if lift_m(t, fn, i0, int(c)) >= min_lift:
                i = int(c)
                break
        if i < 0:
            return None
        level = float(np.median(d[max(0, i - w) : i + 1]))
        rt = rise_times(t[: i + 1], d[: i + 1], level)
        start = rt[1] if rt else float(t[i])
        exercise: HoldExercise = "plank" if self.posture == PRONE else "side_plank"
        side: Side = None
        if exercise == "side_plank" and self.calibrated:
            side = "left" if self.posture == SIDE_LEFT else "right"
        h = self._hold = ActiveHold(exercise, side, round(min(start, float(t[i])), 3), round(float(t[i]), 3), level)
        return HoldStarted(h.exercise, h.side, h.start_s, h.detected_at_s)

    def stability_so_far(self) -> tuple[float, float, float] | None:
        """(sway, tremor, sag) of the hold in progress, once it has lasted a second."""
        if self._hold is None or self._trace is None:
            return None
        t, d, up, gyr, _, _ = self._trace.arrays()
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
        t, d, up, gyr, _, _ = self._trace.arrays()
        ev = self._make_hold(t, d, up, gyr, min(t_end, float(t[-1])))
        self._hold = None
        self._trace = None
        return [ev] if ev.duration_s >= self.s.hold_min_s else []

    def _make_hold(self, t: np.ndarray, d: np.ndarray, up: np.ndarray, gyr: np.ndarray, end: float) -> Hold:
        h = self._hold
        assert h is not None
        start = h.start_s
        m = (t >= start + 0.5) & (t <= end - 0.5)
        if m.sum() < 4:
            m = (t >= start) & (t <= end)
        band = lfilter(self._tremor_ba[0], self._tremor_ba[1], gyr, axis=0)
        sway, tremor, sag = measure_stability(t[m], up[m], band[m], d[m])
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
        )

    def _finish(self) -> list[Event]:
        """The excursion fell back below its end threshold: what was it?"""
        assert self._trace is not None
        t, d, up, gyr, _, q = self._trace.arrays()
        now = float(t[-1])
        if self._hold is not None:
            tc = now
            # The level the lowering starts from: just before the last quiet moment ahead
            # of the fall (a fatigue sag earlier in the hold must not move the end).
            qi = np.flatnonzero((q > 0.5) & (t >= tc - 2.5) & (t < tc))
            if qi.size:
                win = (t >= t[qi[-1]] - 0.5) & (t <= t[qi[-1]])
            else:
                win = (t >= tc - 2.5) & (t <= tc - 1.0)
            level = float(np.median(d[win])) if win.any() else float(np.median(d))
            ft = fall_times(t, d, level)
            end = ft[0] if ft else tc
            ev = self._make_hold(t, d, up, gyr, max(end, self._hold.start_s))
            self._hold = None
            return [ev] if ev.duration_s >= self.s.hold_min_s else []
        peak = float(d.max())
        s = self.s
        if self.posture == SUPINE:
            if peak < s.bridge_min_peak_deg:
                return []
            exercise = "bridge"
        elif self.posture == PRONE:
            if not (s.backext_min_peak_deg <= peak <= s.backext_max_peak_deg):
                return []
            exercise = "back_extension"
        else:
            return []
        top = d >= 0.8 * peak
        level = float(np.median(d[top]))
        rt = rise_times(t, d, level)
        ft = fall_times(t, d, level)
        if rt is None or ft is None:
            return []
        start, top_start = rt
        top_end, end = ft
        if not (0.5 <= end - start <= s.rep_timeout_s):
            return []
        if exercise == "back_extension" and not (
            s.backext_min_s <= end - start <= s.backext_max_s
            and top_end - top_start <= s.backext_max_hold_s
            and max(top_start - start, end - top_end) <= s.backext_max_move_s
        ):
            return []  # too quick to be a lift and a lowering, or a new pose held a while
        # A real rep turns the pelvis about its left-right axis; a fidget rolls it too.
        i0 = int(np.searchsorted(t, start))
        ax = np.array([1.0, 0.0, 0.0]) if self.posture in (SUPINE, PRONE) else np.array([0.0, 0.0, 1.0])
        off = np.degrees(np.max(np.abs((up[i0:] - up[min(i0, up.shape[0] - 1)]) @ ax)))
        if off > max(1.5, s.off_axis_frac * peak):
            return []
        return [
            Rep(
                exercise=exercise,  # type: ignore[arg-type]
                start_s=round(start, 3),
                end_s=round(end, 3),
                hold_s=round(max(0.0, top_end - top_start), 3),
                detected_at_s=round(now, 3),
                peak_deg=round(peak, 2),
            )
        ]

    def finish(self, t_end: float) -> list[Event]:
        """End of stream: a hold still going is reported up to the last sample."""
        if self._hold is not None:
            return self._close_hold(t_end)
        return []
