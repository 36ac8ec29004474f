"""Events the pipeline reports, and the analysis result (the JSON of ``contract.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sensor.vocab import HoldExercise as HoldExercise
from sensor.vocab import Posture as Posture
from sensor.vocab import RepExercise as RepExercise

Side = Literal["left", "right"] | None


@dataclass(frozen=True, slots=True)
class Rep:
    """One bridge or back-extension repetition."""

    exercise: RepExercise
    start_s: float  # hips (or chest and legs) start to rise
    end_s: float  # back down
    hold_s: float  # time held at the top
    detected_at_s: float  # stream time at which the pipeline reported it
    peak_deg: float = 0.0  # pelvis excursion at the top, degrees
    confidence: float = 1.0  # 0.5-1: how clearly it passed the detector's tests (low: check it)


@dataclass(slots=True)
class Hold:
    """One plank or side-plank hold, with its stability."""

    exercise: HoldExercise
    side: Side
    start_s: float
    end_s: float
    duration_s: float
    sway_deg: float  # RMS of slow (< 3 Hz) pelvis angle deviation about the hold's trend
    tremor_dps: float  # RMS pelvis angular rate, 4-15 Hz band, deg/s
    sag_deg: float  # rotation of the pelvis back toward the floor over the hold
    detected_at_s: float  # stream time at which the hold was reported as started
    score: float = 0.0  # 0-100 stability score (100 = rock steady)
    confidence: float = 1.0  # 0.5-1: how clearly it was a hold (low: check it)


@dataclass(frozen=True, slots=True)
class HoldStarted:
    """A hold has begun (live feedback: start the hold timer)."""

    exercise: HoldExercise
    side: Side
    start_s: float
    detected_at_s: float


@dataclass(frozen=True, slots=True)
class PostureChanged:
    posture: Posture
    at_s: float


@dataclass(frozen=True, slots=True)
class Gap:
    """Samples missing between two times (radio dropout or link loss)."""

    start_s: float
    end_s: float


Event = Rep | Hold | HoldStarted | PostureChanged | Gap


@dataclass(slots=True)
class Analysis:
    """What ``holdtrack analyze`` reports for one recording."""

    reps: list[Rep] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    calibrated: bool = False
    duration_s: float = 0.0
    sample_rate_hz: float = 0.0
    source: str = ""
    damaged_blocks: int = 0  # recording records skipped for damage (bad checksum, corrupt length)
    interrupted: bool = False  # a recording without its end record (crash, power cut)
    # Stream time of the first sample: event times are on the recording's own axis (Unix
    # time for files with absolute times); minus this they are seconds into the session.
    start_s: float = 0.0
    # The mounting the events were found with, and how it was checked against the data:
    # kind (sensor.vocab.MOUNT_CHECKS) and one line for the user.
    mount: str = "back"
    mount_check: str = "unchecked"
    mount_note: str = ""
    # Reps found that were no set (alone or in pairs, ``sensor.routine.MIN_SET_REPS``): shown
    # live as they came, not counted.
    lone_reps: int = 0
    # (time_s, pelvis elevation deg) at a low rate for charts; not part of the JSON.
    trace: tuple[Any, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reps": [asdict(r) for r in self.reps],
            "holds": [asdict(h) for h in self.holds],
            "gaps": [asdict(g) for g in self.gaps],
            "calibrated": self.calibrated,
            "duration_s": self.duration_s,
            "sample_rate_hz": self.sample_rate_hz,
            "source": self.source,
            "damaged_blocks": self.damaged_blocks,
            "interrupted": self.interrupted,
            "start_s": self.start_s,
            "mount": {"analysed_as": self.mount, "check": self.mount_check, "note": self.mount_note},
            "lone_reps": self.lone_reps,
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> Analysis:
        given = obj.get("mount")
        m: dict[str, Any] = given if isinstance(given, dict) else {}
        return Analysis(
            reps=[Rep(**r) for r in obj.get("reps", [])],
            holds=[Hold(**h) for h in obj.get("holds", [])],
            gaps=[Gap(**g) for g in obj.get("gaps", [])],
            calibrated=bool(obj.get("calibrated", False)),
            duration_s=float(obj.get("duration_s", 0.0)),
            sample_rate_hz=float(obj.get("sample_rate_hz", 0.0)),
            source=str(obj.get("source", "")),
            damaged_blocks=int(obj.get("damaged_blocks", 0)),
            interrupted=bool(obj.get("interrupted", False)),
            start_s=float(obj.get("start_s", 0.0)),
            mount=str(m.get("analysed_as", "back")),
            mount_check=str(m.get("check", "unchecked")),
            mount_note=str(m.get("note", "")),
            lone_reps=int(obj.get("lone_reps", 0)),
        )
