"""The pelvis-angle trace for display: the pipeline's own angle at a low fixed rate.

The dashboard never computes angles itself; the analysis pass keeps every tenth grid
point of its pelvis angle as shown (``sensor.signal.pipeline.display_angle``: lift
positive, a bridge rises to about +35°), stored with the session so a timeline never
re-reads an hour of samples. (Sessions stored before this convention hold the raw
elevation, a bridge dipping to -35°, until ``holdtrack reanalyze`` finds them again.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRACE_HZ = 5.0


@dataclass(slots=True)
class Trace:
    """Pelvis angle at a fixed rate for display (NaN where samples are missing)."""

    t0_s: float
    hz: float
    deg: np.ndarray

    @property
    def time_s(self) -> np.ndarray:
        return self.t0_s + np.arange(len(self.deg)) / self.hz


def regular_trace(time_s: np.ndarray, deg: np.ndarray, hz: float = TRACE_HZ) -> Trace | None:
    """The pipeline's display points (``Pipeline(trace_hz=hz)``, on multiples of 1/hz) laid
    on a regular grid, NaN where samples were missing (gaps)."""
    if len(time_s) == 0:
        return None
    k = np.round(np.asarray(time_s) * hz).astype(np.int64)
    out = np.full(int(k[-1] - k[0]) + 1, np.nan, np.float32)
    out[k - k[0]] = deg
    return Trace(float(k[0]) / hz, hz, out)


def downsample(time_s: np.ndarray, deg: np.ndarray, max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Min/max decimation: at most ``max_points`` points that keep every peak visible
    (a plain stride would drop the top of short reps)."""
    n = len(deg)
    if n <= max_points:
        return time_s, deg
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(int)
    ts: list[float] = []
    vs: list[float] = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        seg = deg[a:b]
        if b <= a:
            continue
        if np.all(np.isnan(seg)):
            ts.append(float(time_s[a]))
            vs.append(np.nan)
            continue
        i, j = int(np.nanargmin(seg)), int(np.nanargmax(seg))
        for k in sorted((i, j)):
            ts.append(float(time_s[a + k]))
            vs.append(float(seg[k]))
    return np.asarray(ts), np.asarray(vs, np.float32)
