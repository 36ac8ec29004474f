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

import numpy as np

from sensor.samples import STANDARD_GRAVITY


def _carry_up(u0: np.ndarray, gyr: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """World up in body coordinates at each sample, carried from ``u0`` by the body rates
    (rad/s, body frame): a world-fixed vector turns by -omega*dt in the body frame."""
    out = np.empty((gyr.shape[0], 3))
    u = u0.copy()
    out[0] = u
    # Midpoint rates over each step; one rotation per step (Rodrigues), exact for any angle.
    w = 0.5 * (gyr[1:] + gyr[:-1]) * dt[:, None]
    ang = np.sqrt(np.einsum("ij,ij->i", w, w))
    c, s = np.cos(ang), np.sin(ang)
    safe = np.where(ang > 1e-12, ang, 1.0)
    k = -w / safe[:, None]
    for i in range(w.shape[0]):
        ki = k[i]
        u = u * c[i] + np.cross(ki, u) * s[i] + ki * (ki @ u) * (1.0 - c[i])
        out[i + 1] = u
    return out


def vertical_path(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, i0: int, i1: int, n_avg: int = 5) -> np.ndarray:
    """Height (m, up positive) of the sensor at samples ``i0..i1`` relative to ``i0``,
    both ends being still. ``acc`` is specific force (m/s²) and ``gyr`` body rates (rad/s)
    in one frame (any: body or device). Empty when the span is too short."""
    if i1 - i0 < 3:
        return np.zeros(max(0, i1 - i0 + 1))
    tt = t[i0 : i1 + 1]
    f = acc[i0 : i1 + 1]
    g = gyr[i0 : i1 + 1]
    dt = np.diff(tt)
    f0 = acc[max(0, i0 - n_avg + 1) : i0 + 1].mean(axis=0)
    f1 = acc[i1 : i1 + n_avg].mean(axis=0)
    n0, n1 = float(np.linalg.norm(f0)), float(np.linalg.norm(f1))
    if n0 < 1.0 or n1 < 1.0:
        return np.zeros(tt.size)
    fwd = _carry_up(f0 / n0, g, dt)
    bwd = _carry_up(f1 / n1, g[::-1], dt[::-1])[::-1]
    s = ((tt - tt[0]) / max(float(tt[-1] - tt[0]), 1e-9))[:, None]
    up = (1.0 - s) * fwd + s * bwd
    up /= np.sqrt(np.einsum("ij,ij->i", up, up))[:, None]
    # The still reading expected along up, carried from n0 to n1 as the pelvis turns.
    turned = np.concatenate(([0.0], np.cumsum(np.arccos(np.clip(np.einsum("ij,ij->i", up[1:], up[:-1]), -1.0, 1.0)))))
    p = turned / turned[-1] if turned[-1] > 1e-3 else s[:, 0]
    a = np.einsum("ij,ij->i", f, up) - (n0 + (n1 - n0) * p)
    v = np.concatenate(([0.0], np.cumsum(0.5 * (a[1:] + a[:-1]) * dt)))
    v -= v[-1] * (tt - tt[0]) / max(float(tt[-1] - tt[0]), 1e-9)
    h: np.ndarray = np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)))
    return h


def rise_m(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, i0: int, i1: int) -> float:
    """Net height change (m) between two still samples ``i0 < i1``."""
    h = vertical_path(t, acc, gyr, i0, i1)
    return float(h[-1]) if h.size else 0.0


__all__ = ["STANDARD_GRAVITY", "rise_m", "vertical_path"]
