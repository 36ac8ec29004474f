"""The pelvis-angle trace for display: the pipeline's own angle, sampled at a low fixed rate.

The dashboard never computes angles itself; this runs the same ``Pipeline`` the analysis
uses and reads ``status.pitch_deg`` every ``1/hz`` seconds of stream time. The result is
stored with the session, so a timeline never re-reads an hour of samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sensor.events import Gap
from sensor.samples import Samples
from sensor.store import Trace

TRACE_HZ = 5.0


def pelvis_trace(samples: Samples, gaps: Sequence[Gap] = (), hz: float = TRACE_HZ) -> Trace | None:
    """Feed ``samples`` through a fresh pipeline (as ``analyze`` does) in ``1/hz``-second
    pieces and keep the pitch after each piece; NaN on the grid points in gaps."""
    from sensor.pipeline import Pipeline

    if len(samples) == 0:
        return None
    t = samples.time_s
    t0 = float(t[0])
    n = int(np.floor((float(t[-1]) - t0) * hz)) + 1
    out = np.full(n, np.nan, np.float32)
    pipe = Pipeline()
    # Piece boundaries on the trace grid; gaps are told to the pipeline where they occur.
    edges = np.searchsorted(t, t0 + (np.arange(1, n + 1)) / hz, side="left")
    pending = sorted(gaps, key=lambda g: g.start_s)
    start = 0
    for i, stop in enumerate(edges):
        if stop <= start:
            continue
        piece = samples[start:stop]
        while pending and pending[0].end_s <= float(piece.time_s[0]):
            g = pending.pop(0)
            pipe.gap(g.start_s, g.end_s)
        pipe.feed(piece)
        pitch = pipe.status.pitch_deg
        if pitch is not None:
            out[min(i, n - 1)] = float(pitch)
        start = stop
    pipe.finish()
    # Point i is the angle at the end of piece i, i.e. at t0 + (i + 1) / hz.
    return Trace(t0 + 1.0 / hz, hz, out)


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
