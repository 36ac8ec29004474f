"""The gyroscope-unit check on a phone that stamps each batch of samples with its delivery
time (ties, then 1-ms steps, then a gap of a batch): a held-out class of the simulated
wearer found it refused as "deg/s" (the check took the median spacing, ~0, for the rate, so
its one-second blocks spanned minutes whose turns undo each other)."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.files.validate import _gyro_to_tilt_ratio, validate_samples
from sensor.sim.sim_clock import phone_clock
from tests.conftest import sim


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_delivery_stamped_phone_passes_and_deg_s_is_still_found(seed: int) -> None:
    s = sim(seed, short=True, rate_hz=62.5, exercises=("bridge", "side_plank"), link_losses=0)
    x = s.samples.imu
    rng = np.random.default_rng(seed)
    _, stamps, info = phone_clock(rng, float(s.samples.time_s[-1]) + 60.0, 62.5, "delivery")
    t = stamps[: len(x)]
    assert len(t) == len(x) and np.mean(np.diff(t) == 0) > 0.5  # mostly ties: a batched phone
    assert info["batch"] >= 4
    # rad/s: about 1, and the whole session is taken.
    assert _gyro_to_tilt_ratio(t, x) == pytest.approx(1.0, rel=0.3)
    assert len(validate_samples(t, x, "phone.csv")) == len(x)
    # deg/s read as rad/s: about 57 (and refused, whichever test sees it first).
    deg = x.copy()
    deg[:, 3:] *= np.float32(180 / np.pi)
    assert _gyro_to_tilt_ratio(t, deg) == pytest.approx(57.3, rel=0.3)
    with pytest.raises(Exception, match="deg/s"):
        validate_samples(t, deg, "phone.csv")
