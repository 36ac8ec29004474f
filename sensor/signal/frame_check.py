"""Does the gyroscope agree with the accelerometer? A check on the data itself, for any
source and any file, run by the session runner before the pipeline.

While the sensor turns slowly, the direction of gravity it measures turns the other way:
``du/dt = u × ω`` for ``u`` the unit specific force and ``ω`` the angular rate, both in
the device frame. The check fits ``du/dt = k (u × ω)`` over quasi-static 0.1 s bins and
reads the fault from ``k``:

- ``k ≈ 1``: they agree.
- ``k ≈ 1/57.3``: the gyroscope's numbers are °/s labelled rad/s; ``k ≈ 57.3``: rad/s
  labelled °/s (converted twice). Corrected by the factor.
- ``k ≈ -1``: the gyroscope turns the other way (its sign flipped: a mirrored frame between
  the two sensors). Corrected by negating it.

What this cannot see: the accelerometer's three axes all flipped (iOS Sensor Logger without
"Standardise Units & Frames"). That is a point reflection, and ``-u`` obeys the same
``du/dt = u × ω`` as ``u``: the gyro agrees with it. Every rigid motion stays consistent
under it, so no handedness test finds it; only priors on how a person moves (walking
forward, pivots inside the body) could. Those exports are flipped from their metadata
(``sensor.files.phone``) and pushes by their platform (``?platform=ios``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensor.samples import STANDARD_GRAVITY, Samples

BIN_S = 0.1  # averaging bin: long enough to beat noise, short against a turn
QUASI_STATIC = 1.5  # m/s²: |specific force| within this of g (gravity dominates the direction)
MIN_TURN = 0.15  # rad/s of |u × ω| in a bin for it to count as a turn of gravity
EVIDENCE = 1.5  # ∫|u × ω|² dt (rad²/s) before deciding: ≈ a 90° roll of the pelvis
MIN_R = 0.8  # |correlation| of du/dt with u × ω for a verdict
TOLERANCE = 1.6  # k within this factor of a fault's value
DEG = math.pi / 180.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the check concluded: ``gyro_factor`` multiplies the gyroscope (1: no fault)."""

    gyro_factor: float
    message: str
    k: float


class FrameCheck:
    """Feeds on sample chunks (any chunking gives the same bins, so the same verdict);
    ``verdict`` is set once the evidence suffices, and stays."""

    def __init__(self) -> None:
        self.verdict: Verdict | None = None
        self._bin_t0: float | None = None
        self._acc = np.zeros(3)
        self._gyr = np.zeros(3)
        self._n = 0
        self._bins: list[np.ndarray] = []  # the last three bins: mean acc (3) + mean gyro (3) + time
        self._s_uc = self._s_cc = self._s_uu = 0.0

    @property
    def k(self) -> float:
        return self._s_uc / self._s_cc if self._s_cc > 0 else math.nan

    @property
    def evidence(self) -> float:
        return self._s_cc * BIN_S

    def feed(self, samples: Samples) -> Verdict | None:
        """Take a chunk; returns the verdict when it is reached by this chunk."""
        if self.verdict is not None or len(samples) == 0:
            return None
        t = samples.time_s
        if self._bin_t0 is None:
            self._bin_t0 = float(t[0])
        idx = np.floor((t - self._bin_t0) / BIN_S).astype(np.int64)
        cuts = np.flatnonzero(np.diff(idx)) + 1
        starts = np.concatenate([[0], cuts])
        imu = samples.imu.astype(np.float64)
        sums = np.add.reduceat(imu, starts, axis=0)
        counts = np.diff(np.concatenate([starts, [len(t)]]))
        for j in range(len(starts)):  # one iteration per 0.1 s bin: cheap
            b = int(idx[starts[j]])
            if self._n and b != self._current:
                self._close_bin()
                # Decided bin by bin, so the verdict does not depend on the chunking.
                if self._decide() is not None or self.verdict is not None:
                    return self.verdict if self.verdict is not None and self.verdict.gyro_factor != 1.0 else None
            if not self._n:
                self._current = b
            self._acc += sums[j, :3]
            self._gyr += sums[j, 3:]
            self._n += int(counts[j])
        return None

    _current = 0

    def _close_bin(self) -> None:
        row = np.concatenate([self._acc / self._n, self._gyr / self._n, [self._current * BIN_S]])
        self._acc, self._gyr, self._n = np.zeros(3), np.zeros(3), 0
        self._bins.append(row)
        if len(self._bins) > 3:
            self._bins.pop(0)
        if len(self._bins) == 3:
            self._use(*self._bins)

    def _use(self, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
        if c[6] - a[6] > 2.5 * BIN_S:  # a hole in the stream: not a derivative
            return
        norms = [float(np.linalg.norm(x[:3])) for x in (a, b, c)]
        if max(abs(n - STANDARD_GRAVITY) for n in norms) > QUASI_STATIC:
            return
        ua, ub, uc = a[:3] / norms[0], b[:3] / norms[1], c[:3] / norms[2]
        du = (uc - ua) / (c[6] - a[6])
        cross = np.cross(ub, b[3:6])
        if float(np.linalg.norm(cross)) < MIN_TURN and float(np.linalg.norm(du)) < MIN_TURN:
            return
        self._s_uc += float(du @ cross)
        self._s_cc += float(cross @ cross)
        self._s_uu += float(du @ du)

    def _decide(self) -> Verdict | None:
        if self._s_cc * BIN_S < EVIDENCE and self._s_uu * BIN_S < EVIDENCE:
            return None
        if self._s_cc <= 0 or self._s_uu <= 0:
            return None
        k = self._s_uc / self._s_cc
        if abs(self._s_uc) / math.sqrt(self._s_cc * self._s_uu) < MIN_R:
            return None

        def near(x: float) -> bool:  # same sign, within TOLERANCE of each other
            return k * x > 0 and max(k / x, x / k) < TOLERANCE

        if near(1.0):
            self.verdict = Verdict(1.0, "", k)
        elif near(DEG):
            self.verdict = Verdict(
                DEG, "the gyroscope's numbers are °/s sent as rad/s (the accelerometer sees turns 57× slower): converted", k
            )
        elif near(1 / DEG):
            self.verdict = Verdict(
                1 / DEG, "the gyroscope's numbers are rad/s read as °/s (the accelerometer sees turns 57× faster): converted", k
            )
        elif near(-1.0):
            self.verdict = Verdict(-1.0, "the gyroscope turns the other way from the accelerometer (its sign is flipped): corrected", k)
        else:
            return None
        return self.verdict if self.verdict.gyro_factor != 1.0 else None


def corrected(samples: Samples, verdict: Verdict | None) -> Samples:
    """``samples`` with the verdict's correction applied (themselves when there is none)."""
    if verdict is None or verdict.gyro_factor == 1.0:
        return samples
    imu = samples.imu.copy()
    imu[:, 3:] *= np.float32(verdict.gyro_factor)
    return Samples(samples.time_s, imu)
