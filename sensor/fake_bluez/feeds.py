"""Sample feeds for simulated sensors: sample ``i`` of a feed is a pure function of the
feed's settings and ``i``, so a test can rebuild exactly what a fake sensor was fed.

- ``synthetic``: gravity on a slowly tilting axis, a few sinusoids and white noise (the
  noise is many LSBs of every profile, so a duplicated, missing or swapped sample never
  looks like its neighbour). Endless; 1 s blocks seeded by ``(seed, block)``.
- ``wearer``: ``sensor.sim.simulate.simulate_session(seed)`` (the simulated wearer), looped.
- ``samples``: an explicit ``Samples`` stream saved with ``save_samples_feed`` (a test's
  own workout), played once with its own sample times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from sensor.samples import STANDARD_GRAVITY, Samples


class Feed(Protocol):
    """Samples by index at a fixed rate; ``length`` is ``None`` for an endless feed."""

    rate_hz: float
    length: int | None

    def samples(self, start: int, stop: int) -> Samples: ...


@dataclass
class SyntheticFeed:
    """Deterministic noisy IMU signal; sample ``i`` is at ``i / rate_hz`` seconds."""

    rate_hz: float
    seed: int = 0
    duration_s: float | None = None
    noise_acc: float = 0.08  # m/s²
    noise_gyro: float = 0.02  # rad/s
    length: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.length = None if self.duration_s is None else round(self.duration_s * self.rate_hz)
        self._block = max(1, round(self.rate_hz))
        self._cache: dict[int, np.ndarray] = {}

    def _block_noise(self, b: int) -> np.ndarray:
        if b not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            rng = np.random.default_rng([self.seed, b])
            noise = rng.standard_normal((self._block, 6))
            noise[:, :3] *= self.noise_acc
            noise[:, 3:] *= self.noise_gyro
            self._cache[b] = noise
        return self._cache[b]

    def samples(self, start: int, stop: int) -> Samples:
        if self.length is not None:
            stop = min(stop, self.length)
        if stop <= start:
            return Samples.empty()
        idx = np.arange(start, stop)
        t = idx / self.rate_hz
        # Tilt through ±30° at 0.1 Hz so gravity moves across all three axes.
        tilt = np.deg2rad(30.0) * np.sin(2 * np.pi * 0.1 * t + self.seed)
        imu = np.empty((idx.size, 6))
        imu[:, 0] = STANDARD_GRAVITY * np.sin(tilt) + 0.5 * np.sin(2 * np.pi * 1.3 * t)
        imu[:, 1] = 0.3 * np.sin(2 * np.pi * 0.7 * t + 1.0)
        imu[:, 2] = STANDARD_GRAVITY * np.cos(tilt)
        imu[:, 3] = 0.2 * np.sin(2 * np.pi * 0.5 * t)
        imu[:, 4] = np.deg2rad(30.0) * 2 * np.pi * 0.1 * np.cos(2 * np.pi * 0.1 * t + self.seed)
        imu[:, 5] = 0.1 * np.cos(2 * np.pi * 0.3 * t)
        blocks = idx // self._block
        for b in np.unique(blocks):
            sel = blocks == b
            imu[sel] += self._block_noise(int(b))[idx[sel] % self._block]
        return Samples(t, imu.astype(np.float32))


@dataclass
class WearerFeed:
    """The simulated wearer's session, looped (times keep increasing across loops)."""

    rate_hz: float
    seed: int = 0
    duration_s: float | None = None
    length: int | None = field(init=False)

    def __post_init__(self) -> None:
        from sensor.sim.simulate import simulate_session  # the lead's module; heavy, so late

        # The fake radio makes its own losses: ask the wearer for a clean stream on the
        # device's sample grid (no jitter, dropouts or link losses).
        session = simulate_session(self.seed, rate_hz=self.rate_hz, jitter=False, dropouts=False, link_losses=0)
        imu = session.samples.imu
        self._imu = imu
        self.length = None if self.duration_s is None else round(self.duration_s * self.rate_hz)

    def samples(self, start: int, stop: int) -> Samples:
        if self.length is not None:
            stop = min(stop, self.length)
        if stop <= start:
            return Samples.empty()
        idx = np.arange(start, stop)
        return Samples(idx / self.rate_hz, self._imu[idx % len(self._imu)])


def save_samples_feed(path: str | Path, samples: Samples, rate_hz: float) -> str:
    """Write ``samples`` (taken at ``rate_hz``) for a ``samples`` feed; returns the path
    to put in ``SensorSpec.samples_path``. Times and values are kept bit for bit."""
    path = Path(path)
    with open(path, "wb") as f:  # np.savez would append ".npz" to a path without it
        np.savez(f, time_s=samples.time_s, imu=samples.imu, rate_hz=np.float64(rate_hz))
    return str(path)


@dataclass
class SamplesFeed:
    """An explicit stream from ``save_samples_feed``: sample ``i`` is the file's sample ``i``
    at its own time. Played once; the device must run at the rate it was taken at."""

    rate_hz: float
    path: str
    duration_s: float | None = None
    length: int | None = field(init=False)

    def __post_init__(self) -> None:
        try:
            with np.load(self.path) as z:
                self._t = np.asarray(z["time_s"], np.float64)
                self._imu = np.asarray(z["imu"], np.float32)
                file_rate = float(z["rate_hz"])
        except (OSError, KeyError) as e:
            raise ValueError(f"cannot read samples feed {self.path}: {e}") from None
        if abs(file_rate - self.rate_hz) > 1e-6 * self.rate_hz:
            raise ValueError(f"samples feed {self.path} was taken at {file_rate:g} Hz, the device runs at {self.rate_hz:g} Hz")
        n = len(self._t)
        self.length = n if self.duration_s is None else min(n, round(self.duration_s * self.rate_hz))

    def samples(self, start: int, stop: int) -> Samples:
        assert self.length is not None
        stop = min(stop, self.length)
        if stop <= start:
            return Samples.empty()
        return Samples(self._t[start:stop], self._imu[start:stop])


def make_feed(kind: str, rate_hz: float, seed: int = 0, duration_s: float | None = None, path: str = "") -> Feed:
    """The feed named ``kind``; ``path`` is the file of a ``samples`` feed."""
    if kind == "synthetic":
        return SyntheticFeed(rate_hz, seed, duration_s)
    if kind == "wearer":
        return WearerFeed(rate_hz, seed, duration_s)
    if kind == "samples":
        if not path:
            raise ValueError("feed 'samples' needs a samples_path")
        return SamplesFeed(rate_hz, path, duration_s)
    raise ValueError(f"unknown feed {kind!r} (synthetic, wearer or samples)")
