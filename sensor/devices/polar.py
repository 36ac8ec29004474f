"""Polar Measurement Data (PMD) service: Polar Verity Sense (ACC + GYRO) and H10 (ACC only).

The client writes commands to the control point and reads ``F0`` responses from its
indications; data frames arrive on the data characteristic: byte 0 measurement type,
bytes 1-8 u64 timestamp (ns since 2000-01-01T00:00Z, of the frame's last sample), byte 9
frame type (bit 7 = delta-compressed), payload from byte 10. ACC and GYRO come as separate
frames on the same characteristic; the decoder merges them into 6-channel samples.
See ``firmware_notes/polar.md`` for what was confirmed where.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sensor.devices.base import DEFAULT_MTU, CharacteristicSpec, Decoded, DeviceProfile, ServiceSpec, Started
from sensor.errors import DeviceError, ProtocolError
from sensor.samples import STANDARD_GRAVITY

if TYPE_CHECKING:
    from bleak import BleakClient

    from sensor.samples import Samples

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

MEAS_ECG, MEAS_PPG, MEAS_ACC, MEAS_PPI, MEAS_GYRO, MEAS_MAG = 0, 1, 2, 3, 5, 6
MEAS_NAMES = {0: "ECG", 1: "PPG", 2: "ACC", 3: "PPI", 5: "GYRO", 6: "MAG"}
FEATURE_BITS = {MEAS_ECG: 0x01, MEAS_PPG: 0x02, MEAS_ACC: 0x04, MEAS_PPI: 0x08, MEAS_GYRO: 0x20, MEAS_MAG: 0x40}
OP_GET_SETTINGS, OP_START, OP_STOP = 0x01, 0x02, 0x03
OP_NAMES = {1: "get settings", 2: "start", 3: "stop"}
RESPONSE_CODE = 0xF0
FEATURE_CODE = 0x0F

SET_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLI, SET_CHANNELS, SET_FACTOR = 0, 1, 2, 3, 4, 5
SETTING_SIZES = {SET_RATE: 2, SET_RESOLUTION: 2, SET_RANGE: 2, SET_RANGE_MILLI: 4, SET_CHANNELS: 1, SET_FACTOR: 4}

STATUS_NAMES = (
    "success",
    "invalid op code",
    "invalid measurement type",
    "not supported",
    "invalid length",
    "invalid parameter",
    "already in state",
    "invalid resolution",
    "invalid sample rate",
    "invalid range",
    "invalid MTU",
    "invalid number of channels",
    "invalid state",
    "device in charger",
    "disk full",
)

DELTA_BIT = 0x80
MG = STANDARD_GRAVITY / 1000.0  # m/s² per mG
DPS = math.pi / 180.0  # rad/s per °/s
MAX_GAP_NS = 10 * 10**9  # a longer gap is taken as a clock jump, not as lost samples
MAX_ABS_SI = 1e6  # no IMU reads 10^6 m/s² or rad/s: a frame claiming it is garbage
POLAR_EPOCH_UNIX_S = 946_684_800  # 2000-01-01T00:00Z; the decoder keeps the device clock as is


class PolarProtocolError(ProtocolError, ValueError):
    """A malformed PMD control-point message or data frame (a ``ValueError`` too, as the
    other decoders raise)."""


def encode_settings(settings: dict[int, list[float] | int | float]) -> bytes:
    """``[type, count, value…]`` blocks; factor (type 5) is a float32, the rest little-endian ints."""
    out = bytearray()
    for kind, values in settings.items():
        vals = values if isinstance(values, list) else [values]
        out += bytes((kind, len(vals)))
        for v in vals:
            out += struct.pack("<f", v) if kind == SET_FACTOR else int(v).to_bytes(SETTING_SIZES[kind], "little")
    return bytes(out)


def parse_settings(data: bytes) -> dict[int, list[float]]:
    """Inverse of ``encode_settings``; raises ``PolarProtocolError`` on anything malformed."""
    out: dict[int, list[float]] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data) or data[i] not in SETTING_SIZES:
            raise PolarProtocolError(f"bad setting block at byte {i}")
        kind, count = data[i], data[i + 1]
        size = SETTING_SIZES[kind]
        i += 2
        if i + count * size > len(data):
            raise PolarProtocolError("truncated setting values")
        vals: list[float] = []
        for _ in range(count):
            chunk = data[i : i + size]
            vals.append(struct.unpack("<f", chunk)[0] if kind == SET_FACTOR else int.from_bytes(chunk, "little"))
            i += size
        out[kind] = vals
    return out


def start_command(meas: int, rate: int, resolution: int, range_: int) -> bytes:
    """``02 meas`` + rate, resolution and range settings (the H10 ACC example in protocols.md)."""
    return bytes((OP_START, meas)) + encode_settings({SET_RATE: rate, SET_RESOLUTION: resolution, SET_RANGE: range_})


def parse_features(data: bytes) -> set[int]:
    """Control-point read ``0F bits…`` -> the measurement types the device offers."""
    if len(data) < 2 or data[0] != FEATURE_CODE:
        raise PolarProtocolError("control point read is not a feature list")
    return {meas for meas, bit in FEATURE_BITS.items() if data[1] & bit}


@dataclass(frozen=True)
class CpResponse:
    """One ``F0 op meas status more params…`` control-point response."""

    opcode: int
    measurement: int
    status: int
    more: bool
    params: bytes

    def raise_for_status(self) -> None:
        if self.status != 0:
            what = STATUS_NAMES[self.status] if self.status < len(STATUS_NAMES) else f"status {self.status}"
            raise DeviceError(
                f"Polar {OP_NAMES.get(self.opcode, hex(self.opcode))} {MEAS_NAMES.get(self.measurement, self.measurement)} refused: {what}"
            )


def parse_cp_response(data: bytes) -> CpResponse:
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        raise PolarProtocolError("not an F0 control-point response")
    ok = data[3] == 0
    return CpResponse(data[1], data[2] & 0x3F, data[3], ok and len(data) > 4 and data[4] != 0, bytes(data[5:]) if ok else b"")


# -- data frames ---------------------------------------------------------------------------


def decode_delta(payload: bytes, channels: int, ref_bits: int) -> np.ndarray:
    """Delta-compressed payload -> (n, channels) int64 cumulative values (no 32-bit wrap)."""
    ref_bytes = -(-ref_bits // 8)
    head = channels * ref_bytes
    if len(payload) < head:
        raise PolarProtocolError("no reference sample")
    ref = np.array([int.from_bytes(payload[c * ref_bytes : (c + 1) * ref_bytes], "little", signed=True) for c in range(channels)], np.int64)
    parts = [ref[None, :]]
    i = head
    while i < len(payload):
        if i + 2 > len(payload):
            raise PolarProtocolError("truncated delta block header")
        width, count = payload[i], payload[i + 1]
        i += 2
        nbits = width * count * channels
        nbytes = -(-nbits // 8)
        if width > 32 or i + nbytes > len(payload):
            raise PolarProtocolError("bad delta block")
        if width == 0 or count == 0:
            parts.append(np.zeros((count, channels), np.int64))
        else:
            # Deltas are packed LSB-first, channel-interleaved, two's complement.
            bits = np.unpackbits(np.frombuffer(payload, np.uint8, nbytes, i), bitorder="little")[:nbits]
            vals = bits.reshape(-1, width).astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
            vals -= (vals >> (width - 1)) << width
            parts.append(vals.reshape(count, channels))
        i += nbytes
    return np.cumsum(np.concatenate(parts), axis=0)


def _raw_ints(payload: bytes, size: int, channels: int = 3) -> np.ndarray:
    """Raw frame payload of little-endian signed ints of ``size`` bytes -> (n, channels)."""
    step = size * channels
    if len(payload) == 0 or len(payload) % step:
        raise PolarProtocolError("raw payload is not a whole number of samples")
    b = np.frombuffer(payload, np.uint8).reshape(-1, size).astype(np.int64)
    v = (b << (8 * np.arange(size, dtype=np.int64))).sum(axis=1)
    v -= (v >> (8 * size - 1)) << (8 * size)
    out: np.ndarray = v.reshape(-1, channels)
    return out


def frame_values(meas: int, ftype: int, payload: bytes, factor: float) -> np.ndarray:
    """One frame's payload -> (n, 3) float64 SI values (m/s² for ACC, rad/s for GYRO).

    ACC: raw types 0/1/2 are int8/int16/int24 mG; compressed type 0 is ``int × factor`` g,
    compressed type 1 ``int × factor`` mG. GYRO: compressed type 0 is ``int16 × factor`` °/s,
    compressed type 1 float32 bit patterns × factor; raw type 0 (``int16 × factor`` °/s) is
    HoldTrack's own option, not used by Polar's SDK.
    """
    kind, compressed = ftype & 0x7F, bool(ftype & DELTA_BIT)
    if meas == MEAS_ACC:
        if not compressed and kind in (0, 1, 2):
            return _raw_ints(payload, kind + 1) * MG
        if compressed and kind == 0:
            return decode_delta(payload, 3, 16) * (factor * STANDARD_GRAVITY)
        if compressed and kind == 1:
            return decode_delta(payload, 3, 16) * (factor * MG)
    elif meas == MEAS_GYRO:
        if compressed and kind == 0:
            return decode_delta(payload, 3, 16) * (factor * DPS)
        if compressed and kind == 1:
            bits = (decode_delta(payload, 3, 32) + 2**31) % 2**32 - 2**31  # Kotlin Int wraps
            vals = bits.astype(np.int32).view(np.float32).astype(np.float64)
            if not np.all(np.isfinite(vals)):
                raise PolarProtocolError("non-finite float sample")
            return vals * (factor * DPS)
        if not compressed and kind == 0:
            return _raw_ints(payload, 2) * (factor * DPS)
    raise PolarProtocolError(f"unsupported frame type {ftype:#04x} for measurement {meas}")


def acc_samples_in(data: bytes) -> int:
    """ACC samples a data notification carries (0 for GYRO or malformed frames).

    The decoder releases ACC samples when the matching GYRO frame arrives, so counting its
    output per notification credits the GYRO frame; this counts at the source instead."""
    if len(data) < 11 or data[0] != MEAS_ACC:
        return 0
    try:
        return len(frame_values(MEAS_ACC, data[9], bytes(data[10:]), 1.0))
    except PolarProtocolError:
        return 0


GYRO_DPS_PER_COUNT = {250: 0.00875, 500: 0.0175, 1000: 0.035, 2000: 0.07}
"""Verity Sense gyroscope factor per range, °/s per count. A real Verity Sense start response
says 0.07 at ±2000 °/s (Polar SDK test data: ``GyroOfflineMockData``, settings factor
0x3D8F5C29); the other ranges scale with it (the sensor's 8.75/17.5/35/70 mdps sensitivities).
Not range / 32768: that reads 12.8 % low."""

DEFAULT_FACTORS = {MEAS_ACC: {0: 8.0 / 32768.0, 1: 1.0}, MEAS_GYRO: {0: GYRO_DPS_PER_COUNT[2000], 1: 1.0}}
"""Factors used when the start response gave none (the decoder's last resort; ``start``
fills in the per-range value itself): ±8 g / 32768 for compressed ACC type 0 (2.44e-4 g/LSB,
the value in Polar's own ACC test), the Verity Sense's ±2000 °/s factor for GYRO type 0
(the Verity Sense is Polar's sensor that streams GYRO), 1.0 where the ints are already mG
or the floats already °/s."""


@dataclass
class _Clock:
    """Per-measurement timestamp state: spreads samples between frame timestamps."""

    period_ns: float
    prev_ns: int | None = None
    jump_ns: int | None = None  # a timestamp far from the last one, awaiting confirmation

    def times(self, ts_ns: int, n: int) -> tuple[np.ndarray, int] | None:
        """Sample times (ns) of a frame of ``n`` samples ending at ``ts_ns`` and the samples
        lost before it; None for a frame to drop (duplicate, out of order, lone jump)."""
        idx = np.arange(n, dtype=np.float64)
        lost = 0
        if self.prev_ns is not None:
            dt = ts_ns - self.prev_ns
            if 0 < dt <= MAX_GAP_NS:
                self.jump_ns = None
                if dt <= 1.5 * n * self.period_ns:
                    self.prev_ns = ts_ns
                    return ts_ns - dt + (idx + 1.0) * (dt / n), 0
                lost = max(0, round(dt / self.period_ns) - n)  # frames went missing
            elif self.jump_ns is not None and 0 < ts_ns - self.jump_ns <= MAX_GAP_NS:
                self.jump_ns = None  # two frames agree on the new time base: a real clock jump
            else:
                if abs(dt) > MAX_GAP_NS:
                    self.jump_ns = ts_ns  # one frame alone could be corrupt: wait for a second
                return None
        # First frame, a gap or a confirmed jump: space samples at the nominal rate.
        self.prev_ns = ts_ns
        return ts_ns - (n - 1 - idx) * self.period_ns, lost


GYRO_START_WAIT_NS = 5e9  # how long ACC waits for a known gyroscope's first frame


class PolarDecoder:
    """PMD data frames -> 6-channel samples on the device clock (seconds since 2000-01-01).

    GYRO samples are linearly interpolated onto ACC sample times (held at the ends). ACC
    samples wait up to ``max_wait_s`` for the GYRO frame covering them; after that they go
    out with the last gyro value held. With ``has_gyro=False`` (the H10 has no gyroscope)
    gyro is reported as 0 rad/s: a placeholder, not a measurement. With ``has_gyro=None``
    the decoder waits ``max_wait_s`` for a first GYRO frame and, if none comes, assumes
    there is no gyroscope.
    """

    def __init__(
        self,
        rate_hz: float,
        has_gyro: bool | None = None,
        gyro_rate_hz: float | None = None,
        factors: dict[int, float] | None = None,
        max_wait_s: float = 0.5,
    ) -> None:
        rate = rate_hz if rate_hz > 0 else 52.0
        self._clocks = {MEAS_ACC: _Clock(1e9 / rate), MEAS_GYRO: _Clock(1e9 / (gyro_rate_hz or rate))}
        self._factors = factors or {}
        self._ftypes: dict[int, int] = {}
        self.has_gyro = has_gyro
        self._max_wait_ns = max_wait_s * 1e9
        self._acc_t = np.empty(0)
        self._acc_v = np.empty((0, 3))
        self._gyro_t = np.empty(0)
        self._gyro_v = np.empty((0, 3))
        self._first_acc_ns: float | None = None

    def decode(self, data: bytes) -> Decoded:
        frame = self._frame(bytes(data))
        if frame is None:
            return self._emit(bad=1, lost=0)
        meas, t_ns, values, lost = frame
        if meas == MEAS_ACC:
            self._acc_t = np.concatenate([self._acc_t, t_ns])
            self._acc_v = np.concatenate([self._acc_v, values])
            if self._first_acc_ns is None:
                self._first_acc_ns = float(t_ns[0])
            return self._emit(bad=0, lost=lost)
        self.has_gyro = True  # a GYRO frame settles it, whatever was assumed
        self._gyro_t = np.concatenate([self._gyro_t, t_ns])
        self._gyro_v = np.concatenate([self._gyro_v, values])
        return self._emit(bad=0, lost=0)

    def _frame(self, data: bytes) -> tuple[int, np.ndarray, np.ndarray, int] | None:
        if len(data) < 11 or data[0] not in (MEAS_ACC, MEAS_GYRO):
            return None
        meas, ftype = data[0], data[9]
        ts = int.from_bytes(data[1:9], "little")
        factor = self._factors.get(meas, DEFAULT_FACTORS[meas].get(ftype & 0x7F, 1.0))
        try:
            values = frame_values(meas, ftype, data[10:], factor)
        except PolarProtocolError:
            return None
        if len(values) == 0 or not np.all(np.isfinite(values)) or np.abs(values).max() > MAX_ABS_SI:
            return None
        clock = self._clocks[meas]
        if self._ftypes.setdefault(meas, ftype) != ftype:
            self._ftypes[meas], clock.prev_ns = ftype, None  # a new stream: restart its clock
        timed = clock.times(ts, len(values))
        if timed is None:
            return None
        return meas, timed[0], values, timed[1]

    def _emit(self, bad: int, lost: int) -> Decoded:
        n_acc = len(self._acc_t)
        if n_acc == 0:
            return Decoded.nothing(bad) if not lost else Decoded(np.empty((0, 6), np.float32), None, lost, bad)
        newest = self._acc_t[-1]
        if self.has_gyro is None and newest - (self._first_acc_ns or newest) > self._max_wait_ns:
            self.has_gyro = False
        if self.has_gyro is False:
            k = n_acc
        else:
            ready = self._gyro_t[-1] if len(self._gyro_t) else -np.inf
            # GYRO starts a control-point round trip after ACC (longer on a busy host):
            # until its first frame, ACC waits longer rather than go out with no gyro.
            wait = self._max_wait_ns if len(self._gyro_t) else max(self._max_wait_ns, GYRO_START_WAIT_NS)
            k = max(int(np.searchsorted(self._acc_t, ready, "right")), int(np.searchsorted(self._acc_t, newest - wait, "right")))
        if k == 0:
            return Decoded(np.empty((0, 6), np.float32), None, lost, bad)
        t, acc = self._acc_t[:k], self._acc_v[:k]
        gyro = np.zeros((k, 3))
        if len(self._gyro_t):
            for c in range(3):
                gyro[:, c] = np.interp(t, self._gyro_t, self._gyro_v[:, c])
            # Keep one gyro sample before the next ACC sample so interpolation stays continuous.
            keep = max(0, int(np.searchsorted(self._gyro_t, t[-1], "right")) - 1)
            self._gyro_t, self._gyro_v = self._gyro_t[keep:], self._gyro_v[keep:]
        self._acc_t, self._acc_v = self._acc_t[k:], self._acc_v[k:]
        imu = np.concatenate([acc, gyro], axis=1).astype(np.float32)
        return Decoded(imu, t / 1e9, lost, bad)


# -- the device side -----------------------------------------------------------------------

MODELS: dict[str, dict[int, dict[int, list[int]]]] = {
    # Available settings per measurement, as a get-settings response lists them.
    "verity": {
        MEAS_ACC: {SET_RATE: [52], SET_RESOLUTION: [16], SET_RANGE: [8], SET_CHANNELS: [3]},
        MEAS_GYRO: {SET_RATE: [52], SET_RESOLUTION: [16], SET_RANGE: [250, 500, 1000, 2000], SET_CHANNELS: [3]},
    },
    "h10": {MEAS_ACC: {SET_RATE: [25, 50, 100, 200], SET_RESOLUTION: [16], SET_RANGE: [2, 4, 8]}},
}
FEATURES = {"verity": bytes((FEATURE_CODE, 0x02 | 0x04 | 0x08 | 0x20 | 0x40, 0x02)), "h10": bytes((FEATURE_CODE, 0x01 | 0x04, 0x00))}
DEVICE_EPOCH_NS = 757_382_400 * 10**9  # the fake's clock reads 2024-01-01 at sample time 0


class PolarPeripheral:
    """The sensor side: feature read, F0 responses as indications, ACC/GYRO frames."""

    services = (
        ServiceSpec(
            SERVICE_UUID, (CharacteristicSpec(CONTROL_UUID, ("read", "write", "indicate")), CharacteristicSpec(DATA_UUID, ("notify",)))
        ),
    )

    def __init__(self, model: str = "verity", compressed: bool = True, samples_per_frame: int = 24) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown Polar model {model!r}")
        self.model = model
        self.compressed = compressed
        self.samples_per_frame = max(1, min(samples_per_frame, 36))  # 36 × 6 + 10 bytes fits MTU 232
        self.active: dict[int, dict[int, int]] = {}  # measurement -> selected settings
        self._pending_t = np.empty(0)
        self._pending = np.empty((0, 6))

    @property
    def streaming(self) -> bool:
        return bool(self.active)

    @property
    def rate_hz(self) -> float:
        acc = self.active.get(MEAS_ACC)
        return float(acc[SET_RATE]) if acc else float(MODELS[self.model][MEAS_ACC][SET_RATE][0])

    def factor(self, meas: int) -> float:
        """What the start response reports: mG/LSB for ACC (type 1 frames), °/s/LSB for GYRO."""
        if meas == MEAS_GYRO:
            return GYRO_DPS_PER_COUNT[self.active.get(MEAS_GYRO, {}).get(SET_RANGE, 2000)]
        return 1.0

    def read(self, char_uuid: str) -> bytes:
        if char_uuid.lower() == CONTROL_UUID:
            return FEATURES[self.model]
        if char_uuid.lower() == DATA_UUID:
            return b""
        raise KeyError(char_uuid)

    def write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if char_uuid.lower() != CONTROL_UUID:
            raise KeyError(char_uuid)
        if len(data) < 2:
            return [(CONTROL_UUID, bytes((RESPONSE_CODE, data[0] if data else 0, 0, 4)))]
        op, meas = data[0], data[1] & 0x3F
        available = MODELS[self.model].get(meas)
        if op not in OP_NAMES:
            return [(CONTROL_UUID, bytes((RESPONSE_CODE, op, meas, 1)))]
        if available is None:
            return [(CONTROL_UUID, bytes((RESPONSE_CODE, op, meas, 2)))]
        if op == OP_GET_SETTINGS:
            body = encode_settings({k: list(v) for k, v in available.items()})
            return [(CONTROL_UUID, bytes((RESPONSE_CODE, op, meas, 0, 0)) + body)]
        if op == OP_STOP:
            self.active.pop(meas, None)
            return [(CONTROL_UUID, bytes((RESPONSE_CODE, op, meas, 0, 0)))]
        status = self._start(meas, bytes(data[2:]), available)
        if status:
            return [(CONTROL_UUID, bytes((RESPONSE_CODE, op, meas, status)))]
        body = encode_settings({SET_FACTOR: [self.factor(meas)]})
        return [(CONTROL_UUID, bytes((RESPONSE_CODE, op, meas, 0, 0)) + body)]

    def _start(self, meas: int, params: bytes, available: dict[int, list[int]]) -> int:
        if meas in self.active:
            return 6
        try:
            asked = parse_settings(params)
        except PolarProtocolError:
            return 4
        chosen: dict[int, int] = {}
        for kind, status in ((SET_RATE, 8), (SET_RESOLUTION, 7), (SET_RANGE, 9), (SET_CHANNELS, 11)):
            if kind not in available:
                continue
            value = int(asked[kind][0]) if asked.get(kind) else None
            if value is None and kind in (SET_CHANNELS,):
                value = available[kind][0]
            if value is None:
                return 5
            if value not in available[kind]:
                return status
            chosen[kind] = value
        self.active[meas] = chosen
        if meas == MEAS_ACC:
            self._pending_t, self._pending = np.empty(0), np.empty((0, 6))
        return 0

    def encode(self, samples: Samples) -> list[tuple[str, bytes]]:
        """Frames of ``samples_per_frame`` samples per active measurement, timestamped."""
        if not self.active or len(samples) == 0:
            return []
        self._pending_t = np.concatenate([self._pending_t, samples.time_s])
        self._pending = np.concatenate([self._pending, samples.imu.astype(np.float64)])
        n = self.samples_per_frame * (len(self._pending_t) // self.samples_per_frame)
        out: list[tuple[str, bytes]] = []
        for k in range(0, n, self.samples_per_frame):
            t = self._pending_t[k : k + self.samples_per_frame]
            block = self._pending[k : k + self.samples_per_frame]
            ts = DEVICE_EPOCH_NS + int(round(float(t[-1]) * 1e9))
            if MEAS_ACC in self.active:
                out.append((DATA_UUID, self._acc_frame(ts, block[:, :3])))
            if MEAS_GYRO in self.active:
                out.append((DATA_UUID, self._gyro_frame(ts, block[:, 3:])))
        self._pending_t, self._pending = self._pending_t[n:], self._pending[n:]
        return out

    def _acc_frame(self, ts: int, acc: np.ndarray) -> bytes:
        limit = 1000.0 * self.active[MEAS_ACC].get(SET_RANGE, 8)
        mg = np.clip(np.rint(acc / MG), -limit, limit).astype(np.int64)
        ftype = (DELTA_BIT | 1) if self.compressed else 1
        body = encode_delta(mg, 16) if self.compressed else mg.astype("<i2").tobytes()
        return bytes((MEAS_ACC,)) + ts.to_bytes(8, "little") + bytes((ftype,)) + body

    def _gyro_frame(self, ts: int, gyro: np.ndarray) -> bytes:
        counts = np.clip(np.rint(gyro / (self.factor(MEAS_GYRO) * DPS)), -32768, 32767).astype(np.int64)
        ftype = DELTA_BIT if self.compressed else 0
        body = encode_delta(counts, 16) if self.compressed else counts.astype("<i2").tobytes()
        return bytes((MEAS_GYRO,)) + ts.to_bytes(8, "little") + bytes((ftype,)) + body


def frame_capacity(mtu: int, most: int = 24) -> int:
    """Samples per frame (at most ``most``) whose worst case fits one notification of an
    ``mtu``-byte ATT MTU: 10-byte header, then raw int16 xyz (6 bytes a sample) or a
    delta frame (6-byte reference, 2-byte block header, 17-bit deltas of int16 values)."""
    room = mtu - 3 - 10
    n = max(1, most)
    while n > 1 and max(6 * n, 6 + 2 + -(-17 * 3 * (n - 1) // 8)) > room:
        n -= 1
    return n


def encode_delta(values: np.ndarray, ref_bits: int) -> bytes:
    """(n, channels) ints -> reference sample + one block per ≤255 deltas, minimal bit width."""
    ref_bytes = -(-ref_bits // 8)
    out = bytearray(b"".join(int(v).to_bytes(ref_bytes, "little", signed=True) for v in values[0]))
    deltas: np.ndarray = np.diff(values.astype(np.int64), axis=0)
    for k in range(0, len(deltas), 255):
        block = deltas[k : k + 255]
        width = max(1, max(int(v).bit_length() + 1 if v >= 0 else int(~v).bit_length() + 1 for v in block.ravel()))
        bits = ((block.ravel()[:, None] >> np.arange(width)) & 1).astype(np.uint8).ravel()
        out += bytes((width, len(block))) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


# -- the profile -------------------------------------------------------------------------


@dataclass(frozen=True)
class PolarProfile(DeviceProfile):
    """Polar PMD sensors. ``start`` returns the negotiated factors and whether GYRO runs as
    decoder parameters of that connection; ``sim_model`` is the model ``peripheral``
    simulates ("verity" or "h10")."""

    sim_model: str = "verity"

    async def start(self, client: BleakClient, rate_hz: float, on_data: Callable[[bytearray], None]) -> Started:
        responses: asyncio.Queue[bytes] = asyncio.Queue()
        await client.start_notify(CONTROL_UUID, lambda _c, d: responses.put_nowait(bytes(d)))
        await client.start_notify(DATA_UUID, lambda _c, d: on_data(d))
        features = parse_features(bytes(await client.read_gatt_char(CONTROL_UUID)))
        if MEAS_ACC not in features:
            raise DeviceError("this Polar device offers no accelerometer stream")

        async def command(payload: bytes) -> CpResponse:
            await client.write_gatt_char(CONTROL_UUID, payload, response=True)
            while True:
                resp = parse_cp_response(await asyncio.wait_for(responses.get(), timeout=5.0))
                if resp.opcode == payload[0]:
                    break
            params = resp.params
            while resp.more:  # long answers continue in further F0 indications
                resp = parse_cp_response(await asyncio.wait_for(responses.get(), timeout=5.0))
                params += resp.params
            return CpResponse(resp.opcode, resp.measurement, resp.status, False, params) if resp.status == 0 else resp

        async def start_one(meas: int, want_rate: float, want_range: int) -> tuple[int, float | None, int]:
            got = await command(bytes((OP_GET_SETTINGS, meas)))
            got.raise_for_status()
            avail = parse_settings(got.params)
            rate = int(min(avail.get(SET_RATE, [52]), key=lambda r: abs(r - want_rate)))
            res = int(16 if 16 in avail.get(SET_RESOLUTION, [16]) else max(avail[SET_RESOLUTION]))
            rng = int(min(avail.get(SET_RANGE, [want_range]), key=lambda r: abs(r - want_range)))
            resp = await command(start_command(meas, rate, res, rng))
            if resp.status == 6:  # already running from an earlier session: restart it
                (await command(bytes((OP_STOP, meas)))).raise_for_status()
                resp = await command(start_command(meas, rate, res, rng))
            resp.raise_for_status()
            factor = parse_settings(resp.params).get(SET_FACTOR) if resp.params else None
            return rate, (float(factor[0]) if factor else None), rng

        acc_rate, acc_factor, _ = await start_one(MEAS_ACC, rate_hz, 8)
        factors: dict[int, float] = {}
        if acc_factor is not None:
            factors[MEAS_ACC] = acc_factor
        gyro_rate = None
        if MEAS_GYRO in features:
            gyro_rate, gyro_factor, gyro_range = await start_one(MEAS_GYRO, acc_rate, 2000)
            if gyro_factor is None:  # no factor in the response: the documented one for the range
                gyro_factor = GYRO_DPS_PER_COUNT.get(gyro_range)
            if gyro_factor is not None:
                factors[MEAS_GYRO] = gyro_factor
        params = {"has_gyro": MEAS_GYRO in features, "gyro_rate_hz": gyro_rate, "factors": factors}
        return Started(float(acc_rate), params)

    def decoder(
        self, rate_hz: float, *, has_gyro: bool | None = None, gyro_rate_hz: float | None = None, factors: dict[int, float] | None = None
    ) -> PolarDecoder:
        """Without parameters (a connection whose set-up was not seen) the decoder waits for
        a first GYRO frame and uses the default factors."""
        return PolarDecoder(rate_hz, has_gyro, gyro_rate_hz, dict(factors or {}))

    def peripheral(self, rate_hz: float, mtu: int = DEFAULT_MTU) -> PolarPeripheral:
        return PolarPeripheral(self.sim_model, samples_per_frame=frame_capacity(mtu))


PROFILE = PolarProfile(
    name="polar",
    label="Polar Verity Sense / H10 (PMD)",
    service_uuids=(SERVICE_UUID,),
    name_prefixes=("Polar Sense", "Polar H10", "Polar OH1", "Polar"),
    has_timestamps=True,
)

SIMULATED_H10 = PolarProfile(
    name="polar",
    label="Polar H10 (simulated, ACC only)",
    service_uuids=(SERVICE_UUID,),
    name_prefixes=PROFILE.name_prefixes,
    has_timestamps=True,
    sim_model="h10",
)
"""For the fake BlueZ: ``SensorSpec(profile="sensor.devices.polar:SIMULATED_H10")`` serves an
H10. Clients still use ``PROFILE``: both advertise the PMD service."""
