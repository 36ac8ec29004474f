"""HoldTrack's recording format (``.htrec``): samples -> file -> the same samples.

Layout: an 8-byte magic, then records ``[kind u8][length u32][crc32 u32][payload]``.
Every record is self-checking and written whole, so the file is append-only and
crash-safe: after a ``kill -9`` or a power cut the reader keeps every complete record and
reports the torn tail. Kinds:

- ``H`` header, JSON: format version, app version, device, rate, mounting, calibration.
- ``S`` samples: ``n u32``, then zlib of the byte-shuffled float64 times and float32
  channels (lossless: replay gives the pipeline the very same bits).
- ``G`` gap, JSON ``{start_s, end_s, reason}``: samples known to be missing (link lost).
- ``M`` metadata update, JSON (calibration found, notes, link events).
- ``E`` end, JSON: a clean stop.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from sensor import __version__
from sensor.errors import RecordingError
from sensor.events import Gap
from sensor.samples import Samples

MAGIC = b"HTREC\x00\x01\n"
FORMAT_VERSION = 1
SUFFIX = ".htrec"
_REC = struct.Struct("<cII")
_MAX_PAYLOAD = 64 << 20  # a length beyond this is damage, not data


def _shuffle(a: np.ndarray) -> bytes:
    """Byte-shuffle (all first bytes, then all second bytes...): zlib then finds the
    slowly varying high bytes of neighbouring samples."""
    item = a.dtype.itemsize
    return np.ascontiguousarray(a.reshape(-1).view(np.uint8).reshape(-1, item).T).tobytes()


def _unshuffle(b: bytes, dtype: np.dtype, n: int) -> np.ndarray:
    item = np.dtype(dtype).itemsize
    raw = np.frombuffer(b, np.uint8)
    if raw.size != n * item:
        raise ValueError("block size mismatch")
    return np.ascontiguousarray(raw.reshape(item, n).T).view(dtype).reshape(n)


_BLOCK = struct.Struct("<IB")  # sample count, encoding
_RAW, _QUANTIZED = 0, 1


def _quantize(s: Samples, lsb: np.ndarray | None, time_quantum_s: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer ticks and counts when they reproduce the samples bit for bit, else None.

    Sensors deliver integer counts times a scale, and clocks tick in µs: stored as
    integers (delta-coded) they compress several times better than floats.
    """
    if lsb is None or len(s) == 0:
        return None
    ticks = np.round(s.time_s / time_quantum_s)
    if not np.array_equal(ticks * time_quantum_s, s.time_s) or np.abs(ticks).max() >= 2**62:
        return None
    counts = np.round(s.imu.astype(np.float64) / lsb)
    if np.abs(counts).max() >= 2**31 or not np.array_equal((counts * lsb).astype(np.float32), s.imu):
        return None
    return ticks.astype(np.int64), counts.astype(np.int32)


def encode_samples(s: Samples, lsb: np.ndarray | None = None, time_quantum_s: float = 1e-6) -> bytes:
    """One block; quantized when lossless, else shuffled floats."""
    n = len(s)
    q = _quantize(s, lsb, time_quantum_s)
    if q is None:
        body = _shuffle(s.time_s) + _shuffle(np.ascontiguousarray(s.imu.T))  # channel-major
        return _BLOCK.pack(n, _RAW) + zlib.compress(body, 6)
    ticks, counts = q
    dt = np.diff(ticks, prepend=0)
    dc = np.diff(counts, axis=0, prepend=np.zeros((1, 6), np.int32))
    body = struct.pack("<d6d", time_quantum_s, *lsb.tolist()) + _shuffle(dt) + _shuffle(np.ascontiguousarray(dc.T))
    return _BLOCK.pack(n, _QUANTIZED) + zlib.compress(body, 9)


def decode_samples(payload: bytes) -> Samples:
    n, enc = _BLOCK.unpack_from(payload)
    raw = zlib.decompress(payload[_BLOCK.size :])
    if enc == _RAW:
        if len(raw) != n * 8 + n * 6 * 4:
            raise ValueError("sample block has the wrong size")
        t = _unshuffle(raw[: n * 8], np.float64, n)
        x = _unshuffle(raw[n * 8 :], np.float32, n * 6).reshape(6, n).T
        return Samples(t, x)
    if enc != _QUANTIZED or len(raw) != 56 + n * 8 + n * 6 * 4:
        raise ValueError("unknown or damaged sample block")
    quantum, *lsb = struct.unpack_from("<d6d", raw)
    ticks = np.cumsum(_unshuffle(raw[56 : 56 + n * 8], np.int64, n))
    counts = np.cumsum(_unshuffle(raw[56 + n * 8 :], np.int32, n * 6).reshape(6, n).T, axis=0, dtype=np.int64)
    return Samples(ticks * quantum, (counts * np.array(lsb)).astype(np.float32))


@dataclass(slots=True)
class Header:
    """What a recording says about itself."""

    device: dict[str, Any] = field(default_factory=dict)  # profile, name, address
    sample_rate_hz: float = 0.0  # nominal; the pipeline reads the true rate from the times
    mount: str = "back"
    calibration: dict[str, Any] | None = None
    source: str = ""  # "ble", "simulated", "phone-push", "csv-import"...
    created_utc: str = ""
    app_version: str = __version__
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

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
        }

    @staticmethod
    def from_json(obj: dict[str, Any]) -> "Header":
        return Header(
            device=dict(obj.get("device") or {}),
            sample_rate_hz=float(obj.get("sample_rate_hz") or 0.0),
            mount=str(obj.get("mount") or "back"),
            calibration=obj.get("calibration"),
            source=str(obj.get("source") or ""),
            created_utc=str(obj.get("created_utc") or ""),
            app_version=str(obj.get("app_version") or ""),
            format_version=int(obj.get("format_version") or FORMAT_VERSION),
            extra=dict(obj.get("extra") or {}),
        )


class RecordingWriter:
    """Appends samples to a recording; whole blocks reach the OS at least every
    ``flush_interval_s`` of wall time or ``block_s`` of sample time, so a crash loses at
    most that much.

    Use as a context manager; ``close()`` writes the end record.
    """

    def __init__(
        self,
        path: str | Path,
        header: Header,
        *,
        block_s: float = 0.5,
        flush_interval_s: float = 0.5,
        fsync: bool = False,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not header.created_utc:
            header.created_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._f: BinaryIO = open(self.path, "xb")  # never overwrite a recording
        self._block_s = block_s
        self._flush_interval_s = flush_interval_s
        self._fsync = fsync
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
        self._f.write(MAGIC)
        self._record(b"H", json.dumps(header.to_json()).encode())
        self._sync()

    def _record(self, kind: bytes, payload: bytes) -> None:
        self._f.write(_REC.pack(kind, len(payload), zlib.crc32(payload)) + payload)

    def _sync(self) -> None:
        self._f.flush()
        if self._fsync:
            os.fsync(self._f.fileno())
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
        self.flush()
        self._record(b"E", json.dumps({"samples": self.samples_written}).encode())
        self._sync()
        self._f.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(slots=True)
class Recording:
    """A recording read back whole."""

    path: Path
    header: Header
    samples: Samples
    gaps: list[Gap]
    notes: list[dict[str, Any]]
    complete: bool  # an end record was found
    torn_tail: bool  # the file ends in a partial record (crash while writing)
    damaged_blocks: int


class RecordingReader:
    """Reads a recording record by record (memory stays bounded for long sessions)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._f: BinaryIO = open(self.path, "rb")
        except OSError as e:
            raise RecordingError(self.path, f"cannot open: {e.strerror}") from None
        if self._f.read(len(MAGIC)) != MAGIC:
            self._f.close()
            raise RecordingError(self.path, "not a HoldTrack recording (bad magic)")
        self.complete = False
        self.torn_tail = False
        self.damaged_blocks = 0
        self.notes: list[dict[str, Any]] = []
        first = self._next_record()
        if first is None or first[0] != b"H":
            self._f.close()
            raise RecordingError(self.path, "recording has no header")
        try:
            self.header = Header.from_json(json.loads(first[1]))
        except (ValueError, TypeError) as e:
            raise RecordingError(self.path, f"bad header: {e}") from None

    def _next_record(self) -> tuple[bytes, bytes] | None:
        while True:
            offset = self._f.tell()
            head = self._f.read(_REC.size)
            if not head:
                return None
            if len(head) < _REC.size:
                self.torn_tail = True
                return None
            kind, length, crc = _REC.unpack(head)
            if length > _MAX_PAYLOAD:
                raise RecordingError(self.path, f"damaged record at byte {offset}")
            payload = self._f.read(length)
            if len(payload) < length:
                self.torn_tail = True
                return None
            if zlib.crc32(payload) != crc:
                # A bad block in the middle: skip it, keep the rest, say so.
                self.damaged_blocks += 1
                continue
            return kind, payload

    def __iter__(self) -> Iterator[Samples | Gap]:
        """Sample blocks and gaps in stream order."""
        try:
            while (rec := self._next_record()) is not None:
                kind, payload = rec
                if kind == b"S":
                    try:
                        yield decode_samples(payload)
                    except (ValueError, zlib.error, struct.error):
                        self.damaged_blocks += 1
                elif kind == b"G":
                    g = json.loads(payload)
                    yield Gap(float(g["start_s"]), float(g["end_s"]))
                elif kind == b"M":
                    self.notes.append(json.loads(payload))
                elif kind == b"E":
                    self.complete = True
        finally:
            self._f.close()

    def read(self) -> Recording:
        parts: list[Samples] = []
        gaps: list[Gap] = []
        for item in self:
            (parts if isinstance(item, Samples) else gaps).append(item)  # type: ignore[arg-type]
        return Recording(
            self.path,
            self.header,
            Samples.concat(parts),
            gaps,
            self.notes,
            self.complete,
            self.torn_tail,
            self.damaged_blocks,
        )


def read_recording(path: str | Path) -> Recording:
    return RecordingReader(path).read()


def write_recording(path: str | Path, header: Header, samples: Samples, gaps: "Sequence[Gap]" = ()) -> None:
    """Write a whole recording at once (simulator, imports); gaps go in stream order."""
    with RecordingWriter(path, header, block_s=10.0, flush_interval_s=1e9) as w:
        t = samples.time_s
        cuts = [0]
        for g in sorted(gaps, key=lambda g: g.start_s):
            cuts.append(int(np.searchsorted(t, g.end_s)))
        bounds = list(zip(cuts, cuts[1:] + [len(samples)]))
        for i, (a, b) in enumerate(bounds):
            if i > 0:
                g = sorted(gaps, key=lambda g: g.start_s)[i - 1]
                w.mark_gap(g.start_s, g.end_s)
            for piece in samples[a:b].chunks(4096):
                w.write(piece)
