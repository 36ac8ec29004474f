"""How far the pelvis moved up or down between two moments of stillness.

The vertical acceleration is the specific force projected on world "up" minus gravity.
World up is known at both still ends (the accelerometer reads only gravity there) and is
carried between them by the gyroscope, forward from the first end and backward from the
second, blended so neither integration's drift reaches the far end. The velocity is zero
at both ends (a still moment), so a constant error in the acceleration is removed exactly.

What is not constant is the accelerometer's own error seen along "up": a bias ``b`` and
scale errors make the still reading ``g + b·up`` rather than ``g``, and when the pelvis
turns (lying down, rolling, a plank from all fours) that reading changes between the ends.
Both still readings are measured, so the expected reading is carried from one to the other
in step with how far the pelvis has turned: an uncalibrated hobby IMU (0.45 m/s² of bias)
would otherwise read a 90° turn of 2 s as a lift of up to 0.3 m.
"""

from __future__ import annotations

from collections import deque

import numpy as np


def _carry_up(u0: np.ndarray, gyr: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """World up in body coordinates at each sample, carried from ``u0`` by the body rates
    (rad/s, body frame): a world-fixed vector turns by -omega*dt in the body frame."""
    # Midpoint rates over each step; one rotation per step (Rodrigues), exact for any angle.
    w = 0.5 * (gyr[1:] + gyr[:-1]) * dt[:, None]
    ang = np.sqrt(np.einsum("ij,ij->i", w, w))
    c, s = np.cos(ang), np.sin(ang)
    safe = np.where(ang > 1e-12, ang, 1.0)
    k = -w / safe[:, None]
    # The steps are a recurrence: on plain floats (numpy's per-call overhead on 3-vectors
    # was most of the detector's time).
    ux, uy, uz = (float(v) for v in u0)
    out = [(ux, uy, uz)]
    for (kx, ky, kz), ci, si in zip(k.tolist(), c.tolist(), s.tolist()):
        d = (kx * ux + ky * uy + kz * uz) * (1.0 - ci)
        ux, uy, uz = (
            ux * ci + (ky * uz - kz * uy) * si + kx * d,
            uy * ci + (kz * ux - kx * uz) * si + ky * d,
            uz * ci + (kx * uy - ky * ux) * si + kz * d,
        )
        out.append((ux, uy, uz))
    return np.array(out)


def still_reading(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, lo: int, hi: int, ref: int) -> np.ndarray:
    """Mean specific force over samples ``lo..hi-1``, each turned into the body frame of
    sample ``ref`` by the gyro (a still moment sways a fraction of a degree, and a tenth of
    one misplaces up by 0.02 m/s²). More samples average the noise: its error in the
    still reading is integrated twice over the whole movement."""
    lo, hi = max(0, lo), min(len(t), hi)
    f = acc[lo:hi]
    if hi - lo < 2 or not gyr[lo:hi].any():
        return np.asarray(f.mean(axis=0))
    w = 0.5 * (gyr[lo + 1 : hi] + gyr[lo : hi - 1]) * np.diff(t[lo:hi])[:, None]
    turned = np.vstack([np.zeros((1, 3)), np.cumsum(w, axis=0)])
    theta = turned[ref - lo] - turned  # the body's turn from each sample to ``ref``
    # A world-fixed vector turns by -theta in the body frame (small angles).
    return np.asarray((f - np.cross(theta, f)).mean(axis=0))


def _vertical_acceleration(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    i0: int,
    i1: int,
    causal: bool,
    end_still: bool,
    n_start: int | None,
    n_end: int | None,
    bounded: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Times and vertical acceleration (m/s², gravity and the still readings' error taken
    out) at samples ``i0..i1`` (see ``vertical_path``); None when a still reading is no
    gravity at all."""
    tt = t[i0 : i1 + 1]
    f = acc[i0 : i1 + 1]
    g = gyr[i0 : i1 + 1]
    dt = np.diff(tt)
    a0, a1 = max(1, n_start or ANCHOR_N), max(1, n_end or ANCHOR_N)
    f0 = still_reading(t, acc, gyr, i0 - a0 + 1, i0 + 1, i0)
    # ``causal``: the end's still reading from samples at or before it (a hold is judged as
    # it settles, when later samples may not have arrived: the answer must not depend on
    # that); else from those after it (a rep's top is judged once the rep is over).
    f1 = still_reading(t, acc, gyr, max(i0 + 1, i1 - a1 + 1), i1 + 1, i1) if causal else still_reading(t, acc, gyr, i1, i1 + a1, i1)
    n0, n1 = float(np.linalg.norm(f0)), float(np.linalg.norm(f1))
    if n0 < 1.0 or n1 < 1.0:
        return tt, None
    # The still reading changes between the ends only as much as the sensor's own error
    # seen along a turned up can change it: an end read while still slowing reads its
    # acceleration too, which is no error of the sensor's.
    if bounded:
        lim = READING_ERROR * float(np.linalg.norm(f1 / n1 - f0 / n0))
        n1 = n0 + min(lim, max(-lim, n1 - n0))
    s = ((tt - tt[0]) / max(float(tt[-1] - tt[0]), 1e-9))[:, None]
    if not end_still and g.any():
        # At a brisk rep's top the pelvis reverses: the reading there is gravity plus metres
        # per second squared, and taking it for gravity misplaces up by degrees (a lift of
        # 10 cm then integrates to anything from -0.2 to 0.1 m). Over a second or two the
        # gyro carries up to within a degree, whose error in the vertical is second order.
        up = _carry_up(f0 / n0, g, dt)
        a = np.einsum("ij,ij->i", f, up) - n0
    elif g.any():
        fwd = _carry_up(f0 / n0, g, dt)
        bwd = _carry_up(f1 / n1, -g[::-1], dt[::-1])[::-1]  # backward in time: the opposite turn
        up = (1.0 - s) * fwd + s * bwd
        up /= np.sqrt(np.einsum("ij,ij->i", up, up))[:, None]
        # The still reading expected along up, carried from n0 to n1 as the pelvis turns.
        turned = np.concatenate(([0.0], np.cumsum(np.arccos(np.clip(np.einsum("ij,ij->i", up[1:], up[:-1]), -1.0, 1.0)))))
        p = turned / turned[-1] if turned[-1] > 1e-3 else s[:, 0]
        a = np.einsum("ij,ij->i", f, up) - (n0 + (n1 - n0) * p)
    else:
        # No gyroscope (a stream of zeros): |f| instead, whose error from a turn is second order.
        p = s[:, 0]
        a = np.sqrt(np.einsum("ij,ij->i", f, f)) - (n0 + (n1 - n0) * p)
    return tt, a


def rise_and_speed(
    t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, i0: int, i1: int, n_start: int, n_end: int, bounded: bool = False
) -> tuple[float, float]:
    """``rise_m`` and the vertical speed (m/s) at ``i1`` from rest at ``i0``: near zero if the
    pelvis came to rest there, the movement's when ``i1`` only looked still (the middle of a
    slow lowering accelerates and turns at nothing for a moment)."""
    h, speed = _path(t, acc, gyr, i0, i1, False, True, n_start, n_end, bounded)
    return (float(h[-1]) if h.size else 0.0), speed


def vertical_path(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    i0: int,
    i1: int,
    causal: bool = False,
    end_still: bool = True,
    n_start: int | None = None,
    n_end: int | None = None,
    bounded: bool = False,
) -> np.ndarray:
    """Height (m, up positive) of the sensor at samples ``i0..i1`` relative to ``i0``,
    both ends at zero velocity. ``acc`` is specific force (m/s²) and ``gyr`` body rates
    (rad/s) in one frame (any: body or device). Empty when the span is too short.
    ``end_still``: the end is still, its reading gravity alone; else (the top of a brisk
    rep, turning back) it is not, and up is carried forward from the start only. The still
    readings average ``n_start`` samples up to ``i0`` and ``n_end`` from ``i1`` on (or up to
    it, ``causal``): as many as are known to be still (``ANCHOR_N`` each if not said).
    ``bounded``: the end's reading may differ from the start's only by ``READING_ERROR``
    along the turn between them (an end that may still be slowing: its acceleration stays
    in, and is not taken for the sensor's error)."""
    return _path(t, acc, gyr, i0, i1, causal, end_still, n_start, n_end, bounded)[0]


def _path(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    i0: int,
    i1: int,
    causal: bool,
    end_still: bool,
    n_start: int | None,
    n_end: int | None,
    bounded: bool,
) -> tuple[np.ndarray, float]:
    """``vertical_path``, and the speed at ``i1`` before it is taken as zero there."""
    if i1 - i0 < 3:
        return np.zeros(max(0, i1 - i0 + 1)), 0.0
    tt, a = _vertical_acceleration(t, acc, gyr, i0, i1, causal, end_still, n_start, n_end, bounded)
    if a is None:
        return np.zeros(tt.size), 0.0
    dt = np.diff(tt)
    step = 0.5 * (a[1:] + a[:-1]) * dt
    speed = float(np.sum(step))
    v = np.concatenate(([0.0], np.cumsum(step)))
    v -= v[-1] * (tt - tt[0]) / max(float(tt[-1] - tt[0]), 1e-9)
    h: np.ndarray = np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)))
    return h, speed


def rise_m(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    i0: int,
    i1: int,
    causal: bool = False,
    end_still: bool = True,
    n_start: int | None = None,
    n_end: int | None = None,
    bounded: bool = False,
) -> float:
    """Net height change (m) between two samples at zero velocity ``i0 < i1`` (the other
    arguments: see ``vertical_path``)."""
    h = vertical_path(t, acc, gyr, i0, i1, causal=causal, end_still=end_still, n_start=n_start, n_end=n_end, bounded=bounded)
    return float(h[-1]) if h.size else 0.0


STILL_DPS = 10.0  # smoothed gyro magnitude under this: not turning ...
STILL_TAU_S = 0.1  # (smoothing of the gyro magnitude: tremor at 5-12 Hz is no movement)
STILL_ACC_SD = 0.2  # ... and |specific force| steady to this (m/s², SD over STILL_WINDOW_S) ...
STILL_WINDOW_S = 0.4  # (a hobby IMU's noise is ~0.1 m/s²; sitting down accelerates by > 1 m/s²)
STILL_ACC_LEVEL = 0.4  # ... and at the still reading (m/s²): a steady push (a hip lowered at a constant rate) is no rest
STILL_REF_TAU_S = 1.0  # the still reading follows steady stretches this fast (bias seen along up changes as the pelvis turns)
STILL_RUN_S = 0.4  # ... for this long: still enough to take the velocity as zero
MAX_MOVE_S = 8.0  # a longer movement (walking, a long fidget) is not integrated: the level is lost
EPOCH_M = 100.0  # levels after a lost one start this far away, so no difference across them looks real


READING_ERROR = 0.5  # m/s²: an uncalibrated IMU's bias and scale errors, at most, along any axis
ANCHOR_N = 5  # still samples kept on each side of a movement (their mean is the still reading)


class _Buf:
    """Columns (t, acc, gyr) appended chunk by chunk."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n = 0

    def add(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        if t.size:
            self.parts.append((t, acc, gyr))
            self.n += t.size

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return np.empty(0), np.empty((0, 3)), np.empty((0, 3))
        t, a, g = (np.concatenate(c) for c in zip(*self.parts))
        return t, a, g

    def tail(self, n: int) -> _Buf:
        t, a, g = self.arrays()
        out = _Buf()
        out.add(t[-n:], a[-n:], g[-n:])
        return out


def comparable(a: float, b: float) -> bool:
    """Whether two levels are of one origin (both known, and not ``EPOCH_M`` apart)."""
    return bool(abs(a - b) < 0.5 * EPOCH_M)


class HeightTracker:
    """The pelvis' height through a session, level by level: every movement between two
    still moments is integrated (``vertical_path``) and added to the level before it.
    The reference, 0, is standing: upright after a movement too long to integrate
    (walking about) or at the start of the stream; kneeling looks the same to gravity, but
    is reached by a short movement, which is integrated. Lying after a long movement (a
    long fidget) starts heights from an unknown origin, ``EPOCH_M`` away from any before.

    Fed grid samples in order; ``feed`` returns, per sample, the level known *at* that
    sample: NaN while moving and until a still run has lasted ``STILL_RUN_S``, so what the
    detector sees at a moment depends only on the samples up to it (and not on chunking)."""

    def __init__(self, rate_hz: float) -> None:
        self._a = float(np.exp(-1.0 / (STILL_TAU_S * rate_hz)))
        self._zi: float | None = None
        self._need = max(1, int(round(STILL_RUN_S * rate_hz)))
        self._max_n = int(MAX_MOVE_S * rate_hz)
        self.level = float("nan")  # height of the current (or last) still level, m
        self.moved_at = float("nan")  # when the movement into it began
        # (when a level became known, when the movement into it began), for the detector
        # (which looks back at most one chunk: a few seconds, each level a still run)
        self.arrivals: deque[tuple[float, float]] = deque(maxlen=4096)
        self._epoch = 0
        self._state = 0  # 0 moving, 1 still but not yet sure, 2 still and sure
        self._move = _Buf()  # anchor (last still samples) + the movement
        self._anchor = 0  # samples of the anchor at the head of _move
        self._pending = _Buf()  # the still run not yet long enough
        self._w = max(2, int(round(STILL_WINDOW_S * rate_hz)))
        self._fn_hist: np.ndarray | None = None  # the last w - 1 values of |f|
        self._b = float(np.exp(-1.0 / (STILL_REF_TAU_S * rate_hz)))
        self._ref: float | None = None  # the still reading of |f| (g, with the sensor's own error)

    def still_mask(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """Samples where the pelvis is neither turning (smoothed gyro magnitude) nor
        accelerating (|f| steady over the last ``STILL_WINDOW_S``): its velocity is zero.
        Turning alone misses a movement that mostly translates (sitting down)."""
        from sensor.signal.iir import first_order

        mag = np.sqrt(np.einsum("ij,ij->i", gyr, gyr))
        if self._zi is None:
            self._zi = self._a * float(mag[0])
        sm, self._zi = first_order(1.0 - self._a, -self._a, mag, self._zi)
        fn = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        w = self._w
        hist = self._fn_hist if self._fn_hist is not None else np.full(w - 1, fn[0])
        x = np.concatenate((hist, fn))
        self._fn_hist = x[-(w - 1) :].copy()
        # Windowed SD by cumulative sums, about the window's first value (no cancellation).
        x = x - x[0]
        c1 = np.concatenate(([0.0], np.cumsum(x)))
        c2 = np.concatenate(([0.0], np.cumsum(x * x)))
        m1 = (c1[w:] - c1[:-w]) / w
        var = (c2[w:] - c2[:-w]) / w - m1 * m1
        steady = (sm < np.radians(STILL_DPS)) & (var < STILL_ACC_SD**2)
        mean = m1 + (hist[0] if hist.size else fn[0])
        if self._ref is None:
            self._ref = float(mean[0])
        b = self._b
        ref = first_order(1.0 - b, -b, mean[steady], b * self._ref)[0] if steady.any() else mean[:0]
        level = np.concatenate(([self._ref], ref))[np.cumsum(steady)]
        self._ref = float(level[-1])
        return np.asarray(steady & (np.abs(mean - level) < STILL_ACC_LEVEL))

    def feed(
        self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, upright: np.ndarray, quiet: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Levels per sample (m above the last stand; NaN unknown). ``acc`` specific force
        and ``gyr`` rates (rad/s) in one frame; ``upright`` marks upright samples; ``quiet``
        those where the pelvis' elevation is not changing (the detector's own test). Also
        returns, per known sample, when the movement into its level began (s)."""
        out = np.full(t.size, np.nan)
        since = np.full(t.size, np.nan)
        if t.size == 0:
            return out, since
        still = self.still_mask(acc, gyr)
        if quiet is not None:  # the pelvis' elevation not changing either (a slow lowering turns it slowly)
            still &= quiet
        i, n = 0, t.size
        while i < n:
            rest = still[i:]
            j = (
                i + (int(np.argmin(rest)) if not rest.all() else rest.size)
                if still[i]
                else i + (int(np.argmax(rest)) if rest.any() else rest.size)
            )
            if not still[i]:  # moving
                if self._state == 1:  # a still moment too short: part of the movement
                    for part in self._pending.parts:
                        self._move.add(*part)
                elif self._state == 2:
                    # A movement is seen a window late (|f| is judged over the window
                    # before each sample): the anchor ends a window before it was seen.
                    self._move = self._move.tail(ANCHOR_N + self._w)
                    self._anchor = max(1, self._move.n - self._w)
                self._pending = _Buf()
                self._state = 0
                if self._move.n <= self._max_n:
                    self._move.add(t[i:j], acc[i:j], gyr[i:j])
            else:
                if self._state == 0:
                    self._state = 1
                if self._state == 1:
                    need = self._need - self._pending.n
                    self._pending.add(t[i:j], acc[i:j], gyr[i:j])
                    if j - i >= need:
                        self._arrive(bool(upright[i + need - 1]))
                        self.arrivals.append((float(t[i + need - 1]), self.moved_at))
                        self._state = 2
                        out[i + need - 1 : j] = self.level
                        since[i + need - 1 : j] = self.moved_at
                else:
                    out[i:j] = self.level
                    since[i:j] = self.moved_at
                    self._move.add(t[i:j], acc[i:j], gyr[i:j])
                    if self._move.n > 4 * (ANCHOR_N + self._w):
                        self._move = self._move.tail(ANCHOR_N + self._w)
            i = j
        return out, since

    def move_s(self, t: float) -> float:
        """How long the movement into the level known at ``t`` lasted (s; inf when that
        level is no longer among those kept)."""
        for tk, since in reversed(self.arrivals):
            if tk <= t:
                return tk - since - STILL_RUN_S
        return float("inf")

    def moved_into(self, t: float) -> float:
        """When the movement into the level known at ``t`` began (NaN when that level is
        no longer among those kept)."""
        for tk, since in reversed(self.arrivals):
            if tk <= t:
                return since
        return float("nan")

    def _arrive(self, upright: bool) -> None:
        """A still run is long enough: the movement into it is complete."""
        if self._anchor and self._move.n <= self._max_n:
            t0, a0, g0 = self._move.arrays()
            self.moved_at = float(t0[self._anchor - 1])
            t1, a1, g1 = self._pending.arrays()
            tt, aa, gg = np.concatenate((t0, t1)), np.vstack((a0, a1)), np.vstack((g0, g1))
            self.level += rise_m(tt, aa, gg, self._anchor - 1, t0.size)
        else:
            # Too long to integrate (walking about, a long fidget), or the stream's start:
            # upright after that is standing (kneeling is reached by a short movement);
            # lying, heights start again from an unknown origin (``comparable`` says).
            self._epoch += 1
            self.level = 0.0 if upright else EPOCH_M * self._epoch
            t1 = self._pending.arrays()[0]
            self.moved_at = float(t1[0]) if t1.size else float("nan")
        self._move = self._pending
        self._anchor = 0
        self._pending = _Buf()
