"""HoldTrack's exceptions: a short tree, each printable as one clear line."""

from __future__ import annotations

from pathlib import Path


class HoldTrackError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""


class InputError(HoldTrackError):
    """A file or stream that cannot be read as IMU data (names the file and row)."""

    def __init__(self, path: str | Path, message: str, row: int | None = None) -> None:
        self.path = str(path)
        self.row = row
        self.message = message
        where = f"{self.path}, row {row}" if row is not None else self.path
        super().__init__(f"{where}: {message}")


class RecordingError(InputError):
    """A HoldTrack recording that is damaged beyond its crash-safe tail."""


class DeviceError(HoldTrackError):
    """Bluetooth trouble: no adapter, adapter off, device missing or not a supported sensor."""


class DeviceNotFoundError(DeviceError):
    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        super().__init__(f"device {identifier!r} not found (is it on, charged and in range?)")


class StoreError(HoldTrackError):
    """The session database cannot be used (locked, damaged, unknown schema)."""


class UsageError(HoldTrackError):
    """A command or option the program cannot act on (an unknown source spec, a bad value)."""
