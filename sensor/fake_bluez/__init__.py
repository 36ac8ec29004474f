"""A fake BlueZ on a private D-Bus: bleak's real BlueZ backend talks to simulated sensors.

- ``FakeBluezProcess``: a private ``dbus-daemon`` plus the fake ``org.bluez`` as a
  subprocess (tests, ``holdtrack fake-sensors``).
- ``FakeBlueZ``: the service itself (in-process use).
- ``FakeControl`` / ``control``: fault injection and counters over the control interface.
- ``SensorSpec``: what a simulated sensor is (profile, address, name, rate, feed...).
- ``testing``: rebuild what a sensor delivered and compare it with what a client got.

Run alone: ``python -m sensor.fake_bluez --bus ADDRESS --sensor JSON`` (or
``holdtrack fake-sensors`` for a private bus with one sensor of every profile).

Importing this package pulls in nothing heavy; the submodules import dbus-fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # redundant aliases: re-exported names; at run time __getattr__ imports them lazily
    from sensor.fake_bluez.control import FakeControl as FakeControl
    from sensor.fake_bluez.control import control as control
    from sensor.fake_bluez.process import FakeBluezProcess as FakeBluezProcess
    from sensor.fake_bluez.sensor_sim import SensorSpec as SensorSpec
    from sensor.fake_bluez.service import FakeBlueZ as FakeBlueZ

_EXPORTS = {
    "FakeControl": "sensor.fake_bluez.control",
    "control": "sensor.fake_bluez.control",
    "FakeBluezProcess": "sensor.fake_bluez.process",
    "SensorSpec": "sensor.fake_bluez.sensor_sim",
    "FakeBlueZ": "sensor.fake_bluez.service",
}


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)


__all__ = list(_EXPORTS)
