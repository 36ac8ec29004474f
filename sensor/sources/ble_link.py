"""What the BLE link task tells the consumer through the queue (beside the notification
bytes): a connection up with what it negotiated, down, a set-up that failed, status news,
a fatal error, the end; and the counters a ``BleSource`` keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sensor.devices.base import Started


@dataclass
class BleStats:
    """What a ``BleSource`` has seen so far."""

    notifications: int = 0
    samples: int = 0
    bad: int = 0  # malformed notifications the decoder skipped
    lost: int = 0  # samples known missing from sequence numbers
    gaps: int = 0
    connects: int = 0
    reconnects: int = 0


@dataclass(slots=True)
class LinkUp:
    epoch: int
    at: float
    started: Started  # what this connection negotiated: its decoder is built from it
    message: str


@dataclass(slots=True)
class LinkDown:
    epoch: int
    at: float
    message: str


@dataclass(slots=True)
class SetupFailed:
    epoch: int  # a set-up that died after data may have arrived


@dataclass(slots=True)
class LinkNews:
    at: float
    message: str


@dataclass(slots=True)
class LinkFatal:
    error: BaseException


class LinkEnd:
    pass


QueueItem = tuple[int, float, bytes] | LinkUp | LinkDown | SetupFailed | LinkNews | LinkFatal | LinkEnd
