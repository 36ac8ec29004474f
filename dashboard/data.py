"""Cached access to the store for the pages (the pages hold no SQL and no file I/O).

Query results are cached per (data folder, store revision, routine), so every rerun of a
page is cheap and a new import shows up on the next rerun without a manual refresh.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import streamlit as st

from sensor.routine import Routine, load_routine, save_routine
from sensor.store import Store, data_dir, queries, weeks
from sensor.trace import downsample

TIMELINE_POINTS = 1500  # a 1-hour session is drawn from at most this many points


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


@st.cache_data(show_spinner=False, max_entries=64)
def _sessions(path: str, rev: tuple[int, int, str], routine_json: str, include_demo: bool) -> list[queries.SessionRow]:
    return queries.sessions(_store(path), Routine.from_json(json.loads(routine_json)), include_demo=include_demo)


def sessions(include_demo: bool = True) -> list[queries.SessionRow]:
    path, rev = _key()
    return _sessions(path, rev, _routine_key(routine()), include_demo)


@st.cache_data(show_spinner=False, max_entries=64)
def _adherence(path: str, rev: tuple[int, int, str], routine_json: str, include_demo: bool, today: date) -> list[weeks.WeekAdherence]:
    r = Routine.from_json(json.loads(routine_json))
    return weeks.weekly_adherence(_store(path), r, include_demo=include_demo, today=today)


def adherence(include_demo: bool = True) -> list[weeks.WeekAdherence]:
    path, rev = _key()
    return _adherence(path, rev, _routine_key(routine()), include_demo, date.today())


@st.cache_data(show_spinner=False, max_entries=64)
def _trends(path: str, rev: tuple[int, int, str], include_demo: bool) -> list[weeks.WeekTrend]:
    return weeks.weekly_trends(_store(path), include_demo=include_demo)


def trends(include_demo: bool = True) -> list[weeks.WeekTrend]:
    path, rev = _key()
    return _trends(path, rev, include_demo)


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
    """The session as JSON: the analysis in the contract's shape (as detected), session
    facts, sets, and the user's corrections beside them."""
    facts = {k: v for k, v in d.session.items() if not k.startswith("_")}
    obj = {
        "session": facts,
        **d.detected.to_json(),
        "sets": d.sets,
        "corrections": [{"target": c.target, "index": c.idx, "field": c.field, "value": c.value} for c in d.corrections],
    }
    return json.dumps(obj, indent=2, default=str)


def export_csv(d: queries.SessionDetail) -> str:
    """Reps and holds as one CSV, one row each (``kind`` tells which). Sets are numbered per
    exercise (back extension set 1, 2, 3); counts are integers; a corrected hold carries the
    user's start, end and side, and ``corrected`` says so."""
    import pandas as pd

    fixed_holds = {c.idx for c in d.corrections if c.target == "hold"}
    rows = [
        {
            "kind": "rep",
            "set": _set_no(d, r),
            "rep_in_set": r["rep_in_set"],
            "set_reps_counted": d.counts.get(r["set_idx"]),
            "corrected": r["set_idx"] in d.counts,
            **_plain(r),
        }
        for r in d.reps
    ]
    for i, h in enumerate(d.holds):
        eff = d.analysis.holds[i]
        rows.append(
            {
                "kind": "hold",
                **_plain(h),
                "side": eff.side,
                "start_s": eff.start_s,
                "end_s": eff.end_s,
                "duration_s": eff.duration_s,
                "corrected": i in fixed_holds,
            }
        )
    cols = [
        "kind", "exercise", "side", "set", "rep_in_set", "set_reps_counted", "start_s", "end_s", "hold_s", "duration_s",
        "sway_deg", "tremor_dps", "sag_deg", "score", "peak_deg", "detected_at_s", "corrected",
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    for c in ("set", "rep_in_set", "set_reps_counted"):
        df[c] = df[c].astype("Int64")  # integers stay integers (blank where they do not apply)
    csv: str = df.to_csv(index=False, float_format="%.3f")
    return csv


def _set_no(d: queries.SessionDetail, r: dict[str, object]) -> int:
    """The rep's set number among its exercise's sets (1, 2, 3...)."""
    return sum(1 for x in d.sets if x["exercise"] == r["exercise"] and x["idx"] <= r["set_idx"])


def _plain(row: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in row.items() if k not in ("id", "session_id", "set_id", "idx", "set_idx", "rep_in_set")}
