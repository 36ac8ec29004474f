"""The simulated wearer's sensor: what a commodity IMU makes of the body's true motion —
mounting rotation and tilt, bias, noise, 16-bit quantization, the device's rate and clock,
timestamp jitter and radio dropouts — and the stability truth of each hold."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from scipy.spatial.transform import Rotation

from sensor.events import Gap
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.signal import body
from sensor.signal.body import LEVER_M
from sensor.sim.imu_errors import HOBBY_ACC_LSB, HOBBY_GYRO_LSB, imu_errors
from sensor.sim.poses import LYING
from sensor.sim.sim_clock import PHONE_RATES_HZ, device_instants, jittered, phone_clock

if TYPE_CHECKING:
    from sensor.sim.classes import SessionClasses

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
    # The class catalogue (sensor.sim.classes): () the first catalogue, bit for bit as it was
    # (recordings/ and the demo are made with it); None: classes drawn from the catalogue;
    # names: these classes (and, with draw_more, others drawn around them).
    classes: tuple[str, ...] | None = ()
    draw_more: bool = False
    exclude: tuple[str, ...] = ()  # classes never drawn (held out of tuning)
    sensor: dict[str, Any] | None = None  # sensor classes' parameters to force (tests): slip_deg, slip_axis, ...


class Motion(Protocol):
    """The body's true motion on the model's grid (``sim_body.Body``), per segment."""

    fs: float
    base: list[np.ndarray]
    elev: list[np.ndarray]
    wob: list[np.ndarray]
    pos: list[np.ndarray]
    truth: dict[str, list[dict[str, Any]]]
    _true_up_device: np.ndarray | None
    motion: dict[str, np.ndarray] | None
    moves: list[tuple[float, float, str, str]]


def sense(
    b: Motion, rng: np.random.Generator, opt: SimOptions, rate: float, cls: SessionClasses | None = None
) -> tuple[Samples, list[Gap], dict[str, Any]]:
    """Samples, marked gaps and the sensor's truth. ``cls``: a session of the class catalogue
    (lever arms of the mounting, and the sensor classes it has)."""
    fs = b.fs
    base = Rotation.from_rotvec(np.concatenate(b.base))
    elev = np.concatenate(b.elev)
    wob = np.concatenate(b.wob)
    pos = np.concatenate(b.pos)
    up_base = base.inv().apply([0.0, 0.0, 1.0])
    k = np.stack([up_base[:, 2], np.zeros(len(elev)), -up_base[:, 0]], axis=1)
    k /= np.maximum(np.linalg.norm(k, axis=1, keepdims=True), 1e-9)
    R = base * Rotation.from_rotvec(k * elev[:, None]) * Rotation.from_rotvec(wob)
    classes = cls.names if cls is not None and cls.active else set()
    b.motion = _motion(R, pos, fs)

    # Angular rate in the body frame, from consecutive orientations (midpoint rule).
    dR = (R[:-1].inv() * R[1:]).as_rotvec() * fs
    t_mid = (np.arange(len(dR)) + 0.5) / fs
    if cls is not None and cls.active and any(LEVER_M[opt.mount or "back"]):
        pos = pos + R.apply(LEVER_M[opt.mount or "back"])  # the sensor's own place on the pelvis
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

    # Device sample instants: a steady clock, with radio dropouts cut out (or a phone's).
    T = (len(elev) - 1) / fs
    extra: dict[str, Any] = {}
    if "phone_rate" in classes:
        rate = float((opt.sensor or {}).get("phone_rate_hz") or rng.choice(PHONE_RATES_HZ))
        t_true, t_phone, extra["phone_clock"] = phone_clock(rng, T, rate, (opt.sensor or {}).get("phone_stamping"))
        gaps: list[Gap] = []
    else:
        t_true, gaps = device_instants(rng, T, rate, dropouts=opt.dropouts, link_losses=opt.link_losses, quiet=_quiet_spans(b.truth, T))

    f_s = np.stack([np.interp(t_true, np.arange(len(f_b)) / fs, f_b[:, i]) for i in range(3)], axis=1)
    w_s = np.stack([np.interp(t_true, t_mid, dR[:, i]) for i in range(3)], axis=1)
    M: Rotation = Q
    if "belt_slip" in classes and (slip := _slip(b, rng, opt, Q, t_true)) is not None:
        M, slip_rate, extra["slip"] = slip
        f_d = M.inv().apply(f_s)
        w_d = M.inv().apply(w_s) + slip_rate
    else:
        f_d = Q.inv().apply(f_s)
        w_d = Q.inv().apply(w_s)

    n = len(t_true)
    acc_lsb, gyro_lsb = ACC_LSB, GYRO_LSB
    if "uncalibrated_imu" in classes:
        f_d, w_d, extra["imu"] = imu_errors(rng, t_true, f_d, w_d, opt.sensor or {})
        acc_bias, gyro_bias = np.array(extra["imu"]["acc_bias"]), np.radians(extra["imu"]["gyro_bias_dps"])
        acc_lsb, gyro_lsb = HOBBY_ACC_LSB, HOBBY_GYRO_LSB
    else:
        acc_bias_max = opt.acc_bias if opt.acc_bias is not None else 0.2
        gyro_bias_max = math.radians(opt.gyro_bias_dps if opt.gyro_bias_dps is not None else 1.0)
        acc_bias = rng.uniform(-acc_bias_max, acc_bias_max, 3)
        gyro_bias = rng.uniform(-gyro_bias_max, gyro_bias_max, 3)
        f_d += acc_bias + rng.normal(0, 0.02, (n, 3))
        w_d += gyro_bias + rng.normal(0, math.radians(0.15), (n, 3))
    acc_q = np.clip(np.round(f_d / acc_lsb), -32768, 32767) * acc_lsb
    gyr_q = np.clip(np.round(w_d / gyro_lsb), -32768, 32767) * gyro_lsb

    for h in b.truth["holds"]:
        h.update(_stability_truth(R, dR, fs, h["start_s"], h["end_s"]))

    if "phone_rate" in classes:
        t_rep = t_phone
    else:
        t_rep = jittered(rng, t_true, rate) if opt.jitter else t_true.copy()
    t_rep = np.round(t_rep / TIME_QUANTUM_S) * TIME_QUANTUM_S
    samples = Samples(t_rep, np.hstack([acc_q, gyr_q]).astype(np.float32))
    # The true gravity direction in the device frame at each sample (for filter benchmarks).
    up_body = np.stack([np.interp(t_true, np.arange(len(f_b)) / fs, c) for c in R.inv().apply([0.0, 0.0, 1.0]).T], axis=1)
    b._true_up_device = M.inv().apply(up_body).astype(np.float32)
    sensor_truth = {
        "mount_rotation_deg": math.degrees(psi) % 360,
        "mount_tilt_deg": math.degrees(tilt),
        "acc_bias": acc_bias.tolist(),
        "gyro_bias_dps": np.degrees(gyro_bias).tolist(),
        "rate_hz": rate,
        **extra,
    }
    return samples, gaps, sensor_truth


SLIP_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


def _slip(
    b: Motion, rng: np.random.Generator, opt: SimOptions, Q: Rotation, t: np.ndarray
) -> tuple[Rotation, np.ndarray, dict[str, Any]] | None:
    """``belt_slip``: the sensor turns 5-15° in its belt while the wearer rolls over (the
    belt drags on the mat), in 0.2-0.8 s in the middle of a roll, and stays turned: about
    the belt's line (tipping, body x), around the waist (body y) or about the device's face
    (spinning in a pouch, body z for the back). Returns the device-to-body rotation at
    ``t``, the slip's own angular rate in the device frame (rad/s) and its truth."""
    force = opt.sensor or {}
    rolls = [(a, z) for a, z, f0, f1 in b.moves if f0 in LYING and f1 in LYING]
    spans = rolls or [(a, z) for a, z, _, _ in b.moves]
    if not spans:
        return None
    a, z = spans[int(rng.integers(len(spans)))]
    dur = min(z - a, float(rng.uniform(0.2, 0.8)))
    t0 = a + float(rng.uniform(0, z - a - dur))
    angle = float(force.get("slip_deg", rng.choice([-1, 1]) * rng.uniform(5, 15)))
    name = str(force.get("slip_axis", rng.choice(list(SLIP_AXES))))
    axis = np.array(SLIP_AXES[name])
    u = np.clip((t - t0) / dur, 0.0, 1.0)
    phi = math.radians(angle) * u**3 * (10 - 15 * u + 6 * u * u)
    dphi = math.radians(angle) * 30 * u * u * (1 - u) ** 2 / dur
    M = Rotation.from_rotvec(np.outer(phi, axis)) * Q
    after = Rotation.from_rotvec(math.radians(angle) * axis) * Q
    truth = {
        "start_s": t0,
        "end_s": t0 + dur,
        "angle_deg": angle,
        "axis_body": name,
        "device_to_body_before": Q.as_rotvec().tolist(),
        "device_to_body_after": after.as_rotvec().tolist(),
    }
    return M, np.outer(dphi, Q.inv().apply(axis)), truth


def _motion(R: Rotation, pos: np.ndarray, fs: float) -> dict[str, np.ndarray]:
    """The true pose at 50 Hz, for tests and plots: the back of the pelvis's position,
    the long (head) and lateral (right) axes' elevation above the horizontal, and world up
    in the body frame."""
    step = max(1, int(round(fs / 50)))
    r = R[::step]
    y, x = r.apply([0.0, 1.0, 0.0]), r.apply([1.0, 0.0, 0.0])
    return {
        "t": np.arange(len(r)) * step / fs,
        "pos": pos[::step],
        "long_axis_deg": np.degrees(np.arcsin(np.clip(y[:, 2], -1, 1))),
        "lateral_axis_deg": np.degrees(np.arcsin(np.clip(x[:, 2], -1, 1))),
        "up_body": r.inv().apply([0.0, 0.0, 1.0]),
    }


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
