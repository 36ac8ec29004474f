"""Importing files into the store: find them, skip what is already there, analyse each one
with the session runner, and store it with a copy of the file. One bad file never stops a
batch: each gets a result line (``ImportReport``). The store itself never analyses.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sensor.errors import HoldTrackError, InputError, StoreError, shown
from sensor.events import Analysis
from sensor.store import SessionInfo, Store
from sensor.trace import TRACE_HZ, Trace
from sensor.vocab import counted

IMPORT_SUFFIXES = (".htrec", ".csv", ".zip")  # what a folder given to import is searched for


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The outcome for one file: ``status`` is added, already or failed."""

    path: Path
    status: str
    message: str
    session_id: int | None = None


@dataclass(slots=True)
class ImportReport:
    results: list[ImportResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[ImportResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        return f"{self.count('added')} added, {self.count('already')} already in the store, {self.count('failed')} failed"


Progress = Callable[[int, int, ImportResult], None]
Analyzer = Callable[[Path], "tuple[Analysis, Trace | None]"]
"""Reads one file into its analysis and display trace; raises ``InputError`` if it cannot."""


def import_paths(
    store: Store,
    paths: Iterable[str | Path],
    progress: Progress | None = None,
    *,
    demo: bool = False,
    analyzer: Analyzer | None = None,
) -> ImportReport:
    """Import recordings and exports (folders are searched for them). Files already
    imported (same content) are skipped; a file that fails gets one error line and
    changes nothing in the store."""
    files = expand_paths(paths)
    report = ImportReport()
    for n, path in enumerate(files, 1):
        result = import_file(store, path, demo=demo, analyzer=analyzer)
        report.results.append(result)
        if progress is not None:
            progress(n, len(files), result)
    return report


def import_file(store: Store, path: Path, *, demo: bool = False, analyzer: Analyzer | None = None) -> ImportResult:
    """Import one file; never raises for a bad file (StoreError still propagates: a
    store that cannot be written is not the file's fault)."""
    try:
        return _import_file(store, Path(path), demo, analyzer)
    except StoreError:
        raise
    except HoldTrackError as e:
        return ImportResult(Path(path), "failed", str(e))
    except OSError as e:
        return ImportResult(Path(path), "failed", f"{path}: {e.strerror or e}")
    except Exception as e:
        # A reader that tripped over a malformed file (even a bug, even MemoryError):
        # this file's problem only; the batch goes on and reports it.
        return ImportResult(Path(path), "failed", f"{path}: cannot be read ({type(e).__name__}: {e})")


def _import_file(store: Store, path: Path, demo: bool, analyzer: Analyzer | None) -> ImportResult:
    if not path.exists():
        raise InputError(path, "no such file")
    kind = detect_kind(path)
    if kind == "htrec":
        from sensor.recording.recovery import in_use

        if in_use(path):  # a partial session would be stored, and the rest never
            raise InputError(path, "still being recorded (another program is writing it): import it once that recording has stopped")
    digest = content_hash(path)
    existing = store.has_hash(digest)
    if existing is not None:
        return _already(store, path, existing)
    from sensor.store import edits, signature  # numpy: only when a file is new

    sig = signature.sign_file(path)  # None: unreadable, and the analysis says why
    same, seen = edits.find_same_samples(store, path, sig) if sig is not None else (None, 0)
    if same is not None:  # the same samples in another file (e.g. a recording's CSV export)
        return _same_samples(path, same)
    analysis, trace = (analyzer or analyze_file)(path)
    info = _describe(path, kind, digest, demo)
    info.signature = sig
    info.mount = analysis.mount  # where the events were found with (the data may have corrected the header)
    # The copy is this import's own (a name no other import uses): whatever keeps this
    # import from storing its session removes it, and never the file of the one that won.
    copy = store.keep_file(path, info)
    stored = False
    try:
        sid, same = edits.add_unless_same(store, path, sig, seen, analysis, info, trace)
        stored = sid is not None
        if same is not None:
            return _same_samples(path, same)
    except sqlite3.IntegrityError as e:
        sid2 = store.has_hash(digest)
        if sid2 is None:  # not a race with another import: the analysis is unusable
            raise InputError(path, f"analysis cannot be stored ({e})") from None
        # Imported by someone else in the meantime (the hash is UNIQUE).
        return ImportResult(path, "already", f"{path}: already in the store (session {sid2})", sid2)
    finally:
        if copy is not None and not stored:
            copy.unlink(missing_ok=True)
    assert sid is not None
    what = _counts(analysis)
    if analysis.damaged_blocks:
        what += f"; {analysis.damaged_blocks} damaged block(s) skipped"
    if analysis.interrupted:
        what += f"; interrupted recording, {analysis.duration_s:.1f} s recovered"
    if analysis.mount_check == "corrected":
        what += f"; {analysis.mount_note}"
    return ImportResult(path, "added", f"{path}: added as session {sid} ({what})", sid)


def _same_samples(path: Path, sid: int) -> ImportResult:
    return ImportResult(path, "already", f"{path}: already in the store (session {sid}: the same samples in another file)", sid)


def _already(store: Store, path: Path, sid: int) -> ImportResult:
    """A file imported before; if its session is in the bin, importing it restores it."""
    if store.restore_from_bin(sid):
        return ImportResult(path, "added", f"{path}: restored session {sid} from the bin", sid)
    return ImportResult(path, "already", f"{path}: already in the store (session {sid})", sid)


def import_recording(store: Store, path: Path, *, demo: bool = False, analysis: Analysis | None = None) -> ImportResult:
    """Import a recording written by the session runner. ``analysis``: what the runner found
    live (with its display trace), saved as it is: the same as re-analysing the recording
    would give, without reading it again. (``sensor.saving`` saves a run that ended.)"""
    if analysis is None:
        return import_file(store, path, demo=demo)
    from sensor.mount_fit import worth_fitting

    if worth_fitting(analysis):
        # Nothing live told where the sensor is: the file analysed again tries the others (sensor.mount_fit).
        return import_file(store, path, demo=demo)
    analysis, trace = _with_trace(analysis)
    return import_file(store, path, demo=demo, analyzer=lambda _p: (analysis, trace))


def analyze_file(path: Path, *, default_settings: bool = False, mount: str | None = None) -> tuple[Analysis, Trace | None]:
    """The session runner over any supported input (the same code as ``holdtrack analyze``,
    with the settings the recording was made with, or today's defaults with
    ``default_settings``), and its display trace."""
    from sensor.analyze import analyze_stream, reopen
    from sensor.files.inputs import open_input
    from sensor.files.read_ahead import read_ahead
    from sensor.runner import settings_for

    header, items = open_input(path)
    settings = settings_for(header, mount=mount, trace_hz=TRACE_HZ, defaults=default_settings, where=path)
    again = reopen(path) if mount is None else None  # a mounting named is analysed as named
    return _with_trace(analyze_stream(read_ahead(items), settings=settings, header=header, again=again))


def _with_trace(analysis: Analysis) -> tuple[Analysis, Trace | None]:
    """The analysis without its raw trace points, and those points as the stored trace."""
    from sensor.trace import regular_trace

    trace = regular_trace(*analysis.trace, TRACE_HZ) if analysis.trace is not None else None
    analysis.trace = None
    return analysis, trace


def file_hash(path: Path) -> str:
    from sensor.files.csvread import check_regular

    check_regular(path)  # a FIFO would block and /dev/zero never end: refused before reading
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


EXPORT_NAMES = {"gyroscope.csv", "totalacceleration.csv", "accelerometer.csv", "raw data.csv"}


def is_export_dir(path: Path) -> bool:
    """A phone-export folder (Sensor Logger, phyphox): imported as one session."""
    try:
        return path.is_dir() and any(f.name.lower() in EXPORT_NAMES for f in path.iterdir() if f.is_file())
    except OSError:
        return False


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, plus what folders hold: recordings, CSV files, zipped exports, and
    phone-export folders (each one session), in sorted order. In folders, each file and
    folder is taken once by its real path, so links (to itself, to a parent, two names for
    one file) can neither loop nor find a file twice."""
    out: list[Path] = []
    seen: set[str] = set()  # real paths of the folders walked and the files found

    def first_time(p: Path) -> bool:
        real = os.path.realpath(p)
        if real in seen:
            return False
        seen.add(real)
        return True

    def walk(folder: Path) -> None:
        if not first_time(folder):
            return
        for p in sorted(folder.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir():
                if is_export_dir(p):
                    if first_time(p):
                        out.append(p)
                else:
                    walk(p)
            elif p.suffix.lower() in IMPORT_SUFFIXES and first_time(p):
                out.append(p)

    for p in map(Path, paths):
        if p.is_dir() and not is_export_dir(p):
            walk(p)
        else:  # named by the user: taken as given (two links to one device are two lines)
            out.append(p)
    return out


def content_hash(path: Path) -> str:
    """sha256 of a file, or of a folder's files (names and contents, in sorted order)."""
    if not path.is_dir():
        return file_hash(path)
    h = hashlib.sha256()
    for f in sorted(x for x in path.rglob("*") if x.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0" + file_hash(f).encode())
    return h.hexdigest()


def detect_kind(path: Path) -> str:
    """htrec, csv or phone; an unknown format raises ``InputError`` (one line)."""
    from sensor.files.inputs import sniff_kind

    return {"recording": "htrec", "csv": "csv"}.get(sniff_kind(path), "phone")


def _describe(path: Path, kind: str, digest: str, demo: bool) -> SessionInfo:
    """Session facts from the file: the header of a recording, the file time otherwise."""
    from sensor.store.dates import check_start, recording_start

    started = recording_start(path, kind)  # the header, the export's metadata or first timestamp
    when = check_start(started, path, "the file") if started else check_start(_mtime(path), path, "the file's modification time")
    info = SessionInfo(
        when,
        shown(path.resolve()),  # a name that is not UTF-8 is kept readable (\xff), not refused by SQLite
        "",
        digest,
        kind=kind,
        demo=demo,
        date_source="recording" if started else "file time",
    )
    if kind != "htrec":
        return info
    from sensor.recording import read_header

    h = read_header(path)
    info.source = h.source
    info.mount = h.mount
    info.device = dict(h.device)
    info.app_version = h.app_version
    return info


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OverflowError, ValueError):  # a time beyond the calendar (touch -d 9999-...)
        return datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reanalysis:
    """One session analysed again: ``status`` is changed, unchanged, kept (the user's
    corrections refer to the events it has) or failed."""

    session_id: int
    status: str
    message: str


def reanalyze(
    store: Store, session_ids: Iterable[int] | None = None, *, dry_run: bool = False, default_settings: bool = False
) -> list[Reanalysis]:
    """Run today's pipeline again over the kept file of every session (or ``session_ids``)
    and store the events where they differ, so that a better detector also corrects the
    history. The user's corrections move with their sets and holds (the new one of the same
    exercise that overlaps each most); a session whose corrected set or hold would be gone
    keeps its events. The session's events and corrections are read again after its (slow)
    analysis and the write happens only if they are still so, so a correction made meanwhile
    or another run at the same time is never overwritten nor misplaced. A file that cannot
    be read, or any other error in one session, fails that session only. ``dry_run``: say
    what would change, change nothing."""
    from sensor.store import queries

    wanted = None if session_ids is None else set(session_ids)
    out: list[Reanalysis] = []
    for sid, _day, path, _demo in reversed(queries.recording_paths(store)):  # oldest first
        if wanted is not None and sid not in wanted:
            continue
        try:
            result = _reanalyze_one(store, sid, Path(path), dry_run, default_settings)
        except StoreError:
            raise  # the store cannot be used: no other session could be written either
        except HoldTrackError as e:
            result = Reanalysis(sid, "failed", f"session {sid}: {e}")
        except Exception as e:  # a bug, or a reader tripping: this session's only
            result = Reanalysis(sid, "failed", f"session {sid}: unexpected error ({type(e).__name__}: {e}); please report it")
        if result is not None:
            out.append(result)
    if wanted is not None:
        found = {r.session_id for r in out}
        out.extend(Reanalysis(sid, "failed", f"session {sid}: no such session") for sid in sorted(wanted - found))
    return out


def _reanalyze_one(store: Store, sid: int, path: Path, dry_run: bool, default_settings: bool) -> Reanalysis | None:
    from sensor.store import edits, queries

    after, trace = analyze_file(path, default_settings=default_settings)
    for _attempt in range(5):  # another writer got in between: read again (rare, a few at most)
        version = store.session_version(sid)  # first: any change after it is seen at the write
        detail = queries.session_detail(store, sid)
        if detail is None:
            return None  # deleted meanwhile
        before = detail.detected
        change = f"{_counts(before)} -> {_counts(after)}"
        if _events(before) == _events(after):
            redraw = not dry_run and not _same_trace(detail.trace, trace)
            if redraw:  # e.g. stored before the pelvis angle read lifts as rises
                store.replace_trace(sid, trace)
            return Reanalysis(sid, "unchanged", f"session {sid}: unchanged ({_counts(after)}){'; timeline redrawn' if redraw else ''}")
        fixes = edits.corrections(store, [sid]).get(sid, [])
        moved = edits.carry_corrections(before, after, fixes)
        if moved is None:
            why = "your corrections refer to sets or holds it would no longer have"
            return Reanalysis(sid, "kept", f"session {sid}: would become {change}; kept as it is ({why})")
        if dry_run or store.replace_analysis(sid, after, trace, moved, version=version):
            note = "; your corrections moved with their sets and holds" if fixes else ""
            return Reanalysis(sid, "changed", f"session {sid}: {change}{note}{' (dry run: not saved)' if dry_run else ''}")
    return Reanalysis(sid, "failed", f"session {sid}: changed by someone else while being re-analysed; run reanalyze again")


def _same_trace(a: Trace | None, b: Trace | None) -> bool:
    import numpy as np

    if a is None or b is None:
        return a is b
    return a.t0_s == b.t0_s and a.hz == b.hz and len(a.deg) == len(b.deg) and bool(np.allclose(a.deg, b.deg, atol=0.01, equal_nan=True))


def _events(a: Analysis) -> tuple[object, ...]:
    # Confidence is not stored (yet): an older analysis reads back as 1.0 throughout.
    from dataclasses import replace

    reps = [replace(r, confidence=1.0) for r in a.reps]
    holds = [replace(h, confidence=1.0) for h in a.holds]
    return (reps, holds, [(g.start_s, g.end_s) for g in a.gaps], a.calibrated)


def _counts(a: Analysis) -> str:
    return f"{counted(len(a.reps), 'rep')}, {counted(len(a.holds), 'hold')}"
