"""The ``.htrec`` format's pieces: record framing, the sample-block codec, the header,
and what a reader found (``ReadStatus``). The file layout is in ``sensor.recording``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensor import __version__
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


def _unshuffle(b: bytes, dtype: type[np.generic] | np.dtype[Any], n: int) -> np.ndarray:
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
    assert lsb is not None  # _quantize quantizes only with an LSB
    dt = np.diff(ticks, prepend=0)
    dc = np.diff(counts, axis=0, prepend=np.zeros((1, 6), np.int32))
    body = struct.pack("<d6d", time_quantum_s, *lsb.tolist()) + _shuffle(dt) + _shuffle(np.ascontiguousarray(dc.T))
    return _BLOCK.pack(n, _QUANTIZED) + zlib.compress(body, 9)


MAX_BLOCK_SAMPLES = 1 << 18  # per record (the writer's blocks hold seconds, not hours)


def _inflate(data: bytes, size: int) -> bytes:
    """zlib-decompress exactly ``size`` bytes; more (a bomb) or less is damage."""
    d = zlib.decompressobj()
    raw = d.decompress(data, size + 1)
    if len(raw) != size or d.unconsumed_tail:
        raise ValueError("sample block does not decompress to its stated size")
    return raw


def decode_samples(payload: bytes) -> Samples:
    """One block back to samples; decompression is bounded by the stated sample count."""
    n, enc = _BLOCK.unpack_from(payload)
    if n > MAX_BLOCK_SAMPLES:
        raise ValueError(f"sample block claims {n} samples (at most {MAX_BLOCK_SAMPLES})")
    if enc == _RAW:
        raw = _inflate(payload[_BLOCK.size :], n * 8 + n * 6 * 4)
        t = _unshuffle(raw[: n * 8], np.float64, n)
        x = _unshuffle(raw[n * 8 :], np.float32, n * 6).reshape(6, n).T
        return Samples(t, x)
    if enc != _QUANTIZED:
        raise ValueError("unknown sample block encoding")
    raw = _inflate(payload[_BLOCK.size :], 56 + n * 8 + n * 6 * 4)
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
        }

    @staticmethod
    def from_json(obj: Any) -> Header:
        """A header from its JSON; ValueError names the first field of the wrong shape."""
        from sensor.body import MOUNTS

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
        return Header(
            device=dict(obj.get("device") or {}),
            sample_rate_hz=float(rate),
            mount=str(mount),
            calibration=obj.get("calibration"),
            source=str(obj.get("source") or ""),
            created_utc=str(obj.get("created_utc") or ""),
            app_version=str(obj.get("app_version") or ""),
            format_version=version,
            extra=extra,
        )


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
