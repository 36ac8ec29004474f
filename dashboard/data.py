"""Cached access to the store for the pages (the pages hold no SQL and no file I/O).

Query results are cached per (data folder, store revision, routine), so every rerun of a
page is cheap and a new import shows up on the next rerun without a manual refresh.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import streamlit as st

from sensor.routine import Outcome, Routine, load_routine, save_routine
from sensor.store import Store, data_dir, notes, queries, weeks
from sensor.store.bests import Best, personal_bests
from sensor.trace import downsample

TIMELINE_POINTS = 1000  # a 1-hour session is drawn from at most this many points (about one per pixel and a half)


def folder() -> Path:
    """The data folder of this server (``holdtrack dashboard`` passes it in the environment)."""
    return data_dir(None)


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def store() -> Store:
    return _store(str(folder()))


def routine() -> Routine:
    return load_routine(folder())


def save_settings(r: Routine) -> Path:
    return save_routine(r, folder())


def _key() -> tuple[str, tuple[int, int, str]]:
    return str(folder()), store().revision()


def _routine_key(r: Routine) -> str:
    return json.dumps(r.to_json(), sort_keys=True)


@st.cache_data(show_spinner=False, max_entries=8)
def _rows(path: str, rev: tuple[int, int, str], routine_json: str) -> list[queries.SessionRow]:
    """Every kept session, demo included: read once per store revision and routine; every
    figure of History is derived from these rows."""
    return queries.sessions(_store(path), Routine.from_json(json.loads(routine_json)), include_demo=True)


def sessions(include_demo: bool = True) -> list[queries.SessionRow]:
    """The kept sessions, newest first, as the user corrected them."""
    path, rev = _key()
    rows = _rows(path, rev, _routine_key(routine()))
    return rows if include_demo else [r for r in rows if not r.demo]


@st.cache_data(show_spinner=False, max_entries=64)
def _adherence(
    path: str, rev: tuple[int, int, str], routine_json: str, include_demo: bool, today: date, since: date | None, until: date | None
) -> list[weeks.WeekAdherence]:
    r = Routine.from_json(json.loads(routine_json))
    rows = [x for x in _rows(path, rev, routine_json) if include_demo or not x.demo]
    return weeks.weekly_adherence(_store(path), r, rows=rows, today=today, since=since, until=until)


def adherence(include_demo: bool = True, since: date | None = None, until: date | None = None) -> list[weeks.WeekAdherence]:
    """Adherence per week, oldest first: from the first session to this week, or the whole
    weeks from ``since`` to ``until``."""
    path, rev = _key()
    return _adherence(path, rev, _routine_key(routine()), include_demo, weeks.current_day(), since, until)


def trends(include_demo: bool = True, since: date | None = None, until: date | None = None) -> list[weeks.WeekTrend]:
    """Weekly progress measures (oldest first) of the weeks with sessions in the range."""
    rows = [r for r in sessions(include_demo) if (since is None or r.local_date >= since) and (until is None or r.local_date <= until)]
    return weeks.weekly_trends(store(), rows=rows)


def streaks(include_demo: bool = True) -> weeks.Streaks:
    """Weeks and training days in a row meeting the routine, over all of the history."""
    return weeks.streaks(adherence(include_demo), sessions(include_demo), routine(), weeks.current_day())


def bests(include_demo: bool = True) -> list[Best]:
    """The personal bests over all of the history (``sensor.store.bests``)."""
    return personal_bests(sessions(include_demo))


def days(include_demo: bool = True) -> dict[date, dict[str, Outcome]]:
    """What was done, and done to target, on each day with a counted session."""
    return weeks.day_outcomes(sessions(include_demo))


def save_note(session_id: int, text: str) -> str:
    """Store the user's note on a session (``sensor.store.notes``); returns it as stored."""
    return notes.set_note(store(), session_id, text)


@st.cache_data(show_spinner=False, max_entries=16)
def _detail(path: str, rev: tuple[int, int, str], session_id: int) -> queries.SessionDetail | None:
    d = queries.session_detail(_store(path), session_id)
    if d is not None and d.trace is not None:
        # Keep only what is drawn: an hour at 5 Hz is 18,000 points, the chart needs ~1,500.
        t, v = downsample(d.trace.time_s, d.trace.deg, TIMELINE_POINTS)
        d.session["_trace_t"] = t
        d.session["_trace_deg"] = v
    return d


def detail(session_id: int) -> queries.SessionDetail | None:
    path, rev = _key()
    return _detail(path, rev, int(session_id))


def recordings() -> list[tuple[str, Path]]:
    """Files that can be replayed (recordings, CSVs, phone exports): (label, path), the
    store's sessions first, then the bundled samples not imported."""
    from sensor.sim.demo import sample_recordings

    out: list[tuple[str, Path]] = []
    for sid, day, path, demo in queries.recording_paths(store()):
        if Path(path).is_file():
            out.append((f"Session {sid} · {day}{' · demo' if demo else ''}", Path(path)))
    for p in sample_recordings():
        out.append((f"Sample recording · {p.stem}", p))
    return out


def export_json(d: queries.SessionDetail) -> str:
    """The session's JSON download, as the user corrected it (``sensor.store.exports``)."""
    from sensor.store.exports import session_json

    return json.dumps(session_json(d), indent=2, default=str)


def export_csv(d: queries.SessionDetail) -> str:
    """The session's CSV download, as the user corrected it (``sensor.store.exports``)."""
    from sensor.store.exports import session_csv

    return session_csv(d)


@st.cache_data(show_spinner=False, max_entries=16)
def _downloads(path: str, rev: tuple[int, int, str], session_id: int) -> tuple[str, str]:
    d = _detail(path, rev, session_id)
    return ("", "") if d is None else (export_csv(d), export_json(d))


def downloads(session_id: int) -> tuple[str, str]:
    """The session's CSV and JSON downloads, made once per store revision (the CSV of an hour
    with its angle trace takes ~50 ms). Made with the page, not on the click: a download
    made on the click is lost when the click comes just after an edit's rerun."""
    path, rev = _key()
    return _downloads(path, rev, int(session_id))


@st.cache_data(show_spinner=False, max_entries=4)
def _files(path: str, rev: tuple[int, int, str], session_id: int) -> tuple[bytes | None, str, bytes | None]:
    from sensor.store.exports import kept_file, session_fit

    d = _detail(path, rev, session_id)
    if d is None:
        return None, "", None
    kept = kept_file(_store(path), d)
    try:
        raw = kept.read_bytes() if kept is not None else None
    except OSError:  # removed or unreadable since: no button, as for a session without a file
        raw = None
    try:
        fit: bytes | None = session_fit(_store(path), d)
    except (ValueError, OverflowError):  # a row stored before dates were checked: the page still shows
        fit = None
    return fit, kept.name if kept is not None else "", raw


def session_files(session_id: int) -> tuple[bytes | None, str, bytes | None]:
    """The session's FIT download (None: its date cannot go in one), and its kept
    recording's name and bytes (None: no file),
    made with the page once per store revision, as ``downloads`` (a click just after an
    edit's rerun is never lost)."""
    path, rev = _key()
    return _files(path, rev, int(session_id))
