"""Sources: anything that yields timestamped sample chunks and link events.

A BLE sensor, a phone push, a recording replay and the simulated wearer all implement
``Source``, so everything downstream (recorder, pipeline, live view) runs the same code
whichever one is plugged in.
"""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

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


# -- file replay and the simulated wearer as live sources ---------------------------------
# Both pace their samples on the wall clock like a sensor sending notifications, and report
# recorded gaps as a link loss then a reconnection, so the live runner, recorder and view
# get exactly what a real sensor would give them (only faster, at speed > 1).

MIN_SPEED, MAX_SPEED = 1.0, 50.0
NOTIFY_INTERVAL_S = 0.05  # wall time between yields: a BLE sensor notifies at ~20 Hz


def interleave(samples: Samples, gaps: Iterable[Gap]) -> Iterator[Samples | Gap]:
    """Samples cut at the gaps, each gap yielded just before the samples that follow it
    (the order a recording stores them in)."""
    t = samples.time_s
    start = 0
    for g in sorted(gaps, key=lambda g: g.start_s):
        cut = int(np.searchsorted(t, g.end_s))
        if cut > start:
            yield samples[start:cut]
        yield g
        start = max(start, cut)
    if start < len(samples):
        yield samples[start:]


class PacedSource:
    """Streams items (sample blocks and gaps) at ``speed`` × real time; subclasses say
    where the items come from (``_items``)."""

    header: Header

    def __init__(self, header: Header, speed: float = 1.0) -> None:
        if not MIN_SPEED <= float(speed) <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {speed}")
        self.header = header
        self.speed = float(speed)
        self._stopping = False
        self._wake: asyncio.Event | None = None

    async def _items(self) -> Iterator[Samples | Gap]:
        raise NotImplementedError

    async def _sleep_until(self, wall: float) -> None:
        """Sleep until ``wall`` (monotonic) unless stopped first."""
        delay = wall - _time.monotonic()
        if delay > 0 and self._wake is not None:
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    async def stream(self) -> AsyncIterator[SourceItem]:
        self._wake = asyncio.Event()
        if self._stopping:
            self._wake.set()
        items = await self._items()
        t0: float | None = None
        w0 = _time.monotonic()
        last_t = 0.0
        per_chunk_s = NOTIFY_INTERVAL_S * self.speed  # stream time carried by one yield
        for item in items:
            if self._stopping:
                break
            if isinstance(item, Gap):
                yield LinkStatus(False, item.start_s, "connection lost")
                if t0 is not None:
                    await self._sleep_until(w0 + (item.end_s - t0) / self.speed)
                if self._stopping:
                    break
                yield item
                yield LinkStatus(True, item.end_s, "reconnected")
                continue
            t = item.time_s
            if t0 is None:
                t0 = float(t[0])
                w0 = _time.monotonic()
                yield LinkStatus(True, t0, "connected")
            edges = np.searchsorted(t, np.arange(float(t[0]) + per_chunk_s, float(t[-1]) + per_chunk_s, per_chunk_s))
            a = 0
            for b in [*edges.tolist(), len(t)]:
                if b <= a:
                    continue
                chunk = item[a:b]
                a = b
                last_t = float(chunk.time_s[-1])
                await self._sleep_until(w0 + (last_t - t0) / self.speed)
                if self._stopping:
                    break
                yield chunk
        yield LinkStatus(False, last_t, "stopped" if self._stopping else "end of data")

    async def stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()


class ReplaySource(PacedSource):
    """A recording replayed as if its sensor were sending it live, ``speed`` 1–50 ×."""

    def __init__(self, path: str | Path, speed: float = 1.0) -> None:
        from sensor.store import read_header

        self.path = Path(path)
        header = read_header(self.path)  # fails now, clearly, on a bad file
        extra = {**header.extra, "replay_of": str(self.path)}
        super().__init__(replace(header, source="replay", extra=extra), speed)

    async def _items(self) -> Iterator[Samples | Gap]:
        from sensor.recording import RecordingReader

        # Record by record: an hour-long recording is never held in memory whole.
        return iter(RecordingReader(self.path))


class SimulatedSource(PacedSource):
    """The simulated wearer (``sensor.simulate``) doing a session, seen as a live sensor."""

    def __init__(self, seed: int, speed: float = 1.0, **options: object) -> None:
        from sensor.simulate import simulate_session

        self.seed = seed
        self.truth: dict[str, object] = {}
        self._simulate = lambda: simulate_session(seed, **options)
        # The header is known before the session is simulated (it names the wearer).
        super().__init__(
            Header(
                device={"profile": "simulated", "name": f"Simulated wearer #{seed}", "address": f"sim:{seed}"},
                source="simulated",
                extra={"seed": seed},
            ),
            speed,
        )

    async def _items(self) -> Iterator[Samples | Gap]:
        # Simulating a whole session takes about a second: off the event loop.
        sim = await asyncio.get_running_loop().run_in_executor(None, self._simulate)
        self.header = sim.header
        self.truth = sim.truth
        return interleave(sim.samples, sim.gaps)
