"""The lift integral (``sensor.signal.height``) on movements made from physics here, with
their true height known: a brisk bridge's top is no still moment."""

from __future__ import annotations

import numpy as np

from sensor.signal.height import rise_m

G = 9.80665
RATE_HZ = 50.0


def _min_jerk(u: np.ndarray) -> np.ndarray:
    return np.asarray(10 * u**3 - 15 * u**4 + 6 * u**5)


def _bridge(move_s: float, lift_m: float, turn_deg: float, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> tuple[np.ndarray, ...]:
    """1 s lying still, then a lift and a lowering of ``move_s`` each with no pause at the
    top, then 1 s still: time, specific force (body frame, with per-axis scale errors) and
    body rates; the index of the still start and of the top."""
    dt = 1.0 / RATE_HZ
    t = np.arange(0.0, 2.0 + 2 * move_s, dt)
    u = np.clip((t - 1.0) / move_s, 0.0, 1.0) - np.clip((t - 1.0 - move_s) / move_s, 0.0, 1.0)
    s = _min_jerk(np.clip(u, 0.0, 1.0))
    z = lift_m * s
    th = np.radians(turn_deg) * s
    az = np.gradient(np.gradient(z, t), t)
    # Pitch about the body x axis: world (0, 0, 1) seen in the body frame is (0, sin, cos).
    f_body = np.stack([np.zeros_like(t), (az + G) * np.sin(th), (az + G) * np.cos(th)], axis=1) * np.asarray(scale)
    gyr = np.stack([np.gradient(th, t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    i0 = int(np.searchsorted(t, 0.9))
    i_top = int(np.argmax(th))
    return t, f_body, gyr, i0, i_top


def test_a_brisk_bridge_lift_is_integrated_to_its_top() -> None:
    """A 12-cm lift in 0.45 s reverses at once: the reading at the top is gravity plus
    about 3 m/s² down, so taking it for gravity misjudges the lift by centimetres."""
    for scale in ((1.0, 1.0, 1.0), (1.01, 0.99, 1.012)):
        t, f, g, i0, i_top = _bridge(0.45, 0.12, 20.0, scale)
        assert abs(rise_m(t, f, g, i0, i_top, end_still=False) - 0.12) <= 0.015
        assert abs(rise_m(t, f, g, i0, i_top, end_still=True) - 0.12) > 0.03


def test_a_slow_top_is_integrated_with_its_still_reading() -> None:
    """Three seconds a movement: the top's reading is gravity to ~0.03 m/s², and an
    accelerometer's scale errors change the still reading as the pelvis turns."""
    t, f, g, i0, i_top = _bridge(3.0, 0.10, 30.0, (1.012, 0.99, 1.0))
    assert abs(rise_m(t, f, g, i0, i_top, end_still=True) - 0.10) <= 0.015
    assert abs(rise_m(t, f, g, i0, i_top, end_still=False) - 0.10) > 0.02  # the scale errors, uncorrected
