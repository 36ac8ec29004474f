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

from sensor.events import Gap
from sensor.samples import Samples
from sensor.sim.class_session import class_routine, stretch_session
from sensor.sim.classes import choose, expand
from sensor.sim.poses import draw_floor
from sensor.sim.sim_body import Body
from sensor.sim.sim_sensor import ACC_LSB, GYRO_LSB, TIME_QUANTUM_S, sense
from sensor.sim.sim_sensor import RATES_HZ as RATES_HZ
from sensor.sim.sim_sensor import SimOptions as SimOptions
from sensor.sim.technique import MOUNT_CHOICES, MOUNT_WEIGHTS, draw_mount, draw_technique
from sensor.stream import Header
from sensor.vocab import MOUNTS

SIM_RATE_HZ = 500.0  # the physical model's grid; samples are read off it at the device times


@dataclass
class SimulatedSession:
    samples: Samples
    gaps: list[Gap]
    truth: dict[str, Any]
    header: Header
    true_up_device: np.ndarray | None = None  # (n, 3) world "up" seen by the device, noise-free
    motion: dict[str, np.ndarray] | None = None  # the true pose at 50 Hz (sim_sensor._motion)

    def samples_as_read(self) -> Samples:
        """The samples as HoldTrack's readers give them: a phone's export (``phone_rate``)
        has ties and steps back in its timestamps, which the file readers re-space
        (``validate_samples``); a recording holds them so. Any other session as simulated."""
        if "phone_rate" not in self.truth["classes"]:
            return self.samples
        from sensor.files.validate import validate_samples

        return validate_samples(self.samples.time_s, self.samples.imu, f"simulated phone, seed {self.truth['seed']}")


def _sets(reps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in reps:
        if out and out[-1]["exercise"] == r["exercise"] and out[-1]["set"] == r["set"]:
            out[-1]["reps"] += 1
            out[-1]["end_s"] = r["end_s"]
            out[-1]["classes"] = sorted(set(out[-1]["classes"]) | set(r["classes"]))
        else:
            out.append(
                {
                    "exercise": r["exercise"],
                    "set": r["set"],
                    "reps": 1,
                    "start_s": r["start_s"],
                    "end_s": r["end_s"],
                    "variant": r.get("variant", ""),
                    "classes": list(r["classes"]),
                }
            )
    return out


def _label(t: dict[str, list[dict[str, Any]]], session: list[str]) -> list[str]:
    """Every rep, hold and activity with its classes (its own and the session's); the
    first catalogue's planks are lifted from the floor and its knee side planks named."""
    for h in t["holds"]:
        own = h.setdefault("classes", [])
        if not own and h["exercise"] == "plank":
            own.append("plank_from_floor")
        if h["exercise"] == "side_plank" and h.get("knees") and "knee_side_plank" not in own:
            own.append("knee_side_plank")
    for a in t["activities"]:
        a.setdefault("classes", ["prone_phone"] if a["kind"] in ("phone", "propped") else [])
    present = set(session)
    for e in (*t["reps"], *t["holds"]):
        e["classes"] = sorted(set(e.get("classes", [])) | set(session))
        present.update(e["classes"])
    for a in t["activities"]:
        present.update(a["classes"])
    return sorted(present)


def simulate_session(seed: int, options: SimOptions | None = None, **overrides: Any) -> SimulatedSession:
    """Simulate one whole session, seeded; returns samples and truth. ``options.classes``
    chooses between the first catalogue (``()``, the default) and the class catalogue."""
    opt = options or SimOptions()
    for k, v in overrides.items():
        setattr(opt, k, v)
    rng = np.random.default_rng(seed)
    rate = opt.rate_hz if opt.rate_hz is not None else float(rng.choice(RATES_HZ))
    catalogue = opt.classes != ()
    given = expand(opt.classes or ())
    exclude = frozenset(expand(opt.exclude))
    mount = opt.mount
    if mount is None and catalogue:
        mount = next((c.removeprefix("mount_") for c in given if c.startswith("mount_") and c != "mount_mismatch"), None)
        if mount is None:  # drawn among the mountings not excluded
            allowed = [(m, p) for m, p in zip(MOUNT_CHOICES, MOUNT_WEIGHTS) if f"mount_{m}" not in exclude]
            if not allowed:
                raise ValueError("every mounting is excluded")
            ps = np.array([p for _, p in allowed])
            mount = str(rng.choice([m for m, _ in allowed], p=ps / ps.sum()))
    # Drawn choices go into a copy: the caller's options stay as given.
    opt = replace(
        opt,
        mount=mount if mount is not None else draw_mount(rng),
        daily_life=opt.daily_life if opt.daily_life is not None or catalogue else bool(rng.random() < 0.2),
    )
    w = draw_technique(rng)
    if opt.technique:
        w = replace(w, **opt.technique)
    b = Body(rng, SIM_RATE_HZ)
    b._stand_tilt = standing_tilt = float(rng.uniform(-5, 5))  # the person's own pelvic tilt standing
    b.heading = rng.uniform(-math.pi, math.pi)
    b.cur_base = b.base_for("standing")
    cls = None
    if catalogue:
        cls = choose(
            rng,
            given,
            exercises=opt.exercises,
            mount=opt.mount or "back",
            daily_life=opt.daily_life,
            draw_more=opt.draw_more or opt.classes is None,
            exclude=exclude,
        )
        b.floor = draw_floor(rng)
        b.stand_height = b.cur_pos[2] = b.floor["standing"].height_m
        (stretch_session if cls.stretch_session else class_routine)(b, w, opt, cls)
    else:
        from sensor.sim.sim_routine import daily_life, routine_session

        (daily_life if opt.daily_life else routine_session)(b, w, opt)
    samples, gaps, sensor_truth = sense(b, rng, opt, rate, cls)
    worn = opt.mount or "back"
    declared = worn
    if cls is not None and "mount_mismatch" in cls:
        declared = str(rng.choice([m for m in MOUNTS if m != worn]))
    session = [f"mount_{worn}"] + ([] if declared == worn else ["mount_mismatch"])
    session += [c for c in ("uncalibrated_imu", "phone_rate") if cls is not None and c in cls]
    session += ["belt_slip"] if "slip" in sensor_truth else []
    t = b.truth
    classes = _label(t, session)
    stretch = cls is not None and cls.stretch_session
    truth = {
        "seed": seed,
        "calibration_stand": opt.standing_start,
        "reps": t["reps"],
        "holds": [h if opt.standing_start or h["exercise"] != "side_plank" else {**h, "side": None} for h in t["holds"]],
        "sets": _sets(t["reps"]),
        "partials": t["partials"],
        "fidgets": t["fidgets"],
        "activities": t["activities"],  # daily life and stretches: what the wearer was doing when
        "gaps": [{"start_s": g.start_s, "end_s": g.end_s} for g in gaps],
        "wearer": {**w.truth(), "standing_tilt_deg": standing_tilt},
        "mount": worn,
        "kind": "daily_life" if opt.daily_life or stretch else "routine",
        "sensor": sensor_truth,
        "duration_s": float(samples.time_s[-1] - samples.time_s[0]),
        "classes": classes,
    }
    if declared != worn:
        truth["mount_declared"] = declared
    if b.floor is not None:
        truth["floor"] = {k: vars(p) for k, p in b.floor.items()}
    header = Header(
        device={"profile": "simulated", "name": f"Simulated wearer #{seed}", "address": f"sim:{seed}"},
        sample_rate_hz=sensor_truth["rate_hz"],
        mount=declared,
        source="simulated",
        extra={"seed": seed, "lsb": [ACC_LSB] * 3 + [GYRO_LSB] * 3, "time_quantum_s": TIME_QUANTUM_S},
    )
    return SimulatedSession(samples, gaps, truth, header, b._true_up_device, b.motion)
