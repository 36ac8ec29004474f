"""Helpers for tests that stream through the fake BlueZ: what a fake sensor sent (rebuilt
from its feed and the delivered sample indices it reports), comparing that with what a
client received, and running a ``BleSource`` while faults are injected."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensor.events import Gap
from sensor.fake_bluez.control import FakeControl
from sensor.fake_bluez.feeds import SyntheticFeed
from sensor.fake_bluez.sensor_sim import SensorSpec
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.stream import LinkStatus

# One least-significant bit of each profile as HoldTrack configures it: (acc m/s², gyro rad/s).
LSB: dict[str, tuple[float, float]] = {
    "holdtrack": (8 * STANDARD_GRAVITY / 32768, math.radians(1000) / 32768),
    "witmotion": (16 * STANDARD_GRAVITY / 32768, math.radians(2000) / 32768),
    "thingy52": (STANDARD_GRAVITY / 1024, math.radians(1 / 32)),
    "polar": (STANDARD_GRAVITY / 1000, math.radians(2000) / 32768),
}
RATES: dict[str, float] = {"holdtrack": 100.0, "witmotion": 100.0, "thingy52": 100.0, "polar": 52.0}

_counter = itertools.count(1)


def new_address() -> str:
    """A fresh random-looking static address for each simulated sensor of a test run."""
    n = next(_counter)
    return f"D0:0D:{(n >> 16) & 0xFF:02X}:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}:42"


NAME_PREFIX: dict[str, str] = {"holdtrack": "HoldTrack", "witmotion": "WT901", "thingy52": "Thingy", "polar": "Polar Sense"}


def spec_for(profile: str, **kw: Any) -> SensorSpec:
    """A synthetic-feed sensor of ``profile`` at its usual rate, with a fresh address and
    a name that identifies its family."""
    address = kw.pop("address", None) or new_address()
    name = kw.pop("name", None) or f"{NAME_PREFIX[profile]}-{address[-8:].replace(':', '')}"
    return SensorSpec(address=address, name=name, profile=profile, rate_hz=RATES[profile], **kw)


def delivered_samples(spec: SensorSpec, runs: list[list[int]]) -> Samples:
    """The samples a synthetic-feed sensor delivered, in order (feed values, unquantized)."""
    feed = SyntheticFeed(RATES.get(spec.profile, spec.rate_hz), spec.seed, spec.duration_s)
    return Samples.concat([feed.samples(start, start + count) for start, count in runs])


def assert_same_samples(received: Samples, expected: Samples, profile: str) -> None:
    """Same count, same order, each value within one LSB (a profile may round or, like
    the Thingy firmware, truncate) plus float32 rounding. The feed's noise is many LSBs,
    so a missing, repeated or swapped sample never passes."""
    assert len(received) == len(expected), f"received {len(received)} samples, the sensor delivered {len(expected)}"
    acc_lsb, gyro_lsb = LSB[profile]
    tol = np.array([acc_lsb] * 3 + [gyro_lsb] * 3) + 1e-5
    err = np.abs(received.imu.astype(np.float64) - expected.imu.astype(np.float64))
    bad = np.flatnonzero(np.any(err > tol, axis=1))
    assert bad.size == 0, f"{bad.size} samples differ, first at index {bad[0]}: got {received.imu[bad[0]]}, sent {expected.imu[bad[0]]}"
    assert np.all(np.diff(received.time_s) > 0), "sample times must increase"


@dataclass
class Collected:
    """What a stream yielded."""

    chunks: list[Samples] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    links: list[LinkStatus] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # "S", "G", "L" in yield order
    fake_stats: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def samples(self) -> Samples:
        return Samples.concat(self.chunks)

    def add(self, item: Any) -> None:
        if isinstance(item, Samples):
            self.chunks.append(item)
            self.order.append("S")
        elif isinstance(item, Gap):
            self.gaps.append(item)
            self.order.append("G")
        else:
            self.links.append(item)
            self.order.append("L")


async def stream_through_fake(
    source: Any,
    ctl: FakeControl,
    address: str,
    faults: Callable[[], Awaitable[None]] | None = None,
    *,
    settle_timeout_s: float = 20.0,
    out: Collected | None = None,
) -> Collected:
    """Run ``source`` while ``faults()`` runs; then wait until the sensor's feed has ended
    (or the device is gone for good) and the client has every delivered sample (or has
    received nothing new for a second), and stop. ``out``: filled as items arrive (a fault
    may wait on what the client has said so far).
    """
    out = Collected() if out is None else out
    t0 = time.monotonic()

    async def drive() -> None:
        try:
            if faults is not None:
                await faults()
            deadline = time.monotonic() + settle_timeout_s
            seen, quiet_since = -1, time.monotonic()
            while time.monotonic() < deadline:
                st = await ctl.stats(address)
                if source.stats.samples != seen:
                    seen, quiet_since = source.stats.samples, time.monotonic()
                if (st["finished"] or not st["present"]) and (seen >= st["samples_delivered"] or time.monotonic() - quiet_since > 1.0):
                    break
                await asyncio.sleep(0.05)
        finally:
            await source.stop()

    driver = asyncio.get_running_loop().create_task(drive())
    try:
        async for item in source.stream():
            out.add(item)
    finally:
        if not driver.done():
            driver.cancel()
    await asyncio.gather(driver, return_exceptions=True)
    out.fake_stats = await ctl.stats(address)
    out.wall_s = time.monotonic() - t0
    return out


def missing_runs(runs: list[list[int]]) -> list[int]:
    """Samples missing between consecutive delivered runs."""
    return [b[0] - (a[0] + a[1]) for a, b in itertools.pairwise(runs)]
