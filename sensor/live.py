"""The live runner: a source, the recorder and the pipeline, on one long-lived event loop.

Streamlit reruns page scripts in short-lived threads, while a BLE connection needs one
asyncio loop that outlives them. So all sources run on a single loop owned by a daemon
thread (``event_loop()``); a ``LiveSession`` starts its source there and publishes what
the UI needs in a lock-protected ``LiveSnapshot`` that any thread may read.

Order of work for every item: the recorder first (a crash in analysis never loses
data), then the pipeline, then the snapshot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensor.coach import Coach, Cue
from sensor.events import Event, Gap, Hold, HoldStarted, Rep
from sensor.samples import Samples
from sensor.sources import LinkStatus, Source
from sensor.vocab import LIVE_RECORDING_GLOB, live_recording_name

TRACE_HZ = 10.0  # pelvis-angle points per second of stream kept for the live chart
TRACE_WINDOW_S = 90.0  # how much of it is kept
LIVE_NAMES = LIVE_RECORDING_GLOB  # the recordings this module names (not the store's copies)
SAVE_TIMEOUT_S = 120.0  # how long stop() waits for the finish callback (an hour's import takes seconds)

_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def event_loop() -> asyncio.AbstractEventLoop:
    """The process-wide loop that every live source runs on (started on first use)."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="holdtrack-live-loop", daemon=True).start()
            _loop = loop
        return _loop


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """A consistent copy of the live state, safe to read from any thread."""

    phase: str  # idle, connecting, running, saving (source ended, finish callback running), finished, stopped, failed
    calibration: str  # waiting (prompt shown), done, skipped
    status: Any  # the pipeline's LiveStatus (a copy), None before the first samples
    trace: tuple[tuple[float, float], ...]  # (stream time s, pelvis angle deg), downsampled
    events: tuple[Event, ...]
    reps: tuple[Rep, ...]
    holds: tuple[Hold, ...]
    hold_started: HoldStarted | None  # the hold in progress, if any
    link: LinkStatus | None
    link_log: tuple[LinkStatus, ...]
    gaps: tuple[Gap, ...]
    samples: int
    stream_time_s: float  # time of the newest sample
    first_time_s: float
    rate_hz: float  # measured from the sample times
    recording: Path | None
    error: str | None
    saved: str | None  # what the finish callback said (e.g. "saved as session 12")
    started_wall: float
    cues: tuple[Cue, ...] = ()  # the coach's cues so far, in order (empty without a coach)
    recovered: str | None = None  # "recovered N s from an interrupted recording" (an earlier crash)

    @property
    def running(self) -> bool:
        return self.phase in ("connecting", "running")

    @property
    def active(self) -> bool:
        """Running, or ended and still being saved: a view keeps refreshing."""
        return self.running or self.phase == "saving"

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.stream_time_s - self.first_time_s) if self.samples else 0.0


@dataclass(slots=True)
class _State:
    phase: str = "idle"
    calibration: str = "waiting"
    status: Any = None
    trace: deque[tuple[float, float]] = field(default_factory=deque)
    events: list[Event] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    hold_started: HoldStarted | None = None
    link: LinkStatus | None = None
    link_log: list[LinkStatus] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    samples: int = 0
    stream_time_s: float = 0.0
    first_time_s: float = 0.0
    recording: Path | None = None
    error: str | None = None
    saved: str | None = None
    started_wall: float = 0.0
    cues: list[Cue] = field(default_factory=list)
    recovered: str | None = None


def _default_pipeline(mount: str = "back") -> Any:
    from sensor.pipeline import Pipeline, PipelineSettings  # numpy/scipy work: loaded when a session starts

    return Pipeline(PipelineSettings(mount=mount))


class LiveSession:
    """Runs one source until it ends or ``stop()``; records it (when ``recordings_dir`` is
    given) and feeds the pipeline. ``on_finished(recording_path)`` runs in a worker
    thread after the recording is closed (the dashboard imports it into the store there).
    """

    def __init__(
        self,
        source: Source,
        *,
        recordings_dir: Path | None = None,
        pipeline_factory: Callable[[str], Any] | None = None,
        on_finished: Callable[[Path], str] | None = None,
        trace_hz: float = TRACE_HZ,
        coach: Coach | None = None,
    ) -> None:
        self.source = source
        self.coach = coach
        self.recordings_dir = recordings_dir
        self._pipeline_factory = pipeline_factory or _default_pipeline
        self._on_finished = on_finished
        self._trace_dt = 1.0 / trace_hz
        self._lock = threading.Lock()
        self._state = _State(trace=deque(maxlen=int(trace_hz * TRACE_WINDOW_S)))
        self._future: concurrent.futures.Future[None] | None = None
        self._writer: Any = None
        self._pipe: Any = None
        self._last_trace_t = -1e18
        self._stop_requested = False
        self._done = threading.Event()
        self._first_data = threading.Condition(self._lock)

    # -- control (any thread) ------------------------------------------------------------

    def start(self) -> None:
        if self._future is not None:
            raise RuntimeError("a LiveSession runs once; make a new one")
        with self._lock:
            self._state.phase = "connecting"
            self._state.started_wall = time.time()
        self._future = asyncio.run_coroutine_threadsafe(self._run(), event_loop())

    def stop(self, timeout_s: float = 10.0) -> LiveSnapshot:
        """Stop the source, close the recording, wait for the finish callback."""
        self._stop_requested = True
        if self._future is None:
            return self.snapshot()
        try:
            asyncio.run_coroutine_threadsafe(self.source.stop(), event_loop()).result(timeout_s)
        except (concurrent.futures.TimeoutError, Exception) as e:
            self._set(error=f"stopping the source failed: {e}")
        if not self.wait(timeout_s):
            if self.snapshot().running:
                # A source that ignores stop(): cancel its task (the recorder still closes).
                self._future.cancel()
                self.wait(timeout_s)
            else:
                self.wait(SAVE_TIMEOUT_S)  # the source ended; the session is being saved
        return self.snapshot()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the run to end (recording closed, finish callback done); True if it has."""
        if self._future is None:
            return True
        return self._done.wait(timeout_s)

    def wait_for_data(self, timeout_s: float) -> bool:
        """Wait until the first samples are in (or the run ended); True if samples came."""
        with self._first_data:
            self._first_data.wait_for(lambda: self._state.samples > 0 or self._done.is_set(), timeout_s)
            return self._state.samples > 0

    def skip_calibration(self) -> None:
        """The user chose not to stand still: go on uncalibrated (side planks' side unknown)."""
        with self._lock:
            if self._state.calibration == "waiting":
                self._state.calibration = "skipped"

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            s = self._state
            span = s.stream_time_s - s.first_time_s
            return LiveSnapshot(
                phase=s.phase,
                calibration=s.calibration,
                status=copy.copy(s.status),
                trace=tuple(s.trace),
                events=tuple(s.events),
                reps=tuple(s.reps),
                holds=tuple(s.holds),
                hold_started=s.hold_started,
                link=s.link,
                link_log=tuple(s.link_log),
                gaps=tuple(s.gaps),
                samples=s.samples,
                stream_time_s=s.stream_time_s,
                first_time_s=s.first_time_s,
                rate_hz=(s.samples - 1) / span if s.samples > 1 and span > 0 else 0.0,
                recording=s.recording,
                error=s.error,
                saved=s.saved,
                started_wall=s.started_wall,
                cues=tuple(s.cues),
                recovered=s.recovered,
            )

    def _set(self, **fields: Any) -> None:
        with self._lock:
            for k, v in fields.items():
                setattr(self._state, k, v)

    # -- the run (event-loop thread) -----------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._consume()
        finally:
            self._done.set()
            with self._first_data:
                self._first_data.notify_all()

    async def _recover(self) -> None:
        """Close and save recordings an earlier crash left open in our folder."""
        from sensor.recovery import recover_interrupted

        loop = asyncio.get_running_loop()
        folder = self.recordings_dir
        if folder is None:
            return
        found = await loop.run_in_executor(None, recover_interrupted, folder, LIVE_NAMES)
        if not found:
            return
        total = sum(s for _, s in found)
        names = ", ".join(p.name for p, _ in found)
        self._set(recovered=f"recovered {total:.1f} s from an interrupted recording ({names})")
        for path, _ in found:
            if self._on_finished is not None:
                with contextlib.suppress(Exception):
                    await loop.run_in_executor(None, self._on_finished, path)

    async def _consume(self) -> None:
        phase = "finished"
        if self.recordings_dir is not None:
            try:
                await self._recover()
            except Exception as e:
                self._set(error=f"recovering an interrupted recording failed: {e}")
        try:
            self._pipe = self._pipeline_factory(self.source.header.mount or "back")
            async for item in self.source.stream():
                self._handle(item)
            if self._stop_requested:
                phase = "stopped"
            self._publish(self._pipe.finish(), self._state.stream_time_s)
        except asyncio.CancelledError:
            phase = "stopped"  # stop() gave up waiting for the source: end here, cleanly
        except Exception as e:
            phase = "failed"
            self._set(error=f"{type(e).__name__}: {e}")
        finally:
            path = self._close_writer()
            saving = path is not None and self._on_finished is not None
            self._set(phase="saving" if saving else phase)
        if saving:
            assert path is not None and self._on_finished is not None
            try:
                msg = await asyncio.get_running_loop().run_in_executor(None, self._on_finished, path)
                self._set(saved=msg)
            except Exception as e:
                self._set(error=f"saving the session failed: {e}")
            finally:
                self._set(phase=phase)

    def _open_writer(self) -> None:
        """Open the recording at the first samples: by then the source has filled in its
        header (rate, device), as BLE sources do after connecting."""
        if self.recordings_dir is None or self._writer is not None:
            return
        from sensor.recording import RecordingWriter

        now = datetime.now(UTC)
        kind = self.source.header.source or "live"
        path = Path(self.recordings_dir) / live_recording_name(now, kind)
        n = 1
        while path.exists():
            n += 1
            path = path.with_name(live_recording_name(now, kind, n))
        self._writer = RecordingWriter(path, self.source.header)
        self._set(recording=path)

    def _close_writer(self) -> Path | None:
        if self._writer is None:
            return None
        try:
            self._writer.close()
        except OSError as e:
            self._set(error=f"closing the recording failed: {e.strerror}")
        path: Path = self._writer.path
        return path

    def _handle(self, item: Samples | Gap | LinkStatus) -> None:
        if isinstance(item, Samples):
            if len(item) == 0:
                return
            self._open_writer()
            if self._writer is not None:
                self._writer.write(item)
            self._feed(item)
        elif isinstance(item, Gap):
            if self._writer is not None:
                self._writer.mark_gap(item.start_s, item.end_s)
            with self._lock:
                self._state.gaps.append(item)
            self._publish(self._pipe.gap(item.start_s, item.end_s), item.end_s)
        elif isinstance(item, LinkStatus):
            if self._writer is not None:
                self._writer.note(link={"connected": item.connected, "at_s": item.at_s, "message": item.message})
            with self._lock:
                self._state.link = item
                self._state.link_log.append(item)

    def _feed(self, samples: Samples) -> None:
        """Feed in pieces of ``1/TRACE_HZ`` s so the angle trace keeps its rate whatever
        the chunk size (the pipeline's results do not depend on chunking)."""
        t = samples.time_s
        a = 0
        n = len(samples)
        while a < n:
            b = int(min(n, max(a + 1, _searchsorted(t, self._last_trace_t + self._trace_dt, a))))
            events = self._pipe.feed(samples[a:b])
            status = self._pipe.status
            t_end = float(t[b - 1])
            with self._lock:
                st = self._state
                if st.samples == 0:
                    st.first_time_s = float(t[0])
                    st.phase = "running"
                    self._first_data.notify_all()
                st.samples += b - a
                st.stream_time_s = t_end
                st.status = status
                if t_end - self._last_trace_t >= self._trace_dt * 0.999 and status is not None and status.pitch_deg is not None:
                    st.trace.append((t_end, float(status.pitch_deg)))
                    self._last_trace_t = t_end
                calibrated_now = st.calibration == "waiting" and bool(getattr(status, "calibrated", False))
                if calibrated_now:
                    st.calibration = "done"
            if calibrated_now and self._writer is not None:
                self._writer.note(calibrated_at_s=t_end)
            self._publish(events, t_end, status)
            a = b

    def _publish(self, events: list[Event], now_s: float, status: Any = None) -> None:
        # Cues are timed where the pipeline has got to, not the newest sample fed (it runs
        # every 0.1 s of stream): an event still in the filters must not come after a cue
        # judged later than it.
        if status is not None:
            now_s = float(getattr(status, "time_s", now_s))
        cues = self.coach.update(status, events, now_s) if self.coach is not None else []
        if not events and not cues:
            return
        with self._lock:
            st = self._state
            st.cues.extend(cues)
            for e in events:
                st.events.append(e)
                if isinstance(e, Rep):
                    st.reps.append(e)
                elif isinstance(e, HoldStarted):
                    st.hold_started = e
                elif isinstance(e, Hold):
                    st.holds.append(e)
                    st.hold_started = None


def _searchsorted(t: np.ndarray, value: float, lo: int) -> int:
    return lo + int(np.searchsorted(t[lo:], value, side="right"))
