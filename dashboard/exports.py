"""Exports people can take elsewhere: the whole history (CSV, JSON), a session's raw
recording, a session as a FIT activity. The history's files are made only when the user
clicks (``download_button`` with a callable); a session's are made with the page
(``data.session_files``), as the session page's CSV and JSON.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import data
from sensor.store import Store, exports, queries


def history_json(store: Store, include_demo: bool = False) -> str:
    """Every session (oldest first) as the session page's JSON export, in one list."""
    return exports.history_json(store, include_demo)


def history_csv(store: Store, include_demo: bool = False) -> str:
    """Every rep and hold of every session, one row each (the session page's CSV with the
    session's id, date and start time in front)."""
    return exports.history_csv(store, include_demo)


def session_fit(d: queries.SessionDetail) -> bytes:
    """The session as a FIT strength-training activity, as the user corrected it."""
    return exports.session_fit(data.store(), d)


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
    fit, raw_name, raw = data.session_files(int(d.session["id"]))
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(
        "Download FIT",
        fit or b"",
        disabled=fit is None,
        file_name=f"{stem}.fit",
        mime="application/vnd.ant.fit",
        icon=":material/directions_run:",
        on_click="ignore",
        key="export_session_fit",
        help="A strength-training activity with its sets and reps, for Garmin Connect or Strava"
        if fit is not None
        else "No FIT file for this session: its stored start time is not a valid date",
    )
    if raw is not None:
        c2.download_button(
            "Raw recording",
            raw,
            file_name=raw_name,
            mime="application/octet-stream",
            icon=":material/download:",
            on_click="ignore",
            key="export_session_raw",
            help="The samples as recorded (.htrec, or the imported file)",
        )
