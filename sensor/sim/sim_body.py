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
from sensor.sim.sim_sensor import RATES_HZ as RATES_HZ
from sensor.sim.sim_sensor import SimOptions as SimOptions
from sensor.sim.technique import Technique


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
