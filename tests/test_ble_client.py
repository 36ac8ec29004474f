"""The BLE client (``sensor.sources.ble``) on bleak's real BlueZ backend, against the fake BlueZ
on a private dbus-daemon: scanning, streaming every profile end to end, several sensors
at once, damaged packets and the clear errors."""

from __future__ import annotations

import asyncio
import os
import zlib
from typing import TYPE_CHECKING

import numpy as np
import pytest

from sensor.errors import DeviceError, DeviceNotFoundError
from sensor.fake_bluez.control import FakeControl
from sensor.fake_bluez.process import FakeBluezProcess
from sensor.fake_bluez.sensor_sim import SensorSpec
from sensor.fake_bluez.testing import (
    RATES,
    Collected,
    assert_same_samples,
    delivered_samples,
    new_address,
    spec_for,
    stream_through_fake,
)

if TYPE_CHECKING:
    from sensor.sources.ble import FoundSensor
    from sensor.sources.ble_source import BleSource

PROFILES = ("holdtrack", "witmotion", "thingy52", "polar")
SPEED = 6.0


async def _add(bus: str, *specs: SensorSpec) -> None:
    async with FakeControl(bus) as ctl:
        for spec in specs:
            await ctl.add_sensor(spec)


def test_scan_finds_every_profile_with_its_name_and_battery(bus: str) -> None:
    from sensor.sources.ble import scan

    specs = [spec_for(p, battery=50 + i) for i, p in enumerate(PROFILES)]
    other = SensorSpec(address=new_address(), name="HR strap", profile="", uuids=("0000180d-0000-1000-8000-00805f9b34fb",))

    async def run() -> list[FoundSensor]:
        await _add(bus, *specs, other)
        return await scan(1.0)

    found = {f.address: f for f in asyncio.run(run())}
    for i, spec in enumerate(specs):
        f = found[spec.address]
        assert f.name == spec.name
        assert f.profile == spec.profile
        assert f.battery == 50 + i
        assert f.supported
    assert found[other.address].profile is None
    assert "not a supported sensor" in found[other.address].describe()


@pytest.mark.parametrize("profile", PROFILES)
def test_stream_arrives_as_the_same_samples_in_order(bus: str, profile: str) -> None:
    from sensor.sources.ble_source import BleSource

    spec = spec_for(
        profile, duration_s=12.0, speed=SPEED, seed=zlib.crc32(profile.encode()) % 1000
    )  # stable across processes (str hash is salted)

    async def run() -> tuple[BleSource, Collected]:
        await _add(bus, spec)
        src = BleSource(spec.name, rate_hz=RATES[profile], time_scale=SPEED)
        async with FakeControl(bus) as ctl:
            got = await stream_through_fake(src, ctl, spec.address)
        return src, got

    src, got = asyncio.run(run())
    st = got.fake_stats
    assert st["samples_delivered"] > 0.8 * 12.0 * RATES[profile]
    assert_same_samples(got.samples, delivered_samples(spec, st["delivered_runs"]), profile)
    assert src.header.device["profile"] == profile
    assert src.header.sample_rate_hz == RATES[profile]
    assert src.stats.bad == 0 and not got.gaps
    t = got.samples.time_s
    # Sample spacing is the device's rate, whatever the BLE batching did to arrivals.
    assert np.median(np.diff(t)) == pytest.approx(1.0 / RATES[profile], rel=0.01)
    # Times are on the stream clock: the first sample is near when it arrived.
    assert 0.0 < t[0] < 10.0 * SPEED
    assert got.links[0].connected and got.order[0] == "L"


def test_several_sensors_at_once(bus: str) -> None:
    from sensor.sources.ble_source import BleSource

    specs = [spec_for("holdtrack", duration_s=8.0, speed=SPEED, seed=7), spec_for("witmotion", duration_s=8.0, speed=SPEED, seed=8)]

    async def run() -> list[Collected]:
        await _add(bus, *specs)
        async with FakeControl(bus) as ctl:
            sources = [BleSource(s.address, rate_hz=RATES[s.profile], time_scale=SPEED) for s in specs]
            return await asyncio.gather(*(stream_through_fake(src, ctl, s.address) for src, s in zip(sources, specs)))

    results = asyncio.run(run())
    for spec, got in zip(specs, results):
        assert_same_samples(got.samples, delivered_samples(spec, got.fake_stats["delivered_runs"]), spec.profile)
        assert got.fake_stats["samples_delivered"] > 0.8 * 8.0 * RATES[spec.profile]
        # Both streams ran at the same time.
        assert got.fake_stats["connects"] == 1
    assert abs(results[0].wall_s - results[1].wall_s) < 2.0


# Corruptions each profile's decoder can recognise; injected one notification at a time.
DETECTABLE = {"holdtrack": ("header", "truncate"), "witmotion": ("truncate",), "thingy52": ("truncate",), "polar": ("header",)}


@pytest.mark.parametrize("profile", PROFILES)
def test_damaged_packets_are_counted_not_fatal(bus: str, profile: str) -> None:
    from sensor.sources.ble_source import BleSource

    spec = spec_for(profile, duration_s=10.0, speed=SPEED, seed=11)
    injected = {"n": 0}

    async def run() -> tuple[BleSource, Collected]:
        await _add(bus, spec)
        src = BleSource(spec.address, rate_hz=RATES[profile], time_scale=SPEED)
        async with FakeControl(bus) as ctl:

            async def faults() -> None:
                await asyncio.sleep(0.3)
                for mode in DETECTABLE[profile]:
                    for _ in range(6):
                        await ctl.corrupt(spec.address, 1, mode)
                        injected["n"] += 1
                        # One at a time: wait until it went out before the next.
                        while True:
                            st = await ctl.stats(spec.address)
                            if st["notifications_corrupted"] + st["notifications_truncated"] == injected["n"]:
                                break
                            await asyncio.sleep(0.02)
                        await asyncio.sleep(0.03)

            got = await stream_through_fake(src, ctl, spec.address, faults)
        return src, got

    src, got = asyncio.run(run())
    st = got.fake_stats
    damaged = st["notifications_corrupted"] + st["notifications_truncated"]
    assert damaged == injected["n"]
    assert src.stats.bad >= damaged  # each damaged notification is noticed...
    assert st["finished"]
    if profile == "polar":
        # Polar pairs ACC and GYRO frames: a damaged ACC frame loses its 24 samples, a
        # damaged GYRO frame none (ACC goes out with the gyro held).
        assert st["samples_delivered"] - 24 * damaged <= len(got.samples) <= st["samples_delivered"]
        assert np.all(np.diff(got.samples.time_s) > 0)
    else:
        assert_same_samples(got.samples, delivered_samples(spec, st["delivered_runs"]), profile)


def test_device_not_found(bus: str) -> None:
    from sensor.sources.ble_source import BleSource

    async def run() -> None:
        await BleSource("EE:EE:EE:00:00:01", scan_timeout_s=1.0).open()

    with pytest.raises(DeviceNotFoundError, match="EE:EE:EE:00:00:01"):
        asyncio.run(run())


def test_unsupported_device_is_refused(bus: str) -> None:
    from sensor.sources.ble_source import BleSource

    other = SensorSpec(address=new_address(), name="Heart strap", profile="", uuids=("0000180d-0000-1000-8000-00805f9b34fb",))

    async def run() -> None:
        await _add(bus, other)
        await BleSource("Heart strap", scan_timeout_s=2.0).open()

    with pytest.raises(DeviceError, match="not a supported sensor"):
        asyncio.run(run())


def test_adapter_off_is_a_clear_error(bus: str) -> None:
    from sensor.sources.ble import scan
    from sensor.sources.ble_source import BleSource

    spec = spec_for("holdtrack")

    async def run() -> list[str]:
        await _add(bus, spec)
        messages = []
        async with FakeControl(bus) as ctl:
            await ctl.set_powered(False)
            try:
                for attempt in (scan(1.0), BleSource(spec.address, scan_timeout_s=1.0).open()):
                    try:
                        await attempt
                    except DeviceError as e:
                        messages.append(str(e))
            finally:
                await ctl.set_powered(True)
        return messages

    messages = asyncio.run(run())
    assert len(messages) == 2
    assert all("adapter is off" in m for m in messages)


def test_bus_without_bluetoothd_and_without_adapter() -> None:
    from sensor.sources.ble import scan

    old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    errors = []
    try:
        for kwargs in ({"bluez": False}, {"adapter": False}):
            with FakeBluezProcess((), **kwargs) as fake:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = fake.address
                with pytest.raises(DeviceError) as e:
                    asyncio.run(scan(0.5))
                errors.append(str(e.value))
    finally:
        if old is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old
    assert "bluetoothd" in errors[0]
    assert "no Bluetooth LE adapter" in errors[1]
