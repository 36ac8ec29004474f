"""The fake ``org.bluez`` service: BlueZ's D-Bus objects, served with dbus-fast, backed by
simulated sensors.

Objects (BlueZ's own paths and interfaces, as bleak's BlueZ backend uses them):
``/`` ObjectManager (dbus-fast serves ``GetManagedObjects`` and emits ``InterfacesAdded``
/ ``InterfacesRemoved`` on export), ``/org/bluez/hci0`` Adapter1,
``/org/bluez/hci0/dev_XX_..`` Device1, and while connected
``…/serviceXXXX`` GattService1, ``…/serviceXXXX/charYYYY`` GattCharacteristic1 and
``…/charYYYY/descZZZZ`` GattDescriptor1 (bleak derives handles from the last four hex
digits and the device path by cutting the characteristic path). Notifications are
``PropertiesChanged(Value)`` on the characteristic.

Faults and counters are reachable in-process (``FakeBlueZ`` methods) and over the
``org.holdtrack.FakeBlueZ1`` control interface at ``/org/holdtrack/FakeBlueZ``.
"""

import asyncio
import contextlib
import functools
import logging
from collections.abc import Iterable
from typing import Any, TypeVar

from dbus_fast import BusType, Message, Variant
from dbus_fast.aio import MessageBus

from sensor.devices.base import ServiceSpec
from sensor.fake_bluez.bluez_objects import (
    ADAPTER_PATH,
    BLUEZ,
    Adapter,
    Characteristic,
    Descriptor,
    Device,
    GattService,
    _err,
)
from sensor.fake_bluez.bus import disconnected, survive_full_socket
from sensor.fake_bluez.control_service import CONTROL_PATH, Control
from sensor.fake_bluez.sensor_sim import SensorSpec, SimulatedSensor, resolve_profile

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
TICK_S = 0.005  # device clock resolution: samples are produced in 5 ms steps
ADVERTISE_S = 0.3  # advertising report interval while discovering
MAX_PENDING = 4096  # messages queued to the bus before notifications are dropped

_PROPS = "org.freedesktop.DBus.Properties"


class FakeBlueZ:
    """The fake BlueZ daemon's state; ``start`` connects it to a bus as ``org.bluez``."""

    def __init__(self, specs: Iterable[SensorSpec] = (), *, adapter: bool = True, powered: bool = True) -> None:
        self.bus: MessageBus | None = None
        self.adapter = Adapter(self)
        self.adapter.powered = powered
        self.has_adapter = adapter
        self.control = Control(self)
        self.devices: dict[str, Device] = {}
        self._pending = 0  # messages handed to dbus-fast and not yet written
        self._backoffs: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._advertiser: asyncio.Task[None] | None = None
        for spec in specs:
            self.add_sensor(spec)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self, bus_address: str | None = None) -> None:
        bus = MessageBus(bus_address=bus_address) if bus_address else MessageBus(bus_type=BusType.SYSTEM)
        self.bus = await bus.connect()
        survive_full_socket(self.bus)
        self.bus.export(CONTROL_PATH, self.control)
        if self.has_adapter:
            self.bus.export(ADAPTER_PATH, self.adapter)
        await self.bus.request_name(BLUEZ)
        loop = asyncio.get_running_loop()
        self._ticker = loop.create_task(self._tick_loop())
        self._advertiser = loop.create_task(self._advertise_loop())

    async def stop(self) -> None:
        for task in (self._ticker, self._advertiser, *self._backoffs):
            if task:
                task.cancel()
        if self.bus:
            bus, self.bus = self.bus, None
            bus.disconnect()
            with contextlib.suppress(Exception):  # the bus may already be gone (daemon killed): nothing to close
                await asyncio.wait_for(disconnected(bus), 2.0)

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            for dev in list(self.devices.values()):
                try:
                    dev.sensor.tick(now)
                except Exception:  # a profile bug must not take the whole fake down
                    log.exception("sensor %s tick failed", dev.spec.address)
            await asyncio.sleep(TICK_S)

    async def _advertise_loop(self) -> None:
        while True:
            await asyncio.sleep(ADVERTISE_S)
            if self.adapter.discovering:
                self.advertise_all()

    # -- sensors ----------------------------------------------------------------------------

    def add_sensor(self, spec: SensorSpec) -> SensorSpec:
        key = spec.address.upper()
        if key in self.devices:
            raise ValueError(f"sensor {spec.address} exists")
        sensor = SimulatedSensor(spec, resolve_profile(spec.profile))
        dev = Device(self, sensor)
        sensor.transmit = functools.partial(self._notify, dev)
        self.devices[key] = dev
        if self.adapter.discovering:
            self._advertise(dev)
        return spec

    def device(self, address: str) -> Device:
        try:
            return self.devices[address.upper()]
        except KeyError:
            raise KeyError(f"no simulated sensor {address}") from None

    def stats(self, address: str) -> dict[str, Any]:
        dev = self.device(address)
        out = dict(vars(dev.sensor.stats))
        out["connected"] = dev.sensor.connected
        out["present"] = dev.sensor.present
        out["pending"] = self._pending
        return out

    def take_trace(self, address: str) -> list[tuple[float, int]]:
        """The (send time, samples) of data notifications since the last call."""
        sensor = self.device(address).sensor
        trace, sensor.trace = sensor.trace, []
        return trace

    # -- advertising --------------------------------------------------------------------------

    def advertise_all(self) -> None:
        for dev in self.devices.values():
            self._advertise(dev)

    def _advertise(self, dev: Device) -> None:
        """One advertising report: export the device or update its RSSI."""
        if not (self.bus and self.has_adapter and self.adapter.powered and self.adapter.discovering):
            return
        if not dev.sensor.present or dev.sensor.connected:
            return  # peripherals stop advertising while connected
        if not dev.exported:
            self.bus.export(dev.path, dev)
            dev.exported = True
        else:
            dev.rssi = dev.spec.rssi + (1 if dev.rssi == dev.spec.rssi else 0)
            dev.emit_properties_changed({"RSSI": dev.rssi})

    def remove_device_object(self, path: str) -> bool:
        for dev in self.devices.values():
            if dev.path == path and dev.exported:
                self.link_down(dev, reason="removed")
                self._unexport_device(dev)
                return True
        return False

    def _unexport_device(self, dev: Device) -> None:
        if self.bus and dev.exported:
            self.bus.unexport(dev.path, dev)
        dev.exported = False

    # -- connections --------------------------------------------------------------------------

    async def connect(self, dev: Device) -> None:
        if not (self.has_adapter and self.adapter.powered):
            raise _err("NotReady", "Resource Not Ready")
        if dev.sensor.connected:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + dev.spec.connect_timeout_s
        # An LE connection to a device that is not advertising stays pending until it
        # comes back or the attempt times out, as BlueZ's does.
        while not dev.sensor.present:
            if loop.time() >= deadline:
                raise _err("Failed", "le-connection-timeout")
            await asyncio.sleep(0.01)
        await asyncio.sleep(dev.spec.connect_delay_s)
        if not (self.has_adapter and self.adapter.powered) or not dev.sensor.present:
            raise _err("Failed", "Software caused connection abort")
        if dev.sensor.connected:
            return
        dev.sensor.link_up()
        dev.emit_properties_changed({"Connected": True})
        self._export_gatt(dev)
        dev.services_resolved = True
        dev.emit_properties_changed({"ServicesResolved": True})

    def link_down(self, dev: Device, reason: str) -> None:
        """End a connection (client request, device-side drop, power off, removal)."""
        was = dev.sensor.connected
        dev.sensor.link_down()
        if reason != "client" and was:
            dev.sensor.stats.link_drops += 1
        if dev.services_resolved:
            dev.services_resolved = False
            dev.emit_properties_changed({"ServicesResolved": False})
        if was:
            dev.emit_properties_changed({"Connected": False})
        self._unexport_gatt(dev)

    def _export_gatt(self, dev: Device) -> None:
        assert self.bus is not None
        services: tuple[ServiceSpec, ...] = ()
        if dev.sensor.peripheral is not None:
            services = dev.sensor.peripheral.services
        handle = 0x000A
        for svc in services:
            spath = f"{dev.path}/service{handle:04x}"
            gsvc = GattService(svc.uuid.lower(), dev.path, handle)
            self.bus.export(spath, gsvc)
            dev.gatt.append((spath, gsvc))
            handle += 1
            for cspec in svc.characteristics:
                cpath = f"{spath}/char{handle:04x}"
                char = Characteristic(dev, cspec, spath, handle, cpath)
                self.bus.export(cpath, char)
                dev.gatt.append((cpath, char))
                dev.chars[char.uuid] = char
                handle += 2  # declaration + value handle
                if {"notify", "indicate"} & set(cspec.flags):
                    dpath = f"{cpath}/desc{handle:04x}"
                    desc = Descriptor(char, CCCD_UUID, handle)
                    self.bus.export(dpath, desc)
                    dev.gatt.append((dpath, desc))
                    handle += 1

    def _unexport_gatt(self, dev: Device) -> None:
        if self.bus:
            for path, iface in reversed(dev.gatt):
                self.bus.unexport(path, iface)
        dev.gatt.clear()
        dev.chars.clear()

    def _notify(self, dev: Device, uuid: str, data: bytes) -> bool:
        """Send one notification as ``PropertiesChanged(Value)``; False when dropped."""
        char = dev.chars.get(uuid.lower())
        if self.bus is None or char is None or self._pending >= MAX_PENDING:
            return False
        char.value = data
        msg = Message.new_signal(
            char.path,
            _PROPS,
            "PropertiesChanged",
            "sa{sv}as",
            ["org.bluez.GattCharacteristic1", {"Value": Variant("ay", data)}, []],
        )
        # The future resolves once dbus-fast has written the message: counting the
        # outstanding ones is our back-pressure.
        self._pending += 1
        self.bus.send(msg).add_done_callback(self._sent)
        return True

    def _sent(self, fut: "asyncio.Future[None]") -> None:
        self._pending -= 1

    # -- faults ---------------------------------------------------------------------------------

    def _later(self, delay: float, fn: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            fn()

        task = asyncio.get_running_loop().create_task(run())
        self._backoffs.add(task)
        task.add_done_callback(self._backoffs.discard)

    def drop_link(self, address: str, down_s: float) -> None:
        """Device-side disconnect; the device is unreachable for ``down_s`` seconds."""
        dev = self.device(address)
        dev.sensor.present = False
        self.link_down(dev, reason="dropped")
        if down_s >= 0:
            self._later(down_s, lambda: self._come_back(dev))

    def _come_back(self, dev: Device) -> None:
        dev.sensor.present = True
        self._advertise(dev)

    def vanish(self, address: str, back_after_s: float = -1.0) -> None:
        """The device goes away: disconnected, then removed from BlueZ (InterfacesRemoved);
        with ``back_after_s >= 0`` it advertises again after that long."""
        dev = self.device(address)
        dev.sensor.present = False
        self.link_down(dev, reason="vanished")
        self._unexport_device(dev)
        if back_after_s >= 0:
            self._later(back_after_s, lambda: self._come_back(dev))

    def stall(self, address: str, seconds: float, flush: bool = True) -> None:
        self.device(address).sensor.stall(asyncio.get_running_loop().time(), seconds, flush)

    def burst(self, address: str, count: int) -> None:
        self.device(address).sensor.burst(count)

    def corrupt(self, address: str, count: int, mode: str = "flip") -> None:
        self.device(address).sensor.corrupt(count, mode)

    def set_powered(self, powered: bool) -> None:
        if powered == self.adapter.powered:
            return
        if not powered:
            for dev in self.devices.values():
                self.link_down(dev, reason="powered off")
            if self.adapter.discovering:
                self.adapter.discovering = False
                self.adapter.sessions = 0
                self.adapter.emit_properties_changed({"Discovering": False})
        self.adapter.powered = powered
        self.adapter.emit_properties_changed({"Powered": powered})

    def remove_adapter(self) -> None:
        """The adapter is unplugged: every device disappears, then the adapter."""
        if not self.has_adapter:
            return
        for dev in self.devices.values():
            self.link_down(dev, reason="adapter removed")
            self._unexport_device(dev)
        self.adapter.discovering = False
        self.adapter.sessions = 0
        self.has_adapter = False
        if self.bus:
            self.bus.unexport(ADAPTER_PATH, self.adapter)

    def add_adapter(self) -> None:
        if self.has_adapter:
            return
        self.has_adapter = True
        if self.bus:
            self.bus.export(ADAPTER_PATH, self.adapter)
