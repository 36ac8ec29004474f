"""Reading input files: HoldTrack recordings, the generic IMU CSV, phone exports.

Every reader validates what it reads and raises ``InputError`` naming the file and row,
so the CLI can print one clear line and exit 2. Tables are parsed by ``sensor.files.csvread``
(vectorized, streamed in blocks) and timestamps checked by ``sensor.files.timecheck``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.events import Gap
from sensor.files.csvread import Head, Source, check_regular, iter_numeric, line_of, prefetched, read_head
from sensor.files.limits import MAX_STREAMED_ROWS
from sensor.files.validate import SampleChecker, check_units, validate_samples
from sensor.recording import MAGIC, SUFFIX, RecordingReader, read_header
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.stream import Header
from sensor.vocab import CSV_COLUMNS

__all__ = [
    "CSV_COLUMNS",
    "check_units",
    "open_input",
    "read_generic_csv",
    "read_samples",
    "sniff_kind",
    "validate_samples",
    "write_generic_csv",
]

CHUNK = 65536  # samples per chunk handed to the pipeline

# Units a header may carry (``acc_x_mps2``, ``acc_x (m/s^2)``, ``gyro_x [deg/s]``), as factors to SI.
_UNITS: dict[str, dict[str, float]] = {
    "time": {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3},
    "acc": {"": 1.0, "mps2": 1.0, "m/s^2": 1.0, "m/s2": 1.0, "m/s²": 1.0, "ms2": 1.0, "ms^-2": 1.0, "g": STANDARD_GRAVITY},
    "gyro": {
        "": 1.0,
        "rad/s": 1.0,
        "rads": 1.0,
        "radps": 1.0,
        "rad_s": 1.0,
        "dps": math.pi / 180,
        "deg/s": math.pi / 180,
        "°/s": math.pi / 180,
        "degps": math.pi / 180,
    },
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


MIN_ROW_BYTES = len("0,0,0,0,0,0,0\n")


def read_generic_csv(path: str | Path) -> Samples:
    """The generic IMU CSV of ``contract.md``, validated, in memory. Blocks are copied into
    arrays sized for the most rows the file could hold: pages never written cost no memory,
    so the peak is the samples plus one block (not twice the samples, as joining would)."""
    blocks = iter_generic_csv(path)
    cap = min(MAX_STREAMED_ROWS, Path(path).stat().st_size // MIN_ROW_BYTES + 2)
    t, x, n = np.empty(cap), np.empty((cap, 6), np.float32), 0
    for s in blocks:
        m = len(s)
        if n + m > cap:  # cannot happen for a file of whole rows; kept safe anyway
            cap = n + m
            t, x = np.resize(t, cap), np.resize(x, (cap, 6))
        t[n : n + m], x[n : n + m] = s.time_s, s.imu
        n += m
    return Samples(t[:n], x[:n])


def iter_generic_csv(path: str | Path) -> Iterator[Samples]:
    """The generic IMU CSV, validated block by block (comma, semicolon or tab separated;
    units in the header converted). The header is checked before the first block."""
    src = Source(Path(path))
    head = read_head(src)
    cols, scale = _header_columns(head.names, src.name)
    return _csv_blocks(src, head, cols, scale)


def _csv_blocks(src: Source, head: Head, cols: list[int], scale: np.ndarray) -> Iterator[Samples]:
    checker = SampleChecker(src.name, line_of(src, head))
    x_scale = scale[1:].astype(np.float32) if np.any(scale[1:] != 1.0) else None
    empty = True
    for t, x in prefetched(iter_numeric(src, head, cols, MAX_STREAMED_ROWS)):  # memory: a block, whatever the rows
        empty = empty and not len(t)
        if scale[0] != 1.0:
            t *= scale[0]
        if x_scale is not None:
            x *= x_scale
        for b in checker.push(t, x):
            yield Samples(*b)
    if empty:
        raise InputError(src.name, "no samples after the header")
    for b in checker.finish():
        yield Samples(*b)


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


_PHONE_HEADER = re.compile(r"time \(s\)|acceleration x|gyroscope x|linear acceleration|seconds_elapsed|accx\(g\)", re.I)


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
    if path.suffix.lower() == SUFFIX:
        raise InputError(path, "not a HoldTrack recording (bad magic)")
    if not head.strip():
        raise InputError(path, "empty file")
    if head.startswith(b"PK\x03\x04"):
        return "phone_export"
    lines = head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise InputError(path, "empty file (no header line)")
    first = lines[0]
    if "time_s" in first.lower() and "acc_x" in first.lower():
        return "csv"
    if _PHONE_HEADER.search(first):
        return "phone_export"
    if path.suffix.lower() in (".csv", ".tsv"):
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
    if kind == "csv":  # streamed: memory is one block, whatever the file's length
        return _table_header(kind), iter_generic_csv(path)
    header, samples = _read_table_input(path, kind)
    return header, samples.chunks(CHUNK)  # views, not copies


def input_header(path: str | Path) -> Header:
    """The header ``open_input`` gives a file, without reading its samples (a recording's
    own header; what a CSV or a phone export is)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    kind = sniff_kind(path)
    return read_header(path) if kind == "recording" else _table_header(kind)


def _table_header(kind: str) -> Header:
    if kind == "csv":
        return Header(source="csv", device={"profile": "csv"})
    return Header(source="phone-export", device={"profile": "phone"})


def _read_table_input(path: Path, kind: str) -> tuple[Header, Samples]:
    if kind == "csv":
        return _table_header(kind), read_generic_csv(path)
    from sensor.files.phone import read_export

    return _table_header(kind), read_export(path)


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


def write_generic_csv(path: str | Path, samples: Samples | Iterable[Samples], block: int = 65536) -> None:
    """The generic IMU CSV (``holdtrack export``, ``simulate``): the one writer. Every value
    reads back exactly: times to 17 significant digits (float64), channels to 9 (float32).
    Written beside ``path`` and renamed into place when whole (``sensor.files.output``).
    ``samples``: all at once, or blocks of them (memory is then one block, however long).
    ``block`` rows are formatted by one %-operation (no Python loop per row)."""
    from sensor.files.output import atomic_output

    row = ",".join(["%.17g"] + ["%.9g"] * (len(CSV_COLUMNS) - 1)) + "\n"
    with atomic_output(path, "w", encoding="utf-8", newline="") as f:  # never a truncated CSV under its name
        f.write(",".join(CSV_COLUMNS) + "\n")
        for chunk in [samples] if isinstance(samples, Samples) else samples:
            for i in range(0, len(chunk), block):
                part = chunk[i : i + block]
                table = np.column_stack([part.time_s, part.imu.astype(np.float64)])
                f.write(row * len(part) % tuple(table.ravel().tolist()))
