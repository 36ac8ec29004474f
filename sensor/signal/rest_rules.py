"""The rest level: followed over quiet samples, with the last seconds of rest kept for
the excursion that starts from it; where the pelvis settles at a new level."""

from __future__ import annotations

import numpy as np

from sensor.events import Event
from sensor.signal.detector_state import STATE_REST
from sensor.signal.hold_rules import HoldRules
from sensor.signal.holds import SettleSearch
from sensor.signal.iir import first_order
from sensor.signal.movement import Trace, first_true, steady_run
from sensor.signal.posture import PRONE


class RestRules(HoldRules):
    """The excursion detector's rules at rest."""

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
            return (np.empty(0),) * 3 + (np.empty((0, 3)),) * 3 + (np.empty(0),) * 3
        return tuple(c[-self._keep :] for c in cols)

    def _feed_rest(
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
        seg, q = e[k:], quiet[k:]
        qf = q.astype(np.float64)
        if self.base is None:
            # The rest level starts at the first quiet sample; a posture's first, once the
            # pelvis is steady there (see ``_await_steady``).
            waited = self._steady_until is not None
            first = self._steady_first(t[k:], seg, q)
            stop = k + first if first >= 0 else t.size
            # Samples before it have no rest level, wherever the chunk began.
            self._push_hist(
                t[k:stop], seg[: stop - k], seg[: stop - k], up[k:stop], gyr[k:stop], acc[k:stop], qf[: stop - k], span[k:stop], hgt[k:stop]
            )
            self._record(t[k:stop], None, STATE_REST)
            if first < 0:
                return t.size, []
            self.base = float(seg[first])
            # A level waited for is a pose since the pelvis got there (a plank gone up into
            # right after lying down is timed from there, not from when the level was taken).
            since = self._arrived_at(float(t[stop]), self.base) if waited else float(t[stop])
            self.poses.start_rest(since, self.base, float(hgt[stop]), self.s.hold_move_deg)
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
        moved = self._level_moved(t[k : k + n], hgt[k : k + n])
        if moved >= 0:
            self._push_hist(
                t[k : k + moved],
                seg[:moved],
                base[:moved],
                up[k : k + moved],
                gyr[k : k + moved],
                acc[k : k + moved],
                qf[:moved],
                span[k : k + moved],
                hgt[k : k + moved],
            )
            self._record(t[k : k + moved], base[:moved], STATE_REST)
            i = k + moved
            return i + 1, self._new_level(float(t[i]), float(seg[moved]), float(hgt[i]))
        if h < 0:
            self.base = float(base[-1])
            self._push_hist(t[k:], seg, base, up[k:], gyr[k:], acc[k:], qf, span[k:], hgt[k:])
            self.poses.see_rest(hgt[k:])
            self._record(t[k:], base, STATE_REST)
            return t.size, []
        self._dir = float(np.sign(dev[h])) if self.posture == PRONE else self.sign
        self._push_hist(
            t[k : k + h], seg[:h], base[:h], up[k : k + h], gyr[k : k + h], acc[k : k + h], qf[:h], span[k : k + h], hgt[k : k + h]
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
        self._prun, self._plateau = (0, 0.0, 0.0), None
        self._t0 = float(t[k + h])
        self._settle = SettleSearch(self.s, self.rate_hz, self.posture == PRONE, self._t0) if self._holdable() else None
        self._hist, self._hist_n = [], 0
        return k + h, []

    def _arrived_at(self, t_now: float, level: float) -> float:
        """When the pelvis reached ``level``: after the last rest sample of the last seconds
        more than ``arrive_deg`` from it."""
        ht, he = self._history()[:2]
        far = np.flatnonzero(np.abs(he - level) > self.s.arrive_deg)
        if far.size == 0:
            return float(ht[0]) if ht.size else t_now
        i = int(far[-1]) + 1
        return float(ht[i]) if i < ht.size else t_now

    def _steady_first(self, t: np.ndarray, e: np.ndarray, q: np.ndarray) -> int:
        """Index of the sample the rest level starts at, or -1 (not in these samples)."""
        if self._steady_until is None:
            return first_true(q)
        n = int(np.searchsorted(t, self._steady_until))
        hit, self._first_run = steady_run(q[:n], e[:n], int(self.s.rest_first_s * self.rate_hz), self.s.rest_first_tol_deg, self._first_run)
        later = first_true(q[n:]) if hit < 0 and n < t.size else -1
        if hit >= 0 or later >= 0:
            # Found, or waited long enough: the next quiet sample. Not cleared before one is
            # found: the level is then still one waited for (timed from where the pelvis got
            # there), in whichever chunk its first quiet sample comes.
            self._steady_until = None
        return hit if hit >= 0 else (n + later if later >= 0 else -1)

    def _level_moved(self, t: np.ndarray, hgt: np.ndarray) -> int:
        """Index of the first sample whose known height is a new level for the rest pose
        (``pose_step_m`` from the level before it), or -1. Reps leave and come back to their level; only in
        postures with holds does a new level matter (supine, a bridge's top is one)."""
        if not self._holdable() or self.poses.rest is None:
            return -1
        return self._new_level_at(t, hgt)
