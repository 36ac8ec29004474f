"""The fused elevation across dropouts: a still body stays still, a turn is caught up."""

from __future__ import annotations

import numpy as np

from sensor.signal.body import default_mounting
from sensor.signal.orientation import TiltFilter

RATE_HZ = 50.0
G = 9.81


def _still_with_dropouts(elev_deg: np.ndarray, noise: float, gaps: list[tuple[int, int]], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Device-frame samples of a body at ``elev_deg`` per sample (no rotation rate besides
    the elevation's own), with phone-like accelerometer noise; each (start, stop) of
    ``gaps`` is filled as the resampler fills a dropout: a straight line between its ends."""
    rng = np.random.default_rng(seed)
    e = np.radians(elev_deg)
    body_acc = G * np.column_stack((np.zeros_like(e), np.sin(e), np.cos(e)))
    body_gyr = np.column_stack((-np.gradient(e) * RATE_HZ, np.zeros_like(e), np.zeros_like(e)))
    m = default_mounting("back")
    x = np.hstack((body_acc @ m, body_gyr @ m))  # body = M @ device, so device = M.T @ body
    x[:, :3] += rng.normal(0.0, noise, (e.size, 3))
    x[:, 3:] += rng.normal(0.0, np.radians(0.3), (e.size, 3))
    filled = np.zeros(e.size, bool)
    for a, b in gaps:
        w = np.linspace(0.0, 1.0, b - a + 1)[1:-1, None]
        x[a + 1 : b] = x[a] + w * (x[b] - x[a])
        filled[a + 1 : b] = True
    return x, filled


def _elevation_deg(x: np.ndarray, filled: np.ndarray) -> np.ndarray:
    tilt = TiltFilter(RATE_HZ, lp_hz=3.0, fusion_tau_s=0.5, mount="back")
    elev: np.ndarray = np.degrees(tilt.feed(x, filled)[2])
    return elev


def test_a_dropout_in_a_still_hold_does_not_move_the_elevation() -> None:
    # A phone's accelerometer (0.6 m/s^2 rms per sample) held still at 14 deg, with twenty
    # dropouts of 0.5 s: the two samples at a dropout's ends carry their noise, which the
    # elevation must not take over (a 5-10 deg step ended held side planks); a change that
    # does not stand out of that noise is left to the gyro.
    n = int(300 * RATE_HZ)
    elev = np.full(n, 14.0)
    gaps = [(int(s * RATE_HZ), int(s * RATE_HZ) + 25) for s in np.arange(10.0, 290.0, 14.0)]
    x, filled = _still_with_dropouts(elev, 0.6, gaps, seed=3)
    got = _elevation_deg(x, filled)
    # Per dropout, the mean elevation over the 0.6 s after it against the 1 s before: the
    # fused elevation's own noise is ~0.5 deg rms here, so such means scatter by ~0.2 deg.
    before = np.array([got[a - int(RATE_HZ) : a].mean() for a, _ in gaps])
    after = np.array([got[b : b + int(0.6 * RATE_HZ)].mean() for _, b in gaps])
    assert np.abs(after - before).max() < 1.5


def test_a_turn_hidden_by_a_dropout_is_caught_up() -> None:
    # 30 deg of lift made entirely inside a 0.4-s dropout: neither end of the gap saw the
    # gyro turn, but the accelerometer's change across it stands far out of its noise, so
    # the elevation follows it through the gap (the gyro alone would reach 17 deg by
    # 10.62 s) and is there within ~4 time constants of the fusion (0.5 s each).
    n = int(20 * RATE_HZ)
    t = np.arange(n) / RATE_HZ
    u = np.clip((t - 10.0) / 0.3, 0.0, 1.0)
    elev = 5.0 + 30.0 * (10 * u**3 - 15 * u**4 + 6 * u**5)
    a = int(9.95 * RATE_HZ)
    x, filled = _still_with_dropouts(elev, 0.1, [(a, a + 20)], seed=4)
    got = _elevation_deg(x, filled)
    assert got[int(10.62 * RATE_HZ)] > 20.0
    after = t >= 10.35 + 2.0
    assert np.abs(got[after] - 35.0).max() < 1.5
    assert np.abs(got[(t > 5) & (t < 9.9)] - 5.0).max() < 1.5
