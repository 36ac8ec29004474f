"""The fake BlueZ itself, seen through plain bleak and D-Bus: BlueZ-shaped objects, GATT
requests, notifications, faults, counters, and a tear-down that leaves no process."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from sensor.devices import holdtrack_gatt as ht
from sensor.fake_bluez.bluez_objects import device_path
from sensor.fake_bluez.control import FakeControl, FakeControlError
from sensor.fake_bluez.process import FakeBluezProcess
from sensor.fake_bluez.testing import spec_for

if TYPE_CHECKING:
    from bleak import BleakClient

    from sensor.fake_bluez.sensor_sim import SensorSpec


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (only its parent can reap it).
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_stop_leaves_no_process_and_no_socket() -> None:
    fake = FakeBluezProcess([spec_for("holdtrack")])
    fake.start()
    assert fake.proc is not None and fake.bus.pid is not None
    pids = [fake.proc.pid, fake.bus.pid]
    socket_dir = fake.address.split("=", 1)[1].rsplit("/", 1)[0]
    assert all(_alive(p) for p in pids)
    fake.stop()
    assert not any(_alive(p) for p in pids)
    assert not os.path.exists(socket_dir)


def test_processes_die_with_a_killed_parent() -> None:
    script = (
        "from sensor.fake_bluez.process import FakeBluezProcess\n"
        "import time\n"
        "f = FakeBluezProcess(); f.start()\n"
        "print(f.proc.pid, f.bus.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


async def _connected(bus: str, **spec_kw: object) -> tuple[SensorSpec, BleakClient, asyncio.Event]:
    from bleak import BleakClient, BleakScanner

    spec = spec_for("holdtrack", **spec_kw)
    async with FakeControl(bus) as ctl:
        await ctl.add_sensor(spec)
    device = await BleakScanner.find_device_by_address(spec.address, timeout=3.0)
    assert device is not None
    lost = asyncio.Event()
    client = BleakClient(device, disconnected_callback=lambda _c: lost.set())
    await client.connect()
    return spec, client, lost


def test_gatt_objects_have_bluez_paths_and_handles(bus: str) -> None:
    from bleak.backends.bluezdbus.utils import device_path_from_characteristic_path

    async def run() -> None:
        spec, client, _ = await _connected(bus)
        try:
            dev = device_path(spec.address)
            assert dev == "/org/bluez/hci0/dev_" + spec.address.replace(":", "_")
            svc = client.services.get_service(ht.SERVICE_UUID)
            assert svc is not None
            path = svc.obj[0]
            assert path.startswith(dev + "/service") and svc.handle == int(path[-4:], 16)
            uuids = {c.uuid for c in svc.characteristics}
            assert uuids == {ht.DATA_UUID, ht.CONFIG_UUID, ht.INFO_UUID}
            for char in svc.characteristics:
                cpath = char.obj[0]
                assert cpath.startswith(path + "/char") and char.handle == int(cpath[-4:], 16)
                assert device_path_from_characteristic_path(cpath) == dev
                if "notify" in char.properties:
                    assert [d.uuid for d in char.descriptors] == ["00002902-0000-1000-8000-00805f9b34fb"]
                # bleak reads the ATT MTU from the characteristic's MTU property.
                assert char.max_write_without_response_size == 247 - 3
        finally:
            await client.disconnect()

    asyncio.run(run())


def test_requests_and_notifications_are_counted(bus: str) -> None:
    from bleak.exc import BleakGATTProtocolError

    async def run() -> tuple[list[bytes], dict[str, Any], bytes]:
        spec, client, _ = await _connected(bus, duration_s=1.0, speed=2.0)
        got: list[bytes] = []
        info = bytes(await client.read_gatt_char(ht.INFO_UUID))
        await client.start_notify(ht.DATA_UUID, lambda _c, d: got.append(bytes(d)))
        with pytest.raises(BleakGATTProtocolError):
            await client.write_gatt_char(ht.CONFIG_UUID, b"\x01\x02\x03", response=True)  # wrong length
        await client.write_gatt_char(ht.CONFIG_UUID, ht.CONFIG.pack(100, 8, 1000, 1), response=True)
        async with FakeControl(bus) as ctl:
            while not (st := await ctl.stats(spec.address))["finished"]:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            st = await ctl.stats(spec.address)
        await client.disconnect()
        return got, st, info

    got, st, info = asyncio.run(run())
    assert info[0] == ht.VERSION
    assert len(got) == st["notifications_sent"] > 0
    dec = ht.HoldTrackDecoder(100.0)
    n = sum(len(dec.decode(d).imu) for d in got)
    assert n == st["samples_delivered"] == 100  # 1 s at 100 Hz, in whole packets of 5
    assert st["delivered_runs"] == [[0, 100]]


def test_device_side_disconnect_and_reconnect(bus: str) -> None:
    async def run() -> tuple[float, dict[str, Any]]:
        spec, client, lost = await _connected(bus)
        async with FakeControl(bus) as ctl:
            await ctl.drop_link(spec.address, 0.3)
            await asyncio.wait_for(lost.wait(), 2.0)
            assert not client.is_connected
            t = time.monotonic()
            await client.connect()  # pending until the device advertises again
            waited = time.monotonic() - t
            assert client.is_connected
            await client.disconnect()
            return waited, await ctl.stats(spec.address)

    waited, st = asyncio.run(run())
    assert waited >= 0.2
    assert st["connects"] == 2 and st["link_drops"] == 1 and st["disconnects"] == 2


def test_stall_then_flush_arrives_as_a_burst(bus: str) -> None:
    async def run() -> list[float]:
        spec, client, _ = await _connected(bus, duration_s=3.0)
        arrivals: list[float] = []
        await client.start_notify(ht.DATA_UUID, lambda _c, d: arrivals.append(time.monotonic()))
        await client.write_gatt_char(ht.CONFIG_UUID, ht.CONFIG.pack(100, 8, 1000, 1), response=True)
        await asyncio.sleep(0.3)
        async with FakeControl(bus) as ctl:
            await ctl.stall(spec.address, 0.5, True)
        await asyncio.sleep(1.0)
        await client.disconnect()
        return arrivals

    arrivals = asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    k = max(range(len(gaps)), key=gaps.__getitem__)
    paced = (arrivals[-1] - arrivals[0] - gaps[k]) / (len(gaps) - 1)  # mean time a packet
    assert gaps[k] >= 0.4  # nothing while stalled...
    # ...then the held packets at once: eight in less time than two paced ones take (a
    # scale, not a clock: a loaded host may slow the burst, never to the sensor's pace).
    burst = arrivals[k + 9] - arrivals[k + 1]
    assert burst < 2 * paced, (burst, paced)
    print(f"\npaced {paced * 1e3:.1f} ms a packet; 8 held packets in {burst * 1e3:.1f} ms")


def test_vanish_removes_the_device_object(bus: str) -> None:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

    async def managed(address: str) -> set[str]:
        conn = await MessageBus(bus_address=address).connect()
        reply = await conn.call(
            Message(destination="org.bluez", path="/", interface="org.freedesktop.DBus.ObjectManager", member="GetManagedObjects")
        )
        conn.disconnect()
        return set(reply.body[0])

    async def run() -> tuple[set[str], set[str], str]:
        spec, _client, lost = await _connected(bus)
        before = await managed(bus)
        async with FakeControl(bus) as ctl:
            await ctl.vanish(spec.address)
        await asyncio.wait_for(lost.wait(), 2.0)
        await asyncio.sleep(0.1)
        return before, await managed(bus), device_path(spec.address)

    before, after, dev = asyncio.run(run())
    assert dev in before and any(p.startswith(dev + "/service") for p in before)
    assert not any(p.startswith(dev) for p in after)
    assert "/org/bluez/hci0" in after


def test_power_off_drops_links_and_refuses_connections(bus: str) -> None:
    from bleak.exc import BleakError

    async def run() -> None:
        _spec, client, lost = await _connected(bus)
        async with FakeControl(bus) as ctl:
            await ctl.set_powered(False)
            try:
                await asyncio.wait_for(lost.wait(), 2.0)
                with pytest.raises(BleakError):
                    await client.connect()
            finally:
                await ctl.set_powered(True)

    asyncio.run(run())


def test_control_rejects_unknown_sensors_and_faults(bus: str) -> None:
    async def run() -> None:
        async with FakeControl(bus) as ctl:
            with pytest.raises(FakeControlError, match="no simulated sensor"):
                await ctl.drop_link("00:00:00:00:00:01", 0.1)
            spec = spec_for("witmotion")
            await ctl.add_sensor(spec)
            with pytest.raises(FakeControlError, match="unknown corruption"):
                await ctl.corrupt(spec.address, 1, "shred")
            with pytest.raises(FakeControlError, match="exists"):
                await ctl.add_sensor(spec)
            stats = await ctl.stats(spec.address)
            assert json.loads(json.dumps(stats)) == stats and stats["connects"] == 0

    asyncio.run(run())
