"""A simulated Polar sensor (the fake BlueZ's): feature read, ``F0`` responses as
indications, ACC/GYRO frames from the simulated wearer's samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sensor.devices.base import CharacteristicSpec, ServiceSpec
from sensor.devices.polar_pmd import (
    CONTROL_UUID,
    DATA_UUID,
    DELTA_BIT,
    DPS,
    FEATURE_CODE,
    GYRO_DPS_PER_COUNT,
    MEAS_ACC,
    MEAS_GYRO,
    MG,
    OP_GET_SETTINGS,
    OP_NAMES,
    OP_STOP,
    RESPONSE_CODE,
    SERVICE_UUID,
    SET_CHANNELS,
    SET_FACTOR,
    SET_RANGE,
    SET_RATE,
    SET_RESOLUTION,
    PolarProtocolError,
    encode_delta,
    encode_settings,
    parse_settings,
)

if TYPE_CHECKING:
    from sensor.samples import Samples

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

    def decoder_params(self) -> dict[str, Any]:
        """Whether GYRO frames will come (ACC before the first of them is no 6-axis sample)."""
        return {"has_gyro": MEAS_GYRO in MODELS[self.model]}

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
