"""Polar Measurement Data (PMD) protocol: UUIDs, control-point commands and responses,
data frames and their delta compression — both directions (the client decodes, the
simulated sensor encodes). Polar Verity Sense (ACC + GYRO) and H10 (ACC only).

The client writes commands to the control point and reads ``F0`` responses from its
indications; data frames arrive on the data characteristic: byte 0 measurement type,
bytes 1-8 u64 timestamp (ns since 2000-01-01T00:00Z, of the frame's last sample), byte 9
frame type (bit 7 = delta-compressed), payload from byte 10. See ``firmware_notes/polar.md``.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from sensor.errors import DeviceError, ProtocolError
from sensor.samples import STANDARD_GRAVITY

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
