"""The simulated wearer's sensor: what a commodity IMU makes of the body's true motion —
mounting rotation and tilt, bias, noise, 16-bit quantization, the device's rate and clock,
timestamp jitter and radio dropouts — and the stability truth of each hold."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.spatial.transform import Rotation

from sensor.events import Gap
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.signal import body

ACC_LSB = 16 * STANDARD_GRAVITY / 32768  # ±16 g over int16, as WitMotion
GYRO_LSB = math.radians(2000) / 32768  # ±2000 °/s over int16
TIME_QUANTUM_S = 1e-6  # device clocks tick in µs
RATES_HZ = (25.0, 50.0, 52.0, 100.0, 104.0, 200.0, 400.0)  # what commodity IMUs offer


@dataclass
class SimOptions:
    """How the session is done and sensed. ``None`` fields are drawn from the seed."""

    rate_hz: float | None = None
    standing_start: bool = True  # the calibration stand the contract asks for
    mount_rotation_deg: float | None = None  # device rotation within the mounting plane
    mount_tilt_deg: float | None = None  # up to 20
    acc_bias: float | None = None  # max |bias| per axis, m/s²
    gyro_bias_dps: float | None = None  # max |bias| per axis, °/s
    jitter: bool = True
    dropouts: bool = True
    link_losses: int | None = None  # marked gaps of 1-3 s, between exercises
    exercises: tuple[str, ...] = ("bridge", "back_extension", "plank", "side_plank")
    shuffle: bool = True
    short: bool = False  # fewer reps and holds: small recordings for the repo
    mount: str | None = "back"  # where the device is worn (sensor.signal.body.MOUNT_FACE); None: drawn
    daily_life: bool | None = False  # a session of daily life, no exercises; None: drawn (1 in 5)
    technique: dict[str, Any] | None = None  # fields of sensor.sim.technique.Technique to force


class Motion(Protocol):
    """The body's true motion on the model's grid (``sim_body.Body``), per segment."""

    fs: float
    base: list[np.ndarray]
    elev: list[np.ndarray]
    wob: list[np.ndarray]
    pos: list[np.ndarray]
    truth: dict[str, list[dict[str, Any]]]
    _true_up_device: np.ndarray | None


def sense(b: Motion, rng: np.random.Generator, opt: SimOptions, rate: float) -> tuple[Samples, list[Gap], dict[str, Any]]:
    fs = b.fs
    base = Rotation.from_rotvec(np.concatenate(b.base))
    elev = np.concatenate(b.elev)
    wob = np.concatenate(b.wob)
    pos = np.concatenate(b.pos)
    up_base = base.inv().apply([0.0, 0.0, 1.0])
    k = np.stack([up_base[:, 2], np.zeros(len(elev)), -up_base[:, 0]], axis=1)
    k /= np.maximum(np.linalg.norm(k, axis=1, keepdims=True), 1e-9)
    R = base * Rotation.from_rotvec(k * elev[:, None]) * Rotation.from_rotvec(wob)

    # Angular rate in the body frame, from consecutive orientations (midpoint rule).
    dR = (R[:-1].inv() * R[1:]).as_rotvec() * fs
    t_mid = (np.arange(len(dR)) + 0.5) / fs
    acc_w = np.gradient(np.gradient(pos, axis=0), axis=0) * fs * fs
    f_w = acc_w + np.array([0.0, 0.0, STANDARD_GRAVITY])
    f_b = R.inv().apply(f_w)

    # Mounting: rotated anywhere in the back plane, tilted up to 20°.
    psi = math.radians(opt.mount_rotation_deg if opt.mount_rotation_deg is not None else rng.uniform(0, 360))
    tilt = math.radians(opt.mount_tilt_deg if opt.mount_tilt_deg is not None else rng.uniform(0, 20))
    tilt_axis = rng.uniform(0, 2 * math.pi)
    Q = Rotation.from_rotvec(tilt * np.array([math.cos(tilt_axis), math.sin(tilt_axis), 0])) * Rotation.from_rotvec([0, 0, psi])
    # Worn elsewhere than the back: turn the whole device so its face points along that axis.
    face = body.MOUNT_FACE[opt.mount or "back"]
    if face[2] < 0:
        Q = Rotation.from_rotvec([0.0, math.pi, 0.0]) * Q
    elif face[0]:
        Q = Rotation.from_rotvec([0.0, math.copysign(math.pi / 2, face[0]), 0.0]) * Q

    # Device sample instants: a steady clock, with radio dropouts cut out.
    T = (len(elev) - 1) / fs
    t_true = np.arange(0.0, T - 0.05, 1.0 / rate)
    keep = np.ones(len(t_true), bool)
    if opt.dropouts:
        for _ in range(int(rng.poisson(T / 60 * 3))):
            a = rng.uniform(0, T)
            keep &= ~((t_true >= a) & (t_true < a + rng.uniform(0.05, 0.5)))
    gaps: list[Gap] = []
    n_loss = opt.link_losses if opt.link_losses is not None else int(rng.integers(0, 3))
    quiet = _quiet_spans(b.truth, T)
    for _ in range(n_loss):
        if not quiet:
            break
        a0, a1 = quiet[int(rng.integers(len(quiet)))]
        if a1 - a0 < 6:
            continue
        a = rng.uniform(a0 + 1, a1 - 5)
        d = rng.uniform(1.0, 3.0)
        if any(a < g.end_s + 1.0 and g.start_s < a + d + 1.0 for g in gaps):
            continue  # one loss at a time
        keep &= ~((t_true >= a) & (t_true < a + d))
        gaps.append(Gap(round(a, 6), round(a + d, 6)))
    gaps.sort(key=lambda g: g.start_s)
    t_true = t_true[keep]

    f_s = np.stack([np.interp(t_true, np.arange(len(f_b)) / fs, f_b[:, i]) for i in range(3)], axis=1)
    w_s = np.stack([np.interp(t_true, t_mid, dR[:, i]) for i in range(3)], axis=1)
    f_d = Q.inv().apply(f_s)
    w_d = Q.inv().apply(w_s)

    acc_bias_max = opt.acc_bias if opt.acc_bias is not None else 0.2
    gyro_bias_max = math.radians(opt.gyro_bias_dps if opt.gyro_bias_dps is not None else 1.0)
    acc_bias = rng.uniform(-acc_bias_max, acc_bias_max, 3)
    gyro_bias = rng.uniform(-gyro_bias_max, gyro_bias_max, 3)
    n = len(t_true)
    f_d += acc_bias + rng.normal(0, 0.02, (n, 3))
    w_d += gyro_bias + rng.normal(0, math.radians(0.15), (n, 3))
    acc_q = np.clip(np.round(f_d / ACC_LSB), -32768, 32767) * ACC_LSB
    gyr_q = np.clip(np.round(w_d / GYRO_LSB), -32768, 32767) * GYRO_LSB

    for h in b.truth["holds"]:
        h.update(_stability_truth(R, dR, fs, h["start_s"], h["end_s"]))

    t_rep = t_true.copy()
    if opt.jitter:
        # Timestamps wobble (BLE batching, phone schedulers) but never reorder.
        t_rep += np.clip(rng.normal(0, 0.12 / rate, n), -0.4 / rate, 0.4 / rate)
    t_rep = np.round(t_rep / TIME_QUANTUM_S) * TIME_QUANTUM_S
    samples = Samples(t_rep, np.hstack([acc_q, gyr_q]).astype(np.float32))
    # The true gravity direction in the device frame at each sample (for filter benchmarks).
    up_body = np.stack([np.interp(t_true, np.arange(len(f_b)) / fs, c) for c in R.inv().apply([0.0, 0.0, 1.0]).T], axis=1)
    b._true_up_device = Q.inv().apply(up_body).astype(np.float32)
    sensor_truth = {
        "mount_rotation_deg": math.degrees(psi) % 360,
        "mount_tilt_deg": math.degrees(tilt),
        "acc_bias": acc_bias.tolist(),
        "gyro_bias_dps": np.degrees(gyro_bias).tolist(),
        "rate_hz": rate,
    }
    return samples, gaps, sensor_truth


def _stability_truth(R: Rotation, rate_b: np.ndarray, fs: float, start: float, end: float) -> dict[str, float]:
    """Sway and tremor of a hold by the contract's definitions, on the noise-free pose."""
    from scipy.signal import butter, sosfiltfilt

    a, z = int(start * fs), int(end * fs)
    up = R[a:z].inv().apply([0.0, 0.0, 1.0])
    up = sosfiltfilt(butter(2, 3.0, fs=fs, output="sos"), up, axis=0)
    tt = np.arange(len(up)) / fs
    resid = up - np.stack([np.polyval(np.polyfit(tt, up[:, i], 1), tt) for i in range(3)], axis=1)
    sway = math.degrees(float(np.sqrt(np.mean(np.sum(resid**2, axis=1)))))
    w = sosfiltfilt(butter(2, [4.0, 15.0], btype="band", fs=fs, output="sos"), rate_b[a:z], axis=0)
    tremor = math.degrees(float(np.sqrt(np.mean(np.sum(w**2, axis=1)))))
    return {"sway_deg": sway, "tremor_dps": tremor}


def _quiet_spans(truth: dict[str, list[dict[str, Any]]], T: float) -> list[tuple[float, float]]:
    """Stretches with no rep or hold in them (where a marked link loss may fall)."""
    busy = sorted((e["start_s"] - 2, e["end_s"] + 3) for k in ("reps", "holds", "partials") for e in truth[k])
    spans, t = [], 10.0
    for a, z in busy:
        if a > t:
            spans.append((t, a))
        t = max(t, z)
    if t < T - 10:
        spans.append((t, T - 10))
    return spans
