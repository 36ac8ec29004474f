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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sensor.coach import Coach, Cue, Place
from sensor.events import Analysis, Event, Gap, Hold, HoldStarted, Rep
from sensor.samples import Samples
from sensor.stream import Header, LinkStatus, SourceItem

if TYPE_CHECKING:
    from sensor.runner import RunResult, SessionRunner
    from sensor.settings import PipelineSettings
    from sensor.sources import Source
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
    place: Place | None = None  # where the user is in the routine (the coach's; None without one)

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
    place: Place | None = None


class LiveSession:
    """Runs one source through the session runner until it ends or ``stop()``; records it
    (when ``recordings_dir`` is given). ``on_finished(recording_path, analysis)`` runs in a
    worker thread after the recording is closed, with the events found live (the dashboard
    stores them there); ``analysis`` is None for a recording an earlier crash left behind.
    """

    def __init__(
        self,
        source: Source,
        *,
        recordings_dir: Path | None = None,
        settings: PipelineSettings | None = None,
        on_finished: Callable[[Path, Analysis | None], str] | None = None,
        trace_hz: float = TRACE_HZ,
        coach: Coach | None = None,
    ) -> None:
        self.source = source
        self.coach = coach
        self.recordings_dir = recordings_dir
        self._settings = settings
        self._on_finished = on_finished
        self._trace_dt = 1.0 / trace_hz
        self._lock = threading.Lock()
        self._state = _State(trace=deque(maxlen=int(trace_hz * TRACE_WINDOW_S)))
        self._future: concurrent.futures.Future[None] | None = None
        self._runner: SessionRunner | None = None
        self._trace_hz = trace_hz
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
                place=s.place,
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
        from sensor.recording.recovery import recover_interrupted

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
                    await loop.run_in_executor(None, self._on_finished, path, None)

    async def _consume(self) -> None:
        from sensor.runner import SessionRunner, settings_for  # the pipeline's numpy/scipy: paid at Start

        phase = "finished"
        if self.recordings_dir is not None:
            try:
                await self._recover()
            except Exception as e:
                self._set(error=f"recovering an interrupted recording failed: {e}")
        result = None
        runner = None
        try:
            from sensor.trace import TRACE_HZ as STORE_TRACE_HZ

            settings = self._settings or settings_for(self.source.header, trace_hz=STORE_TRACE_HZ)
            runner = self._runner = SessionRunner(
                self.source.header,
                settings,
                recording=self._recording_path if self.recordings_dir is not None else None,
                sinks=[_LiveSink(self)],
                step_s=self._trace_dt,
            )
            result = await runner.run(self.source)
            if self._stop_requested:
                phase = "stopped"
        except asyncio.CancelledError:
            phase = "stopped"  # stop() gave up waiting for the source: end here, cleanly
        except Exception as e:
            phase = "failed"
            self._set(error=f"{type(e).__name__}: {e}")
        finally:
            path = runner.close_recording() if runner is not None else None
            if runner is not None and runner.errors:
                self._set(error="; ".join(runner.errors))
            saving = path is not None and self._on_finished is not None
            self._set(phase="saving" if saving else phase)
        if saving:
            assert path is not None and self._on_finished is not None
            # Interrupted before the end: the recording holds what came; its analysis is
            # what the runner had seen up to there.
            analysis = result.analysis if result is not None else (runner.analysis() if runner is not None else None)
            try:
                msg = await asyncio.get_running_loop().run_in_executor(None, self._on_finished, path, analysis)
                self._set(saved=msg)
            except Exception as e:
                self._set(error=f"saving the session failed: {e}")
            finally:
                self._set(phase=phase)

    def _recording_path(self, header: Header) -> Path:
        """A new recording's name in our folder: time stamp and source (``LIVE_NAMES``)."""
        assert self.recordings_dir is not None
        now = datetime.now(UTC)
        kind = header.source or "live"
        path = Path(self.recordings_dir) / live_recording_name(now, kind)
        n = 1
        while path.exists():
            n += 1
            path = path.with_name(live_recording_name(now, kind, n))
        self._set(recording=path)
        return path

    def _on_samples(self, piece: Samples, events: Sequence[Event], status: Any) -> None:
        t = piece.time_s
        t_end = float(t[-1])
        with self._lock:
            st = self._state
            if st.samples == 0:
                st.first_time_s = float(t[0])
                st.phase = "running"
                self._first_data.notify_all()
            st.samples += len(piece)
            st.stream_time_s = t_end
            st.status = copy.copy(status)
            if t_end - self._last_trace_t >= self._trace_dt * 0.999 and status is not None:
                st.trace.append((t_end, float(status.angle_deg)))  # as shown: lift positive
                self._last_trace_t = t_end
            calibrated_now = st.calibration == "waiting" and bool(getattr(status, "calibrated", False))
            if calibrated_now:
                st.calibration = "done"
        if calibrated_now and self._runner is not None:
            self._runner.note(calibrated_at_s=t_end)
        self._publish(events, t_end, status)

    def _publish(self, events: Sequence[Event], now_s: float, status: Any = None) -> None:
        # Cues are timed where the pipeline has got to, not the newest sample fed (it runs
        # every 0.1 s of stream): an event still in the filters must not come after a cue
        # judged later than it.
        if status is not None:
            now_s = float(getattr(status, "time_s", now_s))
        cues = self.coach.update(status, list(events), now_s) if self.coach is not None else []
        if self.coach is not None:  # the place changes with time too (a hold's seconds to go)
            self._set(place=self.coach.place)
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


class _LiveSink:
    """The runner's news into the session's snapshot (and the coach): a ``runner.Sink``."""

    def __init__(self, session: LiveSession) -> None:
        self.s = session

    def opened(self, runner: SessionRunner) -> None:
        pass

    def finished(self, result: RunResult) -> None:
        pass

    def update(self, item: SourceItem | None, events: Sequence[Event], status: Any) -> None:
        s = self.s
        if isinstance(item, Samples):
            s._on_samples(item, events, status)
        elif isinstance(item, Gap):
            with s._lock:
                s._state.gaps.append(item)
            s._publish(events, item.end_s)
        elif isinstance(item, LinkStatus):
            with s._lock:
                s._state.link = item
                s._state.link_log.append(item)
        else:  # the end: the pipeline's last events
            s._publish(events, s._state.stream_time_s)
