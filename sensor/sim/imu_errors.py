"""An uncalibrated hobby IMU (``uncalibrated_imu``): what an MPU-6050 or BMI160 board reads
when nobody calibrated it.

- Gyro zero-rate offset: up to ±3.0 °/s per axis at power-on (BMI160: ±3 °/s typical; the
  MPU-6050's ±20 °/s limit is rarely reached by a board that works), drifting another
  ±0.4 °/s as the board warms up (0.05-0.08 °/s per kelvin over a 5-8 K warm-up, time
  constant 2-8 min): at most 3.4 °/s.
- Accelerometer zero-g offset: up to ±0.40 m/s² per axis (±40 mg, BMI160; the MPU-6050's
  ±50-80 mg), drifting ±0.05 m/s² with temperature (0.4-1 mg/K): at most 0.45 m/s².
- Sensitivity (scale) errors of ±3 % per axis and cross-axis sensitivity of ±2 % (both
  datasheets' limits), separately for the accelerometer and the gyroscope.
- White noise of 0.08-0.12 m/s² rms (400 µg/√Hz over a 260 Hz bandwidth is 0.06; a hobby
  board's supply adds to it) and, in the datasheet's proportion of gyro to accelerometer
  noise (0.05 °/s against 0.039 m/s² rms at 100 Hz), 0.10-0.16 °/s rms.
- The ranges such boards are set to: ±4 g and ±500 °/s over 16 bits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sensor.samples import STANDARD_GRAVITY

HOBBY_ACC_LSB = 4 * STANDARD_GRAVITY / 32768
HOBBY_GYRO_LSB = math.radians(500) / 32768
GYRO_BIAS_MAX_DPS = 3.4
ACC_BIAS_MAX = 0.45


def _matrix(rng: np.random.Generator, scale: float, cross: float) -> np.ndarray:
    m = np.eye(3) + np.diag(rng.uniform(-scale, scale, 3))
    off = rng.uniform(-cross, cross, (3, 3))
    np.fill_diagonal(off, 0.0)
    return m + off


def imu_errors(
    rng: np.random.Generator, t: np.ndarray, f: np.ndarray, w: np.ndarray, force: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Specific force ``f`` (m/s²) and rate ``w`` (rad/s) in the device frame as the board
    reads them at times ``t``; with the drawn errors (``force``: any of them given)."""
    tau = float(rng.uniform(120, 480))
    gb0 = np.asarray(force.get("gyro_bias_dps", rng.uniform(-3.0, 3.0, 3)), float)
    gdrift = rng.uniform(-0.4, 0.4, 3)
    ab0 = np.asarray(force.get("acc_bias", rng.uniform(-0.40, 0.40, 3)), float)
    adrift = rng.uniform(-0.05, 0.05, 3)
    ca = _matrix(rng, 0.03, 0.02)
    cg = _matrix(rng, 0.03, 0.02)
    acc_noise = float(force.get("acc_noise", rng.uniform(0.08, 0.12)))
    gyro_noise = float(force.get("gyro_noise_dps", rng.uniform(0.10, 0.16)))
    warm = (1 - np.exp(-t / tau))[:, None]
    n = len(t)
    acc = f @ ca.T + ab0 + warm * adrift + rng.normal(0, acc_noise, (n, 3))
    gyr = w @ cg.T + np.radians(gb0 + warm * gdrift) + rng.normal(0, math.radians(gyro_noise), (n, 3))
    truth = {
        "acc_bias": ab0.tolist(),  # at power-on, m/s²
        "gyro_bias_dps": gb0.tolist(),
        "acc_bias_drift": adrift.tolist(),  # reached with the warm-up's time constant
        "gyro_bias_drift_dps": gdrift.tolist(),
        "warm_up_tau_s": tau,
        "acc_matrix": ca.tolist(),  # read = matrix @ true + bias
        "gyro_matrix": cg.tolist(),
        "acc_noise": acc_noise,
        "gyro_noise_dps": gyro_noise,
    }
    return acc, gyr, truth
