"""Live sources, bytes to samples: the ``Source`` protocol and ``make_source`` (one spec string
for the CLI and the dashboard); BLE (``ble``, ``ble_source``, stamped by ``clock``), the phone
push receiver, the phyphox poller, and paced replay and simulated-wearer sources.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from sensor.stream import Header, SourceItem


class Source(Protocol):
    """``open()`` connects (idempotent; ``stream()`` opens if needed) and completes
    ``header``, the stream's description; ``stream()`` yields items until the source ends or
    ``stop()`` is called. Sample times increase across the whole stream."""

    header: Header

    async def open(self) -> None: ...

    def stream(self) -> AsyncIterator[SourceItem]: ...

    async def stop(self) -> None: ...


SPECS = "ble:ADDRESS_OR_NAME, phone-push[:HOST:PORT], phyphox:HOST[:PORT], replay:PATH or sim:SEED"


def make_source(spec: str, **options: Any) -> Source:
    """A source from its spec string, the one vocabulary the CLI (``record --source``) and
    the dashboard share: ``ble:ADDRESS_OR_NAME``, ``phone-push[:HOST:PORT]``,
    ``phyphox:HOST[:PORT]``, ``replay:PATH``, ``sim:SEED``. ``options`` go to the source (``speed``, ``start_s``,
    ``rate_hz``, ``time_scale``...). Nothing connects until ``open()``."""
    from sensor.errors import UsageError

    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "ble" and arg:
        from sensor.sources.ble_source import BleSource

        return BleSource(arg, **options)
    if kind == "phone-push":
        from sensor.sources.http_push import parse_hostport
        from sensor.sources.phone_push import PhonePushSource

        host, port = parse_hostport(arg)
        return PhonePushSource(host, port, **options)
    if kind == "phyphox" and arg:
        from sensor.sources.phyphox import PhyphoxSource, parse_address

        host, port = parse_address(arg)
        return PhyphoxSource(host, port, **options)
    if kind == "replay" and arg:
        from sensor.sources.paced import ReplaySource

        return ReplaySource(arg, **options)
    if kind == "sim":
        try:
            seed = int(arg or 1)
        except ValueError:
            raise UsageError(f"sim:{arg}: the seed is a whole number") from None
        from sensor.sources.paced import SimulatedSource

        return SimulatedSource(seed, **options)
    raise UsageError(f"unknown source {spec!r}: expected {SPECS}")
