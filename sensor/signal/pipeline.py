"""The pipeline: samples in, events out, live or from a file, by the same code.

``Pipeline.feed(chunk)`` takes any number of samples and returns the events that became
certain; there is no I/O and no clock of its own (time comes from the samples), which is
why live capture, replay and ``analyze`` give identical answers for any chunking.

Stages, each in its own module: ``resample`` (onto a 50 Hz grid), ``orientation`` (stand
calibration, gravity direction, fused elevation), ``posture``, ``detectors``
(excursions; ``reps`` and ``holds`` say what they were), ``stability``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensor.events import Event, Gap, PostureChanged, Rep
from sensor.samples import Samples, median
from sensor.settings import PipelineSettings
from sensor.signal.body import LEVER_M
from sensor.signal.detectors import ExcursionDetector
from sensor.signal.orientation import Calibration, StandCalibrator, TiltFilter
from sensor.signal.posture import SUPINE, classify_posture
from sensor.signal.resample import HOLE_S, Resampler
from sensor.signal.stability import stability_score
from sensor.vocab import MOUNTS, POSTURES


@dataclass
class HoldStatus:
    exercise: str
    side: str | None
    start_s: float
    elapsed_s: float
    sway_deg: float | None = None  # so far (None in the first second)
    score: float | None = None  # stability so far, 0-100


@dataclass
class LiveStatus:
    """What a live view shows, as of the last sample fed."""

    time_s: float = 0.0
    posture: str = "unknown"
    pitch_deg: float = 0.0  # elevation of the pelvis' long axis above horizontal
    angle_deg: float = 0.0  # the pelvis angle as shown (``display_angle``): lift positive
    excursion_deg: float = 0.0  # away from the current rest level
    calibrated: bool = False
    rep_count: int = 0
    last_rep: Rep | None = None
    hold: HoldStatus | None = None
    gaps: int = 0


def display_angle(e_deg: np.ndarray, posture: np.ndarray) -> np.ndarray:
    """The pelvis angle as HoldTrack shows it (Live, timelines): the elevation of the
    pelvis' long axis above horizontal, its sign turned while lying on the back, so that
    every exercise's lift reads as a rise: hips up in a bridge +35°, a back extension or a
    plank a few degrees up, standing +90°. (Lying on the back the hips' rise turns the head
    end down: the raw elevation of a bridge is -35°.)"""
    return np.where(posture == SUPINE, -e_deg, e_deg)


class Pipeline:
    """Stateful: ``feed`` chunks in time order, ``gap`` for known link losses, ``finish``
    at the end."""

    def __init__(self, settings: PipelineSettings | None = None, calibration: Calibration | None = None) -> None:
        s = self.settings = settings or PipelineSettings()
        self._resampler = Resampler(s.grid_hz, s.max_gap_s)
        if s.mount not in MOUNTS:
            raise ValueError(f"unknown mount {s.mount!r}; expected one of {', '.join(MOUNTS)}")
        self._calibrator = StandCalibrator(s.grid_hz, s.calibration, mount=s.mount)
        self._tilt = TiltFilter(s.grid_hz, s.lp_hz, s.fusion_tau_s, mount=s.mount)
        self.calibration: Calibration | None = None
        if calibration is not None:
            self._apply_calibration(calibration)
            self._calibrator.done = True
        from_stand = self.calibration is not None and self.calibration.from_stand
        self._detector = ExcursionDetector(s.grid_hz, s.detector, from_stand, -LEVER_M[s.mount][2])
        self._confirm_n = int(round(s.posture_confirm_s * s.grid_hz))
        self._raw_posture = -1
        self._raw_run = 0
        self._posture = 0
        self.status = LiveStatus(calibrated=self.calibration is not None and self.calibration.from_stand)
        self.first_time_s: float | None = None
        self.samples_seen = 0
        self._pending: list[Samples] = []
        # Display trace: every n-th grid point's elevation (grid points are k / grid_hz).
        self._trace_step = int(round(s.grid_hz / s.trace_hz)) if s.trace_hz else 0
        self._trace_t: list[np.ndarray] = []
        self._trace_deg: list[np.ndarray] = []
        self._signals: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if s.keep_signals:
            self._detector.recorder = []

    def _apply_calibration(self, cal: Calibration) -> None:
        self.calibration = cal
        self._tilt.calibrate(cal)

    def gap(self, start_s: float, end_s: float) -> list[Event]:
        """A known link loss (the resampler also finds holes by itself)."""
        events = self._flush()
        self.status.gaps += 1
        return events + [Gap(start_s, end_s)]

    def feed(self, samples: Samples) -> list[Event]:
        """Take samples; return the events that became certain.

        Live links deliver a few samples at a time; they are gathered for ``batch_s`` of
        stream time before the filters run, so the fixed cost of a run is paid ten times
        a second rather than per notification. Events are the same either way: their
        times come from the samples, not from when they leave.
        """
        if len(samples) == 0:
            return []
        if self.first_time_s is None:
            self.first_time_s = float(samples.time_s[0])
        self.samples_seen += len(samples)
        self._pending.append(samples)
        if float(samples.time_s[-1]) - float(self._pending[0].time_s[0]) < self.settings.batch_s:
            return []
        return self._flush()

    @property
    def pending_samples(self) -> int:
        """Samples fed but not yet run through the filters (see ``batch_s``)."""
        return sum(len(p) for p in self._pending)

    def _flush(self) -> list[Event]:
        if not self._pending:
            return []
        samples = self._pending[0] if len(self._pending) == 1 else Samples.concat(self._pending)
        self._pending = []
        t, x, filled, gaps, span = self._resampler.feed(samples)
        self.status.gaps += len(gaps)
        events: list[Event] = []
        # Events leave in stream order: a gap before what follows it.
        a = 0
        for g in gaps:
            b = int(np.searchsorted(t, g.end_s))
            events.extend(self._run(t[a:b], x[a:b], filled[a:b], span[a:b]))
            events.append(g)
            a = b
        events.extend(self._run(t[a:], x[a:], filled[a:], span[a:]))
        return events

    def _run(self, t: np.ndarray, x: np.ndarray, filled: np.ndarray, span: np.ndarray) -> list[Event]:
        if t.size == 0:
            return []
        events: list[Event] = []
        if not self._calibrator.done:
            cal = self._calibrator.feed(t, x)
            if cal is not None:
                # Everything from the end of the stand on is seen in the body frame.
                i = int(np.searchsorted(t, cal.at_s, side="right"))
                events.extend(self._process(t[:i], x[:i], filled[:i], span[:i]))
                self._apply_calibration(cal)
                self._detector.calibrated = cal.from_stand
                self.status.calibrated = cal.from_stand
                t, x, filled, span = t[i:], x[i:], filled[i:], span[i:]
        events.extend(self._process(t, x, filled, span))
        return events

    def _process(self, t: np.ndarray, x: np.ndarray, filled: np.ndarray, span: np.ndarray) -> list[Event]:
        if t.size == 0:
            return []
        events: list[Event] = []
        up, gyr, elev = self._tilt.feed(x, filled)
        e_deg = np.degrees(elev)
        # The specific force in the body frame: the detector integrates it for lifts (the
        # low-passed direction ``up`` lags a brisk movement, and a lift needs its every turn).
        acc = x[:, :3] @ self._tilt.mounting.T
        # A walking-only calibration still knows the axes.
        raw = classify_posture(up, self.calibration is not None, self.settings.mount)
        # A posture counts once it has lasted posture_confirm_s: rolling through a
        # posture on the way to another does not reset anything.
        change = np.flatnonzero(np.diff(np.concatenate(([self._raw_posture], raw))) != 0)
        bounds = np.concatenate(([0], change[change > 0], [raw.size]))
        confirmed = np.empty(raw.size, np.int8)
        posture = self._posture
        run = self._raw_run
        for a, b in zip(bounds[:-1], bounds[1:]):
            run_before = run if (a == 0 and raw[0] == self._raw_posture) else 0
            c = a + max(0, self._confirm_n - run_before)
            if c < b:
                confirmed[a:c] = posture
                posture = int(raw[a])
                confirmed[c:b] = posture
            else:
                confirmed[a:b] = posture
            run = run_before + (b - a)
        self._raw_posture = int(raw[-1])
        self._raw_run = run
        # Feed the detector segment by segment of confirmed posture.
        cchange = np.flatnonzero(np.diff(np.concatenate(([self._posture], confirmed))) != 0)
        cb = np.concatenate(([0], cchange, [raw.size]))
        for a, b in zip(cb[:-1], cb[1:]):
            if a == b:
                continue
            p = int(confirmed[a])
            if p != self._detector.posture:
                events.extend(self._detector.set_posture(p, float(t[a])))
                events.append(PostureChanged(POSTURES[p], float(t[a])))
            events.extend(self._detector.feed(t[a:b], e_deg[a:b], up[a:b], gyr[a:b], raw[a:b], acc[a:b], span[a:b]))
        self._posture = int(confirmed[-1])
        if self.settings.keep_signals:
            self._signals.append((t, e_deg, confirmed))
        shown = display_angle(e_deg, confirmed)
        if self._trace_step:
            keep = np.round(t * self.settings.grid_hz).astype(np.int64) % self._trace_step == 0
            self._trace_t.append(t[keep])
            self._trace_deg.append(shown[keep].astype(np.float32))
        self._update_status(t, e_deg, shown, events)
        return events

    def _update_status(self, t: np.ndarray, e_deg: np.ndarray, shown: np.ndarray, events: list[Event]) -> None:
        st = self.status
        st.time_s = float(t[-1])
        st.posture = POSTURES[self._posture]
        st.pitch_deg = float(e_deg[-1])
        st.angle_deg = float(shown[-1])
        st.excursion_deg = self._detector.last_d
        for ev in events:
            if isinstance(ev, Rep):
                st.rep_count += 1
                st.last_rep = ev
        h = self._detector.hold_info
        if h is None:
            st.hold = None
        else:
            stab = self._detector.stability_so_far()
            st.hold = HoldStatus(
                h.exercise,
                h.side,
                h.start_s,
                st.time_s - h.start_s,
                stab[0] if stab else None,
                stability_score(*stab) if stab else None,
            )

    def finish(self) -> list[Event]:
        """End of stream: run what is pending and close a hold still in progress."""
        events = self._flush()
        return events + self._detector.finish(self.status.time_s)

    def display_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """(time_s, pelvis angle deg as shown, ``display_angle``) at ``trace_hz`` so far (empty unless asked for)."""
        if not self._trace_t:
            return np.empty(0), np.empty(0, np.float32)
        return np.concatenate(self._trace_t), np.concatenate(self._trace_deg)

    def signals(self) -> dict[str, np.ndarray]:
        """Every grid sample's intermediate signals so far (``keep_signals``): time_s,
        elevation_deg (pelvis long axis above horizontal), rest_deg (the detector's rest
        level, NaN when none), excursion_deg (elevation minus rest, head end up positive),
        posture and state (rest, excursion, hold) as strings."""
        from sensor.signal.detectors import STATES

        if not self._signals:
            t = np.empty(0)
            return {"time_s": t, "elevation_deg": t, "rest_deg": t, "excursion_deg": t, "posture": t.astype(str), "state": t.astype(str)}
        t = np.concatenate([x[0] for x in self._signals])
        e = np.concatenate([x[1] for x in self._signals])
        p = np.concatenate([x[2] for x in self._signals])
        rest = np.full(t.size, np.nan)
        state = np.zeros(t.size, np.int8)
        rec = self._detector.recorder or []
        if rec:
            rt = np.concatenate([r[0] for r in rec])
            i = np.clip(np.searchsorted(t, rt), 0, t.size - 1)
            ok = t[i] == rt  # the detector sees the same grid times
            rest[i[ok]] = np.concatenate([r[1] for r in rec])[ok]
            state[i[ok]] = np.concatenate([r[2] for r in rec])[ok]
        return {
            "time_s": t,
            "elevation_deg": e,
            "rest_deg": rest,
            "excursion_deg": e - rest,
            "posture": np.asarray(POSTURES)[p],
            "state": np.asarray(STATES)[state],
        }

    def process(self, samples: Samples, chunk: int = 4096) -> list[Event]:
        """Feed a whole stream in chunks and finish (what ``analyze`` does)."""
        events: list[Event] = []
        for i in range(0, len(samples), chunk):
            events.extend(self.feed(samples[i : i + chunk]))
        events.extend(self.finish())
        return events


def nominal_rate_hz(time_s: np.ndarray) -> float:
    """The sensor's rate read from its timestamps: mean interval, leaving out dropouts.

    A dropout is a step longer than 1.5 median steps and than ``HOLE_S``: loggers that stamp
    on arrival write a packet's samples a millisecond apart and then wait for the next
    packet (WitMotion's app at 200 Hz: 8 rows, then 30 ms), so the median step alone would
    call every wait a dropout and read 340 Hz."""
    if time_s.size < 2:
        return 0.0
    dt = np.diff(time_s[: min(time_s.size, 20000)])
    med = median(dt)
    if not (med > 0 and math.isfinite(med)):
        return 0.0
    return 1.0 / float(np.mean(dt[dt <= max(1.5 * med, HOLE_S)]))
