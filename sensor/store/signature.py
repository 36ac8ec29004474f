"""Whether two files hold the same samples, whatever their format: a small signature kept
with each session finds the candidates (the sample count, and the first and last samples of
all six channels), and a sample-by-sample comparison of the two files, both streamed,
decides. Two recordings that merely look alike (quiet, of one length) are never the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensor.errors import HoldTrackError
from sensor.samples import Samples

# Two files hold the same samples when they hold as many and every pair agrees, with times
# counted from each file's first sample, within these. They cover what writing samples out
# again does: float32 rounding (< 2e-6 m/s² at 16 g), a CSV with 3 decimals in g (±0.0049
# m/s²) or 2 in m/s² (±0.005), gyro with 1 decimal in °/s (±0.0009 rad/s) or 3 in rad/s,
# times in whole milliseconds (±0.0005 s). Two real recordings never agree this well at every
# sample: a body in a plank sways by more, and an IMU's own noise at rest (accelerometer
# ≈ 0.01-0.03 m/s², gyroscope ≈ 0.002 rad/s) differs from one recording to the next.
TIME_TOL_S = 0.001
ACC_TOL_MPS2 = 0.01
GYRO_TOL_RADS = 0.002
TOLERANCE = np.array([TIME_TOL_S] + [ACC_TOL_MPS2] * 3 + [GYRO_TOL_RADS] * 3)  # time, then the six channels
EDGE = 8  # samples kept from each end of a recording in its signature
VERSION = 2  # of the signature's JSON (1: count, span and 32 means of |acc|, which collided)


@dataclass(frozen=True, slots=True)
class Signature:
    """``n`` samples; ``head`` and ``tail``: the first and last (up to) ``EDGE`` of them as
    rows of (seconds after the first sample, the six channels)."""

    n: int
    head: np.ndarray
    tail: np.ndarray

    def to_json(self) -> str:
        return json.dumps({"v": VERSION, "n": self.n, "head": _rows(self.head), "tail": _rows(self.tail)})

    @staticmethod
    def from_json(text: str | None) -> Signature | None:
        """The signature stored with a session; None for none, or one of an older version."""
        if not text:
            return None
        try:
            obj = json.loads(text)
            if obj.get("v") != VERSION:
                return None
            return Signature(int(obj["n"]), _array(obj["head"]), _array(obj["tail"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def may_match(self, other: Signature) -> bool:
        """Whether the two can hold the same samples (the files decide: ``same_files``)."""
        return self.n == other.n and _close(self.head, other.head) and _close(self.tail, other.tail)


def _rows(a: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else round(float(v), 6) for v in row] for row in a]


def _array(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in rows], dtype=np.float64).reshape(-1, 7)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """Row by row within ``TOLERANCE`` (a value missing in both agrees)."""
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (np.abs(a - b) <= TOLERANCE)))


def sign(blocks: Iterable[Samples]) -> Signature:
    """The signature of a stream of sample blocks (only its ends are kept)."""
    n, t0 = 0, 0.0
    head: list[np.ndarray] = []
    tail = np.empty((0, 7))
    for s in blocks:
        if not len(s):
            continue
        if n == 0:
            t0 = float(s.time_s[0])
        rows = np.column_stack([s.time_s - t0, s.imu.astype(np.float64)])
        if n < EDGE:
            head.append(rows[: EDGE - n])
        tail = np.concatenate([tail, rows[-EDGE:]])[-EDGE:]
        n += len(s)
    return Signature(n, np.concatenate(head) if head else np.empty((0, 7)), tail)


def blocks_of(path: Path) -> Iterator[Samples]:
    """The sample blocks of any supported input, as ``analyze`` reads them (streamed)."""
    from sensor.files.inputs import open_input

    _, items = open_input(path)
    for item in items:
        if isinstance(item, Samples) and len(item):
            yield item


def sign_file(path: Path) -> Signature | None:
    """The signature of a file, or None when it cannot be read (the import then reports the
    file's own error; a stored session's missing file matches nothing)."""
    try:
        return sign(blocks_of(path))
    except (HoldTrackError, OSError, ValueError, MemoryError):
        return None


def same_files(a: Path, b: Path) -> bool:
    """Whether the two files hold the same samples (see the tolerances above); a file that
    cannot be read holds nothing the same. Both are streamed: memory is a block of each."""
    try:
        return same_streams(blocks_of(a), blocks_of(b))
    except (HoldTrackError, OSError, ValueError, MemoryError):
        return False


def same_streams(xs: Iterator[Samples], ys: Iterator[Samples]) -> bool:
    """Whether two streams of sample blocks hold the same samples, block sizes aside."""
    x = y = Samples.empty()
    tx = ty = None
    while True:
        if not len(x):
            x = next(xs, Samples.empty())
        if not len(y):
            y = next(ys, Samples.empty())
        if not len(x) or not len(y):
            return not len(x) and not len(y)
        tx = float(x.time_s[0]) if tx is None else tx
        ty = float(y.time_s[0]) if ty is None else ty
        k = min(len(x), len(y))
        a = np.column_stack([x.time_s[:k] - tx, x.imu[:k].astype(np.float64)])
        b = np.column_stack([y.time_s[:k] - ty, y.imu[:k].astype(np.float64)])
        if not _close(a, b):
            return False
        x, y = x[k:], y[k:]
