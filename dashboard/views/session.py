"""One session: timeline, reps per set, holds per side, stability, routine, editing, export."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard import bars, charts, data, exports, session_edit, timeline, ui
from sensor.routine import compare, reaches
from sensor.vocab import MOUNT_PLACES, REP_EXERCISES, UNSURE_MARK, UNSURE_TIP, counted, damage_warning, unsure

rows = data.sessions(include_demo=True)
st.title("Session")
session_edit.bin_notice(rows[0].id if rows else None)
if not rows:
    st.info("No sessions yet. Record one on the **Live** page or import recordings.", icon=":material/info:")
    st.stop()

ids = [s.id for s in rows]
by_id = {s.id: s for s in rows}
# The page shows the session in the link (?id=): the link is the one source of truth, the
# picker follows it (and sets it when the user picks another session).
wanted = st.query_params.get("id") or st.session_state.get("session_id")
sid = ids[0]
if wanted is not None:
    if not str(wanted).isdigit() or int(wanted) not in by_id:
        session_edit.unknown_session(str(wanted), ids[0])  # says so, and stops
    sid = int(wanted)


def _option(sid: int) -> str:
    # Streamlit keeps a picker's state by its label, so every label starts with its session's
    # id: two sessions of one day with the same counts must never collapse into one.
    s = by_id[sid]
    what = f"{counted(s.reps, 'rep')}, {counted(s.holds, 'hold')}"
    return f"Session {sid} · {ui.day(s.local_date)} · {what}" + (" · demo" if s.demo else "")


def _picked() -> None:
    # A label the browser held from before an edit (the counts or date in it changed) is no
    # option any more and comes back as text: its id is still its first word after "Session".
    value = st.session_state["session_pick"]
    picked = value if isinstance(value, int) else re.match(r"Session (\d+) ·", str(value))
    if isinstance(picked, re.Match):
        picked = int(picked.group(1))
    if picked in by_id:
        session_edit.open_session(int(picked))


# Set on every run, so the browser always shows this session's label as it is now (after
# an edit changed its counts or date, after a delete, after a link to another session).
st.session_state["session_pick"] = sid
st.selectbox("Session", ids, format_func=_option, key="session_pick", on_change=_picked)
st.query_params["id"] = str(sid)
st.session_state["session_id"] = sid
d = data.detail(sid)
if d is None:
    st.error(f"Session {sid} is no longer in the store.")
    st.stop()
s = d.session
t0 = d.detected.start_s  # the timeline shows seconds into the session, also for files on Unix time
r = data.routine()
row = by_id[sid]

head = st.container(horizontal=True, vertical_alignment="center")
head.markdown(f"**{ui.when(s['started_utc'])}** · {ui.duration(s['duration_s'])} · {s['source'] or s['kind']}")
if s["demo"]:
    with head:
        ui.demo_badge()
if d.corrections:
    with head:
        st.badge("Corrected by you", icon=":material/edit:", color="blue")
if row.duplicate_of is not None:
    with head:
        st.badge(f"Duplicate of session {row.duplicate_of}: not counted", icon=":material/content_copy:", color="gray")
if row.date_source == "file time":
    with head:
        st.badge("Date from the file's time: check it below", icon=":material/event:", color="orange")
if s["mount"] != r.mount and s["mount"] in MOUNT_PLACES:
    # Found by the data (sitting, walking or the exercises), or recorded so: the counts are of this mounting.
    with head:
        # Short enough for a phone's width (a badge does not wrap).
        st.badge(f"Worn {MOUNT_PLACES[s['mount']]}, not as in Settings", icon=":material/sensors:", color="orange")
if not s["calibrated"] and row.side_unknown:
    with head:
        st.badge("No standing calibration: set the side-plank sides below", icon=":material/warning:", color="orange")

if warning := damage_warning(s["damaged_blocks"], bool(s["interrupted"]), s["duration_s"]):
    st.warning(warning[0].upper() + warning[1:], icon=":material/report:")

sides = (
    f"{row.side_left} L · {row.side_right} R"
    if not row.side_unknown
    else (f"{row.side_unknown} side ?" if not row.side_left + row.side_right else f"{row.side_left}L {row.side_right}R {row.side_unknown}?")
)
figures = [
    ui.card("bridge", str(row.bridge_reps), "Hip bridge reps", f"in {counted(row.bridge_sets, 'set')}"),
    ui.card("back_extension", str(row.back_extension_reps), "Back extension reps", f"in {counted(row.back_extension_sets, 'set')}"),
    ui.card("side_plank", sides, "Side plank holds", "left · right" + (" · ?: side unknown, set it below" if row.side_unknown else "")),
    ui.card("plank", str(row.planks), "Front plank holds"),
    ui.card(
        "stability", "–" if row.mean_score is None else f"{row.mean_score:.0f} / 100", "Stability", "mean of the holds; 100: rock steady"
    ),
]
st.html(f'{ui.CARDS_CSS}<div class="ht-records" data-testid="ht-figures">{"".join(figures)}</div>')

# -- timeline ------------------------------------------------------------------------------
st.subheader("Timeline", help="Shaded: reps and holds as detected (hover one to see it); grey: no data (link lost).")
bands = [
    {
        "start": x["start_s"] - t0,
        "end": x["end_s"] - t0,
        "what": ui.label(x["exercise"]),
        "detail": f"{ui.label(x['exercise'])} rep {x['rep_in_set']} of set {x['set_idx'] + 1}: held {x['hold_s']:.1f} s",
    }
    for x in d.reps
] + [
    {
        "start": h.start_s - t0,
        "end": h.end_s - t0,
        "what": ui.label(h.exercise),
        "detail": f"{ui.hold_label(h.exercise, h.side)}: {h.duration_s:.0f} s, score {h.score:.0f}",
    }
    for h in d.analysis.holds  # as the user corrected them
]
gaps = [
    {"start": g["start_s"] - t0, "end": g["end_s"] - t0, "detail": f"no data for {g['end_s'] - g['start_s']:.1f} s (link lost)"}
    for g in d.gaps
]
zoom = st.toggle("Zoom and pan", key="timeline_zoom", help="A chart you can drag and zoom (in time); it takes the browser longer to draw.")
if "_trace_t" in s and not zoom:
    # Drawn as HTML and SVG by the server: no chart library for the browser to load.
    t_rel = [float(t) - t0 for t in s["_trace_t"]]
    end = max([*t_rel[-1:], *(b["end"] for b in bands), *(g["end"] for g in gaps)])
    st.html(timeline.timeline_html(bands, gaps, t_rel, [float(v) for v in s["_trace_deg"]], end))
elif "_trace_t" in s:
    # NaN (no data) as null: the line breaks there instead of joining across a gap.
    trace = [
        {"t": round(float(t) - t0, 2), "deg": round(float(v), 2) if v == v else None}
        for t, v in zip(s["_trace_t"], s["_trace_deg"], strict=True)
    ]
    ui.chart(charts.timeline(bands, gaps, trace), "session_timeline")
elif bands:
    ui.chart(charts.lanes(bands), "session_timeline")
    st.caption("Reps and holds as detected (no pelvis-angle trace was stored for this session).")
else:
    st.caption("Nothing was detected in this session.")

# -- against the routine -------------------------------------------------------------------
st.subheader(
    "Against your routine",
    help=f"A rep or hold reaching its target time within {ui.TOLERANCE_S:.2f} s counts as reaching it. "
    "History counts a day for an exercise when one session of that day was done to target.",
)
cmp = compare(d.analysis, r, d.counts)
# A table that wraps its text: every column readable on a phone, none scrolled out of sight.
st.table(
    pd.DataFrame(
        [{"": "✓ done to target" if c.met else "✗ not yet", "Exercise": c.label, "Target": c.target, "Done": c.done} for c in cmp]
    ),
    hide_index=True,
)

# -- reps ------------------------------------------------------------------------------------
for ex in REP_EXERCISES:
    reps = [x for x in d.reps if x["exercise"] == ex]
    if not reps:
        continue
    target = r.rep_target(ex)
    st.subheader(f"{ui.label(ex)}: time held at the top, per rep")
    first_set = min(y["set_idx"] for y in reps)
    points = [
        {
            "set": f"Set {x['set_idx'] + 1 - first_set}",
            "rep": x["rep_in_set"],
            "hold_s": round(x["hold_s"], 2),
            "ok": "reached the target" if reaches(x["hold_s"], target.hold_s) else "short",
            "unsure": unsure(x["confidence"]),
        }
        for x in reps
    ]
    st.html(bars.rep_bars(points, target.hold_s, ui.COLORS[ex]))
    held = sum(p["ok"] == "reached the target" for p in points)
    sets = len({p["set"] for p in points})
    fixed = session_edit.corrected_sets_words(d, ex)
    if target.hold_s > 0:
        st.caption(
            f"{ui.held_words(held, len(points), target.hold_s)} (dashed line: your target). {target.reps_per_set} reps make a set.{fixed}"
        )
    else:
        st.caption(
            f"{counted(len(points), 'rep')} in {counted(sets, 'set')}; target {target.sets_per_session} × {target.reps_per_set}.{fixed}"
        )

# -- holds -----------------------------------------------------------------------------------
if d.holds:
    st.subheader("Holds against the target")
    palette = {
        "Side plank (left)": ui.SIDE_COLORS["left"],
        "Side plank (right)": ui.SIDE_COLORS["right"],
        "Side plank (side unknown)": ui.SIDE_COLORS["unknown"],
        "Front plank": ui.COLORS["plank"],
    }
    hold_rows = [
        {
            "hold": f"#{i + 1} {ui.hold_label(h.exercise, h.side)}",
            "kind": ui.hold_label(h.exercise, h.side),
            "duration_s": round(h.duration_s, 2),
            "target_s": r.hold_target(h.exercise).hold_s,
            "unsure": unsure(h.confidence),
        }
        for i, h in enumerate(d.analysis.holds)
    ]
    st.html(bars.hold_bars(hold_rows, palette))

    st.subheader(
        "Stability of each hold",
        help="Sway: slow wobble of the pelvis about its trend. Tremor: fast shaking (4–15 Hz). Sag: how far the hips sank over the hold.",
    )
    st.table(
        pd.DataFrame(
            [
                {
                    "Hold": f"#{i + 1} {ui.hold_label(h.exercise, h.side)}"
                    + (f" {UNSURE_MARK} ({UNSURE_TIP})" if unsure(h.confidence) else ""),
                    "Held": f"{h.duration_s:.1f} s" + (f" ({fix})" if (fix := session_edit.hold_fix_words(d, i)) else ""),
                    "Sway (°)": f"{h.sway_deg:.2f}",
                    "Tremor (°/s)": f"{h.tremor_dps:.2f}",
                    "Sag (°)": f"{h.sag_deg:.1f}",
                    "Score": f"{h.score:.0f}",
                    "Verdict": ui.verdict(h.score, h.sway_deg, h.sag_deg),
                }
                for i, h in enumerate(d.analysis.holds)
            ]
        ),
        hide_index=True,
    )

# -- the user's note -------------------------------------------------------------------------
ui.note_editor(sid, str(s.get("note") or ""), data.save_note)

# -- editing -----------------------------------------------------------------------------------
session_edit.corrections_panel(d, sid)
session_edit.edit_panel(d, row, rows)

# -- export ----------------------------------------------------------------------------------
st.subheader("Export")
stem = f"holdtrack-session-{sid}-{row.local_date.isoformat()}"
c1, c2, _ = st.columns([1, 1, 4])
csv_text, json_text = data.downloads(sid)
c1.download_button("Download CSV", csv_text, file_name=f"{stem}.csv", mime="text/csv", icon=":material/table:", on_click="ignore")
c2.download_button(
    "Download JSON",
    json_text,
    file_name=f"{stem}.json",
    mime="application/json",
    icon=":material/data_object:",
    on_click="ignore",
)
# -- exports people take elsewhere (dashboard/exports.py) ---------------------------------------

exports.session_buttons(d, stem)
