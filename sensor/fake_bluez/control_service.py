"""The fake BlueZ's own control interface (``org.holdtrack.FakeBlueZ1`` at
``/org/holdtrack/FakeBlueZ``): fault injection and counters for tests and demos, served
beside BlueZ's objects (``sensor.fake_bluez.control.FakeControl`` is its client)."""

import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from dbus_fast import DBusError
from dbus_fast.annotations import DBusBool, DBusDouble, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

from sensor.fake_bluez.sensor_sim import SensorSpec

_T = TypeVar("_T")

CONTROL_PATH = "/org/holdtrack/FakeBlueZ"
CONTROL_INTERFACE = "org.holdtrack.FakeBlueZ1"


class Controlled(Protocol):
    """What the control interface drives (``service.FakeBlueZ``)."""

    devices: dict[str, Any]

    def add_sensor(self, spec: SensorSpec) -> SensorSpec: ...

    def drop_link(self, address: str, down_s: float) -> None: ...

    def vanish(self, address: str, back_after_s: float = -1.0) -> None: ...

    def stall(self, address: str, seconds: float, flush: bool = True) -> None: ...

    def burst(self, address: str, count: int) -> None: ...

    def corrupt(self, address: str, count: int, mode: str = "flip") -> None: ...

    def set_powered(self, powered: bool) -> None: ...

    def remove_adapter(self) -> None: ...

    def add_adapter(self) -> None: ...

    def stats(self, address: str) -> dict[str, Any]: ...

    def take_trace(self, address: str) -> list[tuple[float, int]]: ...


class Control(ServiceInterface):
    """``org.holdtrack.FakeBlueZ1``: fault injection and counters for tests and demos."""

    def __init__(self, fake: Controlled) -> None:
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
