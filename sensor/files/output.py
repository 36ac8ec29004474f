"""Writing what a command outputs (exports, conversions, simulations) so that it fails
closed: never over an input, never over an existing file unless asked, and never a
truncated file under the final name: the bytes go to a temporary file in the same folder,
are fsynced and renamed into place. A write that fails is one line
(``disk full writing PATH``), not a traceback.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sensor.errors import HoldTrackError, OutputError, UsageError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def write_error(e: OSError, path: str | Path) -> OutputError:
    """The one line for a failed write: a full disk said as such."""
    if e.errno in DISK_FULL:
        return OutputError(f"disk full writing {path}: free some space")
    if e.errno == errno.EFBIG:
        return OutputError(f"file size limit reached writing {path}")
    return OutputError(f"cannot write {path}: {e.strerror or e}")


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (links and ``..`` included); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output(out: str | Path, option: str, inputs: Iterable[str | Path] = (), *, force: bool = False) -> None:
    """Refuse an output that is one of the ``inputs`` (``UsageError``: it would be replaced
    by what is read from it), a folder, or an existing file without ``force``."""
    out = Path(out)
    for src in inputs:
        if same_file(out, src):
            raise UsageError(f"{option} {out} is the input itself: writing it would replace what is read; choose another file")
    if out.is_dir():
        raise UsageError(f"{option} {out} is a folder: give a file name")
    if (out.exists() or out.is_symlink()) and not force:
        raise HoldTrackError("exists (use --force to replace it)", identifier=out)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (some file systems cannot sync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_beside(path: Path) -> Path:
    """A new, uniquely named empty file in ``path``'s folder (``.NAME.XXXX.part``)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    return Path(name)


@contextmanager
def atomic_output(path: str | Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """A file to write ``path`` through: a temporary file beside it, fsynced and renamed over
    ``path`` when the block ends without an exception, removed otherwise. ``OSError`` on
    the way becomes ``write_error``'s line."""
    path = Path(path)
    try:
        tmp = temp_beside(path)
    except OSError as e:
        raise write_error(e, path) from None
    try:
        with open(tmp, mode, **open_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise write_error(e, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
