"""Resampling onto a fixed grid: the first step of the pipeline.

Sensors arrive at 25–400 Hz with jittered timestamps and dropouts; everything after this
step runs on one grid (``k / rate`` for integer ``k``), so its filters have fixed
coefficients and its output does not depend on how the input was chunked.
"""

from __future__ import annotations

import math

import numpy as np

from sensor.events import Gap
from sensor.samples import Samples

HOLE_S = 0.08  # a step longer than this is a dropout: the gyro between its ends is a guess


class Resampler:
    """Linear interpolation onto ``k / rate_hz``; stateful across chunks.

    A hole between two samples longer than ``max_gap_s`` is not bridged: no grid points are
    produced inside it and it is reported as a ``Gap``. Shorter dropouts are interpolated.
    """

    def __init__(self, rate_hz: float, max_gap_s: float, hole_s: float = HOLE_S) -> None:
        self.rate_hz = rate_hz
        self.dt = 1.0 / rate_hz
        self.max_gap_s = max_gap_s
        self.hole_s = hole_s
        self._t_prev: float | None = None
        self._x_prev: np.ndarray | None = None
        self._k_next = 0  # index of the next grid point to produce

    def feed(self, s: Samples) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Gap], np.ndarray]:
        """Return grid times (m,), values (m, 6) float64, a mask of points bridged over a
        dropout longer than ``hole_s`` (their gyro values are guesses), the gaps found, and
        each point's span: seconds between the two samples it was interpolated from."""
        if len(s) == 0:
            return np.empty(0), np.empty((0, 6)), np.empty(0, bool), [], np.empty(0)
        # Interpolation reads float32 samples; only the (usually fewer) grid points are
        # made float64.
        # ``t`` starts with the last sample of the previous chunk when there is one (``lead``
        # = 1); its values are not copied in front of the chunk's: ``_rows`` picks them.
        x = s.imu
        if self._t_prev is None:
            t = s.time_s
            lead = 0
            self._k_next = math.ceil(t[0] * self.rate_hz - 1e-9)
        else:
            t = np.concatenate(([self._t_prev], s.time_s))
            lead = 1
        gaps: list[Gap] = []
        dts = np.diff(t)
        big = np.flatnonzero(dts > self.max_gap_s)
        k_last = math.floor(t[-1] * self.rate_hz + 1e-9)
        if big.size == 0:
            grid_k = np.arange(self._k_next, k_last + 1)
        else:
            pieces = []
            k0 = self._k_next
            for b in big:
                gaps.append(Gap(float(t[b]), float(t[b + 1])))
                pieces.append(np.arange(k0, math.floor(t[b] * self.rate_hz + 1e-9) + 1))
                k0 = math.ceil(t[b + 1] * self.rate_hz - 1e-9)
            pieces.append(np.arange(k0, k_last + 1))
            grid_k = np.concatenate(pieces)
        grid_k = grid_k[grid_k >= self._k_next]
        g = grid_k * self.dt
        # Grid points beyond the last sample wait for the next chunk.
        keep = g <= t[-1]
        grid_k, g = grid_k[keep], g[keep]
        if g.size:
            idx = np.clip(np.searchsorted(t, g, side="right") - 1, 0, len(t) - 2) if len(t) > 1 else np.zeros(g.size, int)
            if len(t) > 1:
                t0, t1 = t[idx], t[idx + 1]
                w = np.clip((g - t0) / (t1 - t0), 0.0, 1.0)[:, None]
                x0 = self._rows(x, idx - lead)
                out = x0 + (x[idx + 1 - lead] - x0) * w
                span = t1 - t0
                filled = span > self.hole_s
            else:  # one sample in all (the first chunk's only one)
                out = np.repeat(x[:1].astype(np.float64), g.size, axis=0)
                span = np.zeros(g.size)
                filled = np.zeros(g.size, bool)
            self._k_next = int(grid_k[-1]) + 1
        else:
            out = np.empty((0, 6))
            span = np.empty(0)
            filled = np.empty(0, bool)
        if big.size:  # never fill the hole later, even if no point after it was due yet
            self._k_next = max(self._k_next, math.ceil(t[big[-1] + 1] * self.rate_hz - 1e-9))
        self._t_prev = float(t[-1])
        self._x_prev = x[-1].copy()
        return g, out, filled, gaps, span

    def _rows(self, x: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Rows ``j`` of this chunk's values as float64, row -1 being the previous chunk's last."""
        rows: np.ndarray = x[np.maximum(j, 0)].astype(np.float64)
        if j.size and j[0] < 0:  # j is sorted: only the first points can reach back
            assert self._x_prev is not None  # set together with _t_prev
            rows[j < 0] = self._x_prev
        return rows
