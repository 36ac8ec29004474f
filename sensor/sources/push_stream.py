"""What the phone push receiver keeps: each Sensor Logger batch is kept whole or refused
whole with a reason (``Verdict``). Nothing answered "ok" is dropped later, and nothing kept
can make the recording unreadable or later good batches refused.

- Values: what ``phone_streams.parse_push`` accepts (finite, within what a phone reads).
- Dates: the phone's clock is compared with this computer's (``clock``). Sample times may
  not run ahead of the phone's clock as first seen (a batch dated an hour ahead is refused
  and moves nothing). The offset between the two clocks comes from the first batch when
  within ``MAX_CLOCK_SKEW_S``, and is taken anew ("resync": a new segment of the stream,
  after a gap) when for ``RESYNC_S`` only refused batches came that agree on another offset:
  a far-dated first batch, or a phone clock set wrong or stepping, costs seconds, never the
  session.
- Order: Sensor Logger's batches can arrive out of order (its PUSHING.md says so). Samples
  wait while a hole in their times is younger than ``REORDER_WAIT_S``, so a batch that
  comes late within it slots in; one later than that (older than samples already released)
  is refused, as is one repeating samples already received.
- Units: until the stream's first seconds have passed the unit check every reader applies
  (``StreamCheck``), a batch that would make them fail is refused.
- Repeats: a body received again (an app retrying after a lost answer) is answered ok and
  not added twice.

Sensor Logger documents no retry after a refusal: a refused batch is lost to the session
(the app is told, and 499 answers are shown to the user on the phone). Everything here runs
in one thread, the server's JSON worker.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from sensor.errors import InputError
from sensor.events import Gap
from sensor.files.checks import StreamCheck, parse_json
from sensor.files.limits import MAX_PAUSE_S
from sensor.samples import Samples, interleave, median
from sensor.sources.phone_streams import ACCEL, GRAVITY, GYRO, TOTAL, PushMerger, Stream, parse_push
from sensor.stream import SourceItem

REORDER_WAIT_S = 2.0  # how long (real time, and phone time after it) a hole waits for the batch that fills it
HOLE_MIN_S = 0.1  # a step in sample times this long (and 3 sample periods) is a missing batch
MAX_CLOCK_SKEW_S = 300.0  # phone clock vs this computer's, taken at once from a first batch
MAX_AGE_S = 60.0  # a batch's newest sample may be this old on arrival (a backlog after Wi-Fi came back)
AHEAD_S = 5.0  # how far a batch may run ahead of the phone's clock as first seen (NTP steps, latency)
RESYNC_S = 10.0  # refused-only time after which batches agreeing on a new clock offset are followed
RESYNC_BATCHES = 3
MAX_BATCH_SPAN_S = 20.0  # one batch covers a push period (seconds); and stays inside MAX_BUFFER_S
REMEMBERED = 1024  # bodies remembered to answer a repeat
NOT_STARTED = "HoldTrack is not recording yet: press Start on its Live page, then start recording here"
log = logging.getLogger("holdtrack.push")


@dataclass(slots=True)
class Verdict:
    """The answer to one batch (HTTP status and one line) and what it released."""

    status: int
    message: str
    items: list[SourceItem] = field(default_factory=list)


def _ago(s: float) -> str:
    return f"{abs(s) / 3600:.1f} h" if abs(s) >= 3600 else f"{abs(s):.0f} s"


class PushStream:
    """The stream of one push session: ``offer`` a body, ``tick`` now and then (samples that
    waited for a late batch go), ``flush`` at the end. Times are the phone's, in seconds from
    the first sample; ``clock`` is this computer's wall clock (epoch s)."""

    def __init__(self, *, gap_s: float = 0.5, clock: Callable[[], float] = time.time, source: str = "phone push") -> None:
        self.gap_s = gap_s
        self.clock = clock
        self.source = source
        self.accepted_samples = 0  # samples (at acceleration times) in batches answered ok
        self.without_readings = 0  # bodies answered ok that carried none (Sensor Logger's test push)
        self.accepting = True  # False: batches with readings are refused until the session starts
        self.resyncs = 0
        self._merger: PushMerger | None = None
        self._mode: str | None = None  # TOTAL, or ACCEL (+ gravity): fixed by the first batch with either
        self._skew: float | None = None  # phone clock - this computer's, from the segment's first batch
        self._offset: float | None = None  # stream time = phone time - offset, fixed at the segment's first release
        self._seg_stream_start = 0.0  # stream time the segment starts at
        self._seg_mono: float | None = None  # time.monotonic() at the segment's first batch
        self._last_stream: float | None = None  # stream time of the newest released sample
        self._last_release_wall: float | None = None
        self._last_accept_wall: float | None = None
        self._holes: dict[float, float] = {}  # hole start (phone s) -> time.monotonic() it was first seen
        self._ids = _MessageIds()
        self._check = StreamCheck()
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._refused: deque[tuple[float, float, float]] = deque(maxlen=64)  # (wall, skew, newest) refused for the date

    # -- a batch ---------------------------------------------------------------------------

    def offer(self, body: bytes, platform: str = "android") -> Verdict:
        """Judge one POST body; on 200 its samples are kept (some may come out later)."""
        wall = self.clock()
        digest = hashlib.blake2b(body, digest_size=16).digest()
        if digest in self._seen:
            return Verdict(200, "ok (received before)")
        try:
            batch = parse_json(body)
            streams = parse_push(batch, self.source)
        except ValueError as e:
            return Verdict(400, f"{self.source}: {e}")
        except InputError as e:
            return Verdict(400, str(e))
        selected = self._select(streams)
        if isinstance(selected, str):
            return Verdict(499, selected)
        mode, used = selected
        if not used:
            self.without_readings += 1
            return Verdict(200, "ok (no readings HoldTrack uses)")  # e.g. Sensor Logger's test push
        if not self.accepting:
            return Verdict(499, NOT_STARTED)
        lo = min(float(t[0]) for t, _ in used.values())
        hi = max(float(t[-1]) for t, _ in used.values())
        if hi - lo > MAX_BATCH_SPAN_S:
            return Verdict(400, f"{self.source}: batch spans {_ago(hi - lo)} of sample times; ignored")
        primary = used.get(mode) if mode else None
        problem = self._date_problem(wall, primary, hi)
        if problem is not None:
            if not self._resync_due(wall, hi):
                self._refused.append((wall, hi - wall, hi))
                return Verdict(*problem)
            resync = True
        else:
            resync = self._merger is None
        merger = PushMerger(source=self.source) if resync or self._merger is None else self._merger.copy()
        merger.use_total = mode == TOTAL
        before = merger.pending()
        merger.add(used, -1.0 if platform == "ios" else 1.0)
        if primary is not None and len(merger.pending()) != np.union1d(before, primary[0]).size:
            return Verdict(400, f"{self.source}: batch reaches too far from the samples waiting; ignored")
        refusal = self._try(merger, resync, wall)
        if refusal is not None:
            return Verdict(*refusal)
        items = self._new_segment(wall, hi) if resync else []
        self._merger = merger
        self._mode = mode
        self._last_accept_wall = wall
        self._seen[digest] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        if primary is not None:
            self.accepted_samples += len(primary[0])
            self._ids.saw(batch.get("sessionId"), batch.get("messageId"), float(primary[0][0]), time.monotonic())
        items += self._release(wall)
        return Verdict(200, "ok", items)

    @property
    def last_stream_s(self) -> float | None:
        """Stream time of the newest sample released."""
        return self._last_stream

    def tick(self) -> list[SourceItem]:
        """Release what waited long enough for a late batch."""
        return self._release(self.clock())

    def flush(self) -> list[SourceItem]:
        """Everything still held (the end of the session)."""
        return self._release(self.clock(), flush=True)

    # -- the rules -------------------------------------------------------------------------

    def _select(self, streams: Mapping[str, Stream]) -> tuple[str | None, dict[str, Stream]] | str:
        """The acceleration stream this session uses and the streams of the batch it keeps,
        or why the batch does not fit the session."""
        mode = self._mode or (TOTAL if TOTAL in streams else ACCEL if ACCEL in streams else None)
        if mode is None:
            return None, {k: v for k, v in streams.items() if k == GYRO}
        if (TOTAL in streams or ACCEL in streams) and mode not in streams:
            what = "total acceleration" if mode == TOTAL else "accelerometer"
            return f"this batch has no {what} readings, earlier ones had: keep the same sensors on in Sensor Logger"
        keep = (mode, GYRO) if mode == TOTAL else (mode, GRAVITY, GYRO)
        return mode, {k: v for k, v in streams.items() if k in keep}

    def _date_problem(self, wall: float, primary: Stream | None, hi: float) -> tuple[int, str] | None:
        """(status, why) when the batch's dates do not fit the stream, else None."""
        if self._skew is None:
            if abs(hi - wall) > MAX_CLOCK_SKEW_S:
                side = "ahead of" if hi > wall else "behind"
                return 499, f"the phone's clock is {_ago(hi - wall)} {side} this computer's: set both to automatic date and time"
            return None
        if hi > wall + self._skew + AHEAD_S:
            return 409, f"batch dated {_ago(hi - wall - self._skew)} ahead of the phone's clock so far; ignored"
        if hi < wall + self._skew - MAX_AGE_S:
            return 409, f"batch came {_ago(wall + self._skew - hi)} late; ignored (keep Sensor Logger in front, on the same Wi-Fi)"
        m = self._merger
        if primary is None or m is None:
            return None
        t = primary[0]
        if m.last_released is not None and float(t[0]) <= m.last_released:
            return 409, "batch came too late: later samples are already recorded (keep Sensor Logger in front, on the same Wi-Fi)"
        if np.intersect1d(m.pending(), t, assume_unique=True).size:
            return 409, "batch repeats samples already received; ignored"
        newest = m.pending()[-1] if len(m.pending()) else m.last_released
        if newest is not None and float(t[0]) - float(newest) > MAX_PAUSE_S / 2:
            return 409, f"batch dated {_ago(float(t[0]) - float(newest))} after the last one"
        return None

    def _resync_due(self, wall: float, hi: float) -> bool:
        """Follow a new clock offset: nothing accepted for RESYNC_S, and enough refused
        batches, newer each, agree on it."""
        if self._last_accept_wall is not None and wall - self._last_accept_wall < RESYNC_S:
            return False
        skew = hi - wall
        agree = sorted(n for w, s, n in self._refused if wall - w <= RESYNC_S and abs(s - skew) <= AHEAD_S and n < hi)
        return len(set(agree)) + 1 >= RESYNC_BATCHES

    def _try(self, merger: PushMerger, resync: bool, wall: float) -> tuple[int, str] | None:
        """(status, why) when keeping the batch would make the stream fail the readers'
        checks (``StreamCheck``), or None."""
        check = self._check.copy()
        try:
            start, last = self._seg_stream_start, self._last_stream
            if resync and self._merger is not None:
                old = self._merger.copy().flush()
                if len(old):
                    done = self._stream_samples(old, self._offset_for(old))
                    check.block(done)
                    last = float(done.time_s[-1])
                start = self._next_start(wall, last)
            out = merger.copy().flush()
            if len(out):
                offset = self._offset if (self._offset is not None and not resync) else float(out.time_s[0]) - start
                check.block(self._stream_samples(out, offset))
            check.finish()
        except InputError as e:  # e.g. no gyroscope: what the user must change on the phone
            return 499, str(e)
        except ValueError as e:
            return 400, f"{self.source}: batch refused: {e}"
        return None

    def _offset_for(self, s: Samples) -> float:
        return self._offset if self._offset is not None else float(s.time_s[0]) - self._seg_stream_start

    def _next_start(self, wall: float, last: float | None) -> float:
        """Stream time a new segment starts at: after the last sample, by the wall time since."""
        if last is None:
            return 0.0
        since = wall - (self._last_release_wall or wall)
        return last + min(max(since, 2 * self.gap_s, 1.0), MAX_PAUSE_S / 2)

    def _new_segment(self, wall: float, hi: float) -> list[SourceItem]:
        items = self._release(wall, flush=True) if self._merger is not None else []
        if self._merger is not None:
            self.resyncs += 1
            log.warning("phone push: following the phone's clock anew (%+.1f s from this computer's)", hi - wall)
        self._seg_stream_start = self._next_start(wall, self._last_stream)
        self._skew = hi - wall
        self._offset = None
        self._seg_mono = time.monotonic()
        self._holes.clear()
        self._ids = _MessageIds()
        self._refused.clear()
        return items

    # -- releasing -------------------------------------------------------------------------

    def _release(self, wall: float, flush: bool = False) -> list[SourceItem]:
        """What can go: everything but samples after a hole that may still fill (one younger
        than ``REORDER_WAIT_S`` in real time and in the phone's time after it)."""
        m = self._merger
        if m is None:
            return []
        upto = np.inf
        pend = m.pending()
        now = time.monotonic()
        if not flush and len(pend):
            if m.last_released is None:  # the segment's start: batches swapped at the start slot in too
                waited = now - (self._seg_mono or now)
                if waited < REORDER_WAIT_S and float(pend[-1] - pend[0]) < REORDER_WAIT_S:
                    return []
                times = pend
            else:
                times = np.concatenate([[m.last_released], pend])
                self._holes = {k: v for k, v in self._holes.items() if k >= m.last_released}
            steps = np.diff(times)
            limit = max(HOLE_MIN_S, 3.0 * median(steps)) if len(steps) > 2 else HOLE_MIN_S
            for i in np.flatnonzero(steps > limit):
                seen = self._holes.setdefault(float(times[i]), now)
                if now - seen < REORDER_WAIT_S and float(times[-1] - times[i + 1]) < REORDER_WAIT_S:
                    upto = float(times[i + 1])
                    break
            upto = min(upto, self._ids.wait_before(now, float(times[-1])))
        return self._emit(m.release(flush=flush, upto=upto), wall)

    def _stream_samples(self, s: Samples, offset: float) -> Samples:
        return Samples(s.time_s - offset, s.imu)

    def _emit(self, s: Samples, wall: float) -> list[SourceItem]:
        if len(s) == 0:
            return []
        if self._offset is None:
            self._offset = float(s.time_s[0]) - self._seg_stream_start
        out = self._stream_samples(s, self._offset)
        t = out.time_s
        prev = np.concatenate([[self._last_stream if self._last_stream is not None else t[0]], t])
        gaps = [Gap(float(prev[i]), float(prev[i + 1])) for i in np.flatnonzero(np.diff(prev) > self.gap_s)]
        try:
            self._check.block(out)
        except ValueError as e:  # tried before the batch was kept: not expected
            log.warning("phone push: kept samples fail a reader's check: %s", e)
        self._last_stream = float(t[-1])
        self._last_release_wall = wall
        return list(interleave(out, gaps))


class _MessageIds:
    """Batches missing by their ``messageId`` (Sensor Logger numbers its messages): samples
    of a batch that came after a missing one wait for it, as after a hole in the times
    (which a small batch does not make). If missing ids never come (none ever did), the
    phone does not number its messages one by one, and the ids are no longer used."""

    MAX_SKIP = 64  # a jump further than this starts the count anew
    UNTRUSTED_AFTER = 3  # waits that no batch filled, while none ever was

    def __init__(self) -> None:
        self.session: object = None
        self.newest: int | None = None
        self.missing: dict[int, tuple[float, float]] = {}  # id -> (first sample time after it, monotonic time seen)
        self.unfilled = 0
        self.filled = 0
        self.trusted = True

    def saw(self, session: object, mid: object, first_t: float, now: float) -> None:
        if not self.trusted or not isinstance(mid, int) or isinstance(mid, bool) or not isinstance(session, str):
            return
        if session != self.session or self.newest is None or mid - self.newest > self.MAX_SKIP:
            self.session, self.newest, self.missing = session, mid, {}
            return
        if mid > self.newest:
            for j in range(self.newest + 1, mid):
                self.missing[j] = (first_t, now)
            self.newest = mid
        elif self.missing.pop(mid, None) is not None:
            self.filled += 1
        for j, (t, seen) in self.missing.items():  # a missing batch's samples come before this one's
            if j < mid and first_t < t:
                self.missing[j] = (first_t, seen)

    def wait_before(self, now: float, newest_t: float) -> float:
        """Samples from this time on wait for a missing batch (inf: none waits)."""
        upto = np.inf
        for j, (t, seen) in list(self.missing.items()):
            if now - seen < REORDER_WAIT_S and newest_t - t < REORDER_WAIT_S:
                upto = min(upto, t)
            else:
                del self.missing[j]
                self.unfilled += 1
                if self.unfilled >= self.UNTRUSTED_AFTER and not self.filled:
                    self.trusted, self.missing = False, {}
                    log.warning("phone push: the phone's message numbers skip; batches are ordered by their times only")
                    return np.inf
        return upto
