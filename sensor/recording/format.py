"""The ``.htrec`` format's pieces: record framing and the sample-block codec. The file
layout is in ``sensor.recording``; the header it serializes is ``sensor.stream.Header``.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

from sensor.samples import Samples
from sensor.stream import FORMAT_VERSION as FORMAT_VERSION
from sensor.vocab import RECORDING_SUFFIX

MAGIC = b"HTREC\x00\x01\n"
SUFFIX = RECORDING_SUFFIX
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
