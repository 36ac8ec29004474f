"""Phone inputs: Sensor Logger HTTP push batches and exports, phyphox CSV exports.

Everything becomes ``Samples`` in the phone frame (x right, y up the screen, z out of the
screen) with Android's sign convention: specific force in m/s² (+9.81 on z lying face up),
angular rate in rad/s. Sensor Logger on iOS reports acceleration and gravity with the
opposite sign unless "Standardise Units & Frames" is on, so iOS data is flipped unless told
otherwise. Uncalibrated iOS acceleration is in g; HoldTrack never reads those streams.
Bad input raises ``InputError`` naming the file (or push batch) and the row.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sensor.csvread import Head, Source, line_of, read_head, read_numeric
from sensor.errors import InputError
from sensor.samples import Samples
from sensor.validate import regularize, validate_samples

Platform = Literal["android", "ios"]
Stream = tuple[np.ndarray, np.ndarray]  # times (n,) seconds, values (n, 3)

TOTAL, ACCEL, GRAVITY, GYRO = "totalacceleration", "accelerometer", "gravity", "gyroscope"
MAX_BUFFER_S = 30.0  # the push merger keeps at most this much of any one stream


# -- shared --------------------------------------------------------------------------------


def _clean(t: np.ndarray, v: np.ndarray) -> Stream:
    """Sort by time and drop repeated timestamps (Sensor Logger can log duplicates)."""
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    keep = np.concatenate([[True], np.diff(t) > 0]) if len(t) else np.zeros(0, bool)
    return t[keep], v[keep]


def _interp(t: np.ndarray, src: Stream) -> np.ndarray:
    """``src`` linearly interpolated at ``t`` (held beyond its ends)."""
    st, sv = src
    return np.stack([np.interp(t, st, sv[:, c]) for c in range(3)], axis=1)


def _merge(where: str, acc: Stream, gyro: Stream, gravity: Stream | None = None) -> Samples:
    """Acc-stream samples (plus gravity) with gyro interpolated, over the streams' overlap."""
    streams = [acc, gyro] + ([gravity] if gravity is not None else [])
    for s in streams:
        if len(s[0]) == 0:
            raise InputError(where, "a sensor stream has no samples")
    lo, hi = max(s[0][0] for s in streams), min(s[0][-1] for s in streams)
    inside = (acc[0] >= lo) & (acc[0] <= hi)
    t = acc[0][inside]
    if len(t) == 0:
        raise InputError(where, "the accelerometer and gyroscope recordings do not overlap in time")
    f = acc[1][inside] + (_interp(t, gravity) if gravity is not None else 0.0)
    return Samples(t, np.concatenate([f, _interp(t, gyro)], axis=1))


# -- Sensor Logger HTTP push ---------------------------------------------------------------


def parse_push(batch: bytes | str | Mapping[str, Any], source: str = "push") -> dict[str, Stream]:
    """One push body -> {sensor name: (epoch s, xyz)} for the sensors HoldTrack uses.

    Items are ``{"name", "time": epoch ns, "values": {"x", "y", "z"}}``; ``x, y, z`` at the
    item's top level are accepted too. Other sensors are skipped. ``InputError.row`` is the
    1-based index of the offending payload item.
    """
    if isinstance(batch, (bytes, str)):
        try:
            batch = json.loads(batch)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(source, f"not JSON: {e}") from None
    if not isinstance(batch, Mapping) or not isinstance(batch.get("payload"), list):
        raise InputError(source, "no 'payload' list in the push body")
    where = f"{source} message {batch.get('messageId', '?')}"
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for i, item in enumerate(batch["payload"], start=1):
        if not isinstance(item, Mapping):
            raise InputError(where, "payload item is not an object", row=i)
        name = str(item.get("name", "")).lower()
        if name not in (TOTAL, ACCEL, GRAVITY, GYRO):
            continue
        values = item.get("values", item)
        try:
            t = int(item["time"]) / 1e9
            if not isinstance(values, dict):
                raise TypeError("values is not an object")
            x, y, z = (float(values[k]) for k in ("x", "y", "z"))
        except (KeyError, TypeError, ValueError):
            raise InputError(where, f"{name} item needs 'time' (ns) and x, y, z numbers", row=i) from None
        if not np.all(np.isfinite((t, x, y, z))):
            raise InputError(where, f"{name} item has a non-finite value", row=i)
        rows.setdefault(name, []).append((t, x, y, z))
    out: dict[str, Stream] = {}
    for name, r in rows.items():
        a = np.array(r, np.float64)
        out[name] = _clean(a[:, 0], a[:, 1:])
    return out


class PushMerger:
    """Pairs pushed acceleration and gyroscope samples by time, across batches.

    Specific force is ``totalacceleration`` when the phone sends it (Android), else
    ``accelerometer + gravity``. Samples are released once the gyroscope (and gravity)
    stream has reached their time, or after ``max_wait_s`` with the last values held.
    """

    def __init__(self, platform: Platform = "android", max_wait_s: float = 1.0, source: str = "push") -> None:
        self.sign = -1.0 if platform == "ios" else 1.0
        self.max_wait_s = max_wait_s
        self.source = source
        self.use_total = False
        self._buf: dict[str, Stream] = {k: (np.empty(0), np.empty((0, 3))) for k in (TOTAL, ACCEL, GRAVITY, GYRO)}
        self._first_primary: float | None = None

    def feed(self, batch: bytes | str | Mapping[str, Any]) -> Samples:
        streams = parse_push(batch, self.source)
        if TOTAL in streams:
            self.use_total = True
        for name, (t, v) in streams.items():
            if name in (ACCEL, GRAVITY):
                v = v * self.sign
            bt, bv = self._buf[name]
            bt, bv = _clean(np.concatenate([bt, t]), np.concatenate([bv, v]))
            keep = bt >= bt[-1] - MAX_BUFFER_S if len(bt) else np.zeros(0, bool)
            self._buf[name] = (bt[keep], bv[keep])  # bounded even if another stream never comes
        return self._release(flush=False)

    def flush(self) -> Samples:
        """Everything still waiting, with the last gyro/gravity values held."""
        return self._release(flush=True)

    def _release(self, flush: bool) -> Samples:
        primary = TOTAL if self.use_total else ACCEL
        pt, pv = self._buf[primary]
        if len(pt) == 0:
            return Samples.empty()
        if self._first_primary is None:
            self._first_primary = float(pt[0])
        needs = [GYRO] + ([] if self.use_total else [GRAVITY])
        ready = min((self._buf[n][0][-1] if len(self._buf[n][0]) else -np.inf) for n in needs)
        stale = float(pt[-1]) - self.max_wait_s
        k = len(pt) if flush else int(np.searchsorted(pt, max(ready, stale), "right"))
        if k == 0:
            return Samples.empty()
        for n in needs:
            if len(self._buf[n][0]) == 0:
                if not flush and float(pt[-1]) - self._first_primary <= self.max_wait_s:
                    return Samples.empty()
                what = "gyroscope" if n == GYRO else "gravity (or total acceleration)"
                raise InputError(self.source, f"no {what} samples are being pushed: enable it in Sensor Logger")
        t = pt[:k]
        force = pv[:k] + (0.0 if self.use_total else _interp(t, self._buf[GRAVITY]))
        imu = np.concatenate([force, _interp(t, self._buf[GYRO])], axis=1)
        self._buf[primary] = (pt[k:], pv[k:])
        for n in needs:  # keep one sample before the next release for interpolation
            nt, nv = self._buf[n]
            j = max(0, int(np.searchsorted(nt, t[-1], "right")) - 1)
            self._buf[n] = (nt[j:], nv[j:])
        if self.use_total:  # accelerometer and gravity are not needed: do not let them pile up
            for n in (ACCEL, GRAVITY):
                self._buf[n] = (np.empty(0), np.empty((0, 3)))
        return Samples(t, imu)


# -- files -----------------------------------------------------------------------------------


class _Files:
    """CSV tables of a folder, a zip, one file or several files, by lower-case base name
    (first of each name wins). Nothing is read until asked for; zip members are capped."""

    def __init__(self, path: Path | list[Path]) -> None:
        paths = path if isinstance(path, list) else [path]
        self.path = str(paths[0].parent if len(paths) > 1 else paths[0])
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
    med = float(np.median(np.linalg.norm(s.acc, axis=1)))
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
        raise InputError(where, "no Gyroscope.csv: enable the gyroscope in Sensor Logger and record again")
    total = _sensor_logger_stream(files, "totalacceleration.csv")
    if total is not None:
        return _merge(where, total, gyro)
    acc = _sensor_logger_stream(files, "accelerometer.csv")
    gravity = _sensor_logger_stream(files, "gravity.csv")
    if acc is None or gravity is None:
        raise InputError(where, "needs TotalAcceleration.csv, or Accelerometer.csv and Gravity.csv: enable them in Sensor Logger")
    if ios_standardised is None:
        ios_standardised = meta.get("standardisation") == "true"
    sign = -1.0 if meta.get("platform", "android") == "ios" and not ios_standardised else 1.0
    return _merge(where, (acc[0], acc[1] * sign), gyro, (gravity[0], gravity[1] * sign))


_UNIT = re.compile(r"^(.*?)\s*(?:\(([^)]*)\))?$")
_ACC_UNITS = ("m/s^2", "m/s²", "m/s2")


def _phyphox_column(name: str, base: str) -> tuple[str, str] | None:
    """('time'|'acc'|'gyro'|'linear', axis) for a phyphox column name, else None."""
    m = _UNIT.match(name)
    label, unit = (m.group(1), m.group(2)) if m else (name, None)
    if label in ("time", "t") and unit in (None, "s"):
        return "time", ""
    if len(label) < 1 or label[-1] not in "xyz" or (len(label) > 1 and label[-2] != " "):
        return None
    prefix, axis = label[:-1].strip(), label[-1]
    if prefix.startswith("linear"):
        return "linear", axis
    if prefix in ("", "acceleration", "accelerometer") and (unit in _ACC_UNITS or (prefix and unit is None)):
        if prefix == "" and ("linear" in base or "gravity" in base):
            return "linear", axis
        return "acc", axis
    if prefix in ("", "gyroscope", "gyro") and (unit == "rad/s" or (prefix and unit is None)):
        return "gyro", axis
    return None


def _phyphox_streams(files: _Files, base: str) -> dict[str, Stream]:
    """Accelerometer/gyroscope streams in one phyphox table, each timed by the nearest
    time column to its left (single-set files have one, combined files several)."""
    names = files.names(base)
    kinds = [_phyphox_column(n, base) for n in names]
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
        raise InputError(
            files.path,
            f"this phyphox export has {has}: use the simple experiment with "
            "Accelerometer and Gyroscope ticked (or a custom experiment with both) and export CSV",
        )
    return _merge(files.path, found["acc"], found["gyro"])


def _excel(files: _Files) -> Samples:
    """phyphox's Excel export (.xls): each sheet a set, read with xlrd when installed."""
    from sensor import phone_excel

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
    from sensor.app_export import is_witmotion, read_witmotion

    for base, names in headers.items():
        if is_witmotion(names):
            return read_witmotion(files.sources[base])
    if any(_is_sensor_logger(names) for names in headers.values()):
        return _finish(files.path, _sensor_logger(files, ios_standardised))
    if any(_phyphox_column(n, b) is not None and _phyphox_column(n, b) != ("time", "") for b, names in headers.items() for n in names):
        return _finish(files.path, _phyphox(files))
    raise InputError(files.path, "neither a Sensor Logger nor a phyphox export (no accelerometer or gyroscope tables found)")
