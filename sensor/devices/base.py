"""What every device profile provides: where bytes become samples.

A profile module (one per sensor family) holds the GATT UUIDs, the set-up commands, a
``Decoder`` (notification bytes -> SI samples in the device frame) and a ``Peripheral``
(the inverse: the device's side of the conversation, used by the fake BlueZ and tests).

A profile object is shared by every connection to that kind of sensor, so it holds no
per-connection state: ``start`` returns what it negotiated as ``Started``, and each
connection builds its own decoder from that (``DeviceProfile.decoder_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # bleak is only needed when a real client is used
    from bleak import BleakClient

    from sensor.samples import Samples


@dataclass(slots=True)
class Decoded:
    """What one notification decoded to.

    ``imu`` is float32 (n, 6): acc m/s², gyro rad/s, device frame. ``time_s`` holds device
    clock times in seconds when the profile carries timestamps, else ``None`` (the BLE
    consumer then assigns times with a rate-locked clock). ``lost`` counts samples known to
    be missing before these (from sequence numbers); ``bad`` counts malformed frames skipped.
    """

    imu: np.ndarray
    time_s: np.ndarray | None = None
    lost: int = 0
    bad: int = 0

    @staticmethod
    def nothing(bad: int = 0) -> Decoded:
        return Decoded(np.empty((0, 6), np.float32), None, 0, bad)


class Decoder(Protocol):
    """Stateful: fed every notification of one connection, in arrival order."""

    def decode(self, data: bytes) -> Decoded: ...


class GattClient(Protocol):
    """The part of ``BleakClient`` a profile's ``start`` uses; tests drive a profile with a
    fake that has just these."""

    async def start_notify(self, char_uuid: str, callback: Callable[[Any, bytearray], None], /) -> None: ...

    async def write_gatt_char(self, char_uuid: str, data: bytes, /, response: bool | None = None) -> None: ...

    async def read_gatt_char(self, char_uuid: str, /) -> bytearray: ...


@dataclass(frozen=True, slots=True)
class CharacteristicSpec:
    uuid: str
    flags: tuple[str, ...]  # BlueZ flag names: "read", "write", "write-without-response", "notify", "indicate"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    uuid: str
    characteristics: tuple[CharacteristicSpec, ...]


class Peripheral(Protocol):
    """The device side of a profile, driven by samples (the simulated sensor).

    The fake BlueZ calls ``read``/``write`` for GATT requests and sends every
    ``(characteristic uuid, bytes)`` that ``write`` and ``encode`` return as a notification
    or indication.
    """

    @property
    def services(self) -> tuple[ServiceSpec, ...]: ...  # read-only, so a class attribute fits

    def read(self, char_uuid: str) -> bytes: ...

    def write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]: ...

    @property
    def streaming(self) -> bool: ...

    @property
    def rate_hz(self) -> float: ...

    def encode(self, samples: Samples) -> list[tuple[str, bytes]]: ...

    def decoder_params(self) -> dict[str, Any]:
        """What a client learns at set-up that changes which samples its decoder gives (the
        profile's ``decoder`` keyword parameters): the fake's sample monitor decodes with it."""
        ...


@dataclass(frozen=True, slots=True)
class Started:
    """What ``DeviceProfile.start`` negotiated on one connection: the sample rate the device
    runs at and the keyword arguments ``DeviceProfile.decoder`` needs for this connection's
    data (empty when the data describes itself)."""

    rate_hz: float
    decoder_params: dict[str, Any] = field(default_factory=dict)


DEFAULT_MTU = 247  # ATT MTU of the fake BlueZ and of most phones/adapters after the exchange


@dataclass(frozen=True)
class DeviceProfile:
    """A sensor family: how to recognise it, set it up and decode it."""

    name: str  # short id used on the command line and in recordings: "witmotion", "polar", ...
    label: str  # human name
    service_uuids: tuple[str, ...]  # any of these advertised -> this profile
    name_prefixes: tuple[str, ...] = field(default=())  # advertised name prefixes that identify it
    has_timestamps: bool = False
    has_sequence: bool = False

    def matches(self, name: str | None, service_uuids: list[str]) -> bool:
        uuids = {u.lower() for u in service_uuids}
        if any(u.lower() in uuids for u in self.service_uuids):
            return True
        if not name:
            return False
        return any(name.startswith(p) for p in self.name_prefixes)

    async def start(
        self, client: BleakClient, rate_hz: float, on_data: Callable[[bytearray], None]
    ) -> Started:  # pragma: no cover - per profile
        """Configure the connected device, subscribe ``on_data`` to its data notifications
        and start streaming; return what was negotiated. Must not store anything on the
        profile: it is shared by every connection. A profile may take any ``GattClient``
        (a ``BleakClient`` is one), so that tests can drive it with a fake."""
        raise NotImplementedError

    def decoder(self, rate_hz: float) -> Decoder:  # pragma: no cover - per profile
        """A fresh decoder for one connection. A profile whose ``Started.decoder_params`` are
        not empty adds them here as keyword parameters with defaults."""
        raise NotImplementedError

    def peripheral(self, rate_hz: float, mtu: int = DEFAULT_MTU) -> Peripheral:  # pragma: no cover - per profile
        """The device side, batching notifications to fit ``mtu`` (the ATT MTU)."""
        raise NotImplementedError

    def decoder_for(self, started: Started) -> Decoder:
        """The decoder for a connection whose ``start`` returned ``started``."""
        return self.decoder(started.rate_hz, **started.decoder_params)
