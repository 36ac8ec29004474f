"""Sources: anything that yields timestamped sample chunks and link events.

A BLE sensor, a phone push, a recording replay and the simulated wearer all implement
``Source``, so everything downstream (recorder, pipeline, live view) runs the same code
whichever one is plugged in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from sensor.events import Gap
from sensor.recording import Header
from sensor.samples import Samples


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """Connection news from a source: shown to the user, written to the recording."""

    connected: bool
    at_s: float  # stream time
    message: str = ""


SourceItem = Samples | Gap | LinkStatus


class Source(Protocol):
    """``header`` describes the device; ``stream()`` yields items until the source ends or
    ``stop()`` is called. Sample times increase across the whole stream."""

    header: Header

    def stream(self) -> AsyncIterator[SourceItem]: ...

    async def stop(self) -> None: ...
