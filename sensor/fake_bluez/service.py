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
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, TypeVar

from dbus_fast import BusType, DBusError, Message, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusDouble,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
    DBusUInt32,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from sensor.devices.base import CharacteristicSpec, ServiceSpec
from sensor.fake_bluez.sensor_sim import BATTERY_SERVICE, SensorSpec, SimulatedSensor, resolve_profile

log = logging.getLogger(__name__)
_T = TypeVar("_T")

BLUEZ = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
CONTROL_PATH = "/org/holdtrack/FakeBlueZ"
CONTROL_INTERFACE = "org.holdtrack.FakeBlueZ1"
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
TICK_S = 0.005  # device clock resolution: samples are produced in 5 ms steps
ADVERTISE_S = 0.3  # advertising report interval while discovering
MAX_PENDING = 4096  # messages queued to the bus before notifications are dropped

DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]

_PROPS = "org.freedesktop.DBus.Properties"


def disconnected(bus: MessageBus) -> Awaitable[None]:
    """``bus.wait_for_disconnect()`` with its type (dbus-fast leaves it unannotated)."""
    wait: Callable[[], Awaitable[None]] = bus.wait_for_disconnect
    return wait()


def device_path(address: str) -> str:
    return f"{ADAPTER_PATH}/dev_{address.upper().replace(':', '_')}"


def _err(name: str, text: str) -> DBusError:
    return DBusError(f"org.bluez.Error.{name}", text)


def _att_error(e: Exception) -> DBusError:
    """A peripheral's refusal as BlueZ reports an ATT error (bleak parses the code):
    0x13 Value Not Allowed for a bad value, 0x0A Attribute Not Found otherwise."""
    code = 0x13 if isinstance(e, ValueError) else 0x0A
    return _err("Failed", f"Operation failed with ATT error: 0x{code:02x}")


class _FullSocketTolerant:
    """The bus socket as dbus-fast's writer sees it, with a full send buffer reported as
    "0 bytes written" (then it waits until writable) instead of ``BlockingIOError``, which
    dbus-fast's asyncio writer takes for a dead connection (dbus-next issue 153). A fake
    that streams fast on a busy host fills its socket; that must delay, not kill, it."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def send(self, data: Any) -> int:
        try:
            return int(self._sock.send(data))
        except BlockingIOError:
            return 0

    def sendmsg(self, buffers: Any, ancdata: Any = ()) -> int:
        try:
            return int(self._sock.sendmsg(buffers, ancdata))
        except BlockingIOError:
            return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _survive_full_socket(bus: MessageBus) -> None:
    writer = getattr(bus, "_writer", None)
    if writer is not None and hasattr(writer, "sock"):
        writer.sock = _FullSocketTolerant(writer.sock)


class Adapter(ServiceInterface):
    """``org.bluez.Adapter1``."""

    def __init__(self, fake: "FakeBlueZ") -> None:
        super().__init__("org.bluez.Adapter1")
        self._fake = fake
        self.powered = True
        self.discovering = False
        self.sessions = 0  # StartDiscovery calls not yet stopped
        self.filter: dict[str, Any] = {}

    @dbus_property(PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return "00:1A:7D:DA:71:13"

    @dbus_property(PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return "holdtrack-fake"

    @dbus_property(PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return "holdtrack-fake"

    @dbus_property(PropertyAccess.READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]

    @dbus_property(PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self.discovering

    @dbus_property(PropertyAccess.READ)
    def Discoverable(self) -> DBusBool:
        return False

    @dbus_property(PropertyAccess.READ)
    def Pairable(self) -> DBusBool:
        return False

    @dbus_property(PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return []

    @dbus_property()
    def Powered(self) -> DBusBool:
        return self.powered

    # mypy knows the setter idiom for builtin property only; the name must stay "Powered"
    # because dbus-fast applies a Set by setattr with the setter's __name__.
    @Powered.setter  # type: ignore[no-redef]
    def Powered(self, value: DBusBool) -> None:
        self._fake.set_powered(bool(value))

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        self.filter = {k: v.value for k, v in properties.items()}

    @dbus_method()
    def GetDiscoveryFilters(self) -> DBusStrList:
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable", "Pattern"]

    @dbus_method()
    def StartDiscovery(self) -> None:
        if not self.powered:
            raise _err("NotReady", "Resource Not Ready")
        self.sessions += 1
        if not self.discovering:
            self.discovering = True
            self.emit_properties_changed({"Discovering": True})
        # Devices are reported to a scanner only through signals seen while it scans.
        self._fake.advertise_all()

    @dbus_method()
    def StopDiscovery(self) -> None:
        if not self.powered:
            raise _err("NotReady", "Resource Not Ready")
        if self.sessions == 0:
            raise _err("Failed", "No discovery started")
        self.sessions -= 1
        if self.sessions == 0 and self.discovering:
            self.discovering = False
            self.emit_properties_changed({"Discovering": False})

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        if not self._fake.remove_device_object(device):
            raise _err("DoesNotExist", "Does Not Exist")


class Device(ServiceInterface):
    """``org.bluez.Device1`` of one simulated sensor."""

    def __init__(self, fake: "FakeBlueZ", sensor: SimulatedSensor) -> None:
        super().__init__("org.bluez.Device1")
        self._fake = fake
        self.sensor = sensor
        self.spec = sensor.spec
        self.path = device_path(self.spec.address)
        self.rssi = self.spec.rssi
        self.services_resolved = False
        self.exported = False
        self.gatt: list[tuple[str, ServiceInterface]] = []  # exported GATT objects
        self.chars: dict[str, Characteristic] = {}  # by uuid

    @property
    def uuids(self) -> list[str]:
        profile = self.sensor.profile
        uuids = list(profile.service_uuids) if profile else []
        return uuids + [u for u in self.spec.uuids if u not in uuids]

    @dbus_property(PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.spec.address.upper()

    @dbus_property(PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "random"

    @dbus_property(PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.spec.name

    @dbus_property(PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self.spec.name

    @dbus_property(PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER_PATH

    @dbus_property(PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return self.uuids

    @dbus_property(PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_property(PropertyAccess.READ)
    def ManufacturerData(self) -> DBusManufacturerData:
        return {0xFFFF: Variant("ay", self.spec.address.replace(":", "").encode())}

    @dbus_property(PropertyAccess.READ)
    def ServiceData(self) -> DBusDict:
        if self.spec.battery is None:
            return {}
        return {BATTERY_SERVICE: Variant("ay", bytes([self.spec.battery]))}

    @dbus_property(PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self.sensor.connected

    @dbus_property(PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self.services_resolved

    @dbus_property(PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(PropertyAccess.READ)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(PropertyAccess.READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(PropertyAccess.READ)
    def LegacyPairing(self) -> DBusBool:
        return False

    @dbus_method()
    async def Connect(self) -> None:
        await self._fake.connect(self)

    @dbus_method()
    def Disconnect(self) -> None:
        self._fake.link_down(self, reason="client")

    @dbus_method()
    def Pair(self) -> None:
        raise _err("NotSupported", "Operation is not supported")

    @dbus_method()
    def CancelPairing(self) -> None:
        pass


class GattService(ServiceInterface):
    """``org.bluez.GattService1``."""

    def __init__(self, uuid: str, device: str, handle: int) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid, self.device, self.handle = uuid, device, handle

    @dbus_property(PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self.device

    @dbus_property(PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(PropertyAccess.READ)
    def Handle(self) -> DBusUInt16:
        return self.handle


class Characteristic(ServiceInterface):
    """``org.bluez.GattCharacteristic1``: requests go to the sensor's peripheral."""

    def __init__(self, device: Device, spec: CharacteristicSpec, service: str, handle: int, path: str) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._device = device
        self.spec, self.service, self.handle, self.path = spec, service, handle, path
        self.uuid = spec.uuid.lower()
        self.value = b""

    @dbus_property(PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self.service

    @dbus_property(PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.uuid in self._device.sensor.notifying

    @dbus_property(PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return list(self.spec.flags)

    @dbus_property(PropertyAccess.READ)
    def MTU(self) -> DBusUInt16:
        return self._device.spec.mtu

    @dbus_property(PropertyAccess.READ)
    def Handle(self) -> DBusUInt16:
        return self.handle

    def _connected(self) -> SimulatedSensor:
        sensor = self._device.sensor
        if not sensor.connected:
            raise _err("Failed", "Not connected")
        return sensor

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        sensor = self._connected()
        if "read" not in self.spec.flags:
            raise _err("NotPermitted", "Read not permitted")
        try:
            self.value = bytes(sensor.read(self.uuid))
        except (KeyError, ValueError) as e:
            raise _att_error(e) from None
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        sensor = self._connected()
        if not {"write", "write-without-response"} & set(self.spec.flags):
            raise _err("NotPermitted", "Write not permitted")
        try:
            sensor.write(self.uuid, bytes(value))
        except (KeyError, ValueError) as e:
            raise _att_error(e) from None

    @dbus_method()
    def StartNotify(self) -> None:
        sensor = self._connected()
        if not {"notify", "indicate"} & set(self.spec.flags):
            raise _err("NotSupported", "Operation is not supported")
        if self.uuid not in sensor.notifying:
            sensor.notifying.add(self.uuid)
            self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:
        sensor = self._connected()
        if self.uuid in sensor.notifying:
            sensor.notifying.discard(self.uuid)
            self.emit_properties_changed({"Notifying": False})


class Descriptor(ServiceInterface):
    """``org.bluez.GattDescriptor1`` (the CCCD of a notifying characteristic)."""

    def __init__(self, char: Characteristic, uuid: str, handle: int) -> None:
        super().__init__("org.bluez.GattDescriptor1")
        self._char = char
        self.uuid, self.handle = uuid, handle

    @dbus_property(PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(PropertyAccess.READ)
    def Characteristic(self) -> DBusObjectPath:
        return self._char.path

    @dbus_property(PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self._cccd()

    @dbus_property(PropertyAccess.READ)
    def Handle(self) -> DBusUInt16:
        return self.handle

    def _cccd(self) -> bytes:
        on = self._char.uuid in self._char._device.sensor.notifying
        return bytes([1 if on else 0, 0])

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        return self._cccd()

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        raise _err("NotPermitted", "Write not permitted")


class Control(ServiceInterface):
    """``org.holdtrack.FakeBlueZ1``: fault injection and counters for tests and demos."""

    def __init__(self, fake: "FakeBlueZ") -> None:
        super().__init__(CONTROL_INTERFACE)
        self._fake = fake

    def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        try:
            return fn(*args)
        except (KeyError, ValueError) as e:
            raise DBusError("org.holdtrack.Error.Invalid", str(e)) from None

    @dbus_method()
    def AddSensor(self, spec_json: DBusStr) -> DBusStr:
        return self._call(lambda s: self._fake.add_sensor(SensorSpec.from_json(s)).address, spec_json)

    @dbus_method()
    def DropLink(self, address: DBusStr, down_s: DBusDouble) -> None:
        self._call(self._fake.drop_link, address, down_s)

    @dbus_method()
    def Vanish(self, address: DBusStr, back_after_s: DBusDouble) -> None:
        self._call(self._fake.vanish, address, back_after_s)

    @dbus_method()
    def Stall(self, address: DBusStr, seconds: DBusDouble, flush: DBusBool) -> None:
        self._call(self._fake.stall, address, seconds, flush)

    @dbus_method()
    def Burst(self, address: DBusStr, count: DBusUInt32) -> None:
        self._call(self._fake.burst, address, count)

    @dbus_method()
    def Corrupt(self, address: DBusStr, count: DBusUInt32, mode: DBusStr) -> None:
        self._call(self._fake.corrupt, address, count, mode)

    @dbus_method()
    def SetPowered(self, powered: DBusBool) -> None:
        self._fake.set_powered(powered)

    @dbus_method()
    def RemoveAdapter(self) -> None:
        self._fake.remove_adapter()

    @dbus_method()
    def AddAdapter(self) -> None:
        self._fake.add_adapter()

    @dbus_method()
    def Stats(self, address: DBusStr) -> DBusStr:
        return self._call(lambda a: json.dumps(self._fake.stats(a)), address)

    @dbus_method()
    def TakeTrace(self, address: DBusStr) -> DBusStr:
        return self._call(lambda a: json.dumps(self._fake.take_trace(a)), address)

    @dbus_method()
    def Sensors(self) -> DBusStr:
        return json.dumps([d.spec.to_json() for d in self._fake.devices.values()])


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
        _survive_full_socket(self.bus)
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
