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

from sensor.errors import InputError
from sensor.samples import Samples

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
            x, y, z = (float(values[k]) for k in ("x", "y", "z"))  # type: ignore[index]
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
    """CSV members of a folder, a zip, or a single file, by lower-case base name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.texts: dict[str, tuple[str, str]] = {}  # base name -> (display name, text)
        try:
            if path.is_dir():
                for f in sorted(path.rglob("*.csv")):
                    self.texts.setdefault(f.name.lower(), (str(f), f.read_text(encoding="utf-8-sig")))
            elif zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as z:
                    for info in sorted(z.infolist(), key=lambda i: i.filename):
                        if info.filename.lower().endswith(".csv") and not info.is_dir():
                            base = info.filename.rsplit("/", 1)[-1].lower()
                            text = z.read(info).decode("utf-8-sig")
                            self.texts.setdefault(base, (f"{path}:{info.filename}", text))
            elif path.is_file():
                self.texts[path.name.lower()] = (str(path), path.read_text(encoding="utf-8-sig"))
            else:
                raise InputError(path, "no such file or folder")
        except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as e:
            raise InputError(path, f"cannot read: {e}") from None


def _table(name: str, text: str) -> tuple[list[str], np.ndarray]:
    """A CSV text -> (lower-case header names, float array with NaN for empty cells).

    Separator sniffed from the header: tab, semicolon (then with decimal comma, as phyphox
    writes it) or comma. ``InputError.row`` is the 1-based line number.
    """
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ";" if ";" in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(name, "empty file") from None
    rows: list[list[float]] = []
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(name, f"{len(row)} columns where the header has {len(header)}", row=line)
        try:
            if sep == ";":
                rows.append([float(c.replace(",", ".")) if c.strip() else np.nan for c in row])
            else:
                rows.append([float(c) if c.strip() else np.nan for c in row])
        except ValueError:
            raise InputError(name, f"not a number in {row!r}", row=line) from None
    data = np.array(rows, np.float64).reshape(len(rows), len(header))
    bad = ~np.isfinite(data) & ~np.isnan(data)
    if bad.any():
        raise InputError(name, "infinite value", row=int(np.argwhere(bad)[0, 0]) + 2)
    return header, data


def _sensor_logger_stream(files: _Files, base: str) -> Stream | None:
    if base not in files.texts:
        return None
    name, text = files.texts[base]
    header, data = _table(name, text)
    try:
        cols = [header.index(c) for c in ("time", "x", "y", "z")]
    except ValueError:
        raise InputError(name, f"needs columns time, x, y, z; has {', '.join(header)}") from None
    block = data[:, cols]
    missing = np.argwhere(np.isnan(block))
    if len(missing):
        raise InputError(name, "empty cell", row=int(missing[0, 0]) + 2)
    return _clean(block[:, 0] / 1e9, block[:, 1:])


def _platform(files: _Files) -> str:
    if "metadata.csv" not in files.texts:
        return "android"
    text = files.texts["metadata.csv"][1]
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) >= 2:
        header = [h.strip().lower() for h in rows[0]]
        if "platform" in header and header.index("platform") < len(rows[1]):
            return rows[1][header.index("platform")].strip().lower()
    return "android"


def read_sensor_logger(path: str | Path, ios_standardised: bool = False) -> Samples:
    """A Sensor Logger export (folder or zip): ``TotalAcceleration.csv`` or
    ``Accelerometer.csv`` + ``Gravity.csv``, and ``Gyroscope.csv``; columns read by name.

    iOS recordings (``Metadata.csv`` platform) are sign-flipped to Android's convention
    unless ``ios_standardised`` says "Standardise Units & Frames" was on.
    """
    files = _Files(Path(path))
    return _sensor_logger(files, ios_standardised)


def _sensor_logger(files: _Files, ios_standardised: bool) -> Samples:
    where = str(files.path)
    gyro = _sensor_logger_stream(files, "gyroscope.csv")
    if gyro is None:
        raise InputError(where, "no Gyroscope.csv: enable the gyroscope in Sensor Logger")
    total = _sensor_logger_stream(files, "totalacceleration.csv")
    if total is not None:
        return _merge(where, total, gyro)
    acc = _sensor_logger_stream(files, "accelerometer.csv")
    gravity = _sensor_logger_stream(files, "gravity.csv")
    if acc is None or gravity is None:
        raise InputError(where, "needs TotalAcceleration.csv, or Accelerometer.csv and Gravity.csv")
    sign = -1.0 if _platform(files) == "ios" and not ios_standardised else 1.0
    return _merge(where, (acc[0], acc[1] * sign), gyro, (gravity[0], gravity[1] * sign))


_PHYPHOX_ACC = re.compile(r"^acceleration ([xyz]) \(m/s\^2\)$")
_PHYPHOX_GYRO = re.compile(r"^gyroscope ([xyz]) \(rad/s\)$")
_PHYPHOX_LINEAR = re.compile(r"^linear acceleration [xyz]")


def _phyphox_streams(name: str, text: str) -> dict[str, Stream]:
    """Accelerometer/gyroscope streams in one phyphox CSV, each timed by the nearest
    ``Time (s)`` column to its left (single-set files have one, combined files several)."""
    header, data = _table(name, text)
    out: dict[str, Stream] = {}
    for kind, pattern in (("acc", _PHYPHOX_ACC), ("gyro", _PHYPHOX_GYRO)):
        cols = {m.group(1): i for i, h in enumerate(header) if (m := pattern.match(h))}
        if not cols:
            continue
        if set(cols) != {"x", "y", "z"}:
            raise InputError(name, f"{kind} needs x, y and z columns")
        first = min(cols.values())
        times = [i for i, h in enumerate(header[:first]) if h == "time (s)"]
        if not times:
            raise InputError(name, f"no 'Time (s)' column before the {kind} columns")
        block = data[:, [times[-1], cols["x"], cols["y"], cols["z"]]]
        block = block[~np.isnan(block).any(axis=1)]  # sets of unequal length leave empty cells
        out[kind] = _clean(block[:, 0], block[:, 1:])
    if not out and any(_PHYPHOX_LINEAR.match(h) for h in header):
        raise InputError(name, "linear acceleration lacks gravity: export 'Acceleration with g'")
    return out


def read_phyphox(path: str | Path) -> Samples:
    """A phyphox CSV export: one file with both sensors, or a folder/zip of per-set files."""
    return _phyphox(_Files(Path(path)))


def _phyphox(files: _Files) -> Samples:
    found: dict[str, Stream] = {}
    for base, (name, text) in files.texts.items():
        if base.startswith("meta") or "time (s)" not in text.split("\n", 1)[0].lower():
            continue
        for kind, stream in _phyphox_streams(name, text).items():
            found.setdefault(kind, stream)
    missing = [label for kind, label in (("acc", "acceleration (with g)"), ("gyro", "gyroscope")) if kind not in found]
    if missing:
        raise InputError(files.path, f"phyphox export lacks {' and '.join(missing)} columns")
    return _merge(str(files.path), found["acc"], found["gyro"])


def read_export(path: str | Path, ios_standardised: bool = False) -> Samples:
    """Sensor Logger or phyphox export (file, folder or zip), told apart by its columns."""
    files = _Files(Path(path))
    headers = [text.split("\n", 1)[0].lower() for _, text in files.texts.values()]
    if any("time (s)" in h for h in headers):
        return _phyphox(files)
    if any(b in files.texts for b in ("gyroscope.csv", "totalacceleration.csv", "accelerometer.csv")):
        return _sensor_logger(files, ios_standardised)
    raise InputError(path, "neither a Sensor Logger nor a phyphox export (no known CSV files)")
