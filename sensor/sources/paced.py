"""Paced sources: a recording replayed and the simulated wearer, streamed on the wall clock
like a sensor sending notifications (``ReplaySource``, ``SimulatedSource``).
They implement ``sensor.sources.Source`` like a BLE sensor or the phone push, so everything
downstream (recorder, pipeline, live view) runs the same code whichever one is plugged in.
"""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sensor.events import Gap
from sensor.samples import Samples, interleave
from sensor.stream import Header, LinkStatus, SourceItem

# -- file replay and the simulated wearer as live sources ---------------------------------
# Both pace their samples on the wall clock like a sensor sending notifications, and report
# recorded gaps as a link loss then a reconnection, so the live runner, recorder and view
# get exactly what a real sensor would give them (only faster, at speed > 1).

MIN_SPEED, MAX_SPEED = 1.0, 50.0
NOTIFY_INTERVAL_S = 0.05  # wall time between yields: a BLE sensor notifies at ~20 Hz
LATE_S = 0.5  # behind schedule by more than this (items not ready yet): re-anchor, no burst


def _check_speed(speed: float) -> float:
    if not MIN_SPEED <= float(speed) <= MAX_SPEED:
        raise ValueError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {speed}")
    return float(speed)


class PacedSource:
    """Streams items (sample blocks and gaps) at ``speed`` × real time; subclasses say
    where the items come from (``_aitems``, produced as they are needed).

    ``pause``/``resume``/``set_speed``/``seek`` may be called from any thread. ``seek``
    only goes forward: the samples skipped are still streamed (unpaced) so the pipeline's
    state, and so every event, stays what an uninterrupted run gives.
    """

    header: Header

    def __init__(self, header: Header, speed: float = 1.0, start_s: float | None = None) -> None:
        self.header = header
        self.speed = _check_speed(speed)
        self.paused = False
        self.skip_to_s = start_s  # stream time before which samples are not paced
        self._stopping = False
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._anchor: tuple[float, float] | None = None  # (stream time, monotonic wall time)
        self._last_t = 0.0  # stream time of the last item yielded

    async def _aitems(self) -> AsyncIterator[Samples | Gap]:
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator

    # -- control (any thread) ------------------------------------------------------------

    def _poke(self) -> None:
        loop, ev = self._loop, self._changed
        if loop is not None and ev is not None and not loop.is_closed():
            loop.call_soon_threadsafe(ev.set)

    def pause(self) -> None:
        self.paused = True
        self._poke()

    def resume(self) -> None:
        self.paused = False
        self._poke()

    def set_speed(self, speed: float) -> None:
        self.speed = _check_speed(speed)
        self._poke()

    def seek(self, t_s: float) -> None:
        """Jump forward to stream time ``t_s`` (earlier times: no effect here; restart the
        source with ``start_s`` to go back)."""
        self.skip_to_s = float(t_s)
        self._poke()

    async def open(self) -> None:
        """Nothing to connect: the items are made or read as they are streamed."""

    async def stop(self) -> None:
        self._stopping = True
        if self._changed is not None:
            self._changed.set()

    # -- pacing (event-loop thread) --------------------------------------------------------

    def _skipping(self, t: float) -> bool:
        return self.skip_to_s is not None and t < self.skip_to_s

    async def _pace(self, t: float) -> None:
        """Wait until stream time ``t`` is due on the wall clock (while paused: until resumed)."""
        assert self._changed is not None
        while not self._stopping:
            now = _time.monotonic()
            if self.paused or self._anchor is None:
                self._anchor = None
                if not self.paused:
                    self._anchor = (t, now)
                    return
                await self._changed.wait()
                self._changed.clear()
                continue
            t0, w0 = self._anchor
            due = w0 + (t - t0) / self.speed
            if now - due > LATE_S:  # the items came late (still being simulated): carry on from here
                self._anchor = (t, now)
                return
            if due <= now:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), due - now)
            except TimeoutError:
                return
            self._changed.clear()
            # Woken early: speed, pause or seek changed. Re-anchor at the last yield so a
            # new speed applies from now on.
            if self.skip_to_s is not None and t < self.skip_to_s:
                return
            self._anchor = (self._last_t, _time.monotonic()) if not self.paused else None

    async def stream(self) -> AsyncIterator[SourceItem]:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._anchor = None
        self._last_t = 0.0
        started = False
        async for item in self._aitems():
            if self._stopping:
                break
            if isinstance(item, Gap):
                yield LinkStatus(False, item.start_s, "connection lost")
                if started and not self._skipping(item.end_s):
                    await self._pace(item.end_s)
                if self._stopping:
                    break
                yield item
                yield LinkStatus(True, item.end_s, "reconnected")
                self._last_t = item.end_s
                continue
            t = item.time_s
            if not started:
                started = True
                yield LinkStatus(True, float(t[0]), "connected")
            a = 0
            n = len(t)
            while a < n and not self._stopping:
                skip_to = self.skip_to_s
                if skip_to is not None and float(t[a]) < skip_to:
                    # Skipped stretch: everything before the seek target in one piece.
                    b = int(np.searchsorted(t, skip_to, side="left"))
                    b = max(b, a + 1)
                    self._anchor = None
                else:
                    if self._anchor is None and not self.paused:
                        self._anchor = (float(t[a]), _time.monotonic())
                    per_chunk_s = NOTIFY_INTERVAL_S * self.speed  # stream time carried by one yield
                    b = max(a + 1, int(np.searchsorted(t, float(t[a]) + per_chunk_s, side="left")))
                    await self._pace(float(t[b - 1]))
                    if self._stopping:
                        break
                    if self._skipping(float(t[a])):
                        continue  # a seek came while waiting
                chunk = item[a:b]
                a = b
                self._last_t = float(chunk.time_s[-1])
                yield chunk
        yield LinkStatus(False, self._last_t, "stopped" if self._stopping else "end of data")


class ReplaySource(PacedSource):
    """A recording, CSV or phone export (anything ``analyze`` reads) replayed as if its
    sensor were sending it live, ``speed`` 1–50 ×; ``start_s``: stream time to start
    playing from (what comes before is fed unpaced)."""

    def __init__(self, path: str | Path, speed: float = 1.0, start_s: float | None = None) -> None:
        from sensor.files.inputs import input_header

        self.path = Path(path)
        header = input_header(self.path)  # fails now, clearly, on a missing or unknown file
        extra = {**header.extra, "replay_of": str(self.path)}
        super().__init__(replace(header, source="replay", extra=extra), speed, start_s)

    async def _aitems(self) -> AsyncIterator[Samples | Gap]:
        from sensor.files.inputs import open_input

        # Block by block: an hour-long recording or CSV is never held in memory whole.
        for item in open_input(self.path)[1]:
            yield item


class SimulatedSource(PacedSource):
    """The simulated wearer (``sensor.sim.simulate``) doing a session, seen as a live sensor.

    Simulated in two parts so data flows within a second of the start: the wearer
    arriving (the calibration stand, a walk, sitting and lying down, getting up), which
    takes a fraction of a second to simulate, then the routine of ``seed``
    (``simulate_session(seed)``, the same exercises ``holdtrack simulate --seed`` gives),
    simulated while the arrival streams. Both parts share one sensor: rate and mounting.
    """

    def __init__(self, seed: int, speed: float = 1.0, **options: Any) -> None:
        from sensor.sim.simulate import RATES_HZ

        self.seed = seed
        self.truth: dict[str, object] = {}
        rng = np.random.default_rng([seed, 11])  # the session-wide sensor choices
        rate = options.pop("rate_hz", None) or float(rng.choice(RATES_HZ))
        rotation = options.pop("mount_rotation_deg", None)
        sensor: dict[str, Any] = {
            "rate_hz": float(rate),
            "mount_rotation_deg": float(rotation if rotation is not None else rng.uniform(0, 360)),
            # The simulator draws the tilt's axis per call: untilted, both parts sit the same way.
            "mount_tilt_deg": float(options.pop("mount_tilt_deg", None) or 0.0),
        }
        standing = bool(options.pop("standing_start", True))
        common: dict[str, Any] = {k: options[k] for k in ("mount", "jitter", "dropouts") if k in options}
        self._arrival_opts: dict[str, Any] = {**sensor, **common, "standing_start": standing, "exercises": (), "link_losses": 0}
        self._routine_opts: dict[str, Any] = {**sensor, **options, "standing_start": False}
        self._arrival_seed = [seed, 7]
        super().__init__(
            Header(
                device={"profile": "simulated", "name": f"Simulated wearer #{seed}", "address": f"sim:{seed}"},
                sample_rate_hz=float(rate),
                mount=str(options.get("mount", "back")),
                source="simulated",
                extra={"seed": seed},
            ),
            speed,
        )

    async def _aitems(self) -> AsyncIterator[Samples | Gap]:
        from sensor.sim.simulate import simulate_session

        loop = asyncio.get_running_loop()
        arrival = await loop.run_in_executor(
            None, lambda: simulate_session(int(np.random.SeedSequence(self._arrival_seed).generate_state(1)[0]), **self._arrival_opts)
        )
        self.header = replace(arrival.header, extra={**arrival.header.extra, "seed": self.seed, "live_parts": 2})
        # The routine is simulated off the loop while the arrival streams.
        routine = loop.run_in_executor(None, lambda: simulate_session(self.seed, **self._routine_opts))
        for item in interleave(arrival.samples, arrival.gaps):
            yield item
        sim = await routine
        offset = float(arrival.samples.time_s[-1]) + 1.0 / float(arrival.header.sample_rate_hz)
        self.truth = _shift_truth(sim.truth, offset)
        self.truth["arrival_s"] = offset
        self.truth["calibration_stand"] = arrival.truth["calibration_stand"]
        shifted = Samples(sim.samples.time_s + offset, sim.samples.imu)
        for item in interleave(shifted, [Gap(g.start_s + offset, g.end_s + offset) for g in sim.gaps]):
            yield item


def _shift_truth(truth: dict[str, Any], offset: float) -> dict[str, Any]:
    """The routine's truth on the live stream's time axis."""
    out = dict(truth)
    for key in ("reps", "holds", "sets", "partials", "fidgets", "gaps"):
        out[key] = [
            {k: (v + offset if k in ("start_s", "end_s", "top_s", "t_s") and isinstance(v, float) else v) for k, v in e.items()}
            for e in truth.get(key, [])
        ]
    return out
