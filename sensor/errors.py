"""HoldTrack's exceptions and exit codes: one tree, one table.

Every error carries structured fields: ``identifier`` (the file, device or database it is
about, or None), ``row`` (1-based line of a file, or None) and ``reason`` (what is wrong,
without the identifier); ``str(err)`` joins them into the one line shown to the user.
``exit_code(exc)`` maps an exception to the process exit status through ``EXIT_CODES``,
the only such table (documented in README.md, "Exit codes").
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Any


class ExitCode(IntEnum):
    """What ``holdtrack`` returns to the shell."""

    OK = 0
    OTHER = 1  # anything else: a failed file among several, a refused overwrite, a bug
    INPUT = 2  # bad input: a file that cannot be read as IMU data, or a bad command line (as argparse)
    DEVICE = 3  # Bluetooth: no adapter, sensor not found or not supported, protocol trouble
    STORE = 4  # the session database cannot be used (locked, damaged, unknown schema)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class HoldTrackError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""

    def __init__(self, reason: str, *, identifier: str | Path | None = None, row: int | None = None) -> None:
        self.reason = reason
        self.identifier = None if identifier is None else shown(identifier)
        self.row = row
        if self.identifier is None:
            line = reason
        else:
            where = f"{self.identifier}, row {row}" if row is not None else self.identifier
            line = f"{where}: {reason}"
        super().__init__(line)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields, not by calling the subclass's __init__ with ``args`` (the
        # default), which fails for InputError(path, message): an error raised in a worker
        # process then broke the whole pool ("internal error: BrokenProcessPool").
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[HoldTrackError], args: tuple[Any, ...], state: dict[str, Any]) -> HoldTrackError:
    err = cls.__new__(cls)
    err.args = args  # the one line shown, as it was
    err.__dict__.update(state)  # reason, identifier, row and a subclass's own fields
    return err


def shown(name: str | Path) -> str:
    """A file name as text: bytes that are not UTF-8 (a name from another system) as \\xff."""
    text = str(name)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


class UsageError(HoldTrackError):
    """A command line that cannot be carried out as given (exit code as argparse's)."""


class InputError(HoldTrackError):
    """A file or stream that cannot be read as IMU data (names the file and row)."""

    def __init__(self, path: str | Path, message: str, row: int | None = None) -> None:
        super().__init__(message, identifier=path, row=row)

    @property
    def path(self) -> str:
        """The file (the identifier of an input error)."""
        return str(self.identifier)

    @property
    def message(self) -> str:
        """What is wrong with it (the reason)."""
        return self.reason


class RecordingError(InputError):
    """A HoldTrack recording that is damaged beyond its crash-safe tail."""


class DeviceError(HoldTrackError):
    """Bluetooth trouble: no adapter, adapter off, device missing or not a supported sensor."""


class DeviceNotFoundError(DeviceError):
    """No device answers to the name or address given."""

    def __init__(self, identifier: str) -> None:
        super().__init__(f"device {identifier!r} not found (is it on, charged and in range?)")
        self.identifier = identifier


class ProtocolError(DeviceError):
    """A device sent bytes that do not follow its protocol (a malformed frame or reply)."""


class OutputError(HoldTrackError):
    """A file being written could not be (disk full, no permission): nothing half-written is
    left under its name (``sensor.files.output``)."""


class StoreError(HoldTrackError):
    """The session database cannot be used (locked, damaged, unknown schema)."""


# Most specific first: the first class an exception is an instance of gives its code.
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (InputError, ExitCode.INPUT),
    (UsageError, ExitCode.INPUT),
    (DeviceError, ExitCode.DEVICE),
    (StoreError, ExitCode.STORE),
    (HoldTrackError, ExitCode.OTHER),
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
    (BrokenPipeError, ExitCode.OK),  # the reader of stdout went away (``| head``): not a failure
)


def exit_code(exc: BaseException) -> ExitCode:
    """The exit code for an exception (``ExitCode.OTHER`` for anything not in the table)."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return ExitCode.OTHER
