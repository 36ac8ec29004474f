"""Orientation of the pelvis: calibration from the opening stand, filtering, and a fused
elevation angle (gyro for speed, accelerometer for drift).

Everything here is a fixed-coefficient linear filter on the pipeline's grid, carried
across chunks by its state, so it is vectorised over samples and chunking-invariant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensor.samples import STANDARD_GRAVITY
from sensor.settings import CalibrationSettings
from sensor.signal.body import default_mounting, elevation_rate, mounting_from_standing
from sensor.signal.iir import butter, first_order, lfilter, lfilter_zi


@dataclass(frozen=True, slots=True)
class Calibration:
    """What the opening stand taught: device-to-body rotation and gyro bias."""

    mounting: np.ndarray  # (3, 3): body = mounting @ device
    gyro_bias: np.ndarray  # (3,) rad/s, device frame
    at_s: float  # stream time the stand was complete
    from_stand: bool = True  # False: guessed from walking about (sides stay unknown)

    def to_json(self) -> dict[str, object]:
        return {"mounting": self.mounting.tolist(), "gyro_bias": self.gyro_bias.tolist(), "at_s": self.at_s, "from_stand": self.from_stand}

    @staticmethod
    def from_json(obj: dict[str, object]) -> Calibration:
        return Calibration(
            np.array(obj["mounting"], float),
            np.array(obj["gyro_bias"], float),
            float(str(obj["at_s"])),
            bool(obj.get("from_stand", True)),
        )


STAND_NORM_TAU_S = 0.2  # smoothing of |f| for the stand's stillness test
STAND_NORM_TOL = 0.8  # m/s²: |f| within this of g (a hobby IMU's bias, ≤ 0.45 per axis, moves it up to ~0.78)


class StandCalibrator:
    """Finds the opening stand: ``still_s`` of stillness with gravity in the device's
    back plane, beginning within ``start_within_s`` of the start of the stream (the numbers
    are ``sensor.settings.CalibrationSettings``).

    Without a stand, the mean gravity direction of ``upright_s`` or more of being upright
    (walking to the mat counts) still gives the long axis, so postures and elevations work;
    the calibration is then marked ``from_stand=False`` and sides stay unknown, as the
    contract asks (the walking mean is less certain than a still stand).
    """

    def __init__(self, rate_hz: float, settings: CalibrationSettings | None = None, mount: str = "back") -> None:
        c = settings or CalibrationSettings()
        self.mount = mount
        self.start_within_s = c.start_within_s
        self.need = int(round(c.still_s * rate_hz))
        self.need_upright = int(round(c.upright_s * rate_hz))
        self.window_s = c.window_s
        self._norm_a = math.exp(-1.0 / (STAND_NORM_TAU_S * rate_hz))
        self._norm_zi: float | None = None
        self._run = 0
        self._sum_acc = np.zeros(3)
        self._sum_gyr = np.zeros(3)
        self._up_n = 0
        self._up_sum = np.zeros(3)
        self._t0: float | None = None
        self.done = False  # found, or given up

    def feed(self, t: np.ndarray, x: np.ndarray) -> Calibration | None:
        if self.done or t.size == 0:
            return None
        if self._t0 is None:
            self._t0 = float(t[0])
        acc, gyr = x[:, :3], x[:, 3:]
        norm = row_norm(acc)
        # |f| smoothed before it is compared with g: a hobby IMU's bias moves it ~0.4 m/s²
        # and its noise (0.1 m/s² a sample) then broke every still run of a whole stand.
        a = self._norm_a
        if self._norm_zi is None:
            self._norm_zi = a * float(norm[0])
        sm, self._norm_zi = first_order(1.0 - a, -a, norm, self._norm_zi)
        still = (row_norm(gyr) < 0.12) & (np.abs(sm - STANDARD_GRAVITY) < STAND_NORM_TOL)
        in_plane = np.abs(acc[:, 2]) < 0.6 * norm
        lying = np.abs(acc[:, 2]) > 0.85 * norm
        ok = still & in_plane
        # Give up at the first lying sample or when the window has passed.
        stop = np.flatnonzero(lying | (t - self._t0 > self.window_s))
        limit = int(stop[0]) if stop.size else len(t)
        # Still runs: cumulative sums reset at every non-still sample.
        edges = np.flatnonzero(~ok[:limit])
        seg_starts = np.concatenate(([0], edges + 1))
        seg_ends = np.concatenate((edges, [limit]))
        for a, b in zip(seg_starts, seg_ends):
            if b <= a:
                self._reset_run()
                continue
            if a > 0:
                self._reset_run()
            if self._run == 0 and t[a] - self._t0 > self.start_within_s:
                break  # the stand opens the session; a later still moment may be sitting
            need = self.need - self._run
            if b - a >= need:
                z = a + need
                up = (self._sum_acc + acc[a:z].sum(axis=0)) / self.need
                bias = (self._sum_gyr + gyr[a:z].sum(axis=0)) / self.need
                self.done = True
                return Calibration(mounting_from_standing(up / np.linalg.norm(up), self.mount), bias, float(t[z - 1]))
            self._run += b - a
            self._sum_acc += acc[a:b].sum(axis=0)
            self._sum_gyr += gyr[a:b].sum(axis=0)
        upright = in_plane[:limit] & (np.abs(norm[:limit] - STANDARD_GRAVITY) < 3.0)
        self._up_n += int(upright.sum())
        self._up_sum += acc[:limit][upright].sum(axis=0)
        if stop.size:
            self.done = True
            if self._up_n >= self.need_upright:
                up = self._up_sum / self._up_n
                return Calibration(
                    mounting_from_standing(up / np.linalg.norm(up), self.mount),
                    np.zeros(3),
                    float(t[limit - 1] if limit else t[0]),
                    from_stand=False,
                )
        return None

    def _reset_run(self) -> None:
        self._run = 0
        self._sum_acc[:] = 0
        self._sum_gyr[:] = 0


class TiltFilter:
    """Low-passed gravity direction (``up``, body frame), gyro rates and the fused
    elevation of the superior axis, per grid sample."""

    def __init__(self, rate_hz: float, lp_hz: float = 3.0, fusion_tau_s: float = 0.5, mount: str = "back") -> None:
        self.dt = 1.0 / rate_hz
        # Transfer-function form: low orders at 50 Hz are well conditioned, and lfilter
        # costs far less per call than sosfilt on the few samples of a live chunk.
        self._b_lp, self._a_lp = butter(2, lp_hz, fs=rate_hz)
        self._zi_lp: np.ndarray | None = None
        self.alpha = fusion_tau_s / (fusion_tau_s + self.dt)
        self._y: float | None = None  # the last fused elevation
        self._e_last = 0.0  # the accelerometer's elevation at the last real sample
        self._var = 0.0  # the accelerometer elevation's scatter about the fused one (rad^2)
        self._var_a = float(np.exp(-1.0 / (2.0 * rate_hz)))
        self.mounting = default_mounting(mount)
        self.gyro_bias = np.zeros(3)
        # The gyro's bias is followed while the sensor is still (a hobby IMU's drifts by
        # degrees per second with temperature, and a session without the stand has none).
        self._bias_a = float(np.exp(-1.0 / (GYRO_BIAS_TAU_S * rate_hz)))
        self._lag = max(1, int(round(STILL_LAG_S * rate_hz)))
        self._up_hist: np.ndarray | None = None  # the last ``_lag`` values of up

    def _follow_bias(self, gyr_dev: np.ndarray, up: np.ndarray, filled: np.ndarray) -> np.ndarray:
        """The gyro bias at each sample (device frame), followed while still."""
        hist = self._up_hist if self._up_hist is not None else np.repeat(up[:1], self._lag, axis=0)
        both = np.vstack((hist, up))
        cos = np.einsum("ij,ij->i", both[self._lag :], both[: -self._lag])
        turn = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) / (self._lag * self.dt)
        turn[filled] = np.inf  # across a dropout the gyro is a guess
        self._up_hist = both[-self._lag :].copy()
        bias = follow_bias(self._bias_a, gyr_dev, turn, self.gyro_bias)
        self.gyro_bias = bias[-1].copy()
        return bias

    def calibrate(self, cal: Calibration) -> None:
        self.mounting = cal.mounting
        if cal.from_stand:  # a walking calibration measured no bias: keep the one followed so far
            self.gyro_bias = cal.gyro_bias.copy()
        self._zi_lp = None  # restart in the body frame
        self._y = None
        self._up_hist = None

    def feed(self, x: np.ndarray, filled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``up`` (m, 3), body rates (m, 3) rad/s and fused elevation (m,) radians.
        ``filled`` marks samples interpolated over a dropout."""
        M = self.mounting
        acc = x[:, :3] @ M.T
        if self._zi_lp is None:
            self._zi_lp = lfilter_zi(self._b_lp, self._a_lp)[:, None] * acc[0][None, :]
        acc_lp, self._zi_lp = lfilter(self._b_lp, self._a_lp, acc, axis=0, zi=self._zi_lp)
        up = acc_lp / row_norm(acc_lp)[:, None]
        gyr = (x[:, 3:] - self._follow_bias(x[:, 3:], up, filled)) @ M.T
        # Elevation from the raw accelerometer, and its rate from the gyro about the
        # horizontal axis perpendicular to the body's long axis: a first-order
        # complementary filter fuses them without the accelerometer low-pass lag.
        e_acc = np.arcsin(np.clip(acc[:, 1] / row_norm(acc), -1.0, 1.0))
        e_rate = elevation_rate(up, gyr)
        if self._y is None:
            self._y, self._e_last = float(e_acc[0]), float(e_acc[0])
        elev = np.empty_like(e_acc)
        a = self.alpha
        edges = np.flatnonzero(np.diff(filled.astype(np.int8))) + 1
        for lo, hi in zip([0, *edges], [*edges, e_acc.size]):
            # Across a dropout both sensors are a line between the dropout's two ends. The
            # accelerometer's two end samples carry their own noise whole (tremor shakes a
            # phone's elevation by 5-10 deg per sample), which ended held side planks at
            # every dropout; so the line is believed only when the change across the
            # dropout stands out of that noise (a movement: 3 sigma), else the gyro alone.
            seen = float(e_acc[min(hi, e_acc.size - 1)]) - self._e_last
            if filled[lo] and seen * seen <= 9.0 * 2.0 * self._var:
                elev[lo:hi] = self._y + np.cumsum(e_rate[lo:hi]) * self.dt
            else:
                v = a * e_rate[lo:hi] * self.dt + (1.0 - a) * e_acc[lo:hi]
                elev[lo:hi] = lfilter([1.0], [1.0, -a], v, zi=[a * self._y])[0]
                if not filled[lo]:
                    r2 = (e_acc[lo:hi] - elev[lo:hi]) ** 2
                    f, _ = first_order(1.0 - self._var_a, -self._var_a, r2, self._var_a * self._var)
                    self._var = float(f[-1])
                    self._e_last = float(e_acc[hi - 1])
            self._y = float(elev[hi - 1])
        return up, gyr, elev


GYRO_BIAS_TAU_S = 4.0  # seconds of stillness over which the gyro bias estimate settles
STILL_LAG_S = 0.4  # gravity's direction is compared over this lag ...
STILL_TURN_DPS = 2.0  # ... and must turn slower than this (a movement, even a sag of a hold, is faster... or harmless)
STILL_RATE_DPS = 8.0  # the raw gyro under this too (a turn about the vertical; hobby IMUs' bias is at most ~5 °/s)


def follow_bias(a: float, gyr: np.ndarray, turn_dps: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The gyro bias (rad/s, device frame) at each sample, followed over still samples by a
    first-order filter and held between them. Still: gravity's direction not turning, and
    the raw gyro small, so that a turn about the vertical, which gravity cannot see, is not
    taken for bias (the test must not use the bias itself: chunking could then change it).
    ``turn_dps``: how fast gravity turns, per sample."""
    still = (turn_dps < STILL_TURN_DPS) & (np.degrees(row_norm(gyr)) < STILL_RATE_DPS)
    out = np.empty_like(gyr)
    n = np.cumsum(still)
    for ax in range(3):
        f = first_order(1.0 - a, -a, gyr[still, ax], a * bias[ax])[0] if still.any() else gyr[:0, ax]
        out[:, ax] = np.concatenate(([bias[ax]], f))[n]
    return out


def row_norm(a: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row (np.linalg.norm's axis path is several times slower)."""
    norm: np.ndarray = np.sqrt(np.einsum("ij,ij->i", a, a))
    return norm


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between unit vectors, degrees, row-wise."""
    deg: np.ndarray = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)))
    return deg


DEG = math.pi / 180
