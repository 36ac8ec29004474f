"""Exports people can take elsewhere: the whole history (CSV, JSON), a session's raw
recording, a session as a FIT activity. The buttons are built lazily: the files are made
only when the user clicks (``download_button`` with a callable).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from dashboard import data
from sensor.store import Store, queries


def _details(store: Store, include_demo: bool) -> list[tuple[queries.SessionRow, queries.SessionDetail]]:
    out = []
    for row in sorted(queries.sessions(store, data.routine(), include_demo=include_demo), key=lambda r: r.started_utc):
        d = queries.session_detail(store, row.id)
        if d is not None:
            out.append((row, d))
    return out


def history_json(store: Store, include_demo: bool = False) -> str:
    """Every session (oldest first) as the session page's JSON export, in one list."""
    sessions = [json.loads(data.export_json(d)) for _, d in _details(store, include_demo)]
    return json.dumps({"sessions": sessions}, indent=2, default=str)


def history_csv(store: Store, include_demo: bool = False) -> str:
    """Every rep and hold of every session, one row each: the session page's CSV with the
    session's id, date and start time in front."""
    import pandas as pd

    parts = []
    for row, d in _details(store, include_demo):
        df = pd.read_csv(io.StringIO(data.export_csv(d)))
        df.insert(0, "started_utc", row.started_utc)
        df.insert(0, "date", row.local_date.isoformat())
        df.insert(0, "session", row.id)
        parts.append(df)
    if not parts:
        return "session,date,started_utc\n"
    return str(pd.concat(parts, ignore_index=True).to_csv(index=False, float_format="%.3f"))


def session_fit(d: queries.SessionDetail) -> bytes:
    """The session as a FIT strength-training activity (the same file as ``holdtrack export --fit``)."""
    from sensor.export_fit import first_sample_time, fit_bytes

    started = datetime.strptime(str(d.session["started_utc"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    # The session started at the recording's first sample; without the file, the trace's start is close.
    path = _file(d)
    t0 = first_sample_time(path) if path is not None else None
    if t0 is None:
        t0 = float(d.trace.t0_s) if d.trace is not None else 0.0
    return fit_bytes(d.analysis, t0, started)


def _file(d: queries.SessionDetail) -> Path | None:
    """The session's file in the data folder, if it is there."""
    name = d.session.get("file_path")
    path = data.store().resolve(str(name)) if name else None
    return Path(path) if path is not None and Path(path).is_file() else None


def history_buttons(include_demo: bool) -> None:
    """Two buttons: all sessions as CSV and as JSON."""
    store = data.store()
    stamp = datetime.now().strftime("%Y-%m-%d")
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(
        "All sessions (CSV)",
        lambda: history_csv(store, include_demo),
        file_name=f"holdtrack-history-{stamp}.csv",
        mime="text/csv",
        icon=":material/table:",
        on_click="ignore",
        key="export_history_csv",
    )
    c2.download_button(
        "All sessions (JSON)",
        lambda: history_json(store, include_demo),
        file_name=f"holdtrack-history-{stamp}.json",
        mime="application/json",
        icon=":material/data_object:",
        on_click="ignore",
        key="export_history_json",
    )


def session_buttons(d: queries.SessionDetail, stem: str) -> None:
    """The session as FIT (Garmin Connect, Strava) and its raw recording."""
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(
        "Download FIT",
        lambda: session_fit(d),
        file_name=f"{stem}.fit",
        mime="application/vnd.ant.fit",
        icon=":material/directions_run:",
        on_click="ignore",
        key="export_session_fit",
        help="A strength-training activity with its sets and reps, for Garmin Connect or Strava",
    )
    path = _file(d)
    if path is not None:
        c2.download_button(
            "Raw recording",
            lambda: path.read_bytes(),
            file_name=path.name,
            mime="application/octet-stream",
            icon=":material/download:",
            on_click="ignore",
            key="export_session_raw",
            help="The samples as recorded (.htrec, or the imported file)",
        )
