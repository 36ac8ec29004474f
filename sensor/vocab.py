"""HoldTrack's shared vocabulary, in one place: exercises and their labels, mountings,
postures, the stability verdict words, the generic CSV's columns and units, and the
file-name rules (recordings, truth files, live recording names).

Standard library only (no numpy): the command line imports it at start-up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

# -- exercises ---------------------------------------------------------------------------

RepExercise = Literal["bridge", "back_extension"]
HoldExercise = Literal["side_plank", "plank"]
REP_EXERCISES: tuple[str, ...] = get_args(RepExercise)
HOLD_EXERCISES: tuple[str, ...] = get_args(HoldExercise)
EXERCISES: tuple[str, ...] = (*REP_EXERCISES, *HOLD_EXERCISES)
# The one wording of each exercise (CLI, dashboard, coach), in the routine's order.
LABELS: dict[str, str] = {
    "bridge": "Hip bridge",
    "back_extension": "Back extension",
    "side_plank": "Side plank",
    "plank": "Front plank",
}


def counted(n: int, noun: str) -> str:
    """``n`` and its noun, singular for one: "1 set", "3 sets" (the nouns here all take -s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- where the sensor is worn (sensor.signal.body gives each its geometry) ------------------------

MOUNTS: tuple[str, ...] = ("back", "front", "left", "right")
DEFAULT_MOUNT = "back"
MOUNT_PLACES: dict[str, str] = {
    "back": "on the back",
    "front": "on the front of the belt",
    "left": "on the left hip",
    "right": "on the right hip",
}
# How the mounting given was checked against the data: sitting or walking agreed with it
# (confirmed), told another one (corrected), or only half (doubt); or nothing in the
# recording could check it (unchecked: the events assume the mounting given).
MountCheck = Literal["confirmed", "corrected", "doubt", "unchecked"]
MOUNT_CHECKS: tuple[str, ...] = get_args(MountCheck)

# -- postures (the pipeline's codes index this tuple: sensor.signal.posture) ----------------------

Posture = Literal["unknown", "standing", "sitting", "supine", "prone", "side_left", "side_right"]
POSTURES: tuple[Posture, ...] = get_args(Posture)

# -- stability verdicts: the words for a hold's 0-100 score (sensor.signal.stability) -------------

# (lowest score, words), best first.
STABILITY_WORDS: tuple[tuple[float, str], ...] = (
    (80.0, "rock steady"),
    (60.0, "steady, a little sway"),
    (40.0, "wobbly: brace the abdominals and breathe"),
    (0.0, "shaky: try a shorter hold, or knees down"),
)
SAG_NOTE_DEG = 5.0  # hips sinking this much over a hold is worth a cue


def stability_label(score: float) -> str:
    """The words for a score, lower case ("rock steady")."""
    return next((words for low, words in STABILITY_WORDS if score >= low), STABILITY_WORDS[-1][1])


def stability_words(score: float, sag_deg: float | None = None) -> str:
    """A sentence for a hold ("Rock steady; hips sank 6° toward the end, ...")."""
    words = stability_label(score)
    words = words[0].upper() + words[1:]
    if sag_deg is not None and sag_deg >= SAG_NOTE_DEG:
        words += f"; hips sank {sag_deg:.0f}° toward the end, lift them back into a line"
    return words


# The pelvis angle as charts and the Live page show it (sensor.signal.pipeline.display_angle):
# lift positive, a bridge rises to about +35°.
ANGLE_LABEL = "pelvis angle (°, lift up +)"


# A rep or hold the detector passed by a narrow margin (``Rep.confidence``, ``Hold.confidence``,
# 0.5-1) is marked on the session page, so the user checks it before correcting others.
UNSURE_BELOW = 0.75
UNSURE_MARK, UNSURE_TIP = "?", "uncertain: check this count"


def unsure(confidence: float) -> bool:
    """Whether a rep or hold is worth the user's check (its confidence under ``UNSURE_BELOW``)."""
    return confidence < UNSURE_BELOW


def angle_words(posture: str, angle_deg: float) -> str:
    """The pelvis angle in words: "hips lifted 35°" on the back, the signed angle otherwise."""
    if posture == "supine":
        return f"hips lifted {angle_deg:.0f}°" if angle_deg >= 1.0 else "hips down"
    return f"pelvis angle {angle_deg:+.0f}°"


# -- the generic IMU CSV (contract.md): SI units ------------------------------------------

IMU_COLUMNS: tuple[str, ...] = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
"""Channel order of ``Samples.imu`` (the generic CSV's names)."""
CSV_COLUMNS: tuple[str, ...] = ("time_s", *IMU_COLUMNS)
UNITS: dict[str, str] = {"time_s": "s", **dict.fromkeys(IMU_COLUMNS[:3], "m/s²"), **dict.fromkeys(IMU_COLUMNS[3:], "rad/s")}

# -- times ---------------------------------------------------------------------------------

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How a recording's header and the store write a time (``created_utc``, ``started_utc``)."""

# -- file names ------------------------------------------------------------------------------

RECORDING_SUFFIX = ".htrec"
TRUTH_SUFFIX = ".truth.json"
SAMPLE_SUFFIXES = (RECORDING_SUFFIX, ".csv")  # what a truth file can sit beside
CLI_RECORDING_GLOB = "holdtrack-*" + RECORDING_SUFFIX  # `holdtrack record` without --out
LIVE_RECORDING_GLOB = "*T*Z_*" + RECORDING_SUFFIX  # the dashboard's live sessions
# Every input file the readers take by name (README "Input files"): recordings, the generic
# CSV (comma, semicolon or tab), phone tables, phyphox's Excel export, a zipped export, the
# WitMotion app's .txt. The dashboard's upload offers exactly these.
INPUT_SUFFIXES = (RECORDING_SUFFIX, ".csv", ".tsv", ".txt", ".zip", ".xls", ".xlsx")


def truth_path(recording: str | Path) -> Path:
    """The truth file beside a recording or CSV: ``a.htrec`` -> ``a.truth.json``."""
    p = Path(recording)
    name = p.name
    for suffix in SAMPLE_SUFFIXES:
        name = name.removesuffix(suffix)
    return p.with_name(name + TRUTH_SUFFIX)


def cli_recording_name(when: datetime) -> str:
    """``holdtrack record``'s default output name (local time, matches CLI_RECORDING_GLOB)."""
    return when.strftime("holdtrack-%Y%m%d-%H%M%S") + RECORDING_SUFFIX


def live_recording_name(when: datetime, kind: str, n: int = 1) -> str:
    """A live session's recording name (UTC, matches LIVE_RECORDING_GLOB); ``n`` > 1 when
    the first name is taken."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    return f"{stamp}_{kind}{f'-{n}' if n > 1 else ''}{RECORDING_SUFFIX}"


def damage_warning(damaged_blocks: int, interrupted: bool, duration_s: float) -> str | None:
    """One line on what reading the recording could not give (the CLI, the import report
    and the session page all say it so); None for a whole, cleanly ended recording."""
    parts = []
    if damaged_blocks:
        parts.append(f"{damaged_blocks} damaged block(s) in the recording were skipped (reps or holds in them may be missing)")
    if interrupted:
        parts.append(f"the recording was interrupted (no clean end); {duration_s:.1f} s recovered")
    return "; ".join(parts) or None


# -- where a session came from (the History table's "Source" column) ----------------------

SOURCE_WORDS = {
    "ble": "Sensor",  # a live Bluetooth sensor (followed by its name)
    "phone-push": "Phone, live",
    "phone push": "Phone, live",
    "phyphox": "Phone, live (phyphox)",
    "replay": "Replay",
    "simulated": "Simulated",
    "csv": "Import: CSV",
    "phone-export": "Import: phone app",
}
KIND_WORDS = {"csv": "Import: CSV", "phone": "Import: phone app", "htrec": "Import: recording"}


def source_words(source: str, kind: str, demo: bool, device_name: str = "") -> str:
    """Where a session came from, in a few words: "Sensor WT901BLE67", "Phone, live",
    "Import: CSV", "Replay", "Demo"."""
    if demo:
        return "Demo"
    words = SOURCE_WORDS.get(source) or KIND_WORDS.get(kind, source or kind or "unknown")
    return f"{words} {device_name}" if source == "ble" and device_name else words
