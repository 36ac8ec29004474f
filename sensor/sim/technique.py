"""The technique catalogue: how differently people do the routine, drawn per session and
per set so that the simulated wearer does not agree with the detectors by construction.

Ranges and where they come from (angles are pelvis pitch, the long axis of the pelvis
against the horizontal, measured from the wearer's own resting position):

- Back extension (prone, "lift chest and legs; lower", ``shared/routine.md``). The pelvis
  is the pivot and rocks *either way*: when the hip extensors lift the legs it tilts
  anteriorly (head end down) — EMG/kinematic studies of prone hip extension report
  several degrees of anterior pelvic tilt, more in people with weak lumbopelvic
  control — and when the chest lift dominates the head end rises. Direction: a per-session
  preference, switched for a set with probability 0.3. Amplitude 3–15° (per session,
  ±1° per rep). The pelvis rises 0–2 cm (it stays on the mat; only soft tissue and the
  rocking lift the sensor). Movements 0.5–1.5 s each way (brisk to slow tempo), a hold of
  0–3 s at the top (the guide sets none; many people pause), rests of 0.5–3 s between
  reps, 6–15 reps a set, 20–60 s between sets (a breather; the routine's 3 × 10).
- Hip bridge (supine): pelvis rotation 10–35° and a lift of 8–25 cm, from a small
  half-bridge to a full straight line from knees to shoulders (hip height over the
  mat for adult thigh lengths); holds 1–7 s around the guide's 5 s; half-hearted lifts
  of 2–5° that are not reps.
- Front plank (forearms and toes): pelvis 4–15° head-up (a straight body from the
  shoulders on the forearms, ~30 cm, to the toes, plus hips piked or sagging a little),
  lifted 15–30 cm off the mat (prone pelvis height to plank height).
- Side plank: hip lift 8–20° of lateral tilt and 10–22 cm, the lower values for the
  knee-supported variant the guide gives beginners.
- Holds cut short: a quarter of holds last only 5–10 s (people give up early).
- Tempo: slow, normal or fast per session (multiplies movement times within the ranges).
- Sway during holds 0.15–0.8° RMS × steadiness (0.7–1.3), tremor 0.8–8 °/s; fatigue sag
  up to 6° but no more than 30 % of the hold's elevation (a hold that sags to the floor
  has ended).
- Mounting (drawn for a session when not given): back half the time, front, left or right
  hip otherwise.
- Daily life (a session without exercises, 1 in 5 when drawn): lying on the stomach
  reading a phone, propped on the elbows (pelvis tilted 2–8° either way for 10–90 s),
  fidgeting, kicking the feet, turning over to the back and back again, lying on a side
  shifting the hips; none of it is an exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sensor.vocab import MOUNTS

MOUNT_CHOICES = MOUNTS  # drawn with MOUNT_WEIGHTS, in this order
MOUNT_WEIGHTS = (0.5, 1 / 6, 1 / 6, 1 / 6)
TEMPOS = {"slow": 1.35, "normal": 1.0, "fast": 0.7}


@dataclass
class Technique:
    """How one person does the routine (drawn once per session)."""

    tempo: str
    backext_dir: str  # preferred direction: "head_up" or "head_down"
    backext_amp_deg: float
    backext_rise_m: float
    backext_move_s: float  # each way, before tempo
    backext_hold_max_s: float
    bridge_amp_deg: float
    bridge_lift_m: float
    plank_elev_deg: float
    plank_lift_m: float
    side_elev_deg: float
    side_lift_m: float
    knee_side_plank: bool
    steadiness: float
    backext_switch_p: float = 0.3  # chance that a set goes the other way
    # How much of the routine the person does (a dose, for a person who progresses: the demo).
    # Defaults: drawn per session as described above (None) or today's fixed values.
    bridge_reps: int | None = None  # reps in the bridge set; None: 8-14 (4-5 when short)
    bridge_hold_s: float = 5.0  # mean time held at the top at the start of a set (fatigue takes 1.2 s off by its end)
    bridge_hold_sd_s: float = 0.8  # rep to rep spread of that time
    backext_sets: int | None = None  # None: 3 (1 when short)
    backext_reps: int | None = None  # per set; None: 6-15 (4-6 when short)
    plank_hold_s: float | None = None  # None: 20-60 s (12-25 when short), a quarter cut short; else within ±10 %
    side_hold_s: float | None = None  # each side-plank hold, as plank_hold_s; None: 15-40 s (12-20 when short)

    @property
    def tempo_factor(self) -> float:
        return TEMPOS[self.tempo]

    def truth(self) -> dict[str, Any]:
        """The fields as written to a session's truth; dose fields only when they differ from
        their defaults (the catalogue's draw), so truths made before the dose read the same."""
        dose = {f.name: f.default for f in fields(self) if f.name in DOSE_FIELDS}
        return {k: v for k, v in self.__dict__.items() if k not in dose or v != dose[k]}


DOSE_FIELDS = ("bridge_reps", "bridge_hold_s", "bridge_hold_sd_s", "backext_sets", "backext_reps", "plank_hold_s", "side_hold_s")


def draw_technique(rng: np.random.Generator) -> Technique:
    knees = bool(rng.random() < 0.35)
    side = rng.uniform(8, 13) if knees else rng.uniform(11, 20)
    return Technique(
        tempo=str(rng.choice(list(TEMPOS))),
        backext_dir="head_down" if rng.random() < 0.5 else "head_up",
        backext_amp_deg=float(rng.uniform(3.5, 14.0)),
        backext_rise_m=float(rng.uniform(0.0, 0.02)),
        backext_move_s=float(rng.uniform(0.6, 1.2)),
        backext_hold_max_s=float(rng.uniform(0.0, 3.0)),
        bridge_amp_deg=float(rng.uniform(12, 33)),
        bridge_lift_m=float(rng.uniform(0.08, 0.25)),
        plank_elev_deg=float(rng.uniform(4, 15)),
        plank_lift_m=float(rng.uniform(0.15, 0.30)),
        side_elev_deg=float(side),
        side_lift_m=float(rng.uniform(0.10, 0.15) if knees else rng.uniform(0.14, 0.22)),
        knee_side_plank=knees,
        steadiness=float(rng.uniform(0.7, 1.3)),
    )


def set_direction(rng: np.random.Generator, tech: Technique) -> str:
    """The direction the pelvis rocks in one set of back extensions."""
    if rng.random() < tech.backext_switch_p:
        return "head_up" if tech.backext_dir == "head_down" else "head_down"
    return tech.backext_dir


def move_time(rng: np.random.Generator, base_s: float, tech: Technique) -> float:
    """One movement's duration, 0.5–1.5 s."""
    return float(np.clip(base_s * tech.tempo_factor * rng.uniform(0.8, 1.2), 0.5, 1.5))


def draw_mount(rng: np.random.Generator) -> str:
    return str(rng.choice(MOUNT_CHOICES, p=MOUNT_WEIGHTS))


def hold_time(rng: np.random.Generator, lo: float, hi: float, dose_s: float | None = None) -> tuple[float, str]:
    """A hold's duration and variant: a quarter of holds are cut short; a dose (the
    technique's own time) is held to within ±10 %."""
    if dose_s is not None:
        return float(dose_s * rng.uniform(0.9, 1.1)), "full"
    if rng.random() < 0.25:
        return float(rng.uniform(5.0, 10.0)), "cut_short"
    return float(rng.uniform(lo, hi)), "full"
