"""A hold is timed from where its level was reached: the way in (on the hands before the
forearms) is not part of it, a fatigue sag does not move its start."""

from __future__ import annotations

import numpy as np

from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.holds import held_from

RATE_HZ = 50.0
S = DetectorSettings()
WAY_IN = (S.hold_move_deg, S.hold_way_in_s, S.hold_move_wait_s)


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return 10 * u**3 - 15 * u**4 + 6 * u**5


def _sway(n: int, seed: int) -> np.ndarray:
    # ~0.5 deg rms, slow (a body held, not sensor noise).
    rng = np.random.default_rng(seed)
    w = np.convolve(rng.normal(0.0, 1.0, n + 50), np.ones(50) / 50, mode="valid")[:n]
    out: np.ndarray = 0.5 * w / w.std()
    return out


def test_a_plank_from_the_hands_is_timed_from_the_forearms() -> None:
    # 2 s on the hands at 17 deg, down onto one forearm (0.9 s, -4.5 deg), a pause, the
    # other (0.9 s, -4.5 deg): each stage under hold_move_deg, so the watch followed them.
    t = np.arange(0.0, 30.0, 1.0 / RATE_HZ)
    d = 17.0 - 4.5 * _min_jerk((t - 2.0) / 0.9) - 4.5 * _min_jerk((t - 3.2) / 0.9) + _sway(t.size, 1)
    got = held_from(t, d, 0.0, 30.0, *WAY_IN)
    # On the forearms at 4.1 s; the tolerance is the sway's (a quarter of hold_move_deg).
    assert 3.6 <= got <= 4.6


def test_a_sagging_hold_keeps_its_start() -> None:
    # 6 deg of fatigue sag over 12 s (the simulator's largest, on its shortest planks).
    t = np.arange(0.0, 14.0, 1.0 / RATE_HZ)
    d = 15.0 - 0.5 * t + _sway(t.size, 2)
    assert held_from(t, d, 0.0, 14.0, *WAY_IN) == 0.0


def test_a_hold_held_at_one_level_keeps_its_start() -> None:
    t = np.arange(0.0, 40.0, 1.0 / RATE_HZ)
    d = 12.0 + _sway(t.size, 3)
    assert held_from(t, d, 0.0, 40.0, *WAY_IN) == 0.0
