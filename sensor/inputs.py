"""Reading input files: HoldTrack recordings, the generic IMU CSV, phone exports.

Every reader validates what it reads and raises ``InputError`` naming the file and row,
so the CLI can print one clear line and exit 2.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.events import Gap
from sensor.recording import MAGIC, Header, RecordingReader
from sensor.samples import COLUMNS, STANDARD_GRAVITY, Samples

CSV_COLUMNS = ("time_s",) + COLUMNS
MAX_NAN_RUN = 2  # isolated blank rows are dropouts; longer runs mean broken data


def read_generic_csv(path: str | Path) -> Samples:
    """The generic IMU CSV of ``contract.md``, validated."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read: {e}") from None
    return parse_generic_csv(text, path)


def parse_generic_csv(text: str, path: str | Path = "<csv>") -> Samples:
    if not text.strip():
        raise InputError(path, "empty file")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; expected header {','.join(CSV_COLUMNS)}", row=1)
    idx = [header.index(c) for c in CSV_COLUMNS]
    rows: list[list[float]] = []
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        vals = []
        for name, i in zip(CSV_COLUMNS, idx):
            cell = row[i].strip() if i < len(row) else ""
            if cell == "" or cell.lower() == "nan":
                vals.append(math.nan)
                continue
            try:
                vals.append(float(cell))
            except ValueError:
                raise InputError(path, f"non-numeric value {cell[:20]!r} in column {name}", row=line_no) from None
        rows.append(vals)
    if not rows:
        raise InputError(path, "no samples after the header")
    data = np.array(rows, dtype=np.float64)
    lines = np.arange(2, 2 + len(rows))  # approximate when blank lines were skipped
    return validate_samples(data[:, 0], data[:, 1:], path, lines)


def validate_samples(t: np.ndarray, x: np.ndarray, path: str | Path, lines: np.ndarray | None = None) -> Samples:
    """Checks shared by every tabular input; returns clean samples."""
    if lines is None:
        lines = np.arange(1, len(t) + 1)
    if not np.all(np.isfinite(t)):
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise InputError(path, "time_s is missing or not a number", row=int(lines[bad]))
    nan_row = ~np.all(np.isfinite(x), axis=1)
    if nan_row.any():
        # Find runs of NaN rows; short ones are dropped as dropouts.
        edges = np.diff(np.concatenate(([0], nan_row.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = np.flatnonzero(ends - starts > MAX_NAN_RUN)
        if long.size:
            a, b = starts[long[0]], ends[long[0]]
            raise InputError(path, f"run of {b - a} rows with missing or NaN values", row=int(lines[a]))
        t, x, lines = t[~nan_row], x[~nan_row], lines[~nan_row]
    if len(t) < 2:
        raise InputError(path, "fewer than 2 samples")
    dt = np.diff(t)
    back = np.flatnonzero(dt <= 0)
    if back.size:
        i = int(back[0]) + 1
        what = "goes backwards" if dt[back[0]] < 0 else "repeats"
        raise InputError(path, f"time {what} ({t[i - 1]:.6f} then {t[i]:.6f})", row=int(lines[i]))
    rate = 1.0 / float(np.median(dt))
    if not 10.0 <= rate <= 2000.0:
        raise InputError(path, f"sample rate {rate:.3g} Hz read from time_s is not usable (is time_s in seconds?)")
    check_units(t, x, path)
    return Samples(t, x.astype(np.float32))


def check_units(t: np.ndarray, x: np.ndarray, path: str | Path) -> None:
    """Catch the two common unit mistakes: acceleration in g, angular rate in deg/s."""
    acc_norm = np.linalg.norm(x[:, :3], axis=1)
    med = float(np.median(acc_norm))
    if 0.5 <= med <= 1.6:
        raise InputError(path, f"acceleration looks like g (median |acc| {med:.2f}); expected m/s² (×{STANDARD_GRAVITY})")
    if not 5.0 <= med <= 15.0:
        raise InputError(path, f"median |acc| is {med:.3g}; expected about 9.81 m/s² (specific force, gravity included)")
    gyro = x[:, 3:]
    if float(np.percentile(np.linalg.norm(gyro, axis=1), 99.5)) > 25.0:
        raise InputError(path, "angular rate looks like deg/s (values above 25); expected rad/s")
    if _gyro_to_tilt_ratio(t, x) > 8.0:
        raise InputError(path, "angular rate looks like deg/s (≈57× the rotation the accelerometer shows); expected rad/s")


def _gyro_to_tilt_ratio(t: np.ndarray, x: np.ndarray) -> float:
    """Median of (integrated |gyro|) / (change of gravity direction) over 1-s windows in
    which the tilt clearly changed: about 1 for rad/s, about 57 for deg/s."""
    n = len(t)
    rate = 1.0 / float(np.median(np.diff(t)))
    w = max(2, int(rate))
    if n < 3 * w:
        return 1.0
    acc = x[:, :3]
    k = np.ones(w) / w
    sm = np.stack([np.convolve(acc[:, i], k, mode="valid") for i in range(3)], axis=1)
    sm /= np.linalg.norm(sm, axis=1, keepdims=True)
    a, b = sm[:-w:w], sm[w::w]
    m = min(len(a), len(b))
    tilt = np.arccos(np.clip(np.sum(a[:m] * b[:m], axis=1), -1, 1))
    gnorm = np.linalg.norm(x[:, 3:], axis=1) * np.concatenate((np.diff(t), [0.0]))
    cum = np.concatenate(([0.0], np.cumsum(gnorm)))
    # window j covers samples [j*w + w//2, j*w + w + w//2)
    starts = np.arange(m) * w + w // 2
    integ = cum[np.minimum(starts + w, n)] - cum[np.minimum(starts, n)]
    sel = tilt > math.radians(10)
    if sel.sum() < 3:
        return 1.0
    return float(np.median(integ[sel] / tilt[sel]))


def sniff_kind(path: Path) -> str:
    """'recording', 'csv', 'phyphox', 'sensor_logger' or raise."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "phone_export"
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    if head.startswith(MAGIC):
        return "recording"
    if not head:
        raise InputError(path, "empty file")
    first = head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0] if head else ""
    if "time_s" in first and "acc_x" in first:
        return "csv"
    if "Acceleration x" in first or "Gyroscope x" in first or "Linear Acceleration x" in first:
        return "phone_export"
    if path.suffix.lower() == ".csv":
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
    if kind == "csv":
        return Header(source="csv", device={"profile": "csv"}), [read_generic_csv(path)]
    from sensor.phone import read_export

    samples = read_export(path)
    samples = validate_samples(samples.time_s, samples.imu.astype(np.float64), path)
    return Header(source="phone-export", device={"profile": "phone"}), [samples]


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
