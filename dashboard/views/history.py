"""History: this week, streaks and personal bests; then, over a range of weeks the user
picks, a calendar, adherence per week (Monday to Sunday), progress and the sessions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, exports, grids, history_parts, ui
from sensor.store.dates import plausible_day
from sensor.store.history import demo_by_default
from sensor.store.weeks import current_day

st.title("History")
r = data.routine()
all_rows = data.sessions(include_demo=True)
n_demo = sum(1 for s in all_rows if s.demo)

if not all_rows:
    st.info(
        "No sessions yet. Record one on the **Live** page, or import recordings with `holdtrack import PATH` (or in Settings).",
        icon=":material/info:",
    )
    st.stop()

ui.demo_notice(n_demo, len(all_rows))
# Demo sessions are shown only when there is nothing else, or when asked for (the rule
# `holdtrack history` follows too).
include_demo = bool(n_demo) and st.toggle("Include demo sessions", value=demo_by_default(n_demo, len(all_rows)), key="history_demo")
rows = data.sessions(include_demo=include_demo)

if not rows:
    st.info("Only demo sessions so far: switch on *Include demo sessions* to see them.")
    st.stop()

# -- this week, streaks and personal bests ---------------------------------------------------
this = data.adherence(include_demo)[-1]
st.subheader(f"This week ({ui.week_of(this.start)})")
# Cards in one block of HTML: a phone-sized grid, and a fraction of the browser's work of a
# row of st.metric widgets.
st.html(history_parts.week_html(this) + history_parts.records_html(data.streaks(include_demo), data.bests(include_demo)))

# -- the range the rest of the page shows ------------------------------------------------------
first_day = min(s.local_date for s in rows)
today = current_day()
# The weeks shown end today, or on the latest day a session is dated if that is later (a
# start up to two days ahead is accepted: a clock or time zone a little ahead).
shown_to = max([today, *(s.local_date for s in rows if plausible_day(s.local_date, today))])
since, until = history_parts.pick_range(first_day, shown_to)
weeks = data.adherence(include_demo, since, until)
# Sessions whose date cannot be right (year 1, 9999: stored before dates were checked) are
# listed whatever the range, for the user to fix or delete.
in_range = [s for s in rows if since <= s.local_date <= until or not plausible_day(s.local_date, today)]
st.caption(history_parts.range_summary(weeks, r))

# -- calendar and adherence ---------------------------------------------------------------------
left, right = st.columns(2, gap="large")
with left:
    st.subheader(
        "Calendar", help="Each day by what was done: every exercise with a weekly goal to target, some of them, or short of target."
    )
    opens = {s.local_date: s.id for s in sorted(in_range, key=lambda s: s.started_utc, reverse=True) if s.duplicate_of is None}
    st.html(grids.calendar_html(history_parts.calendar_days(weeks, data.days(include_demo), until, opens)))
with right:
    st.subheader(
        "Adherence per week",
        help=f"Days on which each part of the routine was done to target, against the weekly goal "
        f"(back extensions: {r.back_extension.sets_per_session} × {r.back_extension.reps_per_set}, "
        f"{r.back_extension.sessions_per_week} days a week; side planks: {r.side_plank.holds} × "
        f"{r.side_plank.hold_s:.0f} s on each side). Goals: the weekly goals met.",
    )
    cells, parts = history_parts.adherence_cells(weeks, r)
    st.html(grids.adherence_html(cells, parts))

# -- trends -----------------------------------------------------------------------------------
st.subheader("Progress over the weeks", help="Weekly averages, by the week's Monday. Dashed line: your target.")
trend_specs = history_parts.trend_specs(data.trends(include_demo, since, until), r)
if trend_specs:
    shown = st.segmented_control(
        "Progress", list(trend_specs), default=next(iter(trend_specs)), key="history_trend", label_visibility="collapsed"
    )
    ui.chart(trend_specs[shown or next(iter(trend_specs))], "history_progress")
else:
    st.caption("No sessions in this range.")

# -- sessions -----------------------------------------------------------------------------------
st.subheader("Sessions")
COLUMNS = [
    "id", "Date", "Source", "Done to target", "Bridge reps", "Back ext. reps", "Back ext. sets", "Side plank L",
    "Side plank R", "Planks", "Stability", "Note", "Status", "Demo",
]  # fmt: skip
table = pd.DataFrame(
    [
        {
            "id": s.id,
            "Date": s.local_date,
            "Source": s.source_words,
            "Done to target": ", ".join(ui.short(ex) for ex in ui.EXERCISES if s.outcomes[ex].met) or "–",
            "Bridge reps": s.bridge_reps,
            "Back ext. reps": s.back_extension_reps,
            "Back ext. sets": s.back_extension_sets,
            "Side plank L": s.side_left,
            "Side plank R": s.side_right,
            "Planks": s.planks,
            "Stability": s.mean_score,
            "Note": s.note,
            "Status": ui.session_note(s),
            "Demo": s.demo,
        }
        for s in in_range
    ],
    columns=COLUMNS,
)
picked_row = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_order=[c for c in table.columns if c != "id" and (c != "Demo" or include_demo)],
    column_config={
        "Date": st.column_config.DateColumn(format="ddd D MMM YYYY", pinned=True),
        "Stability": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
        "Note": st.column_config.TextColumn(help="your note, written on the session's page", max_chars=None),
        "Demo": st.column_config.CheckboxColumn(help="demo data: a simulated person, not you"),
    },
    on_select="rerun",
    selection_mode=["single-row", "single-cell"],  # a click anywhere on a row opens it
    key="history_table",
)
st.caption(
    f"{len(in_range)} session{'' if len(in_range) == 1 else 's'} from {ui.day(since)} to {ui.day(until)}. Click a session to open it."
)
chosen = ui.picked_row(picked_row)
if chosen is not None:
    sid = int(table.iloc[chosen]["id"])
    st.session_state["session_id"] = sid
    st.switch_page("views/session.py", query_params={"id": str(sid)})

# -- exports people take elsewhere (dashboard/exports.py) ---------------------------------------
st.subheader("Export")
exports.history_buttons(include_demo)
