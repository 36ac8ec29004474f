"""HoldTrack GATT profile: packet layout by hand, MTU sizing, loss/duplicate/reorder, unwrap."""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sensor.devices import holdtrack_gatt as H
from sensor.devices.base import Started
from sensor.errors import DeviceError
from sensor.samples import STANDARD_GRAVITY as G
from sensor.samples import Samples


class FakeClient:
    def __init__(self, peripheral: H.HoldTrackPeripheral) -> None:
        self.p = peripheral
        self.handlers: dict[str, Callable[[Any, bytearray], None]] = {}

    async def start_notify(self, uuid: str, cb: Callable[[Any, bytearray], None]) -> None:
        self.handlers[uuid.lower()] = cb

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool | None = None) -> None:
        self.p.write(uuid, bytes(data))

    async def read_gatt_char(self, uuid: str) -> bytearray:
        return bytearray(self.p.read(uuid))


def test_hand_written_packet() -> None:
    # version 1, flags: acc range code 2 (8 g) << 2, gyro code 3 (1000 °/s) << 4 = 0x38;
    # seq 7, t0 = 1_000_000 µs, count 2; samples (4096, 0, -4096, 32767, 0, -16384) and zeros.
    flags = (2 << 2) | (3 << 4)
    pkt = struct.pack("<BBHIB", 1, flags, 7, 1_000_000, 2) + struct.pack("<12h", 4096, 0, -4096, 32767, 0, -16384, *([0] * 6))
    assert len(pkt) == 9 + 24 and flags == H.range_flags(8, 1000)
    d = H.HoldTrackDecoder(100.0).decode(pkt)
    assert d.bad == 0 and d.lost == 0 and d.imu.dtype == np.float32
    np.testing.assert_allclose(d.imu[0], [G, 0, -G, math.radians(1000 * 32767 / 32768), 0, -math.radians(500)], rtol=1e-6)
    assert d.time_s is not None
    np.testing.assert_allclose(d.time_s, [1.0, 1.01])


def test_capacity_for_mtu() -> None:
    assert H.packet_capacity(244) == 19  # MTU 247: 9 + 19 × 12 = 237 bytes
    assert H.packet_capacity(20) == 1  # MTU 23: compact header, 8 + 12 = 20 bytes
    with pytest.raises(ValueError):
        H.packet_capacity(19)
    p = H.HoldTrackPeripheral(400.0, mtu=247)
    assert p.samples_per_packet == 19
    assert H.HoldTrackPeripheral(100.0, mtu=247).samples_per_packet == 5  # 50 ms latency cap


def started(rate: float, mtu: int = 247) -> H.HoldTrackPeripheral:
    p = H.HoldTrackPeripheral(rate, mtu=mtu)
    p.write(H.CONFIG_UUID, bytes((1,)))
    return p


def realistic(n: int, rate: float, t0: float = 0.0, seed: int = 4) -> Samples:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0.0, 3.0, (n, 3)) + np.array([0.0, 0.0, G])
    gyro = rng.uniform(-5.0, 5.0, (n, 3))
    return Samples(t0 + np.arange(n) / rate, np.concatenate([acc, gyro], axis=1))


@pytest.mark.parametrize("rate, mtu", [(100.0, 247), (400.0, 247), (100.0, 23)])
def test_round_trip_within_one_lsb(rate: float, mtu: int) -> None:
    p = started(rate, mtu)
    s = realistic(380, rate)  # whole packets: 380 = 20 × 19 = 76 × 5
    notes = p.encode(s)
    assert all(len(b) <= mtu - 3 for _, b in notes)
    if mtu == 23:
        assert all(len(b) == 20 for _, b in notes)
    dec = H.HoldTrackDecoder(rate)
    parts = [dec.decode(b) for _, b in notes]
    got = np.concatenate([d.imu for d in parts])
    t = np.concatenate([d.time_s for d in parts if d.time_s is not None])
    assert got.shape == (380, 6) and sum(d.bad + d.lost for d in parts) == 0
    assert np.abs(got[:, :3] - s.acc).max() <= 8 * G / 32768
    assert np.abs(got[:, 3:] - s.gyro).max() <= math.radians(1000) / 32768
    np.testing.assert_allclose(t, s.time_s, atol=2e-6)


def packets(n_samples: int = 200, rate: float = 100.0) -> list[bytes]:
    return [b for _, b in started(rate).encode(realistic(n_samples, rate))]


def test_dropped_packets_are_counted_as_lost_samples() -> None:
    pk = packets()
    dec = H.HoldTrackDecoder(100.0)
    kept = pk[:3] + pk[6:]  # three packets of 5 samples dropped
    parts = [dec.decode(b) for b in kept]
    assert sum(d.lost for d in parts) == 15 and parts[3].lost == 15
    assert sum(d.bad for d in parts) == 0
    # Times after the gap stay on the device clock.
    t_after = parts[3].time_s
    assert t_after is not None
    np.testing.assert_allclose(t_after[0], 0.30, atol=1e-6)


def test_duplicates_and_reordering_are_bad_not_fatal() -> None:
    pk = packets()
    dec = H.HoldTrackDecoder(100.0)
    order = [pk[0], pk[1], pk[1], pk[3], pk[2], pk[4]]
    parts = [dec.decode(b) for b in order]
    assert [d.bad for d in parts] == [0, 0, 1, 0, 1, 0]
    assert [d.lost for d in parts] == [0, 0, 0, 5, 0, 0]
    t = np.concatenate([d.time_s for d in parts if d.time_s is not None])
    assert np.all(np.diff(t) > 0)


def test_sequence_wraps_and_resync_restarts_counting() -> None:
    dec = H.HoldTrackDecoder(100.0)
    flags = H.range_flags(8, 1000)
    zero = np.zeros((1, 6), np.int16)
    assert dec.decode(H.encode_packet(65535, 0, zero, flags)).bad == 0
    assert dec.decode(H.encode_packet(0, 10_000, zero, flags)).lost == 0  # 65535 -> 0 is contiguous
    d = dec.decode(H.encode_packet(0, 20_000, zero, flags | H.FLAG_RESYNC))
    assert d.bad == 0 and d.lost == 0


def test_u32_microsecond_clock_unwraps() -> None:
    rate = 100.0
    t0 = (2**32 - 50_000) / 1e6  # 50 ms before the u32 µs counter wraps
    p = started(rate)
    s = realistic(100, rate, t0=t0)
    dec = H.HoldTrackDecoder(rate)
    t = np.concatenate([d.time_s for d in (dec.decode(b) for _, b in p.encode(s)) if d.time_s is not None])
    np.testing.assert_allclose(t, s.time_s, atol=2e-6)


def test_bad_packets() -> None:
    dec = H.HoldTrackDecoder(100.0)
    good = packets(10)[0]
    for b in (
        b"",
        good[:8],
        good[:-1],
        bytes((2,)) + good[1:],
        bytes((1, good[1] | 0x80)) + good[2:],
        bytes((1, 0x70)) + good[2:],
        good[:8] + b"\x00" + good[9:],
    ):
        assert dec.decode(b).bad == 1


def test_config_and_info() -> None:
    p = H.HoldTrackPeripheral(100.0)
    p.write(H.CONFIG_UUID, H.CONFIG.pack(180, 5, 700, 1))
    assert H.CONFIG.unpack(p.read(H.CONFIG_UUID)) == (200, 4, 500, 1) and p.streaming
    with pytest.raises(ValueError):
        p.write(H.CONFIG_UUID, b"\x01\x02")
    info = p.read(H.INFO_UUID)
    assert info[0] == H.VERSION and info[5:].decode() == "HoldTrack sim"


def test_start_configures_and_reads_back_rate() -> None:
    p = H.HoldTrackPeripheral(50.0)
    started = asyncio.run(H.PROFILE.start(FakeClient(p), 400.0, lambda d: None))
    assert started == Started(400.0, {}) and p.streaming and (p.acc_range_g, p.gyro_range_dps) == (8, 1000)

    class FutureBoard(H.HoldTrackPeripheral):
        """A board that reports protocol version 9."""

        def read(self, char_uuid: str) -> bytes:
            return b"\x09" + bytes(4) if char_uuid == H.INFO_UUID else super().read(char_uuid)

    with pytest.raises(DeviceError, match="protocol"):
        asyncio.run(H.PROFILE.start(FakeClient(FutureBoard(50.0)), 100.0, lambda d: None))


@pytest.mark.parametrize("mtu, per_packet", [(247, 19), (65, 4), (23, 1)])
def test_profile_peripheral_batches_to_the_mtu(mtu: int, per_packet: int) -> None:
    p = H.PROFILE.peripheral(400.0, mtu=mtu)
    assert isinstance(p, H.HoldTrackPeripheral) and p.samples_per_packet == per_packet
    p.write(H.CONFIG_UUID, bytes((1,)))
    s = realistic(per_packet * 10, 400.0)
    notes = [b for _, b in p.encode(s)]
    assert len(notes) == 10 and max(len(b) for b in notes) <= mtu - 3
    dec = H.PROFILE.decoder_for(Started(400.0))
    got = np.concatenate([dec.decode(b).imu for b in notes])
    assert np.abs(got[:, :3] - s.acc).max() <= 8 * G / 32768
