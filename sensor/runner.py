"""The session runner: the one place where a source, the recorder and the pipeline meet.

Every way a session is seen goes through ``SessionRunner``: ``holdtrack record``, the
dashboard's live view, a replay, ``analyze`` and ``import`` (a file is a source too). For each
item, in stream order: the recorder first (trouble in the analysis never loses data), then
the pipeline, then the sinks (live snapshot, CLI status line...). ``finish`` returns the
``Analysis`` of exactly what was recorded, so a live session is saved with the events it
found as they happened; re-analysing its recording is this same runner over the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sensor.errors import InputError
from sensor.events import Analysis, Event, Gap, Hold, Rep
from sensor.routine import MIN_SET_REPS, SET_PAUSE_S
from sensor.samples import Samples
from sensor.settings import PipelineSettings
from sensor.signal.lone_reps import reps_in_sets
from sensor.stream import Header, LinkStatus, SourceItem

if TYPE_CHECKING:
    from sensor.recording import RecordingWriter
    from sensor.signal.pipeline import Pipeline
    from sensor.sources import Source

CHUNK = 8192  # samples per feed when nothing asks for finer steps (results do not depend on it)
UNCHECKED_NOTE = "mounting {mount}, as given: nothing in the recording (sitting, walking, the way down to the floor) could check it"
HOLD_FOR_CHECK_S = 600.0  # stream kept for the frame check to be fed again corrected (≈ 15 MB at 400 Hz)


class Sink(Protocol):
    """Told what a run sees, in stream order, after the recorder and the pipeline."""

    def opened(self, runner: SessionRunner) -> None:
        """The first samples arrived (the recording, if any, is open)."""

    def update(self, item: SourceItem | None, events: Sequence[Event], status: Any) -> None:
        """After each piece fed (``status``: the pipeline's ``LiveStatus``, None for gaps
        and link news); ``item`` None: the end of the stream (the pipeline's last events)."""

    def finished(self, result: RunResult) -> None:
        """The source ended and the recording is closed."""


@dataclass(slots=True)
class RunResult:
    analysis: Analysis
    recording: Path | None  # the .htrec written, if the run recorded
    samples: int
    links: list[LinkStatus] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # e.g. closing the recording failed


def settings_for(
    header: Header, *, mount: str | None = None, defaults: bool = False, where: str | Path = "recording", **overrides: Any
) -> PipelineSettings:
    """The settings a stream is analysed with: those its recording was made with (the header
    carries them), else today's defaults; ``mount`` given by the user wins over both.
    ``defaults``: today's defaults whatever the header says. A header setting outside its
    range (``sensor.settings_ranges``) is an ``InputError`` naming ``where`` and the setting."""
    try:
        base = PipelineSettings.from_json(header.settings) if header.settings and not defaults else PipelineSettings()
    except ValueError as e:
        raise InputError(where, f"{e}; --default-settings analyses the samples with today's defaults instead") from None
    return replace(base, mount=mount or header.mount or base.mount, **overrides)


def merge_gaps(gaps: Iterable[Gap]) -> list[Gap]:
    """A link loss is reported twice, by the source and by the resampler seeing the hole:
    overlapping gaps become one."""
    out: list[Gap] = []
    for g in sorted(gaps, key=lambda g: g.start_s):
        if out and g.start_s <= out[-1].end_s:
            out[-1] = Gap(min(out[-1].start_s, g.start_s), max(out[-1].end_s, g.end_s))
        else:
            out.append(g)
    return out


class SessionRunner:
    """Feeds one stream's items to the recorder, the pipeline and the sinks.

    ``recording``: where to record (a path, or a function of the header giving one), opened
    at the first samples — by then a BLE source has filled in its header. ``step_s``: feed
    samples in pieces of this much stream time, so sinks see the status that often whatever
    the chunking (None: in ``CHUNK``-sample pieces). The pipeline's events do not depend on
    either.
    """

    def __init__(
        self,
        header: Header,
        settings: PipelineSettings | None = None,
        *,
        recording: Path | Callable[[Header], Path] | None = None,
        sinks: Sequence[Sink] = (),
        step_s: float | None = None,
    ) -> None:
        from sensor.signal.pipeline import Pipeline  # numpy/scipy work: paid when a run starts

        self.header = header
        self.settings = settings or settings_for(header)
        self.pipeline: Pipeline = Pipeline(self.settings)
        self.sinks = list(sinks)
        self._recording = recording
        self._writer: RecordingWriter | None = None
        self._step_s = step_s
        self._last_step_t = -np.inf
        self.events: list[Event] = []
        self.links: list[LinkStatus] = []
        self.samples = 0
        self.first_time_s: float | None = None
        self.last_time_s = 0.0
        self.rate_hz = 0.0
        self.errors: list[str] = []
        from sensor.signal.frame_check import FrameCheck

        # The gyro checked against the accelerometer before the pipeline (frame_check): what
        # the pipeline was fed is kept until the check decides, to be fed again corrected.
        from sensor.signal.mount import MountFinder

        self.frame = FrameCheck()
        # Where the sensor is worn, found from the data (sitting, walking): a finding that
        # differs from the mounting given analyses everything again as worn there.
        self.mount = MountFinder(self.settings.mount)
        self._held: list[SourceItem] | None = []
        self.notes: list[str] = []  # what the checks found or corrected, one line each

    @property
    def recording_path(self) -> Path | None:
        return self._writer.path if self._writer is not None else None

    # -- items ---------------------------------------------------------------------------

    def handle(self, item: SourceItem) -> list[Event]:
        """Record, analyse and tell the sinks about one item; returns its events."""
        if isinstance(item, Samples):
            return self._samples(item)
        if isinstance(item, Gap):
            if self._writer is not None:
                self._writer.mark_gap(item.start_s, item.end_s)
            if self._held is not None:
                self._held.append(item)
            events = self.pipeline.gap(item.start_s, item.end_s)
        else:
            self.links.append(item)
            if self._writer is not None:
                self._note_link(item)
            events = []
        self.events.extend(events)
        for sink in self.sinks:
            sink.update(item, events, None)
        return events

    def _samples(self, item: Samples) -> list[Event]:
        if len(item) == 0:
            return []
        if self.first_time_s is None:
            from sensor.signal.pipeline import nominal_rate_hz

            self.first_time_s = float(item.time_s[0])
            self.rate_hz = nominal_rate_hz(item.time_s)
            self._open_recording()
            for sink in self.sinks:
                sink.opened(self)
        if self._writer is not None:
            self._writer.write(item)  # the recording first: analysis trouble never loses data
        self.samples += len(item)
        self.last_time_s = float(item.time_s[-1])
        if self._held is not None:
            self._held.append(item)
            if self.frame.feed(item) is not None:
                self.notes.append(self.frame.verdict.message if self.frame.verdict else "")
                return self._fed_again()
            found = self.mount.feed(item)
            if found is not None and found.kind != "confirmed":  # a confirmation is no news
                self.notes.append(found.message)
                if found.mount != self.settings.mount:
                    self.settings = replace(self.settings, mount=found.mount)
                    return self._fed_again()
                self.handle(LinkStatus(True, self.last_time_s, f"note: {found.message}"))
            late = self.last_time_s - (self.first_time_s or 0.0) > HOLD_FOR_CHECK_S
            if (self.frame.verdict is not None or late) and (self.mount.decided or late):
                self._held = None  # both decided, or no verdict in time: stop keeping
        from sensor.signal.frame_check import corrected

        return self._feed(corrected(item, self.frame.verdict))

    def _fed_again(self) -> list[Event]:
        """A check found something (a frame fault, another mounting): a new pipeline over
        everything so far, corrected, with ``notes[-1]`` said. The recording keeps the
        samples as they came (re-analysing it finds the same)."""
        from sensor.signal.frame_check import corrected
        from sensor.signal.pipeline import Pipeline

        held = self._held or []
        if self.frame.verdict is not None and self.mount.decided:
            self._held = None  # nothing left to find
        verdict = self.frame.verdict
        self.pipeline = Pipeline(self.settings)
        self.events = []
        self._last_step_t = -np.inf
        for it in held[:-1]:
            if isinstance(it, Gap):
                self.events.extend(self.pipeline.gap(it.start_s, it.end_s))
            elif isinstance(it, Samples):
                for piece in self._pieces(corrected(it, verdict)):
                    self.events.extend(self.pipeline.feed(piece))
        self.handle(LinkStatus(True, self.last_time_s, f"note: {self.notes[-1]}"))
        last = held[-1]
        assert isinstance(last, Samples)
        return self._feed(corrected(last, verdict), found=list(self.events))

    def _feed(self, item: Samples, found: list[Event] | None = None) -> list[Event]:
        """Feed the pipeline; ``found``: events of a feed again, told to the sinks first."""
        out: list[Event] = list(found or [])
        for piece in self._pieces(item):
            events = self.pipeline.feed(piece)
            self.events.extend(events)
            told, found = (found or []) + events, None
            out.extend(events)
            for sink in self.sinks:
                sink.update(piece, told, self.pipeline.status)
        return out

    def _pieces(self, item: Samples) -> Iterable[Samples]:
        if self._step_s is None:
            yield from item.chunks(CHUNK)
            return
        t = item.time_s
        a, n = 0, len(item)
        while a < n:
            b = min(n, max(a + 1, a + int(np.searchsorted(t[a:], self._last_step_t + self._step_s, side="right"))))
            if float(t[b - 1]) - self._last_step_t >= self._step_s * 0.999:
                self._last_step_t = float(t[b - 1])
            yield item[a:b]
            a = b

    def _open_recording(self) -> None:
        if self._recording is None or self._writer is not None:
            return
        from sensor.recording import RecordingWriter

        header = replace(self.header, settings=self.settings.to_json(), status=None)
        path = self._recording(header) if callable(self._recording) else self._recording
        self._writer = RecordingWriter(path, header)
        for link in self.links:  # link news that came before the first samples (connected...)
            self._note_link(link)

    def _note_link(self, item: LinkStatus) -> None:
        assert self._writer is not None
        self._writer.note(link={"connected": item.connected, "at_s": item.at_s, "message": item.message})

    def note(self, **fields: Any) -> None:
        """A metadata note in the recording (e.g. ``calibrated_at_s``), if recording."""
        if self._writer is not None:
            self._writer.note(**fields)

    # -- the end -------------------------------------------------------------------------

    def finish(self) -> RunResult:
        """Close the stream: the pipeline's last events, the recording closed, the analysis."""
        try:
            events = self.pipeline.finish()
            self.events.extend(events)
            for sink in self.sinks:
                sink.update(None, events, self.pipeline.status)
        finally:
            path = self.close_recording()
        result = RunResult(self.analysis(), path, self.samples, self.links, self.errors)
        for sink in self.sinks:
            sink.finished(result)
        return result

    def close_recording(self) -> Path | None:
        """Close the recording (idempotent); its path, None if nothing was recorded."""
        if self._writer is None:
            return None
        try:
            self._writer.close()
        except OSError as e:
            self.errors.append(f"closing the recording failed: {e.strerror}")
        return self._writer.path

    def analysis(self) -> Analysis:
        """What the run found so far (after ``finish``: the session's analysis)."""
        p = self.pipeline
        first = self.first_time_s
        in_sets, lone = reps_in_sets([e for e in self.events if isinstance(e, Rep)], SET_PAUSE_S, MIN_SET_REPS)
        a = Analysis(
            reps=in_sets,
            lone_reps=len(lone),
            holds=[e for e in self.events if isinstance(e, Hold)],
            gaps=merge_gaps(e for e in self.events if isinstance(e, Gap)),
            calibrated=p.calibration is not None and p.calibration.from_stand,
            duration_s=round(self.last_time_s - first, 3) if first is not None else 0.0,
            sample_rate_hz=round(self.rate_hz, 2),
            source=self.header.source,
            start_s=first if first is not None else 0.0,
            mount=self.settings.mount,
            mount_check=found.kind if (found := self.mount.finding) is not None else "unchecked",
            mount_note=found.message if found is not None else UNCHECKED_NOTE.format(mount=self.settings.mount),
            trace=p.display_trace() if p.settings.trace_hz is not None else None,
        )
        st = self.header.status  # what reading a stored stream found: damage, no clean end
        if st is not None:
            a.damaged_blocks = st.damaged_blocks
            a.interrupted = not st.complete or st.recovered
        return a

    # -- whole runs ----------------------------------------------------------------------

    def run_items(self, items: Iterable[SourceItem]) -> RunResult:
        """A stream held by the caller (a file's chunks and gaps), start to end."""
        try:
            for item in items:
                self.handle(item)
        except BaseException:
            self.close_recording()
            raise
        return self.finish()

    async def run(self, source: Source, *, stop_after_s: float | None = None) -> RunResult:
        """A live source until it ends, ``source.stop()`` is called, or ``stop_after_s`` of
        stream time has been seen. The recording is closed whatever happens."""
        import asyncio

        stopping: list[asyncio.Task[None]] = []
        try:
            async for item in source.stream():
                self.header = source.header  # sources complete their header as they connect
                self.handle(item)
                first = self.first_time_s
                if stop_after_s is not None and first is not None and not stopping and self.last_time_s - first >= stop_after_s:
                    stopping.append(asyncio.get_running_loop().create_task(source.stop()))
        except BaseException:
            self.close_recording()
            raise
        return self.finish()
