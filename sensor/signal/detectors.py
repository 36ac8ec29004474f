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

from sensor.events import Event, Hold, Rep
from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.detector_state import STATE_EXCURSION, STATE_HOLD, STATE_REST, STATES
from sensor.signal.height import HeightTracker
from sensor.signal.holds import ActiveHold, HoldWatch, SettleSearch
from sensor.signal.iir import butter
from sensor.signal.movement import RecentSamples, Run, Trace, first_true
from sensor.signal.poses import PoseBook
from sensor.signal.posture import LYING, PRONE, SIDE_LEFT, SIDE_RIGHT, SITTING, STANDING, SUPINE
from sensor.signal.rest_rules import RestRules

__all__ = ["STATES", "ActiveHold", "DetectorSettings", "ExcursionDetector"]

WINDOW = 512  # grid samples the machine first looks ahead for its next transition


RECENT_S = 900.0  # seconds of a posture kept (a plank longer than this is measured over its end)
SPEED_SPAN_S = 0.1  # a rep's speeds are measured over this span (a fall takes 0.4 s or more)


class ExcursionDetector(RestRules):
    """Reps and holds in one lying posture at a time; fed grid samples in order."""

    def __init__(self, rate_hz: float, settings: DetectorSettings, calibrated: bool, depth_m: float = 0.0) -> None:
        self.s = settings
        self.rate_hz = rate_hz
        self.calibrated = calibrated
        self.depth_m = depth_m
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
        # The last seconds of rest, in pieces: t, e, base, up(3), body rates(3), specific force(3), quiet, span.
        self._hist: list[tuple[np.ndarray, ...]] = []
        self._hist_n = 0
        self._keep = int(settings.history_s * rate_hz)
        self._trace: Trace | None = None
        # The posture's last minutes (t, e, up, body rates): a plank found only once it was
        # left is measured over them.
        self._recent = RecentSamples(RECENT_S)
        self._frozen = 0.0
        self._peak = 0.0
        self._hold: ActiveHold | None = None
        self._watch: HoldWatch | None = None  # is the hold in progress still held?
        self._tail_t: float | None = None  # a rep fell back at this time: waiting to see it stop at rest
        self._qrun: Run = (0, 0.0, 0.0)  # quiet samples in a row in an excursion
        # A posture's first rest level waits for the pelvis to be steady until this time.
        self._steady_until: float | None = None
        self._first_run: Run = (0, 0.0, 0.0)
        # Prone: where the pelvis was last steady in this excursion, and that level for the
        # last swings through rest (two alike: the rest level is there).
        self._prun: Run = (0, 0.0, 0.0)
        self._plateau: float | None = None
        self._swing_levels: list[float | None] = []
        self._tail_min = 0.0
        self._tail_prev = np.zeros(1)  # the last samples before the tail's (its speed is taken over them)
        self._fall_speed = 0.0  # the fastest the rep fell, deg/s
        self._left_plank: tuple[float, float] | None = None  # a plank the rest pose was, found as it was left
        self._new_rest = False  # the settle just found is a new rest pose (down from all fours to the floor; up out of a plank)
        self._last_move_s = -math.inf  # when the last rep (or swing through rest) ended: a plank found when left held none
        self._plank_left_s = -math.inf  # when the last plank reported (plank_min_s or more) ended, however it was left
        self._lift_conf = 1.0
        self._t0 = 0.0  # when the excursion crossed its start threshold
        self.last_d = 0.0
        self._height = HeightTracker(rate_hz)  # the pelvis' height, level by level
        self.poses = PoseBook()  # the rest pose and the floor of the current posture
        self.last_h = float("nan")

    # -- posture plumbing ----------------------------------------------------------
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
        # Lain down from upright: the pelvis settles first. (Rolled over from another lying
        # posture, people often go straight up into a plank: no time to wait there.)
        if self.posture not in LYING:
            self._await_steady(t_now)
        else:
            self._steady_until = None
        self.posture = posture
        self.base = None
        self._swing_levels = []
        self._trace = None
        self._hist, self._hist_n = [], 0
        self._recent.clear()
        return events

    @property
    def active(self) -> bool:
        return self._trace is not None

    @property
    def hold_info(self) -> ActiveHold | None:
        return self._hold

    # -- feeding -------------------------------------------------------------------
    def feed(
        self, t: np.ndarray, e: np.ndarray, up: np.ndarray, gyr: np.ndarray, raw: np.ndarray, acc: np.ndarray, span: np.ndarray
    ) -> list[Event]:
        """Grid samples of one confirmed-posture segment; e in degrees; ``raw`` is the
        instantaneous posture, which leaves the confirmed one when the wearer rolls;
        ``acc`` the specific force (m/s², body frame); ``span`` the seconds between the samples
        each point was interpolated from (long across a dropout: the gyro is a guess there)."""
        events: list[Event] = []
        if t.size == 0:
            return events
        quiet = self.quiet_mask(e)
        hgt = self._height.feed(t, acc, gyr, (raw == STANDING) | (raw == SITTING), quiet)[0]
        known = np.flatnonzero(np.isfinite(hgt))
        if known.size:
            self.last_h = float(hgt[known[-1]])
        if self.posture not in (SUPINE, PRONE, SIDE_LEFT, SIDE_RIGHT):
            return events
        # Copies: these are slices of the caller's chunk, which would be kept whole otherwise.
        self._recent.add(t.copy(), e.copy(), up.copy(), gyr.copy())
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
                k2, ev = self._feed_rest(t[:lim], e[:lim], up[:lim], gyr[:lim], acc[:lim], quiet[:lim], span[:lim], hgt[:lim], k)
            elif self._tail_t is not None:
                frozen = self._frozen
                k2, ev = self._feed_tail(t[:lim], e[:lim], up[:lim], gyr[:lim], acc[:lim], quiet[:lim], span[:lim], hgt[:lim], k)
                self._record(t[k:k2], frozen, STATE_EXCURSION)
            else:
                state, frozen = (STATE_HOLD if self._hold is not None else STATE_EXCURSION), self._frozen
                level_h, looked = self.poses.level_h, self._hold is not None and self.posture == PRONE
                step = self._hold_left_at(t, e, hgt, k, lim)
                k2, ev = self._feed_active(t[:step], e[:step], up[:step], gyr[:step], acc[:step], quiet[:step], span[:step], hgt[:step], k)
                if k2 == step < lim and self._hold is not None:
                    ev.extend(self._end_at_new_height(t, e, up, gyr, acc, quiet, span, hgt, k2))
                    k2 += 1
                elif looked and k2 < lim:
                    # Stopped short of the window's end (waiting for where a departure goes,
                    # or the hold ended by its own rule): the levels from k2 on are seen
                    # again, from the last one before k2, whatever the window was.
                    seen = np.flatnonzero(np.isfinite(hgt[k:k2]))
                    self.poses.level_h = float(hgt[k + seen[-1]]) if seen.size else level_h
                self._record(t[k:k2], frozen, state)
            events.extend(ev)
            self._last_move_s = max([self._last_move_s, *(x.end_s for x in ev if isinstance(x, Rep))])
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

    def _feed_active(
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
            if self.posture == PRONE:
                upto = shifted if shifted >= 0 else stop
                self._see_plateaus(quiet[k : k + upto], d[:upto])
            if shifted >= 0:
                stop, timed_out = shifted, True
        take = stop + (1 if end >= 0 and not timed_out and stop < d.size else 0)
        self._trace.add(
            t[k : k + take],
            d[:take],
            up[k : k + take],
            gyr[k : k + take],
            acc[k : k + take],
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
            # (Not a plank found late, long on the forearms: its baseline is the pose it
            # came from, so the floor it goes down to can look held up. Nor, with the
            # stand, a prone pose that no longer slopes head-up: a plank entered from a
            # push-up position, lowered to the floor, is further from that rest.)
            if (
                self._watch.rock_start_s is None
                and not (self._hold is not None and self._hold.found_late)
                and bool(quiet[k + stop])
                and here >= float(self._end_thresholds(np.array([0.0]))[0])
                and abs(here - self._watch.level) <= self.s.plank_max_pitch_change_deg
                and not (self.posture == PRONE and self.calibrated and self._frozen + self._dir * here < self.s.plank_min_elev_deg)
            ):
                if (up_again := self._lifted_off_stage(here)) is not None:
                    events.append(up_again)
                if self.posture == PRONE and self._hold is not None and here <= self._hold.level - self.s.hold_move_deg:
                    # Down from the hands onto the forearms and held there: the plank's end
                    # and its way out are judged from this level, not the hands'.
                    self._hold.level = here
                self._watch.level, self._watch.left_s = here, None
                if stop == 0:
                    # Re-levelled at the chunk's first sample: take it, so that the next
                    # step moves on (with a hold_move_deg near 0 every sample departs, and
                    # the detector looped on this one for ever).
                    self._trace.add(
                        t[k : k + 1],
                        d[:1],
                        up[k : k + 1],
                        gyr[k : k + 1],
                        acc[k : k + 1],
                        quiet[k : k + 1].astype(np.float64),
                        span[k : k + 1],
                        hgt[k : k + 1],
                    )
                    return k + 1, events
                return k + stop, events
            events.extend(self._close_hold(self._watch.start_of(t_tr, d_tr)))
            self._trace = None
            self.base = None
            return k + stop, events
        if timed_out and self._hold is None:
            if (late := self._plank_found_late()) is not None:
                events.append(late)
                return k + stop, events
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
            tt, dd = self._trace.arrays()[:2]
            fall = dd[tt >= tt[-1] - 1.5]
            # Speeds over 0.1 s, not sample to sample: one jolt (a slipping belt, a noisy IMU)
            # made a fall look 2-4 times as fast, so a swing passing rest read as a rep
            # stopping there.
            m = max(1, round(SPEED_SPAN_S * self.rate_hz))
            self._fall_speed = float(np.max(np.abs(fall[m:] - fall[:-m]), initial=0.0)) * self.rate_hz / m
            self._tail_prev = dd[-m:].copy()
            return k + stop + 1, events
        # A side plank lifted off the forearm is back on it: the rest level is found there again.
        propped = self._off_prop()
        events.extend(self._finish())
        self._trace = None
        self.base = None if propped else self._frozen
        return k + stop + 1, events

    def finish(self, t_end: float) -> list[Event]:
        """End of stream: a hold still going is reported up to the last sample."""
        if self._hold is not None:
            return self._close_hold(t_end)
        return self._settle_tail()
