"""Polar sensors as a device profile: set-up over the PMD control point, and the decoder
that merges ACC and GYRO frames into 6-channel samples (protocol: ``polar_pmd``).

The client writes commands to the control point and reads ``F0`` responses from its
indications; data frames arrive on the data characteristic: byte 0 measurement type,
bytes 1-8 u64 timestamp (ns since 2000-01-01T00:00Z, of the frame's last sample), byte 9
frame type (bit 7 = delta-compressed), payload from byte 10. ACC and GYRO come as separate
frames on the same characteristic; the decoder merges them into 6-channel samples.
See ``firmware_notes/polar.md`` for what was confirmed where.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sensor.devices.base import DEFAULT_MTU, Decoded, DeviceProfile, Started
from sensor.devices.polar_peripheral import PolarPeripheral
from sensor.devices.polar_pmd import (
    CONTROL_UUID,
    DATA_UUID,
    DEFAULT_FACTORS,
    GYRO_DPS_PER_COUNT,
    MAX_ABS_SI,
    MAX_GAP_NS,
    MEAS_ACC,
    MEAS_GYRO,
    OP_GET_SETTINGS,
    OP_STOP,
    SERVICE_UUID,
    SET_FACTOR,
    SET_RANGE,
    SET_RATE,
    SET_RESOLUTION,
    CpResponse,
    PolarProtocolError,
    frame_capacity,
    frame_values,
    parse_cp_response,
    parse_features,
    parse_settings,
    start_command,
)
from sensor.errors import DeviceError

if TYPE_CHECKING:
    from bleak import BleakClient


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
    out with the last gyro value held. ACC samples from before the first GYRO sample (GYRO
    starts a control-point round trip after ACC) had no gyroscope running: dropped and
    counted lost, not given a gyro value the sensor never measured. With
    ``has_gyro=False`` (the H10 has no gyroscope) gyro is reported as 0 rad/s: a
    placeholder, not a measurement. With ``has_gyro=None`` the decoder waits
    ``max_wait_s`` for a first GYRO frame and, if none comes, assumes there is no
    gyroscope.
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
        self._gyro_seen = False

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
        before = 0
        if not self._gyro_seen:  # the stream's first GYRO frame
            self._gyro_seen = True
            before = int(np.searchsorted(self._acc_t, t_ns[0] - 0.5 * self._clocks[MEAS_GYRO].period_ns))
            self._acc_t, self._acc_v = self._acc_t[before:], self._acc_v[before:]
        self._gyro_t = np.concatenate([self._gyro_t, t_ns])
        self._gyro_v = np.concatenate([self._gyro_v, values])
        return self._emit(bad=0, lost=before)

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
