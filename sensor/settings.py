"""Everything that decides an analysis, in one nested, serializable settings object.

``PipelineSettings`` holds the pipeline's own numbers and, nested, the stand calibration's
(``CalibrationSettings``), the detector's (``DetectorSettings``) and the stamping clock's
(``ClockSettings``: how a stream without device times is given times). A recording's header
carries them (``Header.settings``), so re-analysing it later runs with exactly the settings
it was recorded with, whatever the defaults have become since.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sensor.signal.detector_settings import DetectorSettings


@dataclass(frozen=True)
class CalibrationSettings:
    """The opening stand (``orientation.StandCalibrator``)."""

    still_s: float = 2.5  # stillness needed, with gravity in the device's back plane
    window_s: float = 90.0  # how long into the stream a stand is looked for
    upright_s: float = 3.0  # without a stand: this much upright (walking) gives the long axis
    start_within_s: float = 10.0  # a stand must begin this soon after the stream starts


@dataclass(frozen=True)
class ClockSettings:
    """Stamping samples that come without device times (``clock``): patience in seconds
    of stream (counted in samples that arrive, so a host stall adds none), scaled by a
    sped-up stream's speed, because how long a late burst takes is a property of the host."""

    settle_s: float = 0.3  # a late packet waits this long for the rest of its burst
    max_hold_s: float = 3.0  # and never longer
    anchor_s: float = 0.5  # a connection's first packets are held this long to anchor its grid
    device_window_s: float = 10.0  # devices with their own clock: minimum-delay window
    device_max_slew: float = 2e-3  # drift absorbed at most this many seconds per second


@dataclass(frozen=True)
class PipelineSettings:
    grid_hz: float = 50.0  # covers the 4–15 Hz tremor band; 25 Hz sensors are upsampled
    max_gap_s: float = 1.0  # longer holes are gaps, not interpolated
    batch_s: float = 0.1  # live chunks are gathered this long before the filters run
    trace_hz: float | None = None  # keep the pelvis angle at this rate for display (None: keep nothing)
    mount: str = "back"  # where the sensor is worn: back, front, left or right (sensor.signal.body.MOUNTS)
    keep_signals: bool = False  # keep every grid sample's intermediate signals (``signals()``)
    posture_confirm_s: float = 0.8
    lp_hz: float = 3.0
    fusion_tau_s: float = 0.5
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    clock: ClockSettings = field(default_factory=ClockSettings)

    def to_json(self) -> dict[str, Any]:
        """What decides the events (display and debugging switches are left out)."""
        out = dataclasses.asdict(self)
        for key in DISPLAY_ONLY:
            out.pop(key)
        return out

    @staticmethod
    def from_json(obj: Any, *, check_ranges: bool = True, **overrides: Any) -> PipelineSettings:
        """Settings from a header's JSON; fields it lacks keep today's defaults, fields this
        version does not know are ignored (a newer recorder's), and so are the display
        switches (the reader's business, not the file's). A wrong type is a ValueError, and
        so is a value outside its range (``sensor.settings_ranges``) unless ``check_ranges``
        is off (reading a header only checks its shape)."""
        if not isinstance(obj, dict):
            raise ValueError(f"settings are a JSON {type(obj).__name__}, not an object")
        built = _build(PipelineSettings, {k: v for k, v in obj.items() if k not in DISPLAY_ONLY}, "settings")
        if check_ranges:
            from sensor.settings_ranges import check_ranges as check

            check(built.to_json())
        return dataclasses.replace(built, **overrides)


DISPLAY_ONLY = ("trace_hz", "keep_signals")
"""Settings that change what is kept for display, never the events: not written to headers."""


T = TypeVar("T")


def _build(cls: type[T], obj: dict[str, Any], where: str) -> T:
    kwargs: dict[str, Any] = {}
    defaults = cls()
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # every cls here is a dataclass
        if f.name not in obj:
            continue
        value, default = obj[f.name], getattr(defaults, f.name)
        name = f"{where}.{f.name}"
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise ValueError(f"{name} is not an object")
            kwargs[f.name] = _build(type(default), value, name)
        elif isinstance(default, (bool, str)):
            if type(value) is not type(default):
                raise ValueError(f"{name} {str(value)[:20]!r} is not a {type(default).__name__}")
            kwargs[f.name] = value
        elif value is None and default is None:
            kwargs[f.name] = None
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 1e9:
            raise ValueError(f"{name} {str(value)[:20]!r} is not a number")
        else:
            kwargs[f.name] = type(default)(value) if default is not None else float(value)
    return cls(**kwargs)
