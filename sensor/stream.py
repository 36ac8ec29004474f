"""The stream layer's vocabulary: what a stream says about itself (``Header``, the
descriptor every source fills in and a recording serializes), the link news a source
yields beside its samples (``LinkStatus``), and what reading a stored stream found
(``ReadStatus``). Sources describe a live stream with these without touching a file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sensor import __version__
from sensor.events import Gap
from sensor.files.limits import EARLIEST_UTC_S, LATEST_UTC_S
from sensor.samples import Samples
from sensor.vocab import MOUNTS, UTC_FORMAT

FORMAT_VERSION = 1  # of the header's JSON (and the .htrec records around it)


@dataclass(slots=True)
class Header:
    """What a stream says about itself: the descriptor every source fills in (a BLE source
    as it connects) and a recording serializes as its header."""

    device: dict[str, Any] = field(default_factory=dict)  # profile, name, address
    sample_rate_hz: float = 0.0  # nominal; the pipeline reads the true rate from the times
    mount: str = "back"
    calibration: dict[str, Any] | None = None
    source: str = ""  # "ble", "simulated", "phone-push", "csv-import"...
    created_utc: str = ""
    app_version: str = __version__
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    # The analysis settings the stream was recorded with (``PipelineSettings.to_json``), so
    # re-analysis is exact; None for streams that never went through the pipeline.
    settings: dict[str, Any] | None = None
    # What reading the file found (damage, clean end); filled in as a reader goes. Not saved.
    status: ReadStatus | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "app_version": self.app_version,
            "device": self.device,
            "sample_rate_hz": self.sample_rate_hz,
            "mount": self.mount,
            "calibration": self.calibration,
            "source": self.source,
            "created_utc": self.created_utc,
            "extra": self.extra,
            **({"settings": self.settings} if self.settings is not None else {}),
        }

    @staticmethod
    def from_json(obj: Any) -> Header:
        """A header from its JSON; ValueError names the first field of the wrong shape."""
        if not isinstance(obj, dict):
            raise ValueError(f"header is a JSON {type(obj).__name__}, not an object")
        for key in ("device", "extra"):
            if not isinstance(obj.get(key) or {}, dict):
                raise ValueError(f"{key} is not an object")
        if obj.get("calibration") is not None and not isinstance(obj["calibration"], dict):
            raise ValueError("calibration is not an object")
        mount = obj.get("mount") or "back"
        if mount not in MOUNTS:
            raise ValueError(f"mount {str(mount)[:20]!r} is not one of {', '.join(MOUNTS)}")
        rate = obj.get("sample_rate_hz") or 0.0
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1e5:
            raise ValueError(f"sample_rate_hz {str(rate)[:20]!r} is not a rate in Hz")
        version = obj.get("format_version") or FORMAT_VERSION
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError(f"format_version {str(version)[:20]!r} is not a version")
        if version > FORMAT_VERSION:
            raise ValueError(f"format version {version} is newer than this HoldTrack reads ({FORMAT_VERSION}); update HoldTrack")
        extra = dict(obj.get("extra") or {})
        lsb = extra.get("lsb")
        if lsb is not None and not (
            isinstance(lsb, list) and len(lsb) == 6 and all(isinstance(v, (int, float)) and 0 < v < 1e6 for v in lsb)
        ):
            raise ValueError("extra.lsb is not six positive scale factors")
        created = _created_utc(obj.get("created_utc"))
        settings = obj.get("settings")
        if settings is not None:
            from sensor.settings import PipelineSettings  # numpy: only for headers that carry settings

            PipelineSettings.from_json(settings, check_ranges=False)  # ValueError names the field; ranges: ``settings_for``
        return Header(
            device=dict(obj.get("device") or {}),
            sample_rate_hz=float(rate),
            mount=str(mount),
            calibration=obj.get("calibration"),
            source=str(obj.get("source") or ""),
            created_utc=created,
            app_version=str(obj.get("app_version") or ""),
            format_version=version,
            extra=extra,
            settings=settings,
        )


def _created_utc(value: Any) -> str:
    """A header's ``created_utc``: empty (unknown) or a UTC time between 2000 and 2100
    (``sensor.files.limits``); anything else would break every date shown of it."""
    if value is None or value == "":
        return ""
    try:
        t = datetime.strptime(str(value), UTC_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"created_utc {str(value)[:30]!r} is not a UTC time like 2025-06-29T18:44:41Z") from None
    if not EARLIEST_UTC_S <= t.timestamp() < LATEST_UTC_S:
        raise ValueError(f"created_utc {value} is not a date between 2000 and 2100 (is the recorder's clock set?)")
    return str(value)


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """Connection news from a source: shown to the user, written to the recording."""

    connected: bool
    at_s: float  # stream time
    message: str = ""


SourceItem = Samples | Gap | LinkStatus  # what a source yields, in stream order


@dataclass(slots=True)
class ReadStatus:
    """What reading a recording found besides its samples."""

    damaged_blocks: int = 0  # records skipped for a bad checksum or a corrupt length
    damaged_bytes: int = 0
    torn_tail: bool = False  # the file ends in a partial record (crash while writing)
    complete: bool = False  # an end record was found
    recovered: bool = False  # the end record was added by recovery after a crash
    samples: int = 0
    first_s: float | None = None
    last_s: float | None = None

    @property
    def recovered_s(self) -> float:
        """Seconds of samples read (what an interrupted recording still holds)."""
        return (self.last_s - self.first_s) if self.first_s is not None and self.last_s is not None else 0.0

    def warnings(self) -> list[str]:
        """One line per thing the user should know; empty for a clean file."""
        out = []
        if self.damaged_blocks:
            out.append(
                f"{self.damaged_blocks} damaged block{'s' if self.damaged_blocks > 1 else ''} skipped "
                f"({self.damaged_bytes} bytes failed their checksum)"
            )
        if not self.complete:
            out.append(f"the recording was interrupted (no end record): recovered {self.recovered_s:.1f} s")
        elif self.recovered:
            out.append(f"the recording was interrupted and closed by recovery: {self.recovered_s:.1f} s recovered")
        return out
