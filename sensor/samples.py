"""The sample chunk: what every source (BLE, phone, file, simulated wearer) yields.

Units are SI at this interface: time in seconds, specific force in m/s², angular rate in
rad/s, all in the device frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from sensor.vocab import IMU_COLUMNS

COLUMNS = IMU_COLUMNS  # channel order of ``Samples.imu`` (the generic CSV's names)

STANDARD_GRAVITY = 9.80665


@dataclass(frozen=True, slots=True)
class Samples:
    """A chunk of IMU samples.

    ``time_s`` is float64 seconds (any origin, increasing); ``imu`` is float32 with the six
    channels of ``COLUMNS`` (acc m/s², gyro rad/s). float32 is the storage precision: it
    is finer than any 16-bit sensor, and keeping it end to end makes recordings lossless.
    """

    time_s: np.ndarray
    imu: np.ndarray

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.time_s, dtype=np.float64)
        x = np.ascontiguousarray(self.imu, dtype=np.float32)
        if t.ndim != 1 or x.shape != (t.shape[0], 6):
            raise ValueError(f"Samples need time_s (n,) and imu (n, 6); got {t.shape} and {x.shape}")
        object.__setattr__(self, "time_s", t)
        object.__setattr__(self, "imu", x)

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def acc(self) -> np.ndarray:
        """Specific force, m/s², shape (n, 3)."""
        return self.imu[:, :3]

    @property
    def gyro(self) -> np.ndarray:
        """Angular rate, rad/s, shape (n, 3)."""
        return self.imu[:, 3:]

    def __getitem__(self, index: slice) -> Samples:
        return Samples(self.time_s[index], self.imu[index])

    @staticmethod
    def empty() -> Samples:
        return Samples(np.empty(0), np.empty((0, 6), np.float32))

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        if not parts:
            return Samples.empty()
        return Samples(np.concatenate([p.time_s for p in parts]), np.concatenate([p.imu for p in parts]))

    def chunks(self, size: int) -> list[Samples]:
        """Split into chunks of ``size`` samples (the last may be shorter)."""
        return [self[i : i + size] for i in range(0, len(self), size)]


class Span(Protocol):
    """Anything with a start and an end time (``sensor.events.Gap``)."""

    @property
    def start_s(self) -> float: ...

    @property
    def end_s(self) -> float: ...


G = TypeVar("G", bound=Span)


def interleave(samples: Samples, gaps: Iterable[G]) -> Iterator[Samples | G]:
    """Samples cut at the gaps, each gap yielded just before the samples that follow it
    (the order a recording stores them in, and the pipeline takes them in)."""
    t = samples.time_s
    start = 0
    for g in sorted(gaps, key=lambda g: g.start_s):
        cut = int(np.searchsorted(t, g.end_s))
        if cut > start:
            yield samples[start:cut]
        yield g
        start = max(start, cut)
    if start < len(samples):
        yield samples[start:]


def median(x: np.ndarray) -> float:
    """``np.median`` of a 1-D float array, bit for bit, without its fixed cost (tens of µs
    a call) and without the ``numpy.ma`` import it triggers (70 ms of start-up)."""
    s = np.sort(np.asarray(x, dtype=np.float64).ravel())
    n = s.size
    if n == 0 or s[-1] != s[-1]:  # empty, or a NaN (sorted last): as np.median
        return float(np.median(x))
    h = n // 2
    return float(s[h]) if n % 2 else float((s[h - 1] + s[h]) / 2)


def percentile(x: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` (linear interpolation) of a 1-D float array without NaN,
    without the ``numpy.ma`` import ``np.percentile`` triggers."""
    s = np.sort(np.asarray(x, dtype=np.float64).ravel())
    if s.size == 0 or s[-1] != s[-1]:
        return float(np.percentile(x, q))
    pos = q / 100.0 * (s.size - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, s.size - 1)
    t = pos - lo
    a, b = float(s[lo]), float(s[hi])
    # numpy's lerp: from the nearer end, so the result stays within [a, b]
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1.0 - t)
