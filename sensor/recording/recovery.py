"""Recovering recordings a crash left open (``kill -9``, a power cut): the readable
part is kept, the torn tail cut off and an end record added, so the file reads as whole
and the user is told how much was recovered."""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path
from typing import BinaryIO

from sensor.errors import RecordingError
from sensor.recording import RecordingReader
from sensor.recording.format import _REC
from sensor.recording.writer import _lock


def _ends_cleanly(path: Path) -> bool:
    """Whether the file's last record is a valid end record (reads only the tail)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 256))
        tail = f.read()
    for i in range(len(tail) - _REC.size, -1, -1):
        if tail[i] == ord("E"):
            _, length, crc = _REC.unpack_from(tail, i)
            if i + _REC.size + length == len(tail) and zlib.crc32(tail[i + _REC.size :]) == crc:
                return True
    return False


LOCK_PATIENCE_S = 1.0  # a writer's lock seen for this long is a live recording, not a fork's copy


def _lock_within(f: BinaryIO, patience_s: float) -> bool:
    """The recording's lock, retried for ``patience_s``: a process forked by another thread
    holds a copy of the writer's lock until it execs, so one refusal is not yet a live writer."""
    deadline = time.monotonic() + patience_s
    while not _lock(f, block=False):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def in_use(path: str | Path) -> bool:
    """Whether a writer still has the recording open (its lock held for ``LOCK_PATIENCE_S``):
    what it holds now is part of a session still being recorded."""
    with open(path, "rb") as f:
        return not _lock_within(f, LOCK_PATIENCE_S)


def recover_recording(path: str | Path) -> float | None:
    """Close a recording a crash left open: cut the torn tail and add an end record.
    Returns the seconds recovered, or None when it had ended cleanly or is in use."""
    path = Path(path)
    with open(path, "r+b") as f:
        if not _lock_within(f, LOCK_PATIENCE_S) or _ends_cleanly(path):
            return None
        reader = RecordingReader(path, validate=False)
        for _ in reader:
            pass
        if reader.status.complete:
            return None
        f.truncate(reader.valid_end)
        f.seek(reader.valid_end)
        body = json.dumps({"samples": reader.status.samples, "recovered": True}).encode()
        f.write(_REC.pack(b"E", len(body), zlib.crc32(body)) + body)
        f.flush()
        os.fsync(f.fileno())
    return reader.status.recovered_s


def recover_interrupted(folder: str | Path, pattern: str) -> list[tuple[Path, float]]:
    """Recover every interrupted recording in ``folder`` matching ``pattern`` (names this
    program gave its own recordings); unreadable ones are left as they are."""
    out = []
    for p in sorted(Path(folder).glob(pattern)):
        try:
            s = recover_recording(p)
        except (OSError, RecordingError):
            continue
        if s is not None:
            out.append((p, s))
    return out
