"""WitMotion WT901BLE: frames written by hand from the published layout, set-up, round trips."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sensor.devices import witmotion as W
from sensor.devices.base import Peripheral
from sensor.samples import STANDARD_GRAVITY as G
from sensor.samples import Samples

# ax=2048 (1 g), ay=-1024 (-0.5 g), az=32767, wx=16384 (1000 °/s), wy=-8192 (-500 °/s), wz=0,
# roll=16384 (90°), pitch=0, yaw=-32768 (-180°); little-endian int16 after 55 61.
FRAME = bytes.fromhex("5561000800fcff7f004000e00000004000000080")
EXPECTED = np.array([G, -0.5 * G, 32767 / 32768 * 16 * G, math.radians(1000), math.radians(-500), 0.0])


class FakeClient:
    """Routes bleak calls to a peripheral, delivering its replies to the notify handler."""

    def __init__(self, peripheral: Peripheral) -> None:
        self.p = peripheral
        self.handlers: dict[str, Callable[[Any, bytearray], None]] = {}
        self.writes: list[bytes] = []

    async def start_notify(self, uuid: str, cb: Callable[[Any, bytearray], None]) -> None:
        self.handlers[uuid.lower()] = cb

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool | None = None) -> None:
        self.writes.append(bytes(data))
        for u, b in self.p.write(uuid, bytes(data)):
            self.handlers[u](None, bytearray(b))

    async def read_gatt_char(self, uuid: str) -> bytearray:
        return bytearray(self.p.read(uuid))


def test_hand_written_frame_to_si() -> None:
    d = W.WitMotionDecoder().decode(FRAME)
    assert d.imu.dtype == np.float32 and d.imu.shape == (1, 6)
    assert d.time_s is None and d.bad == 0 and d.lost == 0
    np.testing.assert_allclose(d.imu[0], EXPECTED, rtol=1e-6, atol=1e-6)


def test_two_frames_in_one_notification_and_split_frames() -> None:
    dec = W.WitMotionDecoder()
    assert len(dec.decode(FRAME + FRAME).imu) == 2
    assert len(dec.decode(FRAME[:7]).imu) == 0
    d = dec.decode(FRAME[7:] + FRAME[:1])  # completes one, starts the next with a lone 0x55
    assert len(d.imu) == 1 and d.bad == 0
    d = dec.decode(FRAME[1:])
    assert len(d.imu) == 1 and d.bad == 0
    np.testing.assert_allclose(d.imu[0], EXPECTED, rtol=1e-6, atol=1e-6)


def test_resync_after_junk_counts_one_bad() -> None:
    dec = W.WitMotionDecoder()
    d = dec.decode(b"\x01\x02\x55\x00\x07" + FRAME)
    assert len(d.imu) == 1 and d.bad == 1
    np.testing.assert_allclose(d.imu[0], EXPECTED, rtol=1e-6, atol=1e-6)


def test_orphan_partial_frame_is_dropped_when_a_whole_frame_arrives() -> None:
    dec = W.WitMotionDecoder()
    dec.decode(FRAME[:12])
    d = dec.decode(FRAME)
    assert len(d.imu) == 1 and d.bad == 1
    np.testing.assert_allclose(d.imu[0], EXPECTED, rtol=1e-6, atol=1e-6)


def test_register_reply_is_not_a_sample() -> None:
    dec = W.WitMotionDecoder()
    reply = bytes.fromhex("557164008c01") + bytes(14)  # register 0x64 = 396
    d = dec.decode(reply + FRAME)
    assert len(d.imu) == 1 and d.bad == 0
    assert dec.registers[0x64] == 396 and dec.registers[0x65] == 0


def test_commands_bytes() -> None:
    assert W.write_command(W.REG_UNLOCK, W.UNLOCK_VALUE) == bytes.fromhex("ffaa6988b5")
    assert W.write_command(W.REG_RATE, 0x08) == bytes.fromhex("ffaa030800")
    assert W.write_command(W.REG_SAVE, 0) == bytes.fromhex("ffaa000000")
    assert W.read_command(W.REG_BATTERY) == bytes.fromhex("ffaa276400")
    assert W.setup_rate(60) == (50.0, 0x08)
    assert W.setup_rate(100) == (100.0, 0x09)
    assert W.setup_rate(1000) == (200.0, 0x0B)


def test_peripheral_needs_unlock_to_change_rate() -> None:
    p = W.WitMotionPeripheral()
    assert p.rate_hz == 10.0
    p.write(W.WRITE_UUID, W.write_command(W.REG_RATE, 0x09))
    assert p.rate_hz == 10.0  # locked: ignored
    for cmd in (W.write_command(W.REG_UNLOCK, W.UNLOCK_VALUE), W.write_command(W.REG_RATE, 0x09), W.write_command(W.REG_SAVE, 0)):
        assert p.write(W.WRITE_UUID, cmd) == []
    assert p.rate_hz == 100.0 and not p.unlocked and p.saved[W.REG_RATE] == 0x09


def test_peripheral_answers_register_reads() -> None:
    p = W.WitMotionPeripheral(battery=391)
    [(uuid, reply)] = p.write(W.WRITE_UUID, W.read_command(W.REG_BATTERY))
    assert uuid == W.NOTIFY_UUID and len(reply) == 20 and reply[:4] == bytes.fromhex("55716400")
    assert W.parse_register_reply(reply)[W.REG_BATTERY] == 391


def test_start_sets_rate_and_reads_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(W, "STEP_DELAY_S", 0.0)
    p = W.WitMotionPeripheral()
    client = FakeClient(p)
    seen: list[bytes] = []
    rate = asyncio.run(W.PROFILE.start(client, 100.0, lambda d: seen.append(bytes(d)))).rate_hz
    assert rate == 100.0 and p.rate_hz == 100.0
    assert client.writes[:3] == [bytes.fromhex("ffaa6988b5"), bytes.fromhex("ffaa030900"), bytes.fromhex("ffaa000000")]
    assert seen and seen[-1][:4] == bytes.fromhex("55710300")  # the read-back reached on_data too


def realistic(n: int, seed: int = 1) -> Samples:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0.0, 3.0, (n, 3)) + np.array([0.0, 0.0, G])
    gyro = rng.uniform(-5.0, 5.0, (n, 3))
    return Samples(np.arange(n) / 50.0, np.concatenate([acc, gyro], axis=1))


@pytest.mark.parametrize("per_notification", [1, 2])
def test_round_trip_within_one_lsb(per_notification: int) -> None:
    s = realistic(400)
    p = W.WitMotionPeripheral(50.0, frames_per_notification=per_notification)
    dec = W.WitMotionDecoder()
    notes = p.encode(s)
    assert all(len(b) == 20 * per_notification for _, b in notes)
    got = np.concatenate([dec.decode(b).imu for _, b in notes])
    assert got.shape == (400, 6)
    assert np.abs(got[:, :3] - s.acc).max() <= W.ACC_SCALE
    assert np.abs(got[:, 3:] - s.gyro).max() <= W.GYRO_SCALE


def test_encoder_clips_to_the_range() -> None:
    s = Samples(np.zeros(1), np.array([[20 * G, -20 * G, 0, 40.0, -40.0, 0]]))
    d = W.WitMotionDecoder().decode(W.WitMotionPeripheral().encode(s)[0][1])
    np.testing.assert_allclose(d.imu[0, :2], [32767 * W.ACC_SCALE, -16 * G], rtol=1e-6)
    np.testing.assert_allclose(d.imu[0, 3:5], [32767 * W.GYRO_SCALE, -math.radians(2000)], rtol=1e-6)
