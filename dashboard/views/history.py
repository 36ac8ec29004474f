"""History: sessions by date, adherence per week (Monday to Sunday), trends over weeks."""

from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, exports, ui
from sensor.store.history import demo_by_default
from sensor.vocab import HOLD_EXERCISES, REP_EXERCISES

WEEKS_SHOWN = 12

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
weeks = data.adherence(include_demo=include_demo)
trends = data.trends(include_demo=include_demo)

if not rows:
    st.info("Only demo sessions so far: switch on *Include demo sessions* to see them.")
    st.stop()

# -- this week --------------------------------------------------------------------------
this = weeks[-1]
tracked = [(ex, e) for ex, e in this.exercises.items() if e.target_days > 0]
st.subheader(f"This week ({ui.week_of(this.start)})")
cols = st.columns(len(tracked) + 1)
cols[0].metric(
    "Weekly goals met",
    f"{this.goals_met} of {this.goals}",
    border=True,
    help="Exercises done to target on as many days as your routine asks this week",
)
cols[0].caption(f"{this.sessions} session{'' if this.sessions == 1 else 's'} this week")
for col, (ex, ew) in zip(cols[1:], tracked, strict=True):
    col.metric(
        f"{ui.label(ex)}: days",
        f"{ew.complete_days} / {ew.target_days}",
        border=True,
        help="Days on which one session reached the target (sessions of a day are not added up)",
    )
    col.caption(f"done to target on {ew.complete_days} of {ew.target_days} days asked; done at all on {ew.done_days}", help=None)

# -- adherence heatmap ------------------------------------------------------------------
st.subheader("Adherence per week")
st.caption(
    f"Days on which each part of the routine was done to target, against the weekly goal "
    f"(back extensions: {r.back_extension.sets_per_session} × {r.back_extension.reps_per_set}, "
    f"{r.back_extension.sessions_per_week} days a week; side planks: {r.side_plank.holds} × "
    f"{r.side_plank.hold_s:.0f} s on each side)."
)
recent = weeks[-WEEKS_SHOWN:]
labels = ui.week_labels([w.start for w in recent])
by_time = alt.EncodingSortField(field="order", op="min")  # weeks in time order, whatever the label
cells = []
for w in recent:
    lines = [
        (ex, ui.label(ex), w.exercises[ex].complete_days, w.exercises[ex].target_days, w.exercises[ex].done_days)
        for ex in REP_EXERCISES
        if w.exercises[ex].target_days
    ]
    sp = w.exercises["side_plank"]
    if sp.target_days:
        lines += [
            ("side_plank", "Side plank, left", w.side_left_days, sp.target_days, sp.done_days),
            ("side_plank", "Side plank, right", w.side_right_days, sp.target_days, sp.done_days),
        ]
    if w.exercises["plank"].target_days:
        p = w.exercises["plank"]
        lines.append(("plank", ui.label("plank"), p.complete_days, p.target_days, p.done_days))
    for _ex, name, done, target, any_days in lines:
        cells.append(
            {
                "week": labels[w.start],
                "iso": ui.week_of(w.start),
                "order": w.start.toordinal(),
                "part": name,
                "done": done,
                "target": target,
                "share": min(1.0, done / target),
                "text": f"{done}/{target}",
                "days with any": any_days,
            }
        )
adh = pd.DataFrame(cells)
order = list(dict.fromkeys(adh["part"]))
base = alt.Chart(adh).encode(
    x=alt.X("week:O", title="week starting", sort=by_time, axis=alt.Axis(labelAngle=0)),
    y=alt.Y("part:N", title=None, sort=order),
)
heat = base.mark_rect(cornerRadius=4, stroke="white", strokeWidth=2).encode(
    color=alt.Color("share:Q", scale=alt.Scale(domain=[0, 1], range=["#f1f3f1", "#3B8B5A"], interpolate="rgb"), legend=None),
    tooltip=[alt.Tooltip("iso:N", title="week"), "part", alt.Tooltip("done:Q", title="days to target"), "target", "days with any"],
)
text = base.mark_text(fontSize=13, fontWeight="bold").encode(
    text="text:N", color=alt.condition(alt.datum.share > 0.6, alt.value("white"), alt.value("#37474F"))
)
st.altair_chart((heat + text).properties(height=44 * len(order) + 30), width="stretch")
with st.expander("Adherence as a table"):
    st.dataframe(
        adh.pivot(index="part", columns="order", values="text")
        .reindex(order)
        .rename(columns={w.start.toordinal(): labels[w.start] for w in recent}),
        width="stretch",
    )

# -- trends -----------------------------------------------------------------------------
st.subheader("Progress over the weeks")
st.caption("Weekly averages, by the week's Monday. Dashed line: your target.")
trend_labels = ui.week_labels([t.start for t in trends])
tr = pd.DataFrame([{**asdict(t), "week": trend_labels[t.start], "iso": ui.week_of(t.start), "order": t.start.toordinal()} for t in trends])


def trend_chart(columns: dict[str, str], palette: list[str], title: str, target: float | None, unit: str) -> alt.Chart | alt.LayerChart:
    """Weekly means as lines (one colour per exercise), the target as a dashed rule."""
    long = tr.melt(id_vars=["week", "iso", "order"], value_vars=list(columns), var_name="what", value_name="value").dropna()
    long["what"] = long["what"].map(columns)
    chart: alt.Chart | alt.LayerChart = (
        alt.Chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=60), strokeWidth=3)
        .encode(
            x=alt.X("week:O", title=None, sort=by_time, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=True)),
            color=alt.Color(
                "what:N",
                title=None,
                legend=alt.Legend(orient="bottom"),
                scale=alt.Scale(domain=list(columns.values()), range=[ui.COLORS[k] for k in palette]),
            ),
            tooltip=[alt.Tooltip("iso:N", title="week"), "what", alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(title=title, height=220)
    )
    if target is not None:
        rule = alt.Chart(pd.DataFrame({"y": [target]})).mark_rule(strokeDash=[6, 4], color="#9E9E9E").encode(y="y:Q")
        chart = chart + rule
    return chart


c1, c2, c3 = st.columns(3)
with c1:
    st.altair_chart(
        trend_chart(
            {f"{ex}_hold_s": ui.label(ex) for ex in HOLD_EXERCISES},
            list(HOLD_EXERCISES),
            "Hold duration (mean)",
            r.side_plank.hold_s,
            "seconds",
        ),
        width="stretch",
    )
with c2:
    st.altair_chart(
        trend_chart(
            {f"{ex}_hold_per_rep_s": ui.label(ex) for ex in REP_EXERCISES},
            list(REP_EXERCISES),
            "Time held at the top, per rep",
            r.bridge.hold_s,
            "seconds",
        ),
        width="stretch",
    )
with c3:
    st.altair_chart(
        trend_chart({"stability_score": "Stability score"}, ["plank"], "Hold stability (0–100)", None, "score"),
        width="stretch",
    )

# -- sessions -----------------------------------------------------------------------------
st.subheader("Sessions")
table = pd.DataFrame(
    [
        {
            "id": s.id,
            "Date": s.local_date,
            "Duration": ui.duration(s.duration_s),
            "Done to target": ", ".join(ui.short(ex) for ex in ui.EXERCISES if s.outcomes[ex].met) or "–",
            "Bridge reps": s.bridge_reps,
            "Bridge sets": s.bridge_sets,
            "Back ext. reps": s.back_extension_reps,
            "Back ext. sets": s.back_extension_sets,
            "Side plank L": s.side_left,
            "Side plank R": s.side_right,
            "Planks": s.planks,
            "Stability": s.mean_score,
            "Note": ui.session_note(s),
            "Demo": s.demo,
        }
        for s in rows
    ]
)
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_order=[c for c in table.columns if c != "id" and (c != "Demo" or include_demo)],
    column_config={
        "Date": st.column_config.DateColumn(format="ddd D MMM YYYY"),
        "Stability": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
        "Demo": st.column_config.CheckboxColumn(help="demo data: a simulated person, not you"),
    },
    on_select="rerun",
    selection_mode=["single-row", "single-cell"],  # a click anywhere on a row opens it
    key="history_table",
)
st.caption("Click a session to open it.")
chosen = ui.picked_row(picked)
if chosen is not None:
    sid = int(table.iloc[chosen]["id"])
    st.session_state["session_id"] = sid
    st.switch_page("views/session.py", query_params={"id": str(sid)})

# -- exports people take elsewhere (dashboard/exports.py) ---------------------------------------
st.subheader("Export")
exports.history_buttons(include_demo)
