"""Saving a live run as a session when it ends: what the dashboard's Live page and
``holdtrack record`` both do. A run in which nothing was detected, or whose samples a stored
session already holds, is not saved, and says so in one line naming that session; a run of
the Live page that is not saved leaves nothing behind in the data folder (Replay and History
list sessions, so a recording kept there without one would only be hidden)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from sensor.errors import ExitCode, HoldTrackError, exit_code
from sensor.events import Analysis
from sensor.routine import MIN_SET_REPS
from sensor.store import Store


@dataclass(frozen=True, slots=True)
class Saved:
    """``session_id``: the session the run is saved as (None: not saved, ``message`` says why);
    ``same_as``: the stored session that already holds its samples."""

    session_id: int | None
    message: str
    same_as: int | None = None


def save_run(store: Store, path: Path, analysis: Analysis | None, *, discard: bool) -> Saved:
    """Save the recording ``path`` of a run that ended as a session. ``analysis``: what the
    runner found live, saved as it is (None: a recording an earlier crash left, analysed from
    the file). ``discard``: the recording is the data folder's own (the Live page's): removed
    when the run is not saved. Raises ``HoldTrackError`` (one line) when it cannot be saved;
    the recording then stays."""
    from sensor.importer import analyze_file, import_file, import_recording

    if analysis is not None and not analysis.reps and not analysis.holds:
        return _nothing(path, analysis, discard)  # a Stop after a few seconds, or reps that made no set
    if analysis is not None:
        result = import_recording(store, path, analysis=analysis)
    else:
        found = analyze_file(path)
        if not found[0].reps and not found[0].holds:
            return _nothing(path, found[0], discard)
        result = import_file(store, path, analyzer=lambda _p: found)
    if result.status == "failed" or result.session_id is None:
        raise HoldTrackError(result.message)
    sid = result.session_id
    if result.status == "added" or store.session_of_file(path) == sid:
        return Saved(sid, f"saved as session {sid}{_no_set(analysis)}")
    if discard:  # its samples are in session sid's own file
        path.unlink(missing_ok=True)
    return Saved(None, f"not saved: this run holds the same samples as session {sid}, saved before", same_as=sid)


def _nothing(path: Path, analysis: Analysis, discard: bool) -> Saved:
    if discard:
        path.unlink(missing_ok=True)
    if analysis.lone_reps:
        return Saved(None, f"not saved: {_reps(analysis.lone_reps)} made no set in {analysis.duration_s:.0f} s ({NO_SET})")
    return Saved(None, f"not saved: nothing was detected in {analysis.duration_s:.0f} s")


NO_SET = f"a set is {MIN_SET_REPS} reps or more: fewer are not counted"


def _reps(n: int) -> str:
    return f"{n} rep{'s' if n != 1 else ''} found live"


def _no_set(analysis: Analysis | None) -> str:
    """What the live count showed that the session does not count, said."""
    if analysis is None or not analysis.lone_reps:
        return ""
    return f"; {_reps(analysis.lone_reps)} made no set and {'are' if analysis.lone_reps != 1 else 'is'} not counted ({NO_SET})"


def save_recorded(data_dir: str | None, path: Path, analysis: Analysis) -> ExitCode:
    """``holdtrack record``: the run joins the history in ``data_dir`` as a Live page run does,
    said in one line (an error on stderr, with its exit code). The recording is the user's
    own file: it is never removed, whatever happens to the session."""
    try:
        done = save_run(Store(data_dir), path, analysis, discard=False)
    except HoldTrackError as e:
        print(f"holdtrack: error: not saved to history: {e}; the recording is kept: {path}", file=sys.stderr)
        return exit_code(e)
    hint = f" (holdtrack import {path} adds it anyway)" if done.session_id is None and done.same_as is None else ""
    print(f"history: {done.message}{hint}")
    return ExitCode.OK
