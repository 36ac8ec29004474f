"""A session as a FIT strength-training activity (what Garmin Connect and Strava import).

Written with ``fit-tool`` (a maintained FIT encoder on PyPI): one file_id, timer start and
stop events, one ``set`` message per set of reps (as ``analyze`` groups them) and per hold
(a timed set, no reps), rest sets between them, then a lap, a session
(sport training / strength training) and the activity. Exercise categories follow the
FIT profile: bridge = hip raise, back extension = hyperextension (superman from floor),
plank and side plank = plank.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sensor.events import Analysis, Gap
from sensor.routine import group_sets
from sensor.samples import Samples

# exercise -> (FIT exercise_category, exercise name within that category); see the
# profile's ExerciseCategory, HipRaiseExerciseName, HyperextensionExerciseName, PlankExerciseName.
CATEGORIES: dict[str, tuple[int, int]] = {
    "bridge": (10, 11),  # HIP_RAISE / HIP_RAISE
    "back_extension": (13, 29),  # HYPEREXTENSION / SUPERMAN_FROM_FLOOR
    "plank": (19, 43),  # PLANK / PLANK
    "side_plank": (19, 66),  # PLANK / SIDE_PLANK
}
UNIX_TIME_MIN_S = 1e9  # time_s this large is Unix time (contract: it then dates the session)
FIT_EPOCH_UNIX_S = 631065600  # 1989-12-31T00:00:00Z, where FIT time starts
MANUFACTURER_DEVELOPMENT = 255  # FIT's manufacturer id for software without a registered id


@dataclass(frozen=True, slots=True)
class FitSet:
    """One active set: a set of reps, or one hold (``reps`` None)."""

    exercise: str
    start_s: float  # on the recording's time axis
    end_s: float
    reps: int | None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def fit_sets(analysis: Analysis, counts: dict[int, int] | None = None) -> list[FitSet]:
    """Sets of reps (``group_sets``, as ``analyze`` and the store split them) and holds, in
    time order. ``counts`` are the user's rep counts by set index (a stored session's
    corrections): a set counts as they say, and a set they put at 0 reps is left out."""
    out = []
    counts = counts or {}
    for i, members in enumerate(group_sets(analysis.reps)):
        reps = [analysis.reps[j] for j in members]
        n = int(counts.get(i, len(reps)))
        if n > 0:
            out.append(FitSet(reps[0].exercise, reps[0].start_s, max(r.end_s for r in reps), n))
    out += [FitSet(h.exercise, h.start_s, h.end_s, None) for h in analysis.holds]
    return sorted(out, key=lambda s: s.start_s)


def analyze_for_export(path: Path) -> tuple[Analysis, float, datetime]:
    """The analysis of a recording (the same as ``holdtrack analyze``), its first sample
    time and the UTC time of that first sample."""
    from sensor.analyze import analyze_stream, reopen
    from sensor.files.inputs import open_input

    header, items = open_input(path)
    first: list[float] = []

    def watch(it: Iterable[Samples | Gap]) -> Iterator[Samples | Gap]:
        for item in it:
            if not first and isinstance(item, Samples) and len(item):
                first.append(float(item.time_s[0]))
            yield item

    analysis = analyze_stream(watch(items), header=header, again=reopen(path))
    t0 = first[0] if first else 0.0
    if t0 >= UNIX_TIME_MIN_S:
        start = datetime.fromtimestamp(t0, UTC)
    elif header.created_utc:
        start = datetime.strptime(header.created_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    else:  # a CSV with relative times: the file's time is the best it says (as the store does)
        start = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return analysis, t0, start


def first_sample_time(path: Path) -> float | None:
    """The time of a recording's first sample (None if it has none or cannot be read)."""
    from sensor.errors import HoldTrackError as _Err
    from sensor.files.inputs import open_input

    try:
        _, items = open_input(path)
        for item in items:
            if isinstance(item, Samples) and len(item):
                return float(item.time_s[0])
    except (_Err, OSError):
        return None
    return None


def fit_bytes(analysis: Analysis, t0_s: float, start_utc: datetime, counts: dict[int, int] | None = None) -> bytes:
    """The FIT file of an analysis whose time axis starts (``t0_s``) at ``start_utc``;
    ``counts``: corrected rep counts by set index (``fit_sets``)."""
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.lap_message import LapMessage
    from fit_tool.profile.messages.session_message import SessionMessage
    from fit_tool.profile.messages.set_message import SetMessage
    from fit_tool.profile.profile_type import Activity, Event, EventType, FileType, SetType, Sport, SubSport

    base_ms = start_utc.timestamp() * 1000.0

    def ms(t_s: float) -> int:  # fit-tool takes Unix milliseconds (and stores FIT seconds)
        return round(base_ms + (t_s - t0_s) * 1000.0)

    end_s = t0_s + max(analysis.duration_s, 0.0)
    sets = fit_sets(analysis, counts)
    if sets:
        end_s = max(end_s, sets[-1].end_s)
    b = FitFileBuilder(auto_define=True, min_string_size=50)
    fid = FileIdMessage()
    fid.type = FileType.ACTIVITY
    fid.manufacturer = MANUFACTURER_DEVELOPMENT
    fid.product = 1
    fid.serial_number = 0x48540001  # "HT"
    fid.time_created = ms(t0_s)
    b.add(fid)
    ev = EventMessage()
    ev.event, ev.event_type, ev.timestamp = Event.TIMER, EventType.START, ms(t0_s)
    b.add(ev)
    index = 0
    prev_end: float | None = None
    for s in sets:
        if prev_end is not None and s.start_s > prev_end:
            rest = SetMessage()
            rest.set_type = SetType.REST.value
            rest.start_time, rest.timestamp = ms(prev_end), ms(s.start_s)
            rest.duration = s.start_s - prev_end
            rest.message_index = index
            b.add(rest)
            index += 1
        m = SetMessage()
        m.set_type = SetType.ACTIVE.value
        m.start_time, m.timestamp = ms(s.start_s), ms(s.end_s)
        m.duration = s.duration_s
        if s.reps is not None:
            m.repetitions = s.reps
        cat, sub = CATEGORIES[s.exercise]
        m.category, m.category_subtype = [cat], [sub]
        m.message_index = index
        b.add(m)
        index += 1
        prev_end = s.end_s
    ev = EventMessage()
    ev.event, ev.event_type, ev.timestamp = Event.TIMER, EventType.STOP_ALL, ms(end_s)
    b.add(ev)
    total = end_s - t0_s
    lap = LapMessage()
    lap.message_index, lap.start_time, lap.timestamp = 0, ms(t0_s), ms(end_s)
    lap.total_elapsed_time = lap.total_timer_time = total
    lap.event, lap.event_type = Event.LAP, EventType.STOP
    lap.sport, lap.sub_sport = Sport.TRAINING, SubSport.STRENGTH_TRAINING
    b.add(lap)
    ses = SessionMessage()
    ses.message_index, ses.start_time, ses.timestamp = 0, ms(t0_s), ms(end_s)
    ses.total_elapsed_time = ses.total_timer_time = total
    ses.event, ses.event_type = Event.SESSION, EventType.STOP
    ses.sport, ses.sub_sport = Sport.TRAINING, SubSport.STRENGTH_TRAINING
    ses.first_lap_index, ses.num_laps = 0, 1
    ses.total_cycles = sum(s.reps or 0 for s in sets)  # reps as counted (corrections included)
    b.add(ses)
    act = ActivityMessage()
    act.timestamp = ms(end_s)
    act.total_timer_time = total
    act.num_sessions = 1
    act.type = Activity.MANUAL
    act.event, act.event_type = Event.ACTIVITY, EventType.STOP
    # local_timestamp is raw FIT seconds (since 1989-12-31) in this computer's local time.
    offset = start_utc.astimezone().utcoffset()
    act.local_timestamp = int(ms(end_s) / 1000 + (offset.total_seconds() if offset else 0.0) - FIT_EPOCH_UNIX_S)
    b.add(act)
    return bytes(b.build().to_bytes())


def export_fit(recording: Path, out: Path) -> list[FitSet]:
    """Analyze ``recording`` and write it to ``out`` as a FIT activity; returns the sets written."""
    analysis, t0, start = analyze_for_export(Path(recording))
    write_fit(out, fit_bytes(analysis, t0, start))
    return fit_sets(analysis)


def write_fit(out: Path, data: bytes) -> None:
    """Write a FIT file whole or not at all (``sensor.files.output``); an error is one line."""
    from sensor.files.output import atomic_output

    with atomic_output(out) as f:
        f.write(data)
