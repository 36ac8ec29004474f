"""Reading input files: HoldTrack recordings, the generic IMU CSV, phone exports.

Every reader validates what it reads and raises ``InputError`` naming the file and row,
so the CLI can print one clear line and exit 2. Tables are parsed by ``sensor.csvread``
(vectorized, streamed in blocks) and timestamps checked by ``sensor.timecheck``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from sensor.csvread import Source, check_regular, line_of, read_head, read_numeric
from sensor.errors import InputError
from sensor.events import Gap
from sensor.recording import MAGIC, Header, RecordingReader
from sensor.samples import COLUMNS, STANDARD_GRAVITY, Samples
from sensor.timecheck import regularize

CSV_COLUMNS = ("time_s",) + COLUMNS
MAX_NAN_RUN = 2  # isolated blank rows are dropouts; longer runs mean broken data
CHUNK = 65536  # samples per chunk handed to the pipeline

# Units a header may carry (``acc_x_mps2``, ``acc_x (m/s^2)``, ``gyro_x [deg/s]``), as factors to SI.
_UNITS: dict[str, dict[str, float]] = {
    "time": {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3},
    "acc": {"": 1.0, "mps2": 1.0, "m/s^2": 1.0, "m/s2": 1.0, "m/s²": 1.0, "ms2": 1.0, "ms^-2": 1.0, "g": STANDARD_GRAVITY},
    "gyro": {"": 1.0, "rad/s": 1.0, "rads": 1.0, "radps": 1.0, "rad_s": 1.0, "dps": math.pi / 180, "deg/s": math.pi / 180,
             "°/s": math.pi / 180, "degps": math.pi / 180},
}
_NAME = re.compile(r"^(time|acc_[xyz]|gyro_[xyz])(?:_s\b)?[\s_]*[(\[]?\s*([^)\]]*?)\s*[)\]]?$")


def _header_columns(names: list[str], where: str) -> tuple[list[int], np.ndarray]:
    """Indices of time_s and the six channels in the header, and their factors to SI."""
    found: dict[str, tuple[int, float]] = {}
    for i, raw in enumerate(names):
        m = _NAME.match(raw.strip().lower())
        if not m:
            continue
        base, unit = m.group(1), m.group(2)
        if base == "time" and raw.strip().lower().startswith("time_s"):
            unit = unit or "s"
        kind = base.split("_")[0]
        if unit not in _UNITS[kind]:
            raise InputError(where, f"unknown unit {unit!r} in column {raw.strip()!r}", row=1)
        found.setdefault("time_s" if base == "time" else base, (i, _UNITS[kind][unit]))
    missing = [c for c in CSV_COLUMNS if c not in found]
    if missing:
        raise InputError(where, f"missing column(s) {', '.join(missing)}; expected header {','.join(CSV_COLUMNS)}", row=1)
    return [found[c][0] for c in CSV_COLUMNS], np.array([found[c][1] for c in CSV_COLUMNS])


def read_generic_csv(path: str | Path) -> Samples:
    """The generic IMU CSV of ``contract.md``, validated (comma, semicolon or tab separated;
    units in the header are converted)."""
    src = Source(Path(path))
    head = read_head(src)
    cols, scale = _header_columns(head.names, src.name)
    t, x = read_numeric(src, head, cols)
    if not len(t):
        raise InputError(src.name, "no samples after the header")
    if scale[0] != 1.0:
        t *= scale[0]
    if np.any(scale[1:] != 1.0):
        x *= scale[1:].astype(np.float32)
    return validate_samples(t, x, src.name, line_of(src, head))


def parse_generic_csv(text: str, path: str | Path = "<csv>") -> Samples:
    """The generic CSV from a string (tests, uploads): written to a temporary file and read."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "input.csv"
        p.write_text(text, encoding="utf-8")
        try:
            return read_generic_csv(p)
        except InputError as e:
            raise InputError(path, e.message, e.row) from None


def validate_samples(
    t: np.ndarray, x: np.ndarray, path: str | Path, lines: np.ndarray | Callable[[int], int] | None = None,
    csv_time: bool = True,
) -> Samples:
    """Checks shared by every tabular input; returns clean samples (``lines`` maps a sample
    index to its file line for messages)."""
    if lines is None:
        line: Callable[[int], int] = lambda i: i + 1  # noqa: E731
    elif callable(lines):
        line = lines
    else:
        arr = np.asarray(lines)
        line = lambda i: int(arr[i])  # noqa: E731
    if not np.all(np.isfinite(t)):
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise InputError(path, "time_s is missing or not a number", row=line(bad))
    inf = np.isinf(x)
    if inf.any():
        raise InputError(path, "infinite value", row=line(int(np.flatnonzero(inf.any(axis=1))[0])))
    nan_row = np.isnan(x).any(axis=1)
    if nan_row.any():
        # Find runs of NaN rows; short ones are dropped as dropouts.
        edges = np.diff(np.concatenate(([0], nan_row.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = np.flatnonzero(ends - starts > MAX_NAN_RUN)
        if long.size:
            a, b = starts[long[0]], ends[long[0]]
            raise InputError(path, f"run of {b - a} rows with missing or NaN values", row=line(int(a)))
        keep = np.flatnonzero(~nan_row)
        t, x = t[keep], x[keep]
        line = _skipping(line, keep)
    t = regularize(np.asarray(t, np.float64), path, line, csv_time=csv_time)
    check_units(t, x, path)
    return Samples(t, x)


def _skipping(line: Callable[[int], int], keep: np.ndarray) -> Callable[[int], int]:
    return lambda i: line(int(keep[i]))


def check_units(t: np.ndarray, x: np.ndarray, path: str | Path) -> None:
    """Catch the two common unit mistakes: acceleration in g, angular rate in deg/s."""
    acc_norm = np.linalg.norm(x[:, :3], axis=1)
    med = float(np.median(acc_norm))
    del acc_norm
    if 0.5 <= med <= 1.6:
        raise InputError(path, f"acceleration looks like g (median |acc| {med:.2f}); expected m/s² (×{STANDARD_GRAVITY})")
    if not 5.0 <= med <= 15.0:
        raise InputError(path, f"median |acc| is {med:.3g}; expected about 9.81 m/s² (specific force, gravity included)")
    if float(np.percentile(np.linalg.norm(x[:, 3:], axis=1), 99.5)) > 25.0:
        raise InputError(path, "angular rate looks like deg/s (values above 25); expected rad/s")
    if _gyro_to_tilt_ratio(t, x) > 8.0:
        raise InputError(path, "angular rate looks like deg/s (≈57× the rotation the accelerometer shows); expected rad/s")


def _gyro_to_tilt_ratio(t: np.ndarray, x: np.ndarray) -> float:
    """Median of (integrated |gyro|) / (change of gravity direction) between consecutive
    1-s blocks in which the tilt clearly changed: about 1 for rad/s, about 57 for deg/s.
    Block means by reshaping, so memory stays a small fraction of the samples."""
    n = len(t)
    rate = 1.0 / float(np.median(np.diff(t)))
    w = max(2, int(rate))
    if n < 3 * w:
        return 1.0
    nb = n // w
    sm = x[: nb * w, :3].reshape(nb, w, 3).mean(axis=1, dtype=np.float64)
    sm /= np.linalg.norm(sm, axis=1, keepdims=True)
    a, b = sm[:-1], sm[1:]
    m = nb - 1  # the last window ends at (nb - 1) * w + w // 2 <= n
    tilt = np.arccos(np.clip(np.sum(a * b, axis=1), -1, 1))
    # window j covers samples [j*w + w//2, j*w + w + w//2)
    lo = w // 2
    g = np.linalg.norm(x[lo : lo + m * w, 3:], axis=1) * np.diff(t, append=t[-1])[lo : lo + m * w]
    integ = g.reshape(m, w).sum(axis=1)
    sel = tilt > math.radians(10)
    if sel.sum() < 3:
        return 1.0
    return float(np.median(integ[sel] / tilt[sel]))


_PHONE_HEADER = re.compile(r"time \(s\)|acceleration x|gyroscope x|linear acceleration|seconds_elapsed", re.I)


def sniff_kind(path: Path) -> str:
    """'recording', 'csv' or 'phone_export'; raise for anything else."""
    if path.is_dir() or path.suffix.lower() in (".zip", ".xls", ".xlsx"):
        return "phone_export"
    check_regular(path)
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    if head.startswith(MAGIC):
        return "recording"
    if not head.strip():
        raise InputError(path, "empty file")
    if head.startswith(b"PK\x03\x04"):
        return "phone_export"
    first = head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0]
    if "time_s" in first.lower() and "acc_x" in first.lower():
        return "csv"
    if _PHONE_HEADER.search(first):
        return "phone_export"
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        return "csv"  # let the CSV reader say what is missing
    raise InputError(path, "unknown format (expected a .htrec recording, the generic IMU CSV, or a phone export)")


def open_input(path: str | Path) -> tuple[Header, Iterable[Samples | Gap]]:
    """A header and the stream of sample chunks and gaps for any supported input."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    kind = sniff_kind(path)
    if kind == "recording":
        reader = RecordingReader(path)
        return reader.header, _checked_recording(reader)
    header, samples = _read_table_input(path, kind)
    return header, samples.chunks(CHUNK)  # views, not copies


def _read_table_input(path: Path, kind: str) -> tuple[Header, Samples]:
    if kind == "csv":
        return Header(source="csv", device={"profile": "csv"}), read_generic_csv(path)
    from sensor.phone import read_export

    return Header(source="phone-export", device={"profile": "phone"}), read_export(path)


def _checked_recording(reader: RecordingReader) -> Iterator[Samples | Gap]:
    last = -math.inf
    for item in reader:
        if isinstance(item, Samples) and len(item):
            if item.time_s[0] <= last:
                raise InputError(reader.path, f"time goes backwards at {item.time_s[0]:.3f} s")
            last = float(item.time_s[-1])
        yield item


def read_samples(path: str | Path) -> tuple[Header, Samples, list[Gap]]:
    """Everything in an input file, in memory."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    kind = sniff_kind(path)
    if kind != "recording":
        header, samples = _read_table_input(path, kind)
        return header, samples, []
    header, items = open_input(path)
    parts: list[Samples] = []
    gaps: list[Gap] = []
    for it in items:
        (gaps if isinstance(it, Gap) else parts).append(it)  # type: ignore[arg-type]
    return header, Samples.concat(parts), gaps


def write_generic_csv(path: str | Path, samples: Samples) -> None:
    """The generic IMU CSV (``holdtrack export``); float32 values written exactly."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(CSV_COLUMNS) + "\n")
        for t, row in zip(samples.time_s.tolist(), samples.imu.tolist()):
            f.write(f"{t!r}," + ",".join(repr(v) for v in row) + "\n")
