"""The simulated wearer: HoldTrack's synthetic board.

A person, seeded, does a whole session of the routine: pelvis orientation and position
over time are built from postures, min-jerk movements, sway, tremor, fatigue sag and
fidgets; specific force and angular rate follow from them physically (second derivative
of position plus gravity, rotated into the device frame; finite-difference angular
velocity), then pass through a sensor model (mounting rotation and tilt, bias, noise,
16-bit quantization, timestamp jitter, radio dropouts). The truth — every rep and hold
with its timing and stability — is written next to the samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from sensor import body
from sensor.events import Gap
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.stream import Header
from sensor.technique import Technique, draw_mount, draw_technique

SIM_RATE_HZ = 500.0  # the physical model's grid; samples are read off it at the device times
ACC_LSB = 16 * STANDARD_GRAVITY / 32768  # ±16 g over int16, as WitMotion
GYRO_LSB = math.radians(2000) / 32768  # ±2000 °/s over int16
TIME_QUANTUM_S = 1e-6  # device clocks tick in µs


def _min_jerk(n: int) -> np.ndarray:
    s = np.linspace(0.0, 1.0, n)
    return s**3 * (10 - 15 * s + 6 * s * s)


def _band_noise(rng: np.random.Generator, n: int, fs: float, lo: float | None, hi: float) -> np.ndarray:
    """Unit-RMS noise band-limited to [lo, hi] Hz (zero-phase FFT mask, no edge ringing)."""
    if n < 4:
        return np.zeros(n)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / fs)
    mask = (f <= hi) & ((f >= lo) if lo else (f > 0))
    spec[~mask] = 0
    x = np.fft.irfft(spec, n)
    rms = np.sqrt(np.mean(x * x))
    return x / rms if rms > 0 else x


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
    mount: str | None = "back"  # where the device is worn (sensor.body.MOUNT_FACE); None: drawn
    daily_life: bool | None = False  # a session of daily life, no exercises; None: drawn (1 in 5)
    technique: dict[str, Any] | None = None  # fields of sensor.technique.Technique to force


@dataclass
class SimulatedSession:
    samples: Samples
    gaps: list[Gap]
    truth: dict[str, Any]
    header: Header
    true_up_device: np.ndarray | None = None  # (n, 3) world "up" seen by the device, noise-free


class _Builder:
    """Appends pose segments on the simulation grid and collects the truth."""

    def __init__(self, rng: np.random.Generator, fs: float) -> None:
        self.rng = rng
        self.fs = fs
        self.base: list[np.ndarray] = []  # rotation vectors of the posture base, per segment
        self.elev: list[np.ndarray] = []
        self.wob: list[np.ndarray] = []  # small body-frame rotation vectors (sway, tremor, fidgets)
        self.pos: list[np.ndarray] = []
        self.n = 0
        self.cur_base = Rotation.identity()
        self.cur_elev = 0.0
        self.cur_pos = np.array([0.0, 0.0, 1.0])
        self.heading = 0.0
        self.posture = "standing"
        self._true_up_device: np.ndarray | None = None  # filled in by the sensor model
        self.truth: dict[str, list[dict[str, Any]]] = {"reps": [], "holds": [], "partials": [], "fidgets": [], "sets": [], "activities": []}

    @property
    def t(self) -> float:
        return self.n / self.fs

    def _emit(self, base: Rotation, elev: np.ndarray, wob: np.ndarray, pos: np.ndarray) -> None:
        m = len(elev)
        rv = base.as_rotvec()
        self.base.append(np.atleast_2d(rv) if rv.ndim == 2 else np.broadcast_to(rv, (m, 3)))
        self.elev.append(elev)
        self.wob.append(wob)
        self.pos.append(pos)
        self.n += m

    def _samples(self, dur: float) -> int:
        return max(1, int(round(dur * self.fs)))

    def _sway(self, m: int, sway_deg: float, tremor_dps: float) -> np.ndarray:
        """Slow sway (< 1 Hz) on the two tilt axes plus tremor (5–12 Hz) on all three."""
        w = np.zeros((m, 3))
        if m < 8:
            return w
        # Fade in and out so that segments join without a jump in orientation.
        ramp = np.clip(np.minimum(np.arange(m), m - 1 - np.arange(m)) / (0.3 * self.fs), 0, 1)
        env = 0.5 - 0.5 * np.cos(np.pi * ramp)
        if sway_deg > 0:
            for ax in (0, 2):
                w[:, ax] = _band_noise(self.rng, m, self.fs, None, 0.8) * math.radians(sway_deg) / math.sqrt(2)
        if tremor_dps > 0:
            for ax in range(3):
                x = _band_noise(self.rng, m, self.fs, 5.0, 12.0)
                rate = np.gradient(x) * self.fs
                x *= math.radians(tremor_dps) / math.sqrt(3) / max(np.sqrt(np.mean(rate**2)), 1e-12)
                w[:, ax] += x
        return w * env[:, None]

    def base_for(self, posture: str) -> Rotation:
        """World-from-body rotation of a resting posture at the current heading."""
        h = np.array([math.cos(self.heading), math.sin(self.heading), 0.0])
        zw = np.array([0.0, 0.0, 1.0])
        if posture in ("standing", "sitting"):
            # body y -> world up, body z (posterior) -> behind the person (-h)
            B = np.stack([np.cross([0, 1, 0], [0, 0, 1]), [0, 1, 0], [0, 0, 1]]).T
            W = np.stack([np.cross(zw, -h), zw, -h]).T
            r = Rotation.from_matrix(W @ B.T)
            tilt = 25.0 if posture == "sitting" else 0.0  # sitting rolls the pelvis back
            return r * Rotation.from_rotvec(np.radians(tilt + self._stand_tilt) * np.array([1.0, 0, 0]))
        up = {
            "supine": body.UP_SUPINE,
            "prone": body.UP_PRONE,
            "side_left": body.UP_SIDE_LEFT,
            "side_right": body.UP_SIDE_RIGHT,
        }[posture]
        y = np.array([0.0, 1.0, 0.0])
        B = np.stack([y, up, np.cross(y, up)]).T
        W = np.stack([h, zw, np.cross(h, zw)]).T
        return Rotation.from_matrix(W @ B.T)

    _stand_tilt = 0.0

    # -- segments -------------------------------------------------------------------
    def still(self, dur: float, sway_deg: float = 0.15, tremor_dps: float = 0.3) -> None:
        m = self._samples(dur)
        self._emit(self.cur_base, np.full(m, self.cur_elev), self._sway(m, sway_deg, tremor_dps), np.tile(self.cur_pos, (m, 1)))

    def walk(self, dur: float) -> None:
        m = self._samples(dur)
        t = np.arange(m) / self.fs
        f = self.rng.uniform(0.85, 1.05)  # stride frequency; steps at 2f
        ramp = np.clip(np.minimum(t, t[-1] - t) / 0.8, 0, 1)  # start and stop smoothly
        w = np.zeros((m, 3))
        w[:, 1] = math.radians(4) * np.sin(2 * math.pi * f * t) * ramp  # pelvic rotation
        w[:, 2] = math.radians(3) * np.sin(2 * math.pi * f * t + 0.5) * ramp  # obliquity
        w[:, 0] = math.radians(2) * np.sin(4 * math.pi * f * t) * ramp  # tilt
        h = np.array([math.cos(self.heading), math.sin(self.heading), 0.0])
        speed = 1.1 * np.cumsum(ramp) / self.fs
        pos = self.cur_pos + speed[:, None] * h
        pos[:, 2] += 0.02 * np.sin(4 * math.pi * f * t) * ramp
        self._emit(self.cur_base, np.full(m, self.cur_elev), w, pos)
        self.cur_pos = pos[-1].copy()
        self.cur_pos[2] = 1.0

    def turn(self, angle_rad: float, dur: float) -> None:
        m = self._samples(dur)
        s = _min_jerk(m)
        r0 = self.cur_base
        rots = Rotation.from_rotvec(np.outer(s * angle_rad, [0, 0, 1.0])) * r0
        self._emit(rots, np.full(m, self.cur_elev), self._sway(m, 0.2, 0.3), np.tile(self.cur_pos, (m, 1)))
        self.cur_base = rots[-1]
        self.heading += angle_rad

    def change_posture(self, posture: str, dur: float, height: float) -> None:
        """Move the whole body to another resting posture (lie down, roll, get up)."""
        m = self._samples(dur)
        s = _min_jerk(m)
        target = self.base_for(posture)
        # Rolling supine<->prone goes through a side, the way people roll.
        keys = [self.cur_base, target]
        if {self.posture, posture} == {"supine", "prone"}:
            keys = [self.cur_base, self.base_for("side_left" if self.rng.random() < 0.5 else "side_right"), target]
        slerp = Slerp(np.linspace(0, 1, len(keys)), Rotation.concatenate(keys))
        rots = slerp(s)
        elev = self.cur_elev * (1 - s)
        pos = self.cur_pos + np.outer(s, [0, 0, height - self.cur_pos[2]])
        self._emit(rots, elev, self._sway(m, 0.3, 1.0), pos)
        self.cur_base, self.cur_elev, self.posture = target, 0.0, posture
        self.cur_pos = pos[-1].copy()

    def move_elev(self, target_deg: float, dur: float, dz: float = 0.0, sway: float = 0.2, tremor: float = 0.5) -> None:
        m = self._samples(dur)
        # People do not move in textbook min-jerk curves: skew each movement (faster start
        # or faster finish) so the detectors' timing model is tested, not assumed.
        s = _min_jerk(m) ** self.rng.uniform(0.75, 1.35)
        e0, e1 = self.cur_elev, math.radians(target_deg)
        pos = self.cur_pos + np.outer(s, [0, 0, dz])
        self._emit(self.cur_base, e0 + (e1 - e0) * s, self._sway(m, sway, tremor), pos)
        self.cur_elev = e1
        self.cur_pos = pos[-1].copy()

    def hold(self, dur: float, sway_deg: float, tremor_dps: float, sag_deg: float) -> dict[str, float]:
        """Hold the current elevation with sway, tremor and a fatigue sag toward the floor.

        Returns the true stability figures, measured on the noise-free pose the same way
        the contract defines them.
        """
        m = self._samples(dur)
        s = np.linspace(0, 1, m)
        sag_profile = s**1.5  # fatigue: the sag speeds up toward the end
        elev = self.cur_elev - math.radians(sag_deg) * sag_profile
        w = self._sway(m, sway_deg, 0.0)
        tr = self._sway(m, 0.0, tremor_dps)
        self._emit(self.cur_base, elev, w + tr, np.tile(self.cur_pos, (m, 1)))
        self.cur_elev = float(elev[-1])
        # Sway and tremor truth are measured on the true pose later (see _stability_truth).
        return {"sag_deg": math.degrees(float(elev[0] - elev[-1]))}

    def fidget(self) -> None:
        kind = self.rng.choice(["shift", "itch", "leg"])
        t0 = self.t
        if kind == "shift":
            # Shuffle on the mat: turn about the vertical a little and slide; stays put.
            dur = self.rng.uniform(0.5, 1.2)
            m = self._samples(dur)
            s = _min_jerk(m)
            ang = math.radians(self.rng.uniform(3, 8)) * self.rng.choice([-1, 1])
            rots = Rotation.from_rotvec(np.outer(s * ang, [0, 0, 1.0])) * self.cur_base
            pos = self.cur_pos + np.outer(s, [self.rng.uniform(-0.05, 0.05), self.rng.uniform(-0.05, 0.05), 0])
            roll = np.zeros((m, 3))
            roll[:, 1] = math.radians(self.rng.uniform(1, 3)) * np.sin(np.pi * s)
            self._emit(rots, np.full(m, self.cur_elev), roll, pos)
            self.cur_base = rots[-1]
            self.heading += ang
            self.cur_pos = pos[-1].copy()
        elif kind == "itch":
            # Scratching: quick small oscillation about a random axis, back where it was.
            dur = self.rng.uniform(0.8, 2.0)
            m = self._samples(dur)
            t = np.arange(m) / self.fs
            axis = self.rng.standard_normal(3)
            axis /= np.linalg.norm(axis)
            amp = math.radians(self.rng.uniform(0.5, 1.5))
            env = np.sin(np.pi * t / dur) ** 2
            w = np.outer(amp * env * np.sin(2 * math.pi * self.rng.uniform(2, 4) * t), axis)
            self._emit(self.cur_base, np.full(m, self.cur_elev), w, np.tile(self.cur_pos, (m, 1)))
        else:
            # A leg or arm moves; the pelvis only jolts.
            dur = self.rng.uniform(0.3, 0.8)
            m = self._samples(dur)
            s = np.linspace(0, 1, m)
            axis = self.rng.standard_normal(3)
            axis /= np.linalg.norm(axis)
            w = np.outer(math.radians(self.rng.uniform(0.5, 1.5)) * np.sin(np.pi * s) ** 2, axis)
            self._emit(self.cur_base, np.full(m, self.cur_elev), w, np.tile(self.cur_pos, (m, 1)))
        self.truth["fidgets"].append({"kind": str(kind), "start_s": t0, "end_s": self.t, "posture": self.posture})

    # -- exercises --------------------------------------------------------------------
    def rep(
        self,
        exercise: str,
        amp_deg: float,
        rise: float,
        hold: float,
        lower: float,
        dz: float,
        *,
        partial: bool,
        set_no: int,
        sign: float = 1.0,
        variant: str = "",
    ) -> None:
        """One rep: the pelvis pitches by ``sign * amp_deg`` (bridges: head end down)."""
        t0 = self.t
        e0 = math.degrees(self.cur_elev)
        self.move_elev(e0 + sign * amp_deg, rise, dz, sway=0.2, tremor=1.0)
        t_top = self.t
        self.hold(hold, self.rng.uniform(0.1, 0.5), self.rng.uniform(0.5, 2.0), 0.0)
        t_down = self.t
        self.move_elev(e0, lower, -dz, sway=0.2, tremor=1.0)
        rec = {
            "exercise": exercise,
            "start_s": t0,
            "end_s": self.t,
            "hold_s": t_down - t_top,
            "peak_deg": amp_deg,
            "set": set_no,
            "variant": variant,
        }
        (self.truth["partials"] if partial else self.truth["reps"]).append(rec)

    def hold_exercise(
        self, exercise: str, side: str | None, elev_deg: float, lift_m: float, dur: float, w: Technique, *, knees: bool, variant: str
    ) -> None:
        rng = self.rng
        e0 = math.degrees(self.cur_elev)
        self.move_elev(e0 + elev_deg, rng.uniform(0.8, 1.6) * w.tempo_factor, lift_m, sway=0.3, tremor=2.0)
        start = self.t
        sway = rng.uniform(0.15, 0.8) * w.steadiness
        tremor = rng.uniform(0.8, 8.0) * w.steadiness
        sag = rng.uniform(0.0, min(6.0, 0.3 * elev_deg))
        stab = self.hold(dur, sway, tremor, sag)
        end = self.t
        self.move_elev(e0, rng.uniform(0.8, 1.6) * w.tempo_factor, -lift_m, sway=0.3, tremor=2.0)
        self.truth["holds"].append(
            {
                "exercise": exercise,
                "side": side,
                "start_s": start,
                "end_s": end,
                "duration_s": end - start,
                "knees": knees,
                "variant": variant,
                **stab,
            }
        )

    def prone_pose(self, deg: float, dur: float, sway: float = 0.3) -> None:
        """Daily life: settle into another prone pose (propped on the elbows, or back down)."""
        self.move_elev(deg, dur, 0.0, sway=sway, tremor=0.5)


def _sensor(b: _Builder, rng: np.random.Generator, opt: SimOptions, rate: float) -> tuple[Samples, list[Gap], dict[str, Any]]:
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


def _sets(reps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in reps:
        if out and out[-1]["exercise"] == r["exercise"] and out[-1]["set"] == r["set"]:
            out[-1]["reps"] += 1
            out[-1]["end_s"] = r["end_s"]
        else:
            out.append(
                {
                    "exercise": r["exercise"],
                    "set": r["set"],
                    "reps": 1,
                    "start_s": r["start_s"],
                    "end_s": r["end_s"],
                    "variant": r.get("variant", ""),
                }
            )
    return out


RATES_HZ = (25.0, 50.0, 52.0, 100.0, 104.0, 200.0, 400.0)


def simulate_session(seed: int, options: SimOptions | None = None, **overrides: Any) -> SimulatedSession:
    """Simulate one whole session of the routine, seeded; returns samples and truth."""
    opt = options or SimOptions()
    for k, v in overrides.items():
        setattr(opt, k, v)
    rng = np.random.default_rng(seed)
    rate = opt.rate_hz if opt.rate_hz is not None else float(rng.choice(RATES_HZ))
    # Drawn choices go into a copy: the caller's options stay as given.
    opt = replace(
        opt,
        mount=opt.mount if opt.mount is not None else draw_mount(rng),
        daily_life=opt.daily_life if opt.daily_life is not None else bool(rng.random() < 0.2),
    )
    w = draw_technique(rng)
    if opt.technique:
        w = replace(w, **opt.technique)
    b = _Builder(rng, SIM_RATE_HZ)
    b._stand_tilt = standing_tilt = float(rng.uniform(-5, 5))  # the person's own pelvic tilt standing
    b.heading = rng.uniform(-math.pi, math.pi)
    b.cur_base = b.base_for("standing")
    from sensor.sim_routine import daily_life, routine_session

    (daily_life if opt.daily_life else routine_session)(b, w, opt)
    samples, gaps, sensor_truth = _sensor(b, rng, opt, rate)
    t = b.truth
    truth = {
        "seed": seed,
        "calibration_stand": opt.standing_start,
        "reps": t["reps"],
        "holds": [h if opt.standing_start or h["exercise"] != "side_plank" else {**h, "side": None} for h in t["holds"]],
        "sets": _sets(t["reps"]),
        "partials": t["partials"],
        "fidgets": t["fidgets"],
        "activities": t["activities"],  # daily life: what the wearer was doing when
        "gaps": [{"start_s": g.start_s, "end_s": g.end_s} for g in gaps],
        "wearer": {**w.__dict__, "standing_tilt_deg": standing_tilt},
        "mount": opt.mount,
        "kind": "daily_life" if opt.daily_life else "routine",
        "sensor": sensor_truth,
        "duration_s": float(samples.time_s[-1] - samples.time_s[0]),
    }
    header = Header(
        device={"profile": "simulated", "name": f"Simulated wearer #{seed}", "address": f"sim:{seed}"},
        sample_rate_hz=rate,
        mount=opt.mount or "back",
        source="simulated",
        extra={"seed": seed, "lsb": [ACC_LSB] * 3 + [GYRO_LSB] * 3, "time_quantum_s": TIME_QUANTUM_S},
    )
    return SimulatedSession(samples, gaps, truth, header, b._true_up_device)
