"""BlueZ's D-Bus objects as the fake serves them: ``Adapter1``, ``Device1``,
``GattService1``, ``GattCharacteristic1`` and ``GattDescriptor1`` (the paths and interfaces
bleak's BlueZ backend uses), backed by simulated sensors. ``sensor.fake_bluez.service``
owns them (the ``Host``) and the bus."""

import logging
from typing import Annotated, Any, Protocol

from dbus_fast import DBusError, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from sensor.devices.base import CharacteristicSpec
from sensor.fake_bluez.sensor_sim import BATTERY_SERVICE, SimulatedSensor

log = logging.getLogger(__name__)
BLUEZ = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]


def device_path(address: str) -> str:
    return f"{ADAPTER_PATH}/dev_{address.upper().replace(':', '_')}"


def _err(name: str, text: str) -> DBusError:
    return DBusError(f"org.bluez.Error.{name}", text)


def _att_error(e: Exception) -> DBusError:
    """A peripheral's refusal as BlueZ reports an ATT error (bleak parses the code):
    0x13 Value Not Allowed for a bad value, 0x0A Attribute Not Found otherwise."""
    code = 0x13 if isinstance(e, ValueError) else 0x0A
    return _err("Failed", f"Operation failed with ATT error: 0x{code:02x}")


class Host(Protocol):
    """What the objects ask of the fake that owns them (``service.FakeBlueZ``)."""

    def advertise_all(self) -> None: ...

    def remove_device_object(self, path: str) -> bool: ...

    async def connect(self, dev: "Device") -> None: ...

    def link_down(self, dev: "Device", reason: str) -> None: ...

    def set_powered(self, powered: bool) -> None: ...


class Adapter(ServiceInterface):
    """``org.bluez.Adapter1``."""

    def __init__(self, fake: Host) -> None:
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

    def __init__(self, fake: Host, sensor: SimulatedSensor) -> None:
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
