"""The shape of a movement in an angle or acceleration trace: where a rise or a fall
begins and ends, and how far the pelvis moved up (used by ``sensor.detectors``)."""

from __future__ import annotations

import numpy as np

MINJERK_10_90 = 0.52  # fraction of a min-jerk movement between its 10 % and 90 % points
MINJERK_50_90 = 0.26  # ... between its 50 % and 90 % points


def _crossing(t: np.ndarray, d: np.ndarray, i: int, level: float) -> float:
    """Time where d crosses ``level`` between samples i and i+1 (linear)."""
    if i < 0 or i + 1 >= t.size:
        return float(t[max(0, min(i, t.size - 1))])
    d0, d1 = d[i], d[i + 1]
    w = 0.0 if d1 == d0 else float(np.clip((level - d0) / (d1 - d0), 0.0, 1.0))
    return float(t[i] + w * (t[i + 1] - t[i]))


def rise_times(t: np.ndarray, d: np.ndarray, level: float) -> tuple[float, float] | None:
    """(movement start, movement end) of the first rise to ``level``."""
    above50 = np.flatnonzero(d >= 0.5 * level)
    if above50.size == 0 or above50[0] == 0:
        return None
    i50 = int(above50[0]) - 1
    below10 = np.flatnonzero(d[: i50 + 1] < 0.1 * level)
    i10 = int(below10[-1]) if below10.size else 0
    above90 = np.flatnonzero(d[i50:] >= 0.9 * level)
    i90 = i50 + int(above90[0]) - 1 if above90.size else t.size - 2
    t10, t50, t90 = _crossing(t, d, i10, 0.1 * level), _crossing(t, d, i50, 0.5 * level), _crossing(t, d, i90, 0.9 * level)
    half = 0.5 * max(t90 - t10, 0.0) / MINJERK_10_90
    return t50 - half, t50 + half


def fall_times(t: np.ndarray, d: np.ndarray, level: float) -> tuple[float, float] | None:
    """(movement start, movement end) of the last fall from ``level``."""
    above50 = np.flatnonzero(d >= 0.5 * level)
    if above50.size == 0:
        return None
    i50 = int(above50[-1])
    above90 = np.flatnonzero(d[: i50 + 1] >= 0.9 * level)
    i90 = int(above90[-1]) if above90.size else 0
    t50, t90 = _crossing(t, d, i50, 0.5 * level), _crossing(t, d, i90, 0.9 * level)
    half = 0.5 * max(t50 - t90, 0.0) / MINJERK_50_90
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


def lift_m(t: np.ndarray, acc_norm: np.ndarray, i0: int, i1: int) -> float:
    """Vertical displacement (m, up positive) between two still moments i0 < i1.

    Integrates |specific force| minus gravity twice; the velocity is zero at both ends,
    so its linear drift (an offset in the gravity estimate, accelerometer bias) is removed
    exactly. |f| is used because it does not depend on the orientation estimate; the
    horizontal part of the acceleration enters only to second order.
    """
    if i1 - i0 < 3:
        return 0.0
    tt = t[i0 : i1 + 1]
    dt = np.diff(tt)
    a = acc_norm[i0 : i1 + 1] - acc_norm[i0]
    v = np.concatenate(([0.0], np.cumsum(0.5 * (a[1:] + a[:-1]) * dt)))
    v -= v[-1] * (tt - tt[0]) / max(tt[-1] - tt[0], 1e-9)
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * dt))


class Trace:
    """Growing per-excursion arrays (bounded by the excursion's length)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, *cols: np.ndarray) -> None:
        if cols[0].size:
            self.parts.append(cols)

    def drop_last(self, n: int) -> None:
        """Forget the last ``n`` samples."""
        while n > 0 and self.parts:
            m = self.parts[-1][0].size
            if m <= n:
                self.parts.pop()
                n -= m
            else:
                self.parts[-1] = tuple(c[: m - n] for c in self.parts[-1])
                n = 0

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(len(self.parts[0])))
