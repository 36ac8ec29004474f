"""The BLE client on bleak: find supported sensors (``scan``, ``find``) and say Bluetooth
trouble as one line (``translate_error``); ``sensor.sources.ble_source.BleSource`` streams one.

bleak is imported inside functions: importing this module costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sensor.errors import DeviceError, DeviceNotFoundError

if TYPE_CHECKING:
    from bleak.backends.device import BLEDevice


log = logging.getLogger(__name__)

BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True)
class FoundSensor:
    """One device seen by a scan. ``profile`` is the profile name, or None when the
    device is not a supported sensor; ``battery`` is % when it advertises it."""

    name: str | None
    address: str
    rssi: int
    profile: str | None
    label: str = ""
    battery: int | None = None
    device: Any = field(default=None, compare=False, repr=False)  # bleak's BLEDevice

    @property
    def supported(self) -> bool:
        return self.profile is not None

    def describe(self) -> str:
        what = self.label if self.profile else "not a supported sensor"
        battery = f", battery {self.battery}%" if self.battery is not None else ""
        return f"{self.name or '(no name)'}  {self.address}  {self.rssi} dBm  {what}{battery}"


# -- errors ------------------------------------------------------------------------------


def translate_error(exc: BaseException) -> DeviceError | None:
    """bleak / D-Bus failures that mean "no usable Bluetooth" as one clear DeviceError."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

    if isinstance(exc, DeviceError):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        reason = exc.reason
        if reason == BleakBluetoothNotAvailableReason.POWERED_OFF:
            return DeviceError("Bluetooth adapter is off: turn it on (bluetoothctl power on)")
        if reason in (BleakBluetoothNotAvailableReason.NO_BLUETOOTH, BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE):
            return DeviceError("no Bluetooth LE adapter found")
        return DeviceError(f"Bluetooth is not available: {exc.args[0]}")
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            return DeviceError("the Bluetooth service (bluetoothd) is not running")
        if exc.dbus_error == "org.bluez.Error.NotReady":
            return DeviceError("Bluetooth adapter is off: turn it on (bluetoothctl power on)")
        return None
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError, PermissionError)):
        return DeviceError(f"cannot reach the system D-Bus ({exc.strerror or exc})")
    return None


@contextlib.contextmanager
def bluetooth_errors() -> Iterator[None]:
    """Re-raise Bluetooth-unavailable failures as ``DeviceError``."""
    try:
        yield
    except Exception as e:
        mapped = translate_error(e)
        if mapped is None or mapped is e:
            raise
        raise mapped from None


async def check_adapter() -> None:
    """Raise ``DeviceError`` unless a powered LE adapter is there."""
    from bleak.backends.bluezdbus.manager import get_global_bluez_manager

    with bluetooth_errors():
        manager = await get_global_bluez_manager()
        manager.get_default_adapter()


# -- scanning -----------------------------------------------------------------------------


def _found(device: BLEDevice, adv: Any) -> FoundSensor:
    from sensor.devices import profile_for_advertisement

    name = adv.local_name or device.name
    profile = profile_for_advertisement(name, list(adv.service_uuids or []))
    battery = None
    level = (adv.service_data or {}).get(BATTERY_SERVICE)
    if level and 0 <= level[0] <= 100:
        battery = int(level[0])
    return FoundSensor(
        name=name,
        address=device.address,
        rssi=int(adv.rssi),
        profile=profile.name if profile else None,
        label=profile.label if profile else "",
        battery=battery,
        device=device,
    )


async def scan(timeout: float = 5.0) -> list[FoundSensor]:
    """Every device advertising within ``timeout`` s, strongest first."""
    from bleak import BleakScanner

    await check_adapter()
    with bluetooth_errors():
        found = await BleakScanner.discover(timeout=timeout, return_adv=True)
    sensors = [_found(device, adv) for device, adv in found.values()]
    return sorted(sensors, key=lambda s: (-s.rssi, s.address))


_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


async def _connected_device(address: str) -> FoundSensor | None:
    """A device BlueZ still holds connected (after a client crashed, say): it does not
    advertise, so a scan would miss it."""
    from bleak_retry_connector import get_device

    from sensor.devices import profile_for_advertisement

    if not _ADDRESS.match(address):
        return None
    with bluetooth_errors():
        device = await get_device(address)
    props = (device.details or {}).get("props", {}) if device is not None else {}
    if device is None or not props.get("Connected"):
        return None
    name = props.get("Name") or device.name
    profile = profile_for_advertisement(name, list(props.get("UUIDs", [])))
    return FoundSensor(
        name=name,
        address=device.address,
        rssi=int(props.get("RSSI", -127)),
        profile=profile.name if profile else None,
        label=profile.label if profile else "",
        device=device,
    )


async def find(identifier: str, timeout: float = 10.0) -> FoundSensor:
    """The device whose address or advertised name is ``identifier``; stops scanning as
    soon as it is seen. ``DeviceNotFoundError`` when it is not."""
    from bleak import BleakScanner

    await check_adapter()
    wanted = identifier.strip()
    connected = await _connected_device(wanted)
    if connected is not None:
        return connected

    def match(device: BLEDevice, adv: Any) -> bool:
        return device.address.upper() == wanted.upper() or wanted in (adv.local_name, device.name)

    with bluetooth_errors(), contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout), BleakScanner() as scanner:
            async for device, adv in scanner.advertisement_data():
                if match(device, adv):
                    return _found(device, adv)
    raise DeviceNotFoundError(identifier)
