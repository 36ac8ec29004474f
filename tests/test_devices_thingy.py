"""Nordic Thingy:52 raw motion data: Q-formats by hand, config validation, set-up, round trip."""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sensor.devices import thingy as T
from sensor.samples import STANDARD_GRAVITY as G
from sensor.samples import Samples


class FakeClient:
    def __init__(self, peripheral: T.ThingyPeripheral) -> None:
        self.p = peripheral
        self.handlers: dict[str, Callable[[Any, bytearray], None]] = {}

    async def start_notify(self, uuid: str, cb: Callable[[Any, bytearray], None]) -> None:
        self.handlers[uuid.lower()] = cb

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool | None = None) -> None:
        self.p.write(uuid, bytes(data))

    async def read_gatt_char(self, uuid: str) -> bytearray:
        return bytearray(self.p.read(uuid))


def test_uuids() -> None:
    assert T.MOTION_SERVICE_UUID == "ef680400-9b35-4933-9b10-52ffa9740042"
    assert T.RAW_UUID == "ef680406-9b35-4933-9b10-52ffa9740042"
    assert T.CONFIG_UUID == "ef680401-9b35-4933-9b10-52ffa9740042"


def test_hand_written_raw_notification() -> None:
    # accel (512, 0, -1024) Q6.10 = (0.5, 0, -1) g as reported (gravity direction), gyro
    # (32, -64, 3200) Q11.5 = (1, -2, 100) °/s, compass (16, 16, 16) ignored.
    raw = struct.pack("<9h", 512, 0, -1024, 32, -64, 3200, 16, 16, 16)
    d = T.ThingyDecoder().decode(raw)
    assert d.imu.dtype == np.float32 and d.time_s is None and d.bad == 0
    # Specific force is minus the reported vector: lying flat reads -1 g on z -> +9.81.
    np.testing.assert_allclose(d.imu[0, :3], [-0.5 * G, 0.0, G], rtol=1e-6)
    np.testing.assert_allclose(d.imu[0, 3:], np.radians([1, -2, 100]), rtol=1e-6)


@pytest.mark.parametrize("n", [0, 6, 17, 19, 36])
def test_wrong_lengths_are_bad(n: int) -> None:
    d = T.ThingyDecoder().decode(bytes(n))
    assert d.bad == 1 and len(d.imu) == 0


def test_config_validation_like_the_firmware() -> None:
    ok = T.pack_config((1000, 500, 500, 100, 1))
    assert len(ok) == 9 and T.unpack_config(ok) == (1000, 500, 500, 100, 1)
    for bad in (
        T.pack_config((1000, 500, 500, 0, 1)),
        T.pack_config((1000, 500, 500, 201, 1)),
        T.pack_config((50, 500, 500, 100, 1)),
        ok[:8],
    ):
        with pytest.raises(ValueError):
            T.unpack_config(bad)
    p = T.ThingyPeripheral()
    with pytest.raises(ValueError):
        p.write(T.CONFIG_UUID, T.pack_config((1000, 500, 500, 250, 1)))
    assert p.rate_hz == 10.0


def test_start_keeps_other_fields_and_sets_motion_frequency() -> None:
    p = T.ThingyPeripheral()
    p.config = T.pack_config((2000, 1000, 800, 10, 0))
    rate = asyncio.run(T.PROFILE.start(FakeClient(p), 100.0, lambda d: None)).rate_hz
    assert rate == 100.0 and T.unpack_config(p.config) == (2000, 1000, 800, 100, 0)
    assert T.with_rate(b"junk", 500.0)[1] == 200  # clamped to the firmware's maximum


def test_round_trip_within_one_lsb() -> None:
    rng = np.random.default_rng(3)
    acc = rng.normal(0.0, 2.0, (300, 3)) + np.array([0.0, 0.0, G])
    acc = np.clip(acc, -1.9 * G, 1.9 * G)
    gyro = rng.uniform(-5.0, 5.0, (300, 3))
    s = Samples(np.arange(300) / 100.0, np.concatenate([acc, gyro], axis=1))
    p, dec = T.ThingyPeripheral(100.0), T.ThingyDecoder()
    notes = p.encode(s)
    assert len(notes) == 300 and all(u == T.RAW_UUID and len(b) == 18 for u, b in notes)
    got = np.concatenate([dec.decode(b).imu for _, b in notes])
    # The firmware floors (arithmetic shift), so errors reach one LSB, not half of one.
    assert np.abs(got[:, :3] - s.acc).max() <= G / 1024
    assert np.abs(got[:, 3:] - s.gyro).max() <= math.radians(1 / 32)
    assert np.abs(got[:, 3:] - s.gyro).max() > 0.5 * math.radians(1 / 32)


def test_encoder_saturates_like_the_firmware() -> None:
    # Accel at the MPU-9250's ±2 g; gyro at the Q11.5 integer limit: 1023 °/s up, -1024 down.
    s = Samples(np.zeros(2), np.array([[3 * G, 0, 0, math.radians(1500), 0, 0], [-3 * G, 0, 0, -math.radians(1500), 0, 0]]))
    dec, p = T.ThingyDecoder(), T.ThingyPeripheral()
    got = np.concatenate([dec.decode(b).imu for _, b in p.encode(s)])
    np.testing.assert_allclose(got[:, [0, 3]], [[2 * G, math.radians(1023)], [-2 * G, -math.radians(1024)]], rtol=1e-6)
