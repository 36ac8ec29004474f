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
from sensor.sim.sim_body import Body
from sensor.sim.sim_sensor import ACC_LSB, GYRO_LSB, TIME_QUANTUM_S, sense
from sensor.sim.sim_sensor import RATES_HZ as RATES_HZ
from sensor.sim.sim_sensor import SimOptions as SimOptions
from sensor.sim.technique import draw_mount, draw_technique
from sensor.stream import Header

SIM_RATE_HZ = 500.0  # the physical model's grid; samples are read off it at the device times


@dataclass
class SimulatedSession:
    samples: Samples
    gaps: list[Gap]
    truth: dict[str, Any]
    header: Header
    true_up_device: np.ndarray | None = None  # (n, 3) world "up" seen by the device, noise-free


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
    b = Body(rng, SIM_RATE_HZ)
    b._stand_tilt = standing_tilt = float(rng.uniform(-5, 5))  # the person's own pelvic tilt standing
    b.heading = rng.uniform(-math.pi, math.pi)
    b.cur_base = b.base_for("standing")
    from sensor.sim.sim_routine import daily_life, routine_session

    (daily_life if opt.daily_life else routine_session)(b, w, opt)
    samples, gaps, sensor_truth = sense(b, rng, opt, rate)
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
        "wearer": {**w.truth(), "standing_tilt_deg": standing_tilt},
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
