"""The simulated wearer's body: pelvis orientation and position over time, built segment by
segment (postures, min-jerk movements, sway, tremor, fatigue sag, fidgets), with the truth of
every rep and hold. ``sensor.sim.sim_routine`` says what the person does; ``sensor.sim.sim_sensor``
measures it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from sensor.signal import body
from sensor.sim.poses import Pose, path, shift_range, step_range
from sensor.sim.sim_sensor import RATES_HZ as RATES_HZ
from sensor.sim.sim_sensor import SimOptions as SimOptions


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


class Body:
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
        # The floor model (sessions of the class catalogue): the person's poses, where the
        # body is among them, and its moves between posture frames (a belt slips in a roll).
        self.floor: dict[str, Pose] | None = None
        self.pose_name = "standing"
        self.stand_height = 1.0
        self.offset = np.zeros(3)  # a held body-frame rotation (a roll or twist of the pelvis), rad
        self.moves: list[tuple[float, float, str, str]] = []  # (start, end, from, to) between posture frames
        self.motion: dict[str, np.ndarray] | None = None  # the true pose at 50 Hz, filled in by the sensor model

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

    def base_for(self, posture: str, tilt_deg: float | None = None) -> Rotation:
        """World-from-body rotation of a resting posture at the current heading; upright
        postures rolled back by ``tilt_deg`` (default: none standing, 25° sitting)."""
        h = np.array([math.cos(self.heading), math.sin(self.heading), 0.0])
        zw = np.array([0.0, 0.0, 1.0])
        if posture in ("standing", "sitting"):
            # body y -> world up, body z (posterior) -> behind the person (-h)
            B = np.stack([np.cross([0, 1, 0], [0, 0, 1]), [0, 1, 0], [0, 0, 1]]).T
            W = np.stack([np.cross(zw, -h), zw, -h]).T
            r = Rotation.from_matrix(W @ B.T)
            tilt = tilt_deg if tilt_deg is not None else 25.0 if posture == "sitting" else 0.0  # sitting rolls the pelvis back
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
    def _held(self, w: np.ndarray) -> np.ndarray:
        """Wobble plus the pelvis's held roll or twist (none in the first catalogue)."""
        return w + self.offset if self.offset.any() else w

    def still(self, dur: float, sway_deg: float = 0.15, tremor_dps: float = 0.3) -> None:
        m = self._samples(dur)
        self._emit(self.cur_base, np.full(m, self.cur_elev), self._held(self._sway(m, sway_deg, tremor_dps)), np.tile(self.cur_pos, (m, 1)))

    def walk(self, dur: float) -> None:
        m = self._samples(dur)
        t = np.arange(m) / self.fs
        f = self.rng.uniform(0.85, 1.05)  # stride frequency; steps at 2f
        ramp = np.clip(np.minimum(t, t[-1] - t) / 0.8, 0, 1)  # start and stop smoothly
        if self.floor is not None:  # the floor model: no kink where the ramp ends (a spike in the second derivative)
            ramp = ramp * ramp * (3 - 2 * ramp)
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
        self.cur_pos[2] = self.stand_height

    def turn(self, angle_rad: float, dur: float) -> None:
        m = self._samples(dur)
        s = _min_jerk(m)
        r0 = self.cur_base
        rots = Rotation.from_rotvec(np.outer(s * angle_rad, [0, 0, 1.0])) * r0
        self._emit(rots, np.full(m, self.cur_elev), self._held(self._sway(m, 0.2, 0.3)), np.tile(self.cur_pos, (m, 1)))
        self.cur_base = rots[-1]
        self.heading += angle_rad

    def change_posture(
        self,
        posture: str,
        dur: float,
        height: float,
        *,
        tilt_deg: float | None = None,
        pitch_deg: float = 0.0,
        shift_m: float = 0.0,
        offset_deg: tuple[float, float, float] | None = None,
    ) -> None:
        """Move the whole body to another resting posture (lie down, roll, get up): to
        ``height``, pitched ``pitch_deg`` (lying) or rolled back ``tilt_deg`` (upright),
        travelling ``shift_m`` along the long axis's heading, ending with the held roll or
        twist ``offset_deg`` (none by default)."""
        m = self._samples(dur)
        s = _min_jerk(m)
        target = self.base_for(posture, tilt_deg)
        # Rolling supine<->prone goes through a side, the way people roll.
        keys = [self.cur_base, target]
        if {self.posture, posture} == {"supine", "prone"}:
            keys = [self.cur_base, self.base_for("side_left" if self.rng.random() < 0.5 else "side_right"), target]
        slerp = Slerp(np.linspace(0, 1, len(keys)), Rotation.concatenate(keys))
        rots = slerp(s)
        e1 = math.radians(pitch_deg)
        elev = self.cur_elev * (1 - s) + e1 * s
        pos = self.cur_pos + np.outer(s, [0, 0, height - self.cur_pos[2]])
        if shift_m:
            pos += np.outer(s, [shift_m * math.cos(self.heading), shift_m * math.sin(self.heading), 0.0])
        w = self._sway(m, 0.3, 1.0)
        o1 = np.radians(offset_deg) if offset_deg is not None else np.zeros(3)
        if self.offset.any() or o1.any():  # a held roll or twist, taken or let go on the way
            w += self.offset + np.outer(s, o1 - self.offset)
            self.offset = o1
        if self.posture != posture:
            self.moves.append((self.t, self.t + m / self.fs, self.posture, posture))
        self._emit(rots, elev, w, pos)
        self.cur_base, self.cur_elev, self.posture = target, e1, posture
        self.cur_pos = pos[-1].copy()

    def to_pose(self, name: str, dur: float, shift_m: float = 0.0) -> None:
        """Move to one of the person's poses (``sensor.sim.poses``)."""
        assert self.floor is not None
        p = self.floor[name]
        if p.lying:
            self.change_posture(p.frame, dur, p.height_m, pitch_deg=p.pitch_deg, shift_m=shift_m)
        else:
            self.change_posture(p.frame, dur, p.height_m, tilt_deg=p.pitch_deg, shift_m=shift_m)
        self.pose_name = name

    def go(self, target: str, tempo: float = 1.0) -> None:
        """Move from the current pose to ``target`` the way people do (``sensor.sim.poses``),
        pausing briefly at each pose on the way (a breath on all fours, a moment kneeling)."""
        steps = path(self.pose_name, target)
        for i, (x, y) in enumerate(zip(steps, steps[1:])):
            sh = shift_range(x, y)
            self.to_pose(y, float(self.rng.uniform(*step_range(x, y))) * tempo, shift_m=float(self.rng.uniform(*sh)) if sh else 0.0)
            if i < len(steps) - 2:
                self.still(float(self.rng.uniform(0.3, 1.5)), sway_deg=0.3, tremor_dps=1.0)

    def move_elev(
        self,
        target_deg: float,
        dur: float,
        dz: float = 0.0,
        sway: float = 0.2,
        tremor: float = 0.5,
        *,
        offset_deg: tuple[float, float, float] | None = None,
        shift_m: float = 0.0,
        pivot_m: tuple[float, float, float] | None = None,
    ) -> None:
        """Pitch the pelvis to ``target_deg`` over ``dur``, rising ``dz``; ``offset_deg``: the
        held body-frame rotation (x, y roll, z twist) to reach on the way; ``pivot_m``: the
        sensor's place (body frame) from the point the pelvis turns about (the hip joints on
        all fours), so that the turn also moves it."""
        m = self._samples(dur)
        # People do not move in textbook min-jerk curves: skew each movement (faster start
        # or faster finish) so the detectors' timing model is tested, not assumed.
        s = _min_jerk(m) ** self.rng.uniform(0.75, 1.35)
        e0, e1 = self.cur_elev, math.radians(target_deg)
        pos = self.cur_pos + np.outer(s, [0, 0, dz])
        if shift_m:
            pos += np.outer(s, [shift_m * math.cos(self.heading), shift_m * math.sin(self.heading), 0.0])
        w = self._sway(m, sway, tremor)
        if offset_deg is not None:
            o1 = np.radians(offset_deg)
            w += self.offset + np.outer(s, o1 - self.offset)
            self.offset = o1
        else:
            w = self._held(w)
        elev = e0 + (e1 - e0) * s
        if pivot_m is not None:
            pos += self._lever(elev, pivot_m) - self._lever(np.array([e0]), pivot_m)
        self._emit(self.cur_base, elev, w, pos)
        self.cur_elev = e1
        self.cur_pos = pos[-1].copy()

    def _lever(self, elev: np.ndarray, r: tuple[float, float, float]) -> np.ndarray:
        """World position of body-frame offset ``r`` at pitches ``elev`` (the sensor model's
        orientation: the base, then the pitch about the horizontal left-right axis)."""
        up = self.cur_base.inv().apply([0.0, 0.0, 1.0])
        k = np.array([up[2], 0.0, -up[0]])
        k /= max(float(np.linalg.norm(k)), 1e-9)
        out: np.ndarray = (self.cur_base * Rotation.from_rotvec(np.outer(elev, k))).apply(r)
        return out

    def oscillate(self, dur: float, amp_deg: float, freq_hz: float, sway_deg: float = 0.3) -> None:
        """Rock the pelvis's pitch about where it is (breathing in child's pose, rocking in
        a knee hug), faded in and out."""
        m = self._samples(dur)
        t = np.arange(m) / self.fs
        env = np.clip(np.minimum(t, t[-1] - t) / 1.0, 0, 1)
        elev = self.cur_elev + math.radians(amp_deg) * np.sin(2 * math.pi * freq_hz * t) * env
        self._emit(self.cur_base, elev, self._held(self._sway(m, sway_deg, 0.5)), np.tile(self.cur_pos, (m, 1)))

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
        self._emit(self.cur_base, elev, self._held(w + tr), np.tile(self.cur_pos, (m, 1)))
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

    def prone_pose(self, deg: float, dur: float, sway: float = 0.3) -> None:
        """Daily life: settle into another prone pose (propped on the elbows, or back down)."""
        self.move_elev(deg, dur, 0.0, sway=sway, tremor=0.5)
