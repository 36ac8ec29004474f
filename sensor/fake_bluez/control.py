"""Client of the fake BlueZ's control interface (``org.holdtrack.FakeBlueZ1``): inject
faults and read counters from a test, over the same bus bleak uses."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from sensor.fake_bluez.bluez_objects import BLUEZ
from sensor.fake_bluez.control_service import CONTROL_INTERFACE, CONTROL_PATH
from sensor.fake_bluez.sensor_sim import SensorSpec


class FakeControlError(RuntimeError):
    pass


class FakeControl:
    """``async with FakeControl(address) as ctl: await ctl.drop_link(addr, 0.5)``."""

    def __init__(self, bus_address: str) -> None:
        self.bus_address = bus_address
        self._bus: MessageBus | None = None

    async def __aenter__(self) -> FakeControl:
        self._bus = await MessageBus(bus_address=self.bus_address).connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

    async def _call(self, member: str, signature: str = "", *body: Any) -> Any:
        assert self._bus is not None, "use FakeControl as an async context manager"
        reply = await self._bus.call(
            Message(
                destination=BLUEZ,
                path=CONTROL_PATH,
                interface=CONTROL_INTERFACE,
                member=member,
                signature=signature,
                body=list(body),
            )
        )
        if reply.message_type == MessageType.ERROR:
            raise FakeControlError(f"{member}: {reply.error_name}: {reply.body[0] if reply.body else ''}")
        return reply.body[0] if reply.body else None

    async def add_sensor(self, spec: SensorSpec) -> str:
        return str(await self._call("AddSensor", "s", spec.to_json()))

    async def drop_link(self, address: str, down_s: float) -> None:
        await self._call("DropLink", "sd", address, float(down_s))

    async def vanish(self, address: str, back_after_s: float = -1.0) -> None:
        await self._call("Vanish", "sd", address, float(back_after_s))

    async def stall(self, address: str, seconds: float, flush: bool = True) -> None:
        await self._call("Stall", "sdb", address, float(seconds), flush)

    async def burst(self, address: str, count: int) -> None:
        await self._call("Burst", "su", address, count)

    async def corrupt(self, address: str, count: int, mode: str = "flip") -> None:
        await self._call("Corrupt", "sus", address, count, mode)

    async def set_powered(self, powered: bool) -> None:
        await self._call("SetPowered", "b", powered)

    async def remove_adapter(self) -> None:
        await self._call("RemoveAdapter")

    async def add_adapter(self) -> None:
        await self._call("AddAdapter")

    async def take_trace(self, address: str) -> list[tuple[float, int]]:
        """(time.monotonic() at send, samples) of each data notification since the last call
        (sensors added with ``trace=True``)."""
        return [tuple(x) for x in json.loads(await self._call("TakeTrace", "s", address))]

    async def stats(self, address: str) -> dict[str, Any]:
        stats: dict[str, Any] = json.loads(await self._call("Stats", "s", address))
        return stats


def control(bus_address: str, method: str, *args: Any) -> Any:
    """One control call from synchronous code (opens and closes its own connection)."""

    async def run() -> Any:
        async with FakeControl(bus_address) as ctl:
            return await getattr(ctl, method)(*args)

    return asyncio.run(run())
