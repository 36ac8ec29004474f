"""The routine's targets (``shared/routine.md``), user settings, and target-vs-done rows.

Defaults come from the back-strengthening guide: bridges held 5 s, 12 reps a set; back
extensions 3 sets of 10, three times a week; side planks 30 s twice on each side; front
planks 30 s (user-set). Users may change every number; the settings live as JSON in the
data folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sensor.errors import InputError
from sensor.events import Analysis, Hold, Rep

SETTINGS_FILE = "settings.json"
SET_PAUSE_S = 15.0  # a pause longer than this between two reps starts a new set (reps come every few seconds; rests between sets last 20 s or more)
MOUNTS = ("back", "front", "left", "right")
LABELS = {
    "bridge": "Hip bridge",
    "back_extension": "Back extension",
    "side_plank": "Side plank",
    "plank": "Front plank",
}


@dataclass(slots=True)
class RepTarget:
    """Targets of a rep exercise (bridge, back extension)."""

    hold_s: float  # time to hold at the top of each rep (0: no hold target)
    reps_per_set: int
    sets_per_session: int
    sessions_per_week: int


@dataclass(slots=True)
class HoldTarget:
    """Targets of a hold exercise (side plank: per side; plank: per session)."""

    hold_s: float
    holds: int  # per side for side planks
    sessions_per_week: int


@dataclass(slots=True)
class AudioSettings:
    """The live coach's sound (tones and spoken cues in the browser)."""

    on: bool = True
    volume: float = 0.8  # 0-1
    rest_s: float = 30.0  # rest between sets before the "rest over" cue


@dataclass(slots=True)
class Routine:
    """All targets plus the sensor placement; what the settings page edits."""

    bridge: RepTarget = field(default_factory=lambda: RepTarget(5.0, 12, 1, 3))
    # The guide sets no hold for back extensions ("lift; lower"): 0 means none.
    back_extension: RepTarget = field(default_factory=lambda: RepTarget(0.0, 10, 3, 3))
    side_plank: HoldTarget = field(default_factory=lambda: HoldTarget(30.0, 2, 3))
    # The guide only compares with the front plank: tracked, not expected every week.
    plank: HoldTarget = field(default_factory=lambda: HoldTarget(30.0, 1, 0))
    mount: str = "back"
    audio: AudioSettings = field(default_factory=AudioSettings)

    def rep_target(self, exercise: str) -> RepTarget:
        return self.bridge if exercise == "bridge" else self.back_extension

    def hold_target(self, exercise: str) -> HoldTarget:
        return self.side_plank if exercise == "side_plank" else self.plank

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(obj: dict[str, Any]) -> "Routine":
        """Missing keys keep their defaults, so older settings files still load."""
        base = Routine()
        out: dict[str, Any] = {}
        for name in ("bridge", "back_extension"):
            out[name] = replace(getattr(base, name), **_known(RepTarget, obj.get(name)))
        for name in ("side_plank", "plank"):
            out[name] = replace(getattr(base, name), **_known(HoldTarget, obj.get(name)))
        mount = str(obj.get("mount", base.mount))
        return Routine(**out, mount=mount if mount in MOUNTS else base.mount, audio=_audio(obj.get("audio")))


def _audio(part: Any) -> AudioSettings:
    if not isinstance(part, dict):
        return AudioSettings()
    a = AudioSettings()
    return AudioSettings(
        on=bool(part.get("on", a.on)),
        volume=min(1.0, max(0.0, float(part.get("volume", a.volume)))),
        rest_s=max(0.0, float(part.get("rest_s", a.rest_s))),
    )


def _known(cls: type, part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        return {}
    names = {f.name for f in fields(cls)}
    return {k: (float if k == "hold_s" else int)(v) for k, v in part.items() if k in names}


def load_routine(data_dir: str | Path) -> Routine:
    """The saved settings, or the defaults when none were saved yet."""
    path = Path(data_dir) / SETTINGS_FILE
    if not path.exists():
        return Routine()
    try:
        return Routine.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as e:
        raise InputError(path, f"settings file is not valid: {e}") from None


def save_routine(routine: Routine, data_dir: str | Path) -> Path:
    """Write atomically (temp file + rename): a crash never leaves half a settings file."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".settings-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(routine.to_json(), f, indent=2)
    path = folder / SETTINGS_FILE
    os.replace(tmp, path)
    return path


def group_sets(reps: Sequence[Rep], pause_s: float = SET_PAUSE_S) -> list[list[int]]:
    """Indices of ``reps`` (in time order) grouped into sets: consecutive reps of one
    exercise; a change of exercise or a pause longer than ``pause_s`` starts a new set."""
    order = sorted(range(len(reps)), key=lambda i: reps[i].start_s)
    sets: list[list[int]] = []
    for i in order:
        r = reps[i]
        if sets:
            last = reps[sets[-1][-1]]
            if last.exercise == r.exercise and r.start_s - last.end_s <= pause_s:
                sets[-1].append(i)
                continue
        sets.append([i])
    return sets


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One line of "target vs done" for a session."""

    exercise: str  # key: bridge, back_extension, side_plank, plank
    label: str  # e.g. "Side plank (left)"
    target: str  # plain words
    done: str  # plain words
    met: bool


def _fmt_s(x: float) -> str:
    return f"{x:.0f} s" if x >= 10 else f"{x:.1f} s"


def _rep_rows(exercise: str, reps: list[Rep], target: RepTarget) -> list[CompareRow]:
    label = LABELS[exercise]
    sets = [[reps[i] for i in s] for s in group_sets(reps)]
    full = sum(1 for s in sets if len(s) >= target.reps_per_set)
    sizes = ", ".join(str(len(s)) for s in sets)
    set_word = "set" if len(sets) == 1 else "sets"
    rows = [
        CompareRow(
            exercise,
            f"{label}: sets",
            f"{target.sets_per_session} × {target.reps_per_set} reps",
            f"{len(sets)} {set_word} ({sizes} reps); {full} full" if sets else "not done",
            full >= target.sets_per_session,
        )
    ]
    if target.hold_s <= 0:
        return rows
    held = sum(1 for r in reps if r.hold_s >= target.hold_s)
    mean = sum(r.hold_s for r in reps) / len(reps) if reps else 0.0
    rows.append(
        CompareRow(
            exercise,
            f"{label}: hold at the top",
            f"{_fmt_s(target.hold_s)} every rep",
            f"{held} of {len(reps)} reps held {_fmt_s(target.hold_s)} or more (average {_fmt_s(mean)})"
            if reps
            else "not done",
            bool(reps) and held == len(reps),
        )
    )
    return rows


def _hold_row(exercise: str, label: str, holds: list[Hold], target: HoldTarget) -> CompareRow:
    good = sum(1 for h in holds if h.duration_s >= target.hold_s)
    times = ", ".join(_fmt_s(h.duration_s) for h in holds)
    word = "hold" if target.holds == 1 else "holds"
    return CompareRow(
        exercise,
        label,
        f"{target.holds} {word} of {_fmt_s(target.hold_s)}",
        f"{len(holds)} done ({times}); {good} reached the target" if holds else "not done",
        good >= target.holds,
    )


def compare(analysis: Analysis, routine: Routine | None = None) -> list[CompareRow]:
    """Target vs done per exercise (and per side for side planks), in plain words.

    Exercises the session did not include still get a row ("not done") for the routine's
    weekly exercises, so a skipped part is visible.
    """
    routine = routine or Routine()
    rows: list[CompareRow] = []
    for ex in ("bridge", "back_extension"):
        reps = [r for r in analysis.reps if r.exercise == ex]
        if reps or routine.rep_target(ex).sessions_per_week > 0:
            rows += _rep_rows(ex, reps, routine.rep_target(ex))
    side = [h for h in analysis.holds if h.exercise == "side_plank"]
    if side or routine.side_plank.sessions_per_week > 0:
        for s in ("left", "right"):
            rows.append(
                _hold_row("side_plank", f"Side plank ({s})", [h for h in side if h.side == s], routine.side_plank)
            )
        unknown = [h for h in side if h.side is None]
        if unknown:
            # Without the standing calibration the side cannot be told (contract.md).
            rows.append(
                CompareRow(
                    "side_plank",
                    "Side plank (side unknown)",
                    "stand still 3 s at the start to tell the sides",
                    f"{len(unknown)} hold{'' if len(unknown) == 1 else 's'} ({', '.join(_fmt_s(h.duration_s) for h in unknown)})",
                    False,
                )
            )
    planks = [h for h in analysis.holds if h.exercise == "plank"]
    if planks or routine.plank.sessions_per_week > 0:
        rows.append(_hold_row("plank", "Front plank", planks, routine.plank))
    return rows
