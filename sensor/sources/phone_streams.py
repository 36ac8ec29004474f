"""Phone sensor streams: the three-axis streams a phone gives (Sensor Logger push batches
and exports, phyphox), merged onto the gyroscope's times as ``Samples`` — phone frame,
Android's sign convention, SI units. ``parse_push`` reads one HTTP push batch; ``PushMerger``
pairs the streams of successive batches. Bad input raises ``InputError`` naming the batch.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from sensor.errors import InputError
from sensor.files.limits import MAX_PHONE_ACC_MS2, MAX_PHONE_GYRO_RADS
from sensor.samples import Samples

Platform = Literal["android", "ios"]
Stream = tuple[np.ndarray, np.ndarray]  # times (n,) seconds, values (n, 3)

TOTAL, ACCEL, GRAVITY, GYRO = "totalacceleration", "accelerometer", "gravity", "gyroscope"
MAX_BUFFER_S = 30.0  # the push merger keeps at most this much of any one stream


# -- shared --------------------------------------------------------------------------------


def clean_stream(t: np.ndarray, v: np.ndarray) -> Stream:
    """Sort by time and drop repeated timestamps (Sensor Logger can log duplicates)."""
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    keep = np.concatenate([[True], np.diff(t) > 0]) if len(t) else np.zeros(0, bool)
    return t[keep], v[keep]


def _interp(t: np.ndarray, src: Stream) -> np.ndarray:
    """``src`` linearly interpolated at ``t`` (held beyond its ends)."""
    st, sv = src
    return np.stack([np.interp(t, st, sv[:, c]) for c in range(3)], axis=1)


def merge_streams(where: str, acc: Stream, gyro: Stream, gravity: Stream | None = None) -> Samples:
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


def _number(v: Any) -> float:
    """A JSON number (or a number written as a string, as exports write them) as a finite
    float; ValueError otherwise (bool, null, NaN, 1e400, an integer too large for a float)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError
    try:
        x = float(v)
    except OverflowError:
        raise ValueError("non-finite") from None
    if not math.isfinite(x):
        raise ValueError("non-finite")
    return x


def _epoch_s(v: Any) -> float:
    """Epoch nanoseconds (an integer, or one written as a string) as epoch seconds."""
    if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        try:
            t = v / 1_000_000_000  # exact int division, rounded once
        except OverflowError:
            raise ValueError("non-finite") from None
    else:
        t = _number(v) / 1e9
    if not 0.0 < t < 1e11:  # after 1970 and before the year 5000
        raise ValueError
    return t


_LIMIT = {TOTAL: MAX_PHONE_ACC_MS2, ACCEL: MAX_PHONE_ACC_MS2, GRAVITY: MAX_PHONE_ACC_MS2, GYRO: MAX_PHONE_GYRO_RADS}


def parse_push(batch: bytes | str | Mapping[str, Any], source: str = "push") -> dict[str, Stream]:
    """One push body -> {sensor name: (epoch s, xyz)} for the sensors HoldTrack uses.

    Items are ``{"name", "time": epoch ns, "values": {"x", "y", "z"}}``; ``x, y, z`` at the
    item's top level are accepted too, and numbers written as strings. Other sensors are
    skipped. A value a phone cannot read (``sensor.files.limits``) refuses the batch, so
    that everything kept is finite in the recording's float32. ``InputError.row`` is the
    1-based index of the offending payload item.
    """
    if isinstance(batch, (bytes, str)):
        try:
            batch = json.loads(batch)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(source, f"not JSON: {e}") from None
    if not isinstance(batch, Mapping) or not isinstance(batch.get("payload"), list):
        raise InputError(source, "no 'payload' list in the push body")
    mid = batch.get("messageId", "?")
    where = f"{source} message {mid if isinstance(mid, (int, str)) and len(str(mid)) < 40 else '?'}"
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for i, item in enumerate(batch["payload"], start=1):
        if not isinstance(item, Mapping):
            raise InputError(where, "payload item is not an object", row=i)
        name = item.get("name")
        name = name.lower() if isinstance(name, str) else ""
        if name not in _LIMIT:
            continue
        values = item.get("values", item)
        try:
            if not isinstance(values, Mapping):
                raise ValueError
            t = _epoch_s(item["time"])
            x, y, z = (_number(values[k]) for k in ("x", "y", "z"))
        except ValueError as e:
            what = "a non-finite value" if str(e) == "non-finite" else "a value that is not a number"
            raise InputError(where, f"{name} item has {what} (needs 'time' in epoch ns and x, y, z numbers)", row=i) from None
        except KeyError:
            raise InputError(where, f"{name} item needs 'time' (epoch ns) and x, y, z numbers", row=i) from None
        limit = _LIMIT[name]
        if max(abs(x), abs(y), abs(z)) > limit:
            unit = "rad/s" if name == GYRO else "m/s²"
            raise InputError(where, f"{name} value beyond {limit:g} {unit}: not a phone's sensor", row=i)
        rows.setdefault(name, []).append((t, x, y, z))
    out: dict[str, Stream] = {}
    for name, r in rows.items():
        a = np.array(r, np.float64)
        out[name] = clean_stream(a[:, 0], a[:, 1:])
    return out


class PushMerger:
    """Pairs pushed acceleration and gyroscope samples by time, across batches.

    Specific force is ``totalacceleration`` when the phone sends it (Android), else
    ``accelerometer + gravity``. Samples are released once the gyroscope (and gravity)
    stream has reached their time, or after ``max_wait_s`` with the last values held;
    ``release(upto=…)`` keeps those from ``upto`` on waiting (a batch still missing there).
    """

    def __init__(self, platform: Platform = "android", max_wait_s: float = 1.0, source: str = "push") -> None:
        self.sign = -1.0 if platform == "ios" else 1.0
        self.max_wait_s = max_wait_s
        self.source = source
        self.use_total = False
        self._buf: dict[str, Stream] = {k: (np.empty(0), np.empty((0, 3))) for k in (TOTAL, ACCEL, GRAVITY, GYRO)}
        self._first_primary: float | None = None
        self.last_released: float | None = None  # time of the newest sample released

    def copy(self) -> PushMerger:
        """An independent copy (the buffers' arrays are never changed in place)."""
        new = copy.copy(self)
        new._buf = dict(self._buf)
        return new

    @property
    def primary(self) -> str:
        return TOTAL if self.use_total else ACCEL

    def pending(self) -> np.ndarray:
        """Times of the samples not yet released."""
        return self._buf[self.primary][0]

    def feed(self, batch: bytes | str | Mapping[str, Any]) -> Samples:
        self.add(parse_push(batch, self.source))
        return self.release()

    def add(self, streams: Mapping[str, Stream], sign: float | None = None) -> None:
        """Streams of one batch (``parse_push``); ``sign`` overrides the platform's."""
        if TOTAL in streams:
            self.use_total = True
        sign = self.sign if sign is None else sign
        for name, (t, v) in streams.items():
            if name in (ACCEL, GRAVITY):
                v = v * sign
            bt, bv = self._buf[name]
            bt, bv = clean_stream(np.concatenate([bt, t]), np.concatenate([bv, v]))
            keep = bt >= bt[-1] - MAX_BUFFER_S if len(bt) else np.zeros(0, bool)
            self._buf[name] = (bt[keep], bv[keep])  # bounded even if another stream never comes

    def flush(self) -> Samples:
        """Everything still waiting, with the last gyro/gravity values held."""
        return self.release(flush=True)

    def release(self, *, flush: bool = False, upto: float = np.inf) -> Samples:
        """The samples that can go (all of them when ``flush``), those before ``upto`` only."""
        primary = self.primary
        pt, pv = self._buf[primary]
        if len(pt) == 0:
            return Samples.empty()
        if self._first_primary is None:
            self._first_primary = float(pt[0])
        needs = [GYRO] + ([] if self.use_total else [GRAVITY])
        ready = min((self._buf[n][0][-1] if len(self._buf[n][0]) else -np.inf) for n in needs)
        stale = float(pt[-1]) - self.max_wait_s
        k = len(pt) if flush else int(np.searchsorted(pt, max(ready, stale), "right"))
        k = min(k, int(np.searchsorted(pt, upto, "left")))
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
        self.last_released = float(t[-1])
        return Samples(t, imu)


_UNIT = re.compile(r"^(.*?)\s*(?:\(([^)]*)\))?$")
_ACC_UNITS = ("m/s^2", "m/s²", "m/s2")


def phyphox_column(name: str, base: str) -> tuple[str, str] | None:
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
