"""Stability of a hold: sway, tremor, sag and a 0–100 score (definitions in contract.md)."""

from __future__ import annotations

import math

import numpy as np


def measure_stability(t: np.ndarray, up: np.ndarray, tremor: np.ndarray, d_deg: np.ndarray) -> tuple[float, float, float]:
    """Sway (deg), tremor (deg/s) and sag (deg) over one hold.

    ``up`` is the low-passed (< 3 Hz) gravity direction: sway is the RMS of its angular
    deviation about a straight-line trend. ``tremor`` holds the 4–15 Hz band of the body
    angular rate (rad/s). ``d_deg`` is the elevation above rest; sag is how far the
    straight-line trend of it fell over the hold (positive = toward the floor).
    """
    if t.size < 4:
        return 0.0, 0.0, 0.0
    tt = t - t[0]
    tc = tt - tt.mean()
    var = float(tc @ tc)
    # Straight-line fits in closed form (one pass; lstsq/polyfit cost more than the data).
    uc = up - up.mean(axis=0)
    resid = uc - np.outer(tc, (tc @ uc) / var)
    sway = math.degrees(math.sqrt(float(np.einsum("ij,ij->", resid, resid)) / len(t)))
    trem = math.degrees(math.sqrt(float(np.einsum("ij,ij->", tremor, tremor)) / len(t)))
    slope = float(tc @ (d_deg - d_deg.mean())) / var
    sag = -slope * float(tt[-1])
    return sway, trem, sag


def stability_score(sway_deg: float, tremor_dps: float, sag_deg: float) -> float:
    """0–100, 100 = rock steady. Each term is scaled so that a clearly wobbly hold
    (2.5° sway, or 12 °/s tremor, or 8° sag) alone costs the same."""
    penalty = sway_deg / 2.5 + tremor_dps / 12.0 + max(sag_deg, 0.0) / 8.0
    return round(100.0 * math.exp(-0.5 * penalty), 1)
