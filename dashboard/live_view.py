"""The live view shared by the Live and Replay pages: it only reads a ``LiveSnapshot``.

It is an ``st.fragment`` that reruns itself every ``REFRESH_S`` while the session runs,
so the page around it (pickers, buttons) is not rerun 5 times a second.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import audio, ui
from sensor.coach import routine_place, set_progress
from sensor.events import Hold, Rep
from sensor.live import LiveSession, LiveSnapshot
from sensor.routine import Routine, reaches
from sensor.vocab import ANGLE_LABEL, angle_words, stability_label

REFRESH_S = 0.2  # 5 updates a second
WINDOW_S = 60.0  # seconds of pelvis angle on screen
CARD_PX = 270  # one height for the three cards, so the row does not jump as contents change
SWAY_ZONES = ((0.0, 1.0, "steady", "#3B8B5A"), (1.0, 2.5, "some wobble", "#F2B705"), (2.5, 5.0, "shaky", "#C73E1D"))

# On a phone the cards stack: no fixed height (no empty space), reps first, big numbers.
PHONE_CSS = """<style>
@media (max-width: 640px) {
  [class*="st-key-ht-card"], div:has(> [class*="st-key-ht-card"]) {
    height: auto !important; max-height: none !important; flex: 0 0 auto !important; }
  /* Streamlit pulls each markdown block 1rem up (a -1rem margin meant to cancel a paragraph's
     own); these blocks are divs without it, so a card's last line sticks out 1rem below its
     content box and the card cut it: the padding makes room for it. A card as tall as its
     content has nothing to scroll: nothing in it is ever clipped. */
  [class*="st-key-ht-card"] { padding-bottom: calc(0.6rem + 1rem); overflow: visible !important; }
  .ht-big { font-size: 4rem; }
}
</style>"""

POSTURE_WORDS = {
    "unknown": "Waiting for data",
    "standing": "Standing",
    "sitting": "Sitting",
    "supine": "Lying on the back",
    "prone": "Lying face down",
    "side_left": "On the left side",
    "side_right": "On the right side",
}


def show(key: str, routine: Routine, replaying: str | None = None) -> None:
    """Draw the live view of ``st.session_state[key]`` (a LiveSession), refreshing while it
    runs or is being saved. ``replaying``: the recording's name when this is a replay."""
    session: LiveSession | None = st.session_state.get(key)
    active = session is not None and session.snapshot().active

    @st.fragment(run_every=REFRESH_S if active else None)
    def view() -> None:
        sess: LiveSession | None = st.session_state.get(key)
        if sess is None:
            return
        snap = sess.snapshot()
        _render(snap, sess, routine, key, replaying)
        # The run ended by itself (end of a replay, sensor gone) and is saved: redraw the
        # whole page once so its buttons and the sidebar's counts match, stop refreshing.
        if active and not snap.active:
            st.rerun()

    view()


def _status_line(snap: LiveSnapshot, replaying: str | None, paused: bool) -> None:
    if snap.phase == "connecting":
        color, words = "#607D8B", "Opening the recording…" if replaying else "Connecting…"
    elif snap.running and replaying:
        color, words = ("#F2B705", f"Paused: {replaying}") if paused else ("#2E86AB", f"Replaying {replaying}")
    elif snap.running and snap.link is not None and not snap.link.connected:
        color, words = "#C73E1D", f"Connection lost: {snap.link.message}"
    elif snap.running:
        color, words = "#3B8B5A", "Connected"
    elif snap.phase == "saving":
        color, words = "#607D8B", "Saving the session…"
    elif snap.phase == "failed":
        color, words = "#C73E1D", "Stopped with an error"
    else:
        color, words = "#607D8B", "Finished" if snap.phase == "finished" else "Stopped"
    pills = [f'<span class="ht-pill" style="background:{color};color:white">● {words}</span>']
    if snap.samples:
        pills.append(f'<span class="ht-pill" style="background:#eceff1">{snap.rate_hz:.0f} Hz</span>')
        m, s = divmod(int(snap.elapsed_s), 60)
        pills.append(f'<span class="ht-pill" style="background:#eceff1">{m}:{s:02d} elapsed</span>')
    if snap.gaps:
        lost = sum(g.end_s - g.start_s for g in snap.gaps)
        word = "gap" if len(snap.gaps) == 1 else "gaps"
        pills.append(f'<span class="ht-pill" style="background:#fdecea;color:#C73E1D">{len(snap.gaps)} {word} · {lost:.1f} s lost</span>')
    st.html(f'<div data-testid="ht-status">{"".join(pills)}</div>')


def _render(snap: LiveSnapshot, sess: LiveSession, routine: Routine, key: str, replaying: str | None) -> None:
    _status_line(snap, replaying, bool(getattr(sess.source, "paused", False)))
    if routine.audio.on and snap.cues:
        audio.render(snap.cues, routine.audio.volume, f"{key}-{snap.started_wall:.6f}")
    if snap.recovered:
        st.info(snap.recovered, icon=":material/restore:")
    if snap.error:
        st.error(snap.error)
    if snap.saved:
        st.success(snap.saved, icon=":material/save:")
    status = snap.status
    if snap.running and snap.calibration == "waiting":
        with st.container(border=True):
            st.markdown("#### :material/accessibility_new: Stand upright and still for 3 seconds")
            st.caption(
                "HoldTrack learns how the sensor sits on you from this stand. Skip it and side planks are counted without their side."
            )
            if st.button("Skip calibration", key=f"{key}_skip"):
                sess.skip_calibration()
    elif snap.calibration == "done":
        st.caption(":material/check_circle: Calibrated from the opening stand.")

    st.html(PHONE_CSS)
    c1, c2, c3 = st.columns([1, 1.2, 1.4], gap="medium")
    posture = getattr(status, "posture", "unknown") if status is not None else "unknown"
    with c1, st.container(border=True, height=CARD_PX, key="ht-card-posture"):
        st.caption("Posture")
        st.markdown(f'<div class="ht-big" style="font-size:1.9rem">{POSTURE_WORDS.get(posture, posture)}</div>', unsafe_allow_html=True)
        angle = getattr(status, "angle_deg", None) if status is not None else None
        words = angle_words(posture, angle) if angle is not None else ""
        st.markdown(f'<div class="ht-sub" data-testid="ht-angle">{words}</div>' if words else "", unsafe_allow_html=True)
    with c2, st.container(border=True, height=CARD_PX, key="ht-card-reps"):
        _reps_card(snap, routine)
        _next_line(snap, routine)
    with c3, st.container(border=True, height=CARD_PX, key="ht-card-hold"):
        _hold_card(snap, routine)

    if snap.trace:  # (an empty chart before the first samples only slows the first draw)
        st.altair_chart(_trace_chart(snap), width="stretch")
    _recent(snap, routine)


def _reps_card(snap: LiveSnapshot, routine: Routine) -> None:
    reps = snap.reps
    st.caption("Reps")
    st.markdown(f'<div class="ht-big" data-testid="ht-rep-count">{len(reps)}</div>', unsafe_allow_html=True)
    if not reps:
        st.markdown('<div class="ht-sub">no rep yet</div>', unsafe_allow_html=True)
        return
    last = reps[-1]
    target = routine.rep_target(last.exercise)
    p = set_progress(reps, snap.stream_time_s, routine)
    assert p is not None
    st.markdown(f'<div class="ht-sub" data-testid="ht-set"><b>{ui.label(last.exercise)} · {p.words}</b></div>', unsafe_allow_html=True)
    if p.resting_s is not None and p.set_no < p.sets_target and snap.active:
        rest = routine.audio.rest_s
        m, s = divmod(int(p.resting_s), 60)
        over = p.resting_s >= rest
        st.progress(
            min(1.0, p.resting_s / rest) if rest > 0 else 1.0,
            text=f"Rest {m}:{s:02d}" + (" · rest over, next set when ready" if over else f" of {rest:.0f} s"),
        )
    elif target.hold_s > 0:
        ok = reaches(last.hold_s, target.hold_s)
        st.progress(
            min(1.0, last.hold_s / target.hold_s),
            text=f"Last rep held {last.hold_s:.1f} s of {target.hold_s:.0f} s {'✓' if ok else '— hold a little longer'}",
        )
    else:
        st.markdown(f'<div class="ht-sub">last rep: {last.hold_s:.1f} s at the top</div>', unsafe_allow_html=True)


def _next_line(snap: LiveSnapshot, routine: Routine) -> None:
    """Where the user is in the routine (``sensor.coach.routine_place``): the set or hold in
    progress short of its target, else the next step, else done."""
    place = snap.place
    if place is None:  # a session without a coach
        hold = getattr(snap.status, "hold", None) if snap.status is not None and snap.running else None
        place = routine_place(snap.reps, snap.holds, routine, snap.stream_time_s, hold)
    if snap.samples:
        st.markdown(f'<div class="ht-sub" data-testid="ht-next">{place.words}</div>', unsafe_allow_html=True)


def _hold_card(snap: LiveSnapshot, routine: Routine) -> None:
    hold = getattr(snap.status, "hold", None) if snap.status is not None else None
    st.caption("Hold timer")
    if hold is not None and snap.running:
        target = routine.hold_target(hold.exercise).hold_s
        st.markdown(
            f'<div class="ht-big">{hold.elapsed_s:.0f}<span style="font-size:1.4rem"> / {target:.0f} s</span></div>', unsafe_allow_html=True
        )
        left = target - hold.elapsed_s
        st.progress(
            min(1.0, hold.elapsed_s / target),
            text=f"{ui.hold_label(hold.exercise, hold.side)}" + (" · target reached!" if left <= 0 else f" · {left:.0f} s to go"),
        )
        sway = getattr(hold, "sway_deg", None)
        if sway is not None:
            st.altair_chart(_sway_gauge(float(sway)), width="stretch")
        return
    if snap.holds:
        h = snap.holds[-1]
        target = routine.hold_target(h.exercise).hold_s
        st.markdown(f'<div class="ht-big" style="font-size:2.2rem">{h.duration_s:.0f} s</div>', unsafe_allow_html=True)
        st.markdown(
            f'<div class="ht-sub">last hold: {ui.hold_label(h.exercise, h.side)}, target {target:.0f} s '
            f"{'✓' if reaches(h.duration_s, target) else ''}</div>",
            unsafe_allow_html=True,
        )
        st.altair_chart(_sway_gauge(h.sway_deg, h.score), width="stretch")
        return
    st.markdown('<div class="ht-sub">starts when you hold a plank or side plank</div>', unsafe_allow_html=True)


def _sway_gauge(sway_deg: float, score: float | None = None) -> alt.LayerChart | alt.FacetChart:
    """A bullet gauge of sway: green steady, amber some wobble, red shaky, a mark at the value."""
    zones = pd.DataFrame([{"a": a, "b": b, "zone": z, "c": c, "row": "sway"} for a, b, z, c in SWAY_ZONES])
    # A rect needs a y extent to be drawn: one constant band row gives it.
    y = alt.Y("row:N", title=None, axis=None)
    band = (
        alt.Chart(zones)
        .mark_bar(opacity=0.45, height=18)
        .encode(
            x=alt.X(
                "a:Q",
                scale=alt.Scale(domain=[0, 5], clamp=True),
                title=None,
                axis=alt.Axis(values=[0, 1, 2.5, 5], format=".1~f", labelFontSize=10, ticks=False, domain=False),
            ),
            x2="b:Q",
            y=y,
            color=alt.Color("c:N", scale=None),
            tooltip=["zone"],
        )
    )
    mark = (
        alt.Chart(pd.DataFrame({"v": [min(sway_deg, 5.0)], "row": ["sway"]}))
        .mark_tick(thickness=4, size=26, color="#212121")
        .encode(x="v:Q", y=y)
    )
    title = f"sway {sway_deg:.1f}°" + (f" · {stability_label(score)} ({score:.0f}/100)" if score is not None else "")
    return alt.layer(band, mark).properties(title=alt.TitleParams(title, fontSize=13, anchor="start", fontWeight="normal"))


def _trace_chart(snap: LiveSnapshot) -> alt.LayerChart | alt.FacetChart:
    now = snap.stream_time_s
    lo = now - WINDOW_S
    pts = [(t, d) for t, d in snap.trace if t >= lo]
    df = pd.DataFrame(pts, columns=["t", "deg"]) if pts else pd.DataFrame({"t": [lo, now], "deg": [None, None]})
    df["ago"] = df["t"] - now
    line = (
        alt.Chart(df)
        .mark_line(color=ui.TRACE_COLOR, strokeWidth=2)
        .encode(
            x=alt.X("ago:Q", title="seconds ago", scale=alt.Scale(domain=[-WINDOW_S, 0])),
            y=alt.Y("deg:Q", title=ANGLE_LABEL, scale=alt.Scale(zero=False)),
        )
    )
    layers: list[alt.Chart] = []
    marks = [{"a": max(g.start_s, lo) - now, "b": g.end_s - now} for g in snap.gaps if g.end_s >= lo]
    if snap.running and snap.link is not None and not snap.link.connected:
        marks.append({"a": max(snap.link.at_s, lo) - now, "b": 0.0})
    if marks:
        layers.append(alt.Chart(pd.DataFrame(marks)).mark_rect(color="#C73E1D", opacity=0.18).encode(x="a:Q", x2="b:Q"))
    finished: list[Rep | Hold] = [*snap.reps, *snap.holds]
    done = [{"a": max(e.start_s, lo) - now, "b": e.end_s - now, "c": ui.COLORS[e.exercise]} for e in finished if e.end_s >= lo]
    hold = getattr(snap.status, "hold", None) if snap.status is not None and snap.running else None
    if hold is not None:  # the hold in progress, up to now
        done.append({"a": max(hold.start_s, lo) - now, "b": 0.0, "c": ui.COLORS.get(hold.exercise, "#9E9E9E")})
    if done:
        layers.append(alt.Chart(pd.DataFrame(done)).mark_rect(opacity=0.18).encode(x="a:Q", x2="b:Q", color=alt.Color("c:N", scale=None)))
    return alt.layer(*layers, line).properties(height=220)


def _recent(snap: LiveSnapshot, routine: Routine) -> None:
    finished: list[Rep | Hold] = [*snap.reps, *snap.holds]
    done = sorted(finished, key=lambda e: e.end_s)[-6:]
    if not done:
        return
    st.caption("Just done")
    lines = []
    for e in reversed(done):
        if isinstance(e, Rep):
            t = routine.rep_target(e.exercise).hold_s
            mark = "✓" if t <= 0 or e.hold_s >= t else "·"
            lines.append(f"{mark} {ui.label(e.exercise)} rep, held {e.hold_s:.1f} s")
        else:
            t = routine.hold_target(e.exercise).hold_s
            mark = "✓" if e.duration_s >= t else "·"
            lines.append(f"{mark} {ui.hold_label(e.exercise, e.side)} {e.duration_s:.0f} s, stability {e.score:.0f}/100")
    st.markdown("  \n".join(lines))
