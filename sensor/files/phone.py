"""Phone exports: Sensor Logger (folder or zip) and phyphox (CSV, zip, .xls).

Everything becomes ``Samples`` in the phone frame (x right, y up the screen, z out of the
screen) with Android's sign convention: specific force in m/s² (+9.81 on z lying face up),
angular rate in rad/s. Sensor Logger on iOS reports acceleration and gravity with the
opposite sign unless "Standardise Units & Frames" is on, so iOS data is flipped unless told
otherwise. Uncalibrated iOS acceleration is in g; HoldTrack never reads those streams.
Bad input raises ``InputError`` naming the file (or push batch) and the row.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.files.csvread import Head, Source, line_of, read_head, read_numeric
from sensor.files.validate import regularize, validate_samples
from sensor.samples import Samples, median
from sensor.sources.phone_streams import Stream, merge_streams, phyphox_column

# -- files -----------------------------------------------------------------------------------


class _Files:
    """CSV tables of a folder, a zip, one file or several files, by lower-case base name
    (first of each name wins). Nothing is read until asked for; zip members are capped."""

    def __init__(self, path: Path | list[Path]) -> None:
        paths = path if isinstance(path, list) else [path]
        self.path = str(paths[0].parent if len(paths) > 1 else paths[0])
        # One table given on its own: the rest of its export may sit beside it.
        self.lone = paths[0] if len(paths) == 1 and paths[0].suffix.lower() in (".csv", ".txt", ".tsv") else None
        self.sources: dict[str, Source] = {}
        self.excel: list[Path] = []
        for p in paths:
            self._add(p)
        self._heads: dict[str, Head] = {}

    def _add(self, path: Path) -> None:
        try:
            if path.is_dir():
                for f in sorted(path.rglob("*")):
                    if f.is_file() and not f.name.startswith("."):
                        self._add_file(f)
            elif path.exists():
                self._add_file(path)
            else:
                raise InputError(path, "no such file or folder")
        except OSError as e:
            raise InputError(path, f"cannot read: {e.strerror or e}") from None

    def _add_file(self, f: Path) -> None:
        suffix = f.suffix.lower()
        if suffix in (".xls", ".xlsx"):
            self.excel.append(f)
        elif suffix == ".zip" or (suffix != ".csv" and zipfile.is_zipfile(f)):
            try:
                with zipfile.ZipFile(f) as z:
                    for info in sorted(z.infolist(), key=lambda i: i.filename):
                        name = info.filename.lower()
                        if info.is_dir() or name.rsplit("/", 1)[-1].startswith("."):
                            continue
                        if name.endswith(".csv"):
                            self.sources.setdefault(name.rsplit("/", 1)[-1], Source(f, info.filename))
            except (zipfile.BadZipFile, OSError) as e:
                raise InputError(f, f"cannot read zip: {e}") from None
        elif suffix in (".csv", ".txt", ".tsv"):
            self.sources.setdefault(f.name.lower(), Source(f))

    def missing(self, wanted: tuple[str, ...], advice: str) -> InputError:
        """The error for an export without the ``wanted`` tables: when one table was given
        and they are beside it, the user gave a member of the export, not the export."""
        if self.lone is not None:
            beside: list[str] = []
            with contextlib.suppress(OSError):
                beside = sorted(f.name for f in self.lone.parent.iterdir() if f.name.lower() in wanted and f.is_file())
            if beside:
                return InputError(
                    self.path,
                    f"one table of an export; {', '.join(beside)} beside it: pass the folder {self.lone.parent} to read the whole export",
                )
        return InputError(self.path, advice)

    def head(self, base: str) -> Head:
        if base not in self._heads:
            self._heads[base] = read_head(self.sources[base])
        return self._heads[base]

    def names(self, base: str) -> list[str]:
        return [n.strip().strip('"').lower() for n in self.head(base).names]


def _stream(files: _Files, base: str, cols: list[int], time_ns: bool = False) -> Stream:
    """(time s, xyz) from columns ``cols`` (time first) of one table: rows with an empty cell
    dropped only where sets of unequal length end (phyphox), exact repeats dropped, ties and
    jitter re-spaced, larger steps back refused naming the row."""
    src, head = files.sources[base], files.head(base)
    t, v = read_numeric(src, head, cols, dtypes=(np.float64, np.float64))
    if time_ns:
        t = t / 1e9
    empty = np.isnan(t) | np.isnan(v).any(axis=1)
    if empty.any():
        last = np.flatnonzero(~empty)
        end = int(last[-1]) + 1 if last.size else 0
        if empty[:end].any() or not last.size:
            raise InputError(src.name, "empty cell", row=line_of(src, head)(int(np.flatnonzero(empty)[0])))
        t, v = t[:end], v[:end]  # a shorter set in a multi-set file
    if np.isinf(v).any():
        raise InputError(src.name, "infinite value", row=line_of(src, head)(int(np.flatnonzero(np.isinf(v).any(axis=1))[0])))
    same = np.concatenate([[False], (np.diff(t) == 0) & (np.diff(v, axis=0) == 0).all(axis=1)])
    keep = np.flatnonzero(~same)
    if keep.size < len(t):
        t, v = t[keep], v[keep]
    lines = line_of(src, head)
    return regularize(t, v, src.name, lambda i: lines(int(keep[i])), csv_time=False)


def _finish(where: str, s: Samples) -> Samples:
    med = median(np.linalg.norm(s.acc, axis=1))
    if med < 3.0:
        raise InputError(
            where,
            f"the acceleration lacks gravity (median |acc| {med:.2g} m/s²): "
            "export the accelerometer with g (phyphox 'Accelerometer', Sensor Logger 'TotalAcceleration')",
        )
    return validate_samples(s.time_s, s.imu, where, csv_time=False)


_SL_COLUMNS = ("time", "x", "y", "z")


def _is_sensor_logger(names: list[str]) -> bool:
    return all(c in names for c in _SL_COLUMNS) and (not names or names[0] == "time")


def _sensor_logger_stream(files: _Files, base: str) -> Stream | None:
    if base not in files.sources:
        return None
    names = files.names(base)
    if not _is_sensor_logger(names):
        raise InputError(files.sources[base].name, f"needs columns time, x, y, z; has {', '.join(names)}", row=1)
    return _stream(files, base, [names.index(c) for c in _SL_COLUMNS], time_ns=True)


def _metadata(files: _Files) -> dict[str, str]:
    """Sensor Logger's Metadata.csv first row by lower-case column name ({} when absent)."""
    if "metadata.csv" not in files.sources:
        return {}
    src = files.sources["metadata.csv"]
    with src.open() as f:
        text = f.read(64 * 1024).decode("utf-8-sig", "replace")
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2:
        return {}
    return {h.strip().lower(): v.strip().lower() for h, v in zip(rows[0], rows[1])}


def _platform(files: _Files) -> str:
    return _metadata(files).get("platform", "android") or "android"


def read_sensor_logger(path: str | Path, ios_standardised: bool | None = None) -> Samples:
    """A Sensor Logger export (folder or zip): ``TotalAcceleration.csv`` or
    ``Accelerometer.csv`` + ``Gravity.csv``, and ``Gyroscope.csv``; columns read by name.

    iOS recordings (``Metadata.csv`` platform) are sign-flipped to Android's convention
    unless "Standardise Units & Frames" was on: ``Metadata.csv``'s ``standardisation``
    column says so (app 1.5x and later); ``ios_standardised`` overrides it.
    """
    files = _Files(Path(path))
    return _finish(files.path, _sensor_logger(files, ios_standardised))


def _sensor_logger(files: _Files, ios_standardised: bool | None) -> Samples:
    where = files.path
    meta = _metadata(files)
    gyro = _sensor_logger_stream(files, "gyroscope.csv")
    if gyro is None:
        raise files.missing(("gyroscope.csv",), "no Gyroscope.csv: enable the gyroscope in Sensor Logger and record again")
    total = _sensor_logger_stream(files, "totalacceleration.csv")
    if total is not None:
        return merge_streams(where, total, gyro)
    acc = _sensor_logger_stream(files, "accelerometer.csv")
    gravity = _sensor_logger_stream(files, "gravity.csv")
    if acc is None or gravity is None:
        raise files.missing(
            ("totalacceleration.csv", "accelerometer.csv", "gravity.csv"),
            "needs TotalAcceleration.csv, or Accelerometer.csv and Gravity.csv: enable them in Sensor Logger",
        )
    if ios_standardised is None:
        ios_standardised = meta.get("standardisation") == "true"
    sign = -1.0 if meta.get("platform", "android") == "ios" and not ios_standardised else 1.0
    return merge_streams(where, (acc[0], acc[1] * sign), gyro, (gravity[0], gravity[1] * sign))


def _phyphox_streams(files: _Files, base: str) -> dict[str, Stream]:
    """Accelerometer/gyroscope streams in one phyphox table, each timed by the nearest
    time column to its left (single-set files have one, combined files several)."""
    names = files.names(base)
    kinds = [phyphox_column(n, base) for n in names]
    out: dict[str, Stream] = {}
    for kind in ("acc", "gyro", "linear"):
        cols = {k[1]: i for i, k in enumerate(kinds) if k and k[0] == kind}
        if not cols:
            continue
        name = files.sources[base].name
        if kind == "linear":  # never used: only its presence matters for the message
            out[kind] = (np.empty(0), np.empty((0, 3)))
            continue
        if set(cols) != {"x", "y", "z"}:
            raise InputError(name, f"{kind} needs x, y and z columns", row=1)
        first = min(cols.values())
        times = [i for i, k in enumerate(kinds[:first]) if k and k[0] == "time"]
        if not times:
            raise InputError(name, f"no time column before the {kind} columns", row=1)
        out[kind] = _stream(files, base, [times[-1], cols["x"], cols["y"], cols["z"]])
    return out


def read_phyphox(path: str | Path) -> Samples:
    """A phyphox CSV export: one file with both sensors, or a folder/zip of per-set files."""
    files = _Files(Path(path))
    return _finish(files.path, _phyphox(files))


def _phyphox(files: _Files) -> Samples:
    found: dict[str, Stream] = {}
    for base in files.sources:
        if base.startswith("meta") or base in ("device.csv", "time.csv"):
            continue
        for kind, stream in _phyphox_streams(files, base).items():
            found.setdefault(kind, stream)
    if "acc" not in found and "linear" in found:
        raise InputError(
            files.path,
            "linear acceleration lacks gravity: record phyphox's 'Accelerometer' (acceleration with g) together with the gyroscope",
        )
    if "acc" not in found or "gyro" not in found:
        has = "the gyroscope only" if "gyro" in found else "the accelerometer only" if "acc" in found else "no accelerometer or gyroscope"
        raise files.missing(
            ("accelerometer.csv",) if "gyro" in found else ("gyroscope.csv",),
            f"this phyphox export has {has}: use the simple experiment with "
            "Accelerometer and Gyroscope ticked (or a custom experiment with both) and export CSV",
        )
    return merge_streams(files.path, found["acc"], found["gyro"])


def _excel(files: _Files) -> Samples:
    """phyphox's Excel export (.xls): each sheet a set, read with xlrd when installed."""
    from sensor.files import phone_excel

    return phone_excel.read(files.excel[0])


def read_export(path: str | Path | list[Path], ios_standardised: bool | None = None) -> Samples:
    """Sensor Logger, phyphox or WitMotion-app export (file, folder, zip, or several files of
    one export), told apart by the columns of its tables, validated."""
    files = _Files([Path(p) for p in path] if isinstance(path, list) else Path(path))
    if not files.sources and files.excel:
        return _finish(files.path, _excel(files))
    headers = {}
    for base, src in files.sources.items():
        if not base.startswith("meta") and src.size() > 0:
            try:
                headers[base] = files.names(base)
            except InputError as e:
                if "empty file" not in e.message:
                    raise
    from sensor.files.app_export import is_witmotion, read_witmotion

    for base, names in headers.items():
        if is_witmotion(names):
            return read_witmotion(files.sources[base])
    if any(_is_sensor_logger(names) for names in headers.values()):
        return _finish(files.path, _sensor_logger(files, ios_standardised))
    if any(phyphox_column(n, b) is not None and phyphox_column(n, b) != ("time", "") for b, names in headers.items() for n in names):
        return _finish(files.path, _phyphox(files))
    raise InputError(files.path, "neither a Sensor Logger nor a phyphox export (no accelerometer or gyroscope tables found)")
