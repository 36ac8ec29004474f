"""Writing a recording: ``RecordingWriter`` appends self-checking records as samples come
(fsync in a thread about once a second, an advisory lock while open) and ``write_recording``
writes a whole one at once. The layout is in ``sensor.recording``."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from sensor.errors import HoldTrackError, OutputError
from sensor.events import Gap
from sensor.files.output import fsync_dir
from sensor.recording.format import _REC
from sensor.recording.format import FORMAT_VERSION as FORMAT_VERSION
from sensor.recording.format import MAGIC as MAGIC
from sensor.recording.format import MAX_BLOCK_SAMPLES as MAX_BLOCK_SAMPLES
from sensor.recording.format import SUFFIX as SUFFIX
from sensor.recording.format import decode_samples as decode_samples
from sensor.recording.format import encode_samples as encode_samples
from sensor.samples import Samples, interleave
from sensor.stream import Header


class RecordingWriter:
    """Appends samples to a recording; whole blocks reach the OS at least every
    ``flush_interval_s`` of wall time or ``block_s`` of sample time, so a crash loses at
    most that much. A write that fails (a full disk) is an ``OutputError`` naming the file
    (``shown_as`` when writing a temporary one), and nothing more is written.

    Durability policy (``fsync=True``, the default): every block is fsync'ed as it is
    written (twice a second at the defaults; by a thread, so the caller never waits on the
    disk), and the folder entry once at creation, so a power cut loses at most the last
    second. ``close()`` writes the end record and always
    fsyncs. The file is locked while open so recovery never touches a live recording.
    Use as a context manager.
    """

    def __init__(
        self,
        path: str | Path,
        header: Header,
        *,
        block_s: float = 0.5,
        flush_interval_s: float = 0.5,
        fsync: bool = True,
        shown_as: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self._shown_as = shown_as or self.path  # the name errors give (a temporary file's final name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not header.created_utc:
            header.created_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._f: BinaryIO = open(self.path, "xb")  # noqa: SIM115 - held open for the writer's life; never overwrites a recording
        self.failed: OutputError | None = None  # a write failed (disk full): nothing more is written
        self._block_s = block_s
        self._flush_interval_s = flush_interval_s
        self._syncer: _Syncer | None = None
        self._pending: list[Samples] = []
        self._pending_n = 0
        self._last_flush = time.monotonic()
        self._last_t = -np.inf
        self.samples_written = 0
        # Quantization hints (from the device profile or simulator): blocks that match them
        # exactly are stored as integers, others as floats; either way lossless.
        lsb = header.extra.get("lsb")
        self._lsb = np.array(lsb, float) if lsb is not None and len(lsb) == 6 else None
        self._quantum = float(header.extra.get("time_quantum_s", 1e-6))
        _lock(self._f)
        try:
            self._guard(self._f.write, MAGIC)
            self._record(b"H", json.dumps(header.to_json()).encode())
            self._sync()
        except OutputError:  # not even the header fits: no recording is left behind
            self._f.close()
            self.path.unlink(missing_ok=True)
            raise
        # fsync waits on the disk (ms, more on a busy one): a thread does it, so the caller
        # (often an event loop streaming BLE) never blocks on it.
        self._syncer = _Syncer(self._f.fileno(), self.path.parent) if fsync else None
        self._sync()

    def _guard(self, write: Any, *args: Any) -> None:
        """Run one write; an ``OSError`` (a full disk) becomes one line, and the writer stops
        writing: the records already in the file stay readable, the last one maybe torn."""
        if self.failed is not None:
            raise self.failed
        try:
            write(*args)
        except OSError as e:
            from sensor.files.output import write_error

            self.failed = write_error(e, self._shown_as)
            raise self.failed from None

    def _record(self, kind: bytes, payload: bytes) -> None:
        self._guard(self._f.write, _REC.pack(kind, len(payload), zlib.crc32(payload)) + payload)

    def _sync(self) -> None:
        self._guard(self._f.flush)
        if self._syncer is not None:
            self._syncer.request()
        self._last_flush = time.monotonic()

    def write(self, samples: Samples) -> None:
        """Queue samples (times must increase across calls); flush when due."""
        if len(samples) == 0:
            return
        if samples.time_s[0] <= self._last_t or np.any(np.diff(samples.time_s) <= 0):
            raise ValueError("recording times must increase")
        self._last_t = float(samples.time_s[-1])
        self._pending.append(samples)
        self._pending_n += len(samples)
        span = self._last_t - float(self._pending[0].time_s[0])
        if span >= self._block_s or time.monotonic() - self._last_flush >= self._flush_interval_s:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            block = Samples.concat(self._pending)
            self._pending.clear()
            self._pending_n = 0
            self._record(b"S", encode_samples(block, self._lsb, self._quantum))
            self.samples_written += len(block)
        self._sync()

    def mark_gap(self, start_s: float, end_s: float, reason: str = "link lost") -> None:
        self.flush()
        self._record(b"G", json.dumps({"start_s": start_s, "end_s": end_s, "reason": reason}).encode())
        self._sync()

    def note(self, **fields: Any) -> None:
        """Record a metadata update (e.g. calibration found, link events)."""
        self.flush()
        self._record(b"M", json.dumps(fields).encode())
        self._sync()

    def close(self) -> None:
        if self._f.closed:
            return
        if self.failed is not None:  # no end record: the file reads as interrupted, all it holds kept
            if self._syncer is not None:
                self._syncer.stop()
            with contextlib.suppress(OSError):  # the buffered bytes that did not fit
                self._f.close()
            return
        self.flush()
        self._record(b"E", json.dumps({"samples": self.samples_written}).encode())
        self._sync()
        if self._syncer is not None:
            self._syncer.stop()
        os.fsync(self._f.fileno())
        self._f.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock(f: BinaryIO, block: bool = True) -> bool:
    """An advisory lock on an open recording; False if another process holds it."""
    try:
        import fcntl
    except ImportError:  # not on this platform: recovery then relies on the end record only
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


class _Syncer:
    """fsyncs a file in a thread whenever asked (requests made while one runs coalesce);
    the folder entry is synced first, once."""

    def __init__(self, fd: int, folder: Path) -> None:
        self._fd, self._folder = fd, folder
        self._wake = threading.Event()
        self._stopping = False
        self.fsyncs = 0
        self._thread = threading.Thread(target=self._run, name="htrec-fsync", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        fsync_dir(self._folder)
        while not self._stopping:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                os.fsync(self._fd)
                self.fsyncs += 1
            except OSError:
                return  # the file was closed under us; close() syncs on its own


def write_recording(path: str | Path, header: Header, samples: Samples, gaps: Sequence[Gap] = (), *, replace: bool = False) -> None:
    """Write a whole recording at once (simulator, imports); gaps go in stream order. It is
    written beside ``path`` and linked into place when whole, so a full disk never leaves
    part of one under the name; an existing file is a ``FileExistsError`` unless ``replace``."""
    from sensor.files.output import temp_beside, write_error

    path = Path(path)
    if path.exists() and not replace:
        raise FileExistsError(errno.EEXIST, "a recording is never overwritten", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_beside(path)
    except OSError as e:
        raise write_error(e, path) from None
    try:
        tmp.unlink()  # the writer creates its file exclusively
        with RecordingWriter(tmp, header, block_s=10.0, flush_interval_s=1e9, fsync=False, shown_as=path) as w:
            for item in interleave(samples, gaps):
                if isinstance(item, Gap):
                    w.mark_gap(item.start_s, item.end_s)
                    continue
                for piece in item.chunks(4096):
                    w.write(piece)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # FileExistsError if one appeared meanwhile: never over it
        fsync_dir(path.parent)
    except HoldTrackError:
        raise
    except FileExistsError:
        raise
    except OSError as e:
        raise write_error(e, path) from None
    finally:
        tmp.unlink(missing_ok=True)
