"""WitMotion WT901BLECL / BWT901BLE5.0: a cheap 9-axis BLE IMU (MPU9250 inside).

Notifications carry 20-byte frames ``55 61`` + 9 little-endian int16: acc xyz, gyro xyz,
angle xyz. No checksum and no device timestamp, so ``Decoded.time_s`` is ``None`` and the
consumer runs a rate-locked clock. Register reads come back on the same characteristic as
``55 71`` frames. See ``firmware_notes/witmotion.md`` for what was confirmed where.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sensor.devices.base import DEFAULT_MTU, CharacteristicSpec, Decoded, DeviceProfile, GattClient, ServiceSpec, Started
from sensor.samples import STANDARD_GRAVITY

if TYPE_CHECKING:
    from sensor.samples import Samples

# The base ends in 9a34fb, not the SIG base 9b34fb: always the full strings.
SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

FRAME_LEN = 20
DATA_TYPE = 0x61
REGISTER_TYPE = 0x71

ACC_RANGE_G = 16.0
GYRO_RANGE_DPS = 2000.0
ANGLE_RANGE_DEG = 180.0
ACC_SCALE = ACC_RANGE_G * STANDARD_GRAVITY / 32768.0  # m/s² per LSB
GYRO_SCALE = math.radians(GYRO_RANGE_DPS) / 32768.0  # rad/s per LSB

REG_SAVE = 0x00
REG_RATE = 0x03
REG_TEMPERATURE = 0x40
REG_QUATERNION = 0x51
REG_BATTERY = 0x64
REG_READ = 0x27
REG_UNLOCK = 0x69
UNLOCK_VALUE = 0xB588

# Output-rate codes of register 0x03 (WIT standard protocol).
RATE_CODES: dict[float, int] = {
    0.2: 0x01,
    0.5: 0x02,
    1.0: 0x03,
    2.0: 0x04,
    5.0: 0x05,
    10.0: 0x06,
    20.0: 0x07,
    50.0: 0x08,
    100.0: 0x09,
    200.0: 0x0B,
}
CODE_RATES: dict[int, float] = {code: rate for rate, code in RATE_CODES.items()}
SETUP_RATES = (50.0, 100.0, 200.0)  # what HoldTrack asks for: 10 Hz (the default) is too slow
STEP_DELAY_S = 0.1  # the vendor SDK waits 100 ms between unlock, write and save


def write_command(reg: int, value: int) -> bytes:
    """``FF AA reg valL valH``."""
    return bytes((0xFF, 0xAA, reg & 0xFF, value & 0xFF, (value >> 8) & 0xFF))


def read_command(reg: int) -> bytes:
    """``FF AA 27 reg 00``: the device answers with a ``55 71`` frame."""
    return write_command(REG_READ, reg)


def setup_rate(rate_hz: float) -> tuple[float, int]:
    """The supported set-up rate nearest ``rate_hz`` and its register code."""
    rate = min(SETUP_RATES, key=lambda r: abs(r - rate_hz))
    return rate, RATE_CODES[rate]


def parse_register_reply(frame: bytes) -> dict[int, int]:
    """``55 71 regL regH`` + 8 int16 -> {register: value} for the 8 consecutive registers."""
    if len(frame) < FRAME_LEN or frame[0] != 0x55 or frame[1] != REGISTER_TYPE:
        raise ValueError("not a 55 71 register reply")
    start = frame[2] | (frame[3] << 8)
    values = np.frombuffer(frame, "<i2", count=8, offset=4)
    return {start + i: int(v) for i, v in enumerate(values)}


class WitMotionDecoder:
    """Reassembles 20-byte frames across notifications and resyncs on ``55 61``/``55 71``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.registers: dict[int, int] = {}  # latest values seen in 55 71 replies

    def decode(self, data: bytes) -> Decoded:
        buf = self._buf
        bad = 0
        if 0 < len(buf) < FRAME_LEN and len(data) % FRAME_LEN == 0 and data[:2] == b"\x55\x61":
            # A fresh whole frame while a partial one waits: the partial lost its tail.
            buf.clear()
            bad += 1
        buf += data
        frames: list[bytes] = []
        i, n = 0, len(buf)
        while n - i >= 2:
            if buf[i] == 0x55 and buf[i + 1] in (DATA_TYPE, REGISTER_TYPE):
                if n - i < FRAME_LEN:
                    break  # the rest comes with the next notification
                frame = bytes(buf[i : i + FRAME_LEN])
                if frame[1] == DATA_TYPE:
                    frames.append(frame)
                else:
                    self.registers.update(parse_register_reply(frame))
                i += FRAME_LEN
            else:
                i = _next_header(buf, i + 1)
                bad += 1  # one per run of junk, not per byte
        del buf[:i]
        if not frames:
            return Decoded.nothing(bad)
        raw = np.frombuffer(b"".join(frames), "<i2").reshape(-1, 10)
        imu = np.empty((raw.shape[0], 6), np.float32)
        imu[:, :3] = raw[:, 1:4] * ACC_SCALE
        imu[:, 3:] = raw[:, 4:7] * GYRO_SCALE
        return Decoded(imu, None, 0, bad)


def _next_header(buf: bytearray, start: int) -> int:
    """Index of the next possible frame start (a trailing lone 0x55 counts), else len(buf)."""
    n = len(buf)
    k = buf.find(0x55, start)
    while k != -1:
        if k + 1 == n or buf[k + 1] in (DATA_TYPE, REGISTER_TYPE):
            return k
        k = buf.find(0x55, k + 1)
    return n


class WitMotionPeripheral:
    """The device side: registers, the ``FF AA`` command set and 20-byte data frames."""

    services = (
        ServiceSpec(
            SERVICE_UUID,
            (
                CharacteristicSpec(NOTIFY_UUID, ("notify",)),
                CharacteristicSpec(WRITE_UUID, ("write", "write-without-response")),
            ),
        ),
    )

    def __init__(self, rate_hz: float = 10.0, battery: int = 396, frames_per_notification: int = 1) -> None:
        nearest = min(RATE_CODES, key=lambda r: abs(r - rate_hz))
        self.registers: dict[int, int] = {REG_RATE: RATE_CODES[nearest], REG_BATTERY: battery, REG_TEMPERATURE: 2500, REG_QUATERNION: 32767}
        self.unlocked = False
        self.saved: dict[int, int] = dict(self.registers)
        self.frames_per_notification = frames_per_notification
        self._yaw_deg = 0.0
        self._last_t: float | None = None

    @property
    def streaming(self) -> bool:
        return True  # the module streams whenever notifications are on

    def decoder_params(self) -> dict[str, Any]:
        return {}  # nothing learnt at set-up changes the samples

    @property
    def rate_hz(self) -> float:
        return CODE_RATES.get(self.registers[REG_RATE], 10.0)

    def read(self, char_uuid: str) -> bytes:
        if char_uuid.lower() in (NOTIFY_UUID, WRITE_UUID):
            return b""
        raise KeyError(char_uuid)

    def write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if char_uuid.lower() != WRITE_UUID:
            raise KeyError(char_uuid)
        out: list[tuple[str, bytes]] = []
        for k in range(0, len(data) - 4, 5):
            cmd = data[k : k + 5]
            if cmd[0] != 0xFF or cmd[1] != 0xAA:
                continue  # the module ignores what it cannot parse
            reg, value = cmd[2], cmd[3] | (cmd[4] << 8)
            if reg == REG_READ:
                out.append((NOTIFY_UUID, self._register_reply(cmd[3])))
            elif reg == REG_UNLOCK:
                self.unlocked = value == UNLOCK_VALUE
            elif reg == REG_SAVE:
                if value == 0:
                    self.saved = dict(self.registers)
                self.unlocked = False
            elif self.unlocked and (reg != REG_RATE or value in CODE_RATES):
                self.registers[reg] = value
        return out

    def _register_reply(self, start: int) -> bytes:
        values = [self.registers.get(start + i, 0) for i in range(8)]
        return bytes((0x55, REGISTER_TYPE, start, 0)) + np.array(values, "<i2").tobytes()

    def encode(self, samples: Samples) -> list[tuple[str, bytes]]:
        """One 20-byte frame per sample (``frames_per_notification`` per notification)."""
        n = len(samples)
        if n == 0:
            return []
        acc, gyro = samples.acc.astype(np.float64), samples.gyro.astype(np.float64)
        words = np.zeros((n, 10), np.int16)
        words[:, 0] = np.frombuffer(bytes((0x55, DATA_TYPE)), "<i2")[0]
        words[:, 1:4] = _quantize(acc / ACC_SCALE)
        words[:, 4:7] = _quantize(gyro / GYRO_SCALE)
        words[:, 7:10] = _quantize(self._angles(samples.time_s, acc, gyro) * (32768.0 / ANGLE_RANGE_DEG))
        frames = words.astype("<i2").tobytes()
        step = FRAME_LEN * max(1, self.frames_per_notification)
        return [(NOTIFY_UUID, frames[k : k + step]) for k in range(0, len(frames), step)]

    def _angles(self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
        """Roll/pitch from gravity and yaw from integrated gyro z: enough for a fake."""
        roll = np.degrees(np.arctan2(acc[:, 1], acc[:, 2]))
        pitch = np.degrees(np.arctan2(-acc[:, 0], np.hypot(acc[:, 1], acc[:, 2])))
        dt = np.diff(t, prepend=t[0] if self._last_t is None else self._last_t)
        yaw = self._yaw_deg + np.cumsum(np.degrees(gyro[:, 2]) * np.clip(dt, 0.0, 1.0))
        yaw = (yaw + 180.0) % 360.0 - 180.0
        self._yaw_deg, self._last_t = float(yaw[-1]), float(t[-1])
        return np.stack([roll, pitch, yaw], axis=1)


def _quantize(counts: np.ndarray) -> np.ndarray:
    """Round to the nearest count and clip to int16, as a 16-bit register saturates."""
    rounded: np.ndarray = np.rint(counts)
    return rounded.clip(-32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class WitMotionProfile(DeviceProfile):
    """Profile of the WitMotion BLE modules (no timestamps, no sequence numbers)."""

    async def start(self, client: GattClient, rate_hz: float, on_data: Callable[[bytearray], None]) -> Started:
        """Subscribe, then unlock, set the output rate, save; read the rate back to check."""
        rate, code = setup_rate(rate_hz)
        reply: asyncio.Future[dict[int, int]] = asyncio.get_running_loop().create_future()

        def handler(_char: object, data: bytearray) -> None:
            if not reply.done():
                k = bytes(data).find(bytes((0x55, REGISTER_TYPE, REG_RATE, 0)))
                if k != -1 and len(data) - k >= FRAME_LEN:
                    reply.set_result(parse_register_reply(bytes(data[k : k + FRAME_LEN])))
            on_data(data)

        await client.start_notify(NOTIFY_UUID, handler)
        for cmd in (write_command(REG_UNLOCK, UNLOCK_VALUE), write_command(REG_RATE, code), write_command(REG_SAVE, 0)):
            await client.write_gatt_char(WRITE_UUID, cmd, response=False)
            await asyncio.sleep(STEP_DELAY_S)
        await client.write_gatt_char(WRITE_UUID, read_command(REG_RATE), response=False)
        try:
            regs = await asyncio.wait_for(reply, timeout=2.0)
        except TimeoutError:
            return Started(rate)  # older firmware may not answer reads; trust the write
        return Started(CODE_RATES.get(regs.get(REG_RATE, code), rate))

    def decoder(self, rate_hz: float, **params: Any) -> WitMotionDecoder:
        return WitMotionDecoder()

    def peripheral(self, rate_hz: float, mtu: int = DEFAULT_MTU) -> WitMotionPeripheral:
        """20-byte frames, one per notification, as the module sends (fits any MTU)."""
        return WitMotionPeripheral(rate_hz)


PROFILE = WitMotionProfile(
    name="witmotion",
    label="WitMotion WT901BLECL / BWT901BLE5.0",
    service_uuids=(SERVICE_UUID,),
    name_prefixes=("WT901", "BWT901", "WT"),
)
