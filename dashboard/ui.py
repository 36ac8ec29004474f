"""Shared look and words of the dashboard: colours, labels, verdicts, small widgets."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

import streamlit as st

from sensor.routine import HOLD_TOLERANCE_S as TOLERANCE_S  # shown on the pages
from sensor.routine import held_words
from sensor.store.notes import NOTE_MAX_CHARS
from sensor.store.weeks import current_day
from sensor.vocab import EXERCISES, LABELS, stability_words  # the CLI's words, on the pages

__all__ = [
    "COLORS", "CSS", "EXERCISES", "OK", "SHORT", "SHORT_NAMES", "SIDE_COLORS", "TOLERANCE_S", "TRACE_COLOR",
    "CARDS_CSS", "card", "chart", "day", "demo_badge", "demo_notice", "duration", "held_words", "hold_label", "label", "note_editor", "picked_row", "secs",
    "session_note", "short", "style", "verdict", "week_labels", "week_of", "when",
]  # fmt: skip

SHORT_NAMES = {"bridge": "bridge", "back_extension": "back ext.", "side_plank": "side plank", "plank": "plank"}

# One colour per exercise everywhere (charts, badges), colour-blind friendly pairs.
COLORS = {
    "bridge": "#2E86AB",
    "back_extension": "#8E6C8A",
    "side_plank": "#F18F01",
    "plank": "#3B8B5A",
}
SIDE_COLORS = {"left": "#F18F01", "right": "#C73E1D", "unknown": "#9E9E9E"}
OK, SHORT = "#3B8B5A", "#C73E1D"
TRACE_COLOR = "#37474F"

CSS = """
<style>
  div[data-testid="stMetricValue"] { font-variant-numeric: tabular-nums; }
  .ht-big { font-size: 3.4rem; font-weight: 700; line-height: 1.05; font-variant-numeric: tabular-nums; }
  .ht-sub { color: #5f6b73; font-size: 0.95rem; }
  .ht-pill { display: inline-block; padding: 0.15rem 0.65rem; border-radius: 999px; font-size: 0.85rem;
             font-weight: 600; margin-right: 0.4rem; }
  /* On a phone a row of figures wraps two to a line instead of stacking one a screen. */
  @media (max-width: 640px) {
    [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {
      flex-flow: row wrap !important; gap: 0.5rem !important; }
    [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) > [data-testid="stColumn"] {
      flex: 1 1 calc(50% - 0.5rem) !important; min-width: calc(50% - 0.5rem) !important; width: auto !important; }
  }
</style>
"""


def style() -> None:
    st.html(CSS)


def label(exercise: str) -> str:
    return LABELS.get(exercise, exercise.replace("_", " ").capitalize())


def hold_label(exercise: str, side: str | None) -> str:
    if exercise == "side_plank":
        return f"Side plank ({side or 'side unknown'})"
    return label(exercise)


def secs(x: float | None) -> str:
    if x is None:
        return "–"
    if x >= 90:
        m, s = divmod(round(x), 60)
        return f"{m} min {s:02d} s"
    return f"{x:.1f} s"


def duration(x: float) -> str:
    m, s = divmod(round(x), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"


def day(d: date | str) -> str:
    d = date.fromisoformat(d) if isinstance(d, str) else d
    return d.strftime("%a %d %b %Y")


def week_of(start: date) -> str:
    """A week by its Monday, in words ("week of 12 Oct")."""
    return f"week of {start.day} {start.strftime('%b')}" + (f" {start.year}" if start.year != current_day().year else "")


def short(exercise: str) -> str:
    return SHORT_NAMES.get(exercise, exercise)


def session_note(s: object) -> str:
    """What the history table says about a session besides its numbers."""
    notes = []
    duplicate_of = getattr(s, "duplicate_of", None)
    if duplicate_of is not None:
        notes.append(f"duplicate of session {duplicate_of}: not counted")
    if getattr(s, "corrected", False):
        notes.append("corrected by you")
    if getattr(s, "date_source", "") == "file time":
        notes.append("date from the file's time: check it")
    if getattr(s, "side_unknown", 0):
        notes.append("side-plank sides unknown")
    return "; ".join(notes)


def picked_row(event: object) -> int | None:
    """The row clicked in a dataframe whose selection is rows or cells, else None."""
    sel = getattr(event, "selection", None)
    if sel is None:
        return None
    rows = list(getattr(sel, "rows", []) or [])
    if rows:
        return int(rows[0])
    cells = list(getattr(sel, "cells", []) or [])
    return int(cells[0][0]) if cells else None


def week_labels(starts: list[date]) -> dict[date, str]:
    """Short labels for weeks by their Monday ("03 Mar"), with the year when they span years."""
    years = {d.year for d in starts}
    fmt = "%d %b" if len(years) <= 1 else "%d %b %Y"
    return {d: d.strftime(fmt) for d in starts}


def when(utc_iso: str) -> str:
    """A stored UTC time in the user's local time (as stored if it is not a time there)."""
    from sensor.store.dates import local_time

    t = local_time(utc_iso)
    return t.strftime("%a %d %b %Y, %H:%M") if t is not None else utc_iso


def verdict(score: float, sway_deg: float, sag_deg: float) -> str:
    """Plain words for a hold's stability: the one vocabulary (``sensor.vocab``) of the CLI,
    this page and the live view."""
    return stability_words(score, sag_deg)


def demo_notice(n_demo: int, n_total: int) -> None:
    if n_demo:
        st.info(
            f"**Demo data.** {n_demo} of {n_total} sessions are a simulated person following the routine "
            "for eight weeks, not you. Remove them in Settings once you have your own.",
            icon=":material/science:",
        )


def demo_badge() -> None:
    st.badge("Demo data", icon=":material/science:", color="violet")


def note_editor(session_id: int, note: str, save: Callable[[int, str], str]) -> None:
    """The user's note on a session: a text box and a Save button (``save`` stores it)."""
    st.subheader("Your note")
    with st.form(key=f"note_form_{session_id}", border=False):
        text = st.text_area(
            "Note",
            value=note,
            max_chars=NOTE_MAX_CHARS,
            key=f"note_{session_id}",
            placeholder="How it went, what was different (a new mat, a sore knee)…",
            label_visibility="collapsed",
        )
        if st.form_submit_button("Save note", icon=":material/edit_note:"):
            saved = save(session_id, text)
            st.success("Note saved: History shows it, exports carry it." if saved else "Note removed.", icon=":material/check:")


def chart(spec: dict[str, object], key: str) -> None:
    """A Vega-Lite chart as wide as its column, in a container named ``key`` (its CSS class
    ``st-key-KEY``: what the browser tests measure)."""
    with st.container(key=key):
        st.vega_lite_chart(spec, width="stretch")


# Figures as cards in one block of HTML: a grid two to a row on a phone, and a fraction of
# the browser's work of a row of st.metric widgets.
CARDS_CSS = """<style>
.ht-records { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: 0.6rem; margin: 0.4rem 0 0.8rem; }
.ht-record { border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: 0.55rem 0.8rem; color: inherit; text-decoration: none; }
.ht-record .v { font-size: 1.55rem; font-weight: 700; line-height: 1.2; font-variant-numeric: tabular-nums; }
.ht-record .l { font-size: 0.85rem; color: #5f6b73; }
a.ht-record:hover { border-color: #2E86AB; }
</style>"""


def card(key: str, value: str, label: str, sub: str = "", href: str | None = None) -> str:
    """One card (``data-testid="ht-record-KEY"``): a label, a big value, a line below; a
    link when ``href`` is given. Put cards in ``<div class="ht-records">`` after ``CARDS_CSS``."""
    tag = f'a href="{href}" target="_self"' if href else "div"
    end = "a" if href else "div"
    return (
        f'<{tag} class="ht-record" data-testid="ht-record-{key}"><div class="l">{html.escape(label)}</div>'
        f'<div class="v">{html.escape(value)}</div><div class="l">{html.escape(sub)}</div></{end}>'
    )
