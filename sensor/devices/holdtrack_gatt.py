"""The open HoldTrack GATT profile for DIY boards (spec: ``firmware_notes/holdtrack-gatt-profile.md``).

Data notifications carry batches of 6 × int16 samples behind a small header:

* full header, 9 bytes: version u8, flags u8, sequence u16, first-sample time u32 µs, count u8;
* compact header, 8 bytes (flag bit 0): the same without count, which is 1, so one sample
  fits the 20-byte notifications of the default ATT MTU (8 + 12 = 20).

Flags: bit 0 compact, bit 1 resync (first packet after start: sequence and loss counting
restart), bits 2-3 accel range code (2/4/8/16 g), bits 4-6 gyro range code
(125/250/500/1000/2000 °/s), bit 7 reserved (0). Packets carry their own ranges, so the
decoder needs nothing from the config characteristic.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sensor.devices.base import DEFAULT_MTU, CharacteristicSpec, Decoded, DeviceProfile, GattClient, ServiceSpec, Started
from sensor.errors import DeviceError
from sensor.samples import STANDARD_GRAVITY

if TYPE_CHECKING:
    from sensor.samples import Samples


def holdtrack_uuid(short: int) -> str:
    """``b4e7xxxx-3c1a-4d6f-9e25-486f6c647472`` (the last group spells "Holdtr")."""
    return f"b4e7{short:04x}-3c1a-4d6f-9e25-486f6c647472"


SERVICE_UUID = holdtrack_uuid(0x0001)
DATA_UUID = holdtrack_uuid(0x0002)
CONFIG_UUID = holdtrack_uuid(0x0003)
INFO_UUID = holdtrack_uuid(0x0004)

VERSION = 1
FLAG_COMPACT = 0x01
FLAG_RESYNC = 0x02
FLAG_RESERVED = 0x80
FULL_HEADER = struct.Struct("<BBHIB")  # 9 bytes
COMPACT_HEADER = struct.Struct("<BBHI")  # 8 bytes
SAMPLE_BYTES = 12
MAX_COUNT = 255

ACC_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (125, 250, 500, 1000, 2000)
RATES_HZ = (25, 50, 100, 200, 400)
CONFIG = struct.Struct("<HBHB")  # rate Hz, accel range g, gyro range °/s, streaming (1 start, 0 stop)
INFO = struct.Struct("<BBBBB")  # protocol version, firmware major, minor, patch, battery % (255 unknown)


def range_flags(acc_range_g: int, gyro_range_dps: int) -> int:
    return (ACC_RANGES_G.index(acc_range_g) << 2) | (GYRO_RANGES_DPS.index(gyro_range_dps) << 4)


def flags_ranges(flags: int) -> tuple[int, int] | None:
    """Accel g and gyro °/s full scale encoded in ``flags``; None for an unknown code."""
    gyro = (flags >> 4) & 0x07
    if gyro >= len(GYRO_RANGES_DPS):
        return None
    return ACC_RANGES_G[(flags >> 2) & 0x03], GYRO_RANGES_DPS[gyro]


def packet_capacity(payload_bytes: int) -> int:
    """Samples per notification for a notification payload of ``payload_bytes`` (ATT MTU - 3)."""
    if payload_bytes >= FULL_HEADER.size + SAMPLE_BYTES:
        return min(MAX_COUNT, (payload_bytes - FULL_HEADER.size) // SAMPLE_BYTES)
    if payload_bytes >= COMPACT_HEADER.size + SAMPLE_BYTES:
        return 1
    raise ValueError(f"a {payload_bytes}-byte notification cannot hold one sample")


def encode_packet(seq: int, t0_us: int, counts: np.ndarray, flags: int) -> bytes:
    """One notification: header + (n, 6) int16 counts (compact header when flagged, n == 1)."""
    body = np.ascontiguousarray(counts, "<i2").tobytes()
    if flags & FLAG_COMPACT:
        return COMPACT_HEADER.pack(VERSION, flags, seq & 0xFFFF, t0_us & 0xFFFFFFFF) + body
    return FULL_HEADER.pack(VERSION, flags, seq & 0xFFFF, t0_us & 0xFFFFFFFF, len(counts)) + body


class HoldTrackDecoder:
    """Packets -> samples with loss detection (sequence numbers) and u32 µs clock unwrapping.

    ``lost`` = missing packets × the previous packet's sample count. Duplicates and late
    (reordered) packets are counted as bad and dropped: their samples were already
    counted as lost, and the consumer's stream stays in time order.
    """

    def __init__(self, rate_hz: float) -> None:
        self._nominal_us = 1e6 / rate_hz if rate_hz > 0 else 1e4
        self._seq: int | None = None
        self._count = 1
        self._raw_t: int | None = None
        self._t_us = 0  # unwrapped time of the last accepted packet's first sample
        self._prev_t_us = 0
        self._period_us = self._nominal_us

    def decode(self, data: bytes) -> Decoded:
        data = bytes(data)
        if len(data) < COMPACT_HEADER.size or data[0] != VERSION or data[1] & FLAG_RESERVED:
            return Decoded.nothing(1)
        flags = data[1]
        if flags & FLAG_COMPACT:
            _, _, seq, t0 = COMPACT_HEADER.unpack_from(data)
            count, offset = 1, COMPACT_HEADER.size
        else:
            if len(data) < FULL_HEADER.size:
                return Decoded.nothing(1)
            _, _, seq, t0, count = FULL_HEADER.unpack_from(data)
            offset = FULL_HEADER.size
        ranges = flags_ranges(flags)
        if count == 0 or len(data) != offset + count * SAMPLE_BYTES or ranges is None:
            return Decoded.nothing(1)

        lost = 0
        contiguous = False
        if self._seq is not None and not flags & FLAG_RESYNC:
            gap = (seq - self._seq) & 0xFFFF
            if gap == 0 or gap >= 0x8000:
                return Decoded.nothing(1)  # duplicate, or older than the last one
            lost = (gap - 1) * self._count
            contiguous = gap == 1
        t_us = self._unwrap(t0)
        if contiguous:
            # Refine the sample period from the device clock, within reason.
            measured = (t_us - self._prev_t_us) / self._count
            if 0.5 * self._nominal_us < measured < 2.0 * self._nominal_us:
                self._period_us = measured
        self._seq, self._count, self._prev_t_us = seq, count, t_us

        raw = np.frombuffer(data, "<i2", count=6 * count, offset=offset).reshape(count, 6)
        acc_g, gyro_dps = ranges
        imu = np.empty((count, 6), np.float32)
        imu[:, :3] = raw[:, :3] * (acc_g * STANDARD_GRAVITY / 32768.0)
        imu[:, 3:] = raw[:, 3:] * (math.radians(gyro_dps) / 32768.0)
        times = (t_us + np.arange(count) * self._period_us) / 1e6
        return Decoded(imu, times, lost, 0)

    def _unwrap(self, t0: int) -> int:
        """Extend the wrapping u32 µs clock (71.6 min period) to an unbounded count."""
        if self._raw_t is not None:
            step = (t0 - self._raw_t) & 0xFFFFFFFF
            self._t_us += step if step < 0x80000000 else step - 0x100000000
        else:
            self._t_us = t0
        self._raw_t = t0
        return self._t_us


class HoldTrackPeripheral:
    """A reference board: config/info characteristics and batched data notifications."""

    services = (
        ServiceSpec(
            SERVICE_UUID,
            (
                CharacteristicSpec(DATA_UUID, ("notify",)),
                CharacteristicSpec(CONFIG_UUID, ("read", "write")),
                CharacteristicSpec(INFO_UUID, ("read",)),
            ),
        ),
    )

    def __init__(
        self,
        rate_hz: float = 100.0,
        mtu: int = 247,
        max_latency_s: float = 0.05,
        acc_range_g: int = 8,
        gyro_range_dps: int = 1000,
        board: str = "HoldTrack sim",
        battery_pct: int = 255,
    ) -> None:
        self.capacity = packet_capacity(mtu - 3)
        self.compact = mtu - 3 < FULL_HEADER.size + SAMPLE_BYTES
        self.max_latency_s = max_latency_s
        self.rate = _nearest(RATES_HZ, rate_hz)
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps
        self.board = board
        self.battery_pct = battery_pct
        self._streaming = False
        self._resync = True
        self._seq = 0
        self._pending_t = np.empty(0)
        self._pending = np.empty((0, 6))

    @property
    def streaming(self) -> bool:
        return self._streaming

    def decoder_params(self) -> dict[str, Any]:
        return {}  # nothing learnt at set-up changes the samples

    @property
    def rate_hz(self) -> float:
        return float(self.rate)

    @property
    def samples_per_packet(self) -> int:
        """Fill notifications, but send at least every ``max_latency_s``."""
        return max(1, min(self.capacity, round(self.rate * self.max_latency_s)))

    def read(self, char_uuid: str) -> bytes:
        uuid = char_uuid.lower()
        if uuid == CONFIG_UUID:
            return CONFIG.pack(self.rate, self.acc_range_g, self.gyro_range_dps, int(self._streaming))
        if uuid == INFO_UUID:
            return INFO.pack(VERSION, 1, 0, 0, self.battery_pct) + self.board.encode()[:20]
        if uuid == DATA_UUID:
            return b""
        raise KeyError(char_uuid)

    def write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        """6 bytes set the whole config, 1 byte only start/stop; else ``ValueError`` (an ATT error)."""
        if char_uuid.lower() != CONFIG_UUID:
            raise KeyError(char_uuid)
        if len(data) == CONFIG.size:
            rate, acc, gyro, stream = CONFIG.unpack(bytes(data))
            self.rate = _nearest(RATES_HZ, rate)
            self.acc_range_g = _nearest(ACC_RANGES_G, acc)
            self.gyro_range_dps = _nearest(GYRO_RANGES_DPS, gyro)
        elif len(data) == 1:
            stream = data[0]
        else:
            raise ValueError(f"HoldTrack config write must be 6 or 1 bytes, got {len(data)}")
        if stream > 1:
            raise ValueError("streaming byte must be 0 or 1")
        if stream and not self._streaming:
            self._resync, self._seq = True, 0
            self._pending_t, self._pending = np.empty(0), np.empty((0, 6))
        self._streaming = bool(stream)
        return []

    def encode(self, samples: Samples) -> list[tuple[str, bytes]]:
        if not self._streaming or len(samples) == 0:
            return []
        self._pending_t = np.concatenate([self._pending_t, samples.time_s])
        self._pending = np.concatenate([self._pending, samples.imu.astype(np.float64)])
        per = 1 if self.compact else self.samples_per_packet
        n = per * (len(self._pending_t) // per)
        scale = np.array([32768.0 / (self.acc_range_g * STANDARD_GRAVITY)] * 3 + [32768.0 / math.radians(self.gyro_range_dps)] * 3)
        counts = np.clip(np.rint(self._pending[:n] * scale), -32768, 32767).astype(np.int16)
        base_flags = range_flags(self.acc_range_g, self.gyro_range_dps) | (FLAG_COMPACT if self.compact else 0)
        out: list[tuple[str, bytes]] = []
        for k in range(0, n, per):
            flags = base_flags | (FLAG_RESYNC if self._resync else 0)
            t0_us = round(float(self._pending_t[k]) * 1e6)
            out.append((DATA_UUID, encode_packet(self._seq, t0_us, counts[k : k + per], flags)))
            self._seq, self._resync = (self._seq + 1) & 0xFFFF, False
        self._pending_t, self._pending = self._pending_t[n:], self._pending[n:]
        return out


def _nearest(options: tuple[int, ...], value: float) -> int:
    return min(options, key=lambda o: abs(o - value))


@dataclass(frozen=True)
class HoldTrackProfile(DeviceProfile):
    """Boards running HoldTrack reference firmware (or anything speaking the profile)."""

    async def start(self, client: GattClient, rate_hz: float, on_data: Callable[[bytearray], None]) -> Started:
        """Check the protocol version, subscribe, ask for ``rate_hz`` at ±8 g / ±1000 °/s and
        start; the rate is read back. Packets carry their ranges: no decoder parameters."""
        info = bytes(await client.read_gatt_char(INFO_UUID))
        if len(info) < INFO.size or info[0] != VERSION:
            raise DeviceError(f"HoldTrack board speaks protocol {info[:1].hex() or '?'}, this app speaks {VERSION}")
        await client.start_notify(DATA_UUID, lambda _c, d: on_data(d))
        await client.write_gatt_char(CONFIG_UUID, CONFIG.pack(round(rate_hz), 8, 1000, 1), response=True)
        rate, _acc, _gyro, streaming = CONFIG.unpack(bytes(await client.read_gatt_char(CONFIG_UUID))[: CONFIG.size])
        if not streaming:
            raise DeviceError("HoldTrack board did not start streaming")
        return Started(float(rate))

    def decoder(self, rate_hz: float) -> HoldTrackDecoder:
        return HoldTrackDecoder(rate_hz)

    def peripheral(self, rate_hz: float, mtu: int = DEFAULT_MTU) -> HoldTrackPeripheral:
        """A reference board whose notifications are filled to the ``mtu`` negotiated."""
        return HoldTrackPeripheral(rate_hz, mtu=mtu)


PROFILE = HoldTrackProfile(
    name="holdtrack",
    label="HoldTrack GATT profile (DIY boards)",
    service_uuids=(SERVICE_UUID,),
    name_prefixes=("HoldTrack",),
    has_timestamps=True,
    has_sequence=True,
)
