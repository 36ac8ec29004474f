"""Nordic Thingy:52 motion service, raw data characteristic (MPU-9250 behind the InvenSense MPL).

Each 18-byte notification is one sample: 9 little-endian int16, accel xyz in Q6.10 g,
gyro xyz in Q11.5 °/s, compass xyz in Q12.4 µT (ignored). No timestamps. The notification
rate is the config characteristic's motion frequency (1-200 Hz). See
``firmware_notes/thingy52.md`` for what was confirmed where.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sensor.devices.base import DEFAULT_MTU, CharacteristicSpec, Decoded, DeviceProfile, GattClient, ServiceSpec, Started
from sensor.samples import STANDARD_GRAVITY

if TYPE_CHECKING:
    from sensor.samples import Samples


def thingy_uuid(short: int) -> str:
    """``EF68xxxx-9B35-4933-9B10-52FFA9740042``."""
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


MOTION_SERVICE_UUID = thingy_uuid(0x0400)
CONFIG_UUID = thingy_uuid(0x0401)
RAW_UUID = thingy_uuid(0x0406)
QUATERNION_UUID = thingy_uuid(0x0404)
EULER_UUID = thingy_uuid(0x0407)
GRAVITY_UUID = thingy_uuid(0x040A)

RAW_LEN = 18
ACC_LSB_G = 1.0 / 1024.0  # Q6.10
GYRO_LSB_DPS = 1.0 / 32.0  # Q11.5
# The firmware hands the MPL an accelerometer orientation matrix of -I (gyro: +I), "to get
# positive readings when axis is aligned with g": raw accel is the gravity direction, i.e.
# minus the specific force. The decoder flips it back.
ACC_SIGN = -1.0
ACC_SCALE = ACC_SIGN * ACC_LSB_G * STANDARD_GRAVITY
GYRO_SCALE = math.radians(GYRO_LSB_DPS)

CONFIG_FORMAT = "<HHHHB"  # pedometer ms, temperature ms, compass ms, motion Hz, wake-on-motion
CONFIG_LIMITS = ((100, 5000), (100, 5000), (100, 5000), (1, 200), (0, 1))
DEFAULT_CONFIG = (1000, 500, 500, 10, 1)


def pack_config(values: tuple[int, int, int, int, int]) -> bytes:
    return struct.pack(CONFIG_FORMAT, *values)


def unpack_config(data: bytes) -> tuple[int, int, int, int, int]:
    """Raises ``ValueError`` on a wrong length or a field out of the firmware's limits."""
    if len(data) != struct.calcsize(CONFIG_FORMAT):
        raise ValueError(f"Thingy motion config must be 9 bytes, got {len(data)}")
    values = struct.unpack(CONFIG_FORMAT, data)
    for v, (lo, hi) in zip(values, CONFIG_LIMITS):
        if not lo <= v <= hi:
            raise ValueError(f"Thingy motion config field {v} outside {lo}-{hi}")
    return values


def with_rate(config: bytes, rate_hz: float) -> tuple[bytes, int]:
    """Read-modify-write: the firmware rejects a write whose other fields are out of range."""
    try:
        values = unpack_config(config)
    except ValueError:
        values = DEFAULT_CONFIG
    rate = int(min(200, max(1, round(rate_hz))))
    a, b, c, _old_rate, e = values
    return pack_config((a, b, c, rate, e)), rate


class ThingyDecoder:
    """One sample per 18-byte notification; anything else is counted as bad."""

    def decode(self, data: bytes) -> Decoded:
        if len(data) != RAW_LEN:
            return Decoded.nothing(1)
        raw = np.frombuffer(bytes(data), "<i2", count=6).astype(np.float64)
        imu = np.empty((1, 6), np.float32)
        imu[0, :3] = raw[:3] * ACC_SCALE
        imu[0, 3:] = raw[3:] * GYRO_SCALE
        return Decoded(imu)


class ThingyPeripheral:
    """The Thingy side: config read/write with the firmware's validation, raw notifications."""

    services = (
        ServiceSpec(
            MOTION_SERVICE_UUID,
            (
                CharacteristicSpec(CONFIG_UUID, ("read", "write")),
                CharacteristicSpec(RAW_UUID, ("notify",)),
            ),
        ),
    )

    def __init__(self, rate_hz: float = 10.0, acc_range_g: float = 2.0, gyro_range_dps: float = 2000.0) -> None:
        self.config = with_rate(pack_config(DEFAULT_CONFIG), rate_hz)[0]
        # The MPU-9250 saturates at its full-scale range before the Q-format limit does.
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps

    @property
    def streaming(self) -> bool:
        return True  # raw data flows while notifications are enabled

    def decoder_params(self) -> dict[str, Any]:
        return {}  # nothing learnt at set-up changes the samples

    @property
    def rate_hz(self) -> float:
        return float(unpack_config(self.config)[3])

    def read(self, char_uuid: str) -> bytes:
        if char_uuid.lower() == CONFIG_UUID:
            return self.config
        if char_uuid.lower() == RAW_UUID:
            return b""
        raise KeyError(char_uuid)

    def write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        """Raises ``ValueError`` where the firmware answers "write not permitted"."""
        if char_uuid.lower() != CONFIG_UUID:
            raise KeyError(char_uuid)
        unpack_config(bytes(data))
        self.config = bytes(data)
        return []

    def encode(self, samples: Samples) -> list[tuple[str, bytes]]:
        n = len(samples)
        if n == 0:
            return []
        acc_g = np.clip(samples.acc.astype(np.float64) / STANDARD_GRAVITY, -self.acc_range_g, self.acc_range_g)
        dps = np.clip(np.degrees(samples.gyro.astype(np.float64)), -self.gyro_range_dps, self.gyro_range_dps)
        # The firmware clamps the integer part to the Q format (acc -32..31 g, gyro -1024..1023 °/s,
        # so the gyro saturates at 1023 °/s although the chip reads 2000) and then shifts the
        # MPL's Q16.16 value right: an arithmetic shift, i.e. floor.
        acc_g = np.clip(ACC_SIGN * acc_g, -32.0, 31.0)
        dps = np.clip(dps, -1024.0, 1023.0)
        words = np.zeros((n, 9), np.int64)
        words[:, :3] = np.floor(acc_g / ACC_LSB_G)
        words[:, 3:6] = np.floor(dps / GYRO_LSB_DPS)
        raw = np.clip(words, -32768, 32767).astype("<i2").tobytes()
        return [(RAW_UUID, raw[k : k + RAW_LEN]) for k in range(0, len(raw), RAW_LEN)]


@dataclass(frozen=True)
class ThingyProfile(DeviceProfile):
    """Nordic Thingy:52 with the stock firmware."""

    async def start(self, client: GattClient, rate_hz: float, on_data: Callable[[bytearray], None]) -> Started:
        config, rate = with_rate(bytes(await client.read_gatt_char(CONFIG_UUID)), rate_hz)
        await client.write_gatt_char(CONFIG_UUID, config, response=True)
        await client.start_notify(RAW_UUID, lambda _c, d: on_data(d))
        return Started(float(rate))

    def decoder(self, rate_hz: float, **params: Any) -> ThingyDecoder:
        return ThingyDecoder()

    def peripheral(self, rate_hz: float, mtu: int = DEFAULT_MTU) -> ThingyPeripheral:
        """18-byte raw-motion notifications, one sample each (fits any MTU)."""
        return ThingyPeripheral(rate_hz)


PROFILE = ThingyProfile(
    name="thingy52",
    label="Nordic Thingy:52",
    service_uuids=(MOTION_SERVICE_UUID, thingy_uuid(0x0100)),  # 0x0100: configuration service (advertised)
    name_prefixes=("Thingy",),
)
