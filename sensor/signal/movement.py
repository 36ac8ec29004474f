"""The shape of a movement in an angle or acceleration trace: where a rise or a fall
begins and ends, and how far the pelvis moved up (used by ``sensor.signal.detectors``, ``sensor.signal.reps`` and ``sensor.signal.holds``)."""

from __future__ import annotations

from collections import deque

import numpy as np

from sensor.samples import median as median  # bit-exact np.median, re-exported for the detector

MINJERK_10_90 = 0.52  # fraction of a min-jerk movement between its 10 % and 90 % points
MINJERK_50_90 = 0.26  # ... between its 50 % and 90 % points


def first_true(mask: np.ndarray) -> int:
    """Index of the first True in a 1-D mask, -1 if none (no index array is built)."""
    if mask.size == 0:
        return -1
    i = int(mask.argmax())
    return i if mask[i] else -1


def last_true(mask: np.ndarray) -> int:
    """Index of the last True in a 1-D mask, -1 if none."""
    if mask.size == 0:
        return -1
    i = mask.size - 1 - int(mask[::-1].argmax())
    return i if mask[i] else -1


def _crossing(t: np.ndarray, d: np.ndarray, i: int, level: float) -> float:
    """Time where d crosses ``level`` between samples i and i+1 (linear)."""
    if i < 0 or i + 1 >= t.size:
        return float(t[max(0, min(i, t.size - 1))])
    d0, d1 = float(d[i]), float(d[i + 1])
    w = 0.0 if d1 == d0 else min(max((level - d0) / (d1 - d0), 0.0), 1.0)
    t0 = float(t[i])
    return t0 + w * (float(t[i + 1]) - t0)


def rise_times(t: np.ndarray, d: np.ndarray, level: float) -> tuple[float, float] | None:
    """(movement start, movement end) of the first rise to ``level``."""
    first50 = first_true(d >= 0.5 * level)
    if first50 <= 0:
        return None
    i50 = first50 - 1
    i10 = max(last_true(d[: i50 + 1] < 0.1 * level), 0)
    above90 = first_true(d[i50:] >= 0.9 * level)
    i90 = i50 + above90 - 1 if above90 >= 0 else t.size - 2
    t10, t50, t90 = _crossing(t, d, i10, 0.1 * level), _crossing(t, d, i50, 0.5 * level), _crossing(t, d, i90, 0.9 * level)
    half = 0.5 * max(t90 - t10, 0.0) / MINJERK_10_90
    return t50 - half, t50 + half


def fall_times(t: np.ndarray, d: np.ndarray, level: float) -> tuple[float, float] | None:
    """(movement start, movement end) of the last fall from ``level``."""
    i50 = last_true(d >= 0.5 * level)
    if i50 < 0:
        return None
    i90 = max(last_true(d[: i50 + 1] >= 0.9 * level), 0)
    t50, t90 = _crossing(t, d, i50, 0.5 * level), _crossing(t, d, i90, 0.9 * level)
    half = 0.5 * max(t50 - t90, 0.0) / MINJERK_50_90
    return t50 - half, t50 + half


def step_times(t: np.ndarray, d: np.ndarray, a: float, b: float) -> tuple[float, float] | None:
    """(movement start, movement end) of the last move from level ``a`` to level ``b``
    (either way) that ends the trace, from its 10/50/90 % crossings as ``rise_times``."""
    if abs(b - a) < 1e-6:
        return None
    x = (d - a) / (b - a)  # 0 at the old level, 1 at the new one
    below = np.flatnonzero(x < 0.5)
    if below.size == 0:
        return None
    i50 = int(below[-1])
    i10 = max(last_true(x[: i50 + 1] < 0.1), 0)
    above90 = first_true(x[i50:] >= 0.9)
    i90 = i50 + above90 - 1 if above90 >= 0 else t.size - 2
    t10, t50, t90 = _crossing(t, x, i10, 0.1), _crossing(t, x, i50, 0.5), _crossing(t, x, max(i90, i50), 0.9)
    half = 0.5 * max(t90 - t10, 0.0) / MINJERK_10_90
    return t50 - half, t50 + half


def still_before(t: np.ndarray, quiet: np.ndarray, t0: float, window_s: float, run: int) -> int:
    """A still moment before ``t0``: well inside the last quiet stretch of ``run`` samples
    or more that ends before it (so the previous rep's lowering is not counted as still)."""
    a = int(np.searchsorted(t, t0 - window_s))
    z = int(np.searchsorted(t, t0))
    q = quiet[a:z] > 0.5
    if q.size == 0:
        return a
    # Length of the quiet run ending at each sample.
    idx = np.arange(q.size)
    last_break = np.maximum.accumulate(np.where(~q, idx, -1))
    runlen = idx - last_break
    ok = np.flatnonzero(runlen >= run)
    return a + int(ok[-1]) - run + 1 if ok.size else a


Run = tuple[int, float, float]  # quiet samples in a row so far, and their lowest and highest value


def steady_run(
    quiet: np.ndarray, x: np.ndarray, need: int, tol: float, run: Run, near: float | None = None, need_near: int = 0
) -> tuple[int, Run]:
    """Index of the first sample ending ``need`` quiet samples in a row whose values stay
    within ``tol`` of each other (or ``need_near`` of them all within ``near`` of 0), and the
    run carried into the next call (so the answer does not depend on how the stream was cut);
    -1 if none. A run that widens past ``tol`` starts again where it widened."""
    count, lo, hi = run
    i, n = 0, x.size
    while i < n:
        if not quiet[i]:
            j = i + int(np.argmax(quiet[i:])) if quiet[i:].any() else n
            count, i = 0, j
            continue
        j = i + (int(np.argmin(quiet[i:])) if not quiet[i:].all() else n - i)
        if count == 0:
            lo = hi = float(x[i])
        seg = x[i:j]
        mn = np.minimum.accumulate(np.minimum(seg, lo))
        mx = np.maximum.accumulate(np.maximum(seg, hi))
        wide = first_true(mx - mn > tol)
        end = wide if wide >= 0 else seg.size
        cnt = count + np.arange(1, end + 1)
        ok = cnt >= need
        if near is not None:
            ok |= (cnt >= need_near) & (np.maximum(np.abs(mn[:end]), np.abs(mx[:end])) < near)
        hit = first_true(ok)
        if hit >= 0:
            return i + hit, (0, 0.0, 0.0)
        if wide >= 0:  # the level moved: the run starts again there
            count, lo, hi, i = 0, 0.0, 0.0, i + wide
            continue
        count, lo, hi, i = count + seg.size, float(mn[-1]), float(mx[-1]), j
    return -1, (count, lo, hi)


class Trace:
    """Growing per-excursion columns (bounded by the excursion's length), kept in
    buffers that double when full, so that reading them back costs no copy."""

    def __init__(self) -> None:
        self._bufs: list[np.ndarray] = []
        self.n = 0

    def add(self, *cols: np.ndarray) -> None:
        m = cols[0].shape[0]
        if m == 0:
            return
        if not self._bufs:
            self._bufs = [np.empty((max(256, 2 * m), *c.shape[1:]), c.dtype) for c in cols]
        elif self.n + m > self._bufs[0].shape[0]:
            size = max(2 * self._bufs[0].shape[0], self.n + m)
            grown = []
            for b in self._bufs:
                g = np.empty((size, *b.shape[1:]), b.dtype)
                g[: self.n] = b[: self.n]
                grown.append(g)
            self._bufs = grown
        for b, c in zip(self._bufs, cols):
            b[self.n : self.n + m] = c
        self.n += m

    def drop_last(self, n: int) -> None:
        """Forget the last ``n`` samples."""
        self.n = max(0, self.n - n)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Views of the columns; valid until the next ``add``."""
        return tuple(b[: self.n] for b in self._bufs)


class RecentSamples:
    """The last ``keep_s`` seconds of some per-sample columns (time first), kept as the
    chunks they came in: adding costs an append, reading a window a concatenation."""

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._chunks: deque[tuple[np.ndarray, ...]] = deque()  # live feeds come a few samples at a time

    def add(self, *cols: np.ndarray) -> None:
        if cols[0].size == 0:
            return
        self._chunks.append(cols)
        newest = float(cols[0][-1])
        while len(self._chunks) > 1 and float(self._chunks[1][0][0]) <= newest - self.keep_s:
            self._chunks.popleft()

    def clear(self) -> None:
        self._chunks.clear()

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, ...] | None:
        """The columns of the samples in [t0, t1] (None: none kept there)."""
        parts = [c for c in self._chunks if c[0][-1] >= t0 and c[0][0] <= t1]
        if not parts:
            return None
        cols = tuple(np.concatenate(c) for c in zip(*parts)) if len(parts) > 1 else parts[0]
        m = (cols[0] >= t0) & (cols[0] <= t1)
        return tuple(c[m] for c in cols) if m.any() else None
