"""Replay: any recording played into the live view at 1×–50×, as a sensor would send it;
pause, change the speed, jump to any moment."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import data, live_view
from sensor.coach import Coach
from sensor.live import LiveSession
from sensor.sources import make_source
from sensor.sources.paced import MAX_SPEED, MIN_SPEED, ReplaySource

KEY = "replay_session"
SPEEDS = [1, 2, 5, 10, 20, 50]

st.title("Replay")
st.caption("Plays a recording through the same path as a live sensor (nothing is saved), so you can watch a past session as it happened.")
r = data.routine()
session: LiveSession | None = st.session_state.get(KEY)
snap = session.snapshot() if session is not None else None
recs = data.recordings()

if not recs:
    st.info("No recordings yet: record a session on the **Live** page or import one.", icon=":material/info:")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=32)
def _span(path: str, mtime: float) -> tuple[float, float]:
    """First and last sample time of a recording, CSV or phone export (for the position slider)."""
    from sensor.files.inputs import open_input
    from sensor.samples import Samples

    first = last = None
    for item in open_input(path)[1]:
        if isinstance(item, Samples) and len(item):
            first = float(item.time_s[0]) if first is None else first
            last = float(item.time_s[-1])
    return (first or 0.0, last or 0.0)


def _play(path: str, speed: float, start_s: float | None = None) -> None:
    try:
        src = make_source(f"replay:{path}", speed=speed, start_s=start_s)
    except Exception as e:
        st.error(f"Cannot replay: {e}")
        return
    sess = LiveSession(src, coach=Coach(r))
    sess.start()
    st.session_state[KEY] = sess
    st.rerun()


labels = {str(p): name for name, p in recs}
if session is None or snap is None or not snap.running:
    c1, c2, c3 = st.columns([3, 2, 1], vertical_alignment="bottom")
    path = c1.selectbox("Recording", list(labels), format_func=lambda p: labels[p], key="replay_path")
    speed = c2.slider("Speed", int(MIN_SPEED), int(MAX_SPEED), 10, format="%d×", key="replay_speed")
    if c3.button("Play", type="primary", icon=":material/play_arrow:", key="replay_play"):
        _play(path, speed)
else:
    src = session.source
    assert isinstance(src, ReplaySource)
    path = str(src.path)
    t0, t1 = _span(path, Path(path).stat().st_mtime)
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    if c1.button("Stop", type="primary", icon=":material/stop:", key="replay_stop"):
        session.stop()
        st.rerun()
    if src.paused:
        if c2.button("Resume", icon=":material/play_arrow:", key="replay_resume"):
            src.resume()
            st.rerun()
    elif c2.button("Pause", icon=":material/pause:", key="replay_pause"):
        src.pause()
        st.rerun()
    playing_at = src.speed
    speed_now = min(SPEEDS, key=lambda v: abs(v - playing_at))
    new_speed = c3.select_slider("Speed", SPEEDS, value=speed_now, format_func=lambda v: f"{v}×", key="replay_live_speed")
    if new_speed != speed_now:
        src.set_speed(float(new_speed))
    with st.form("replay_seek", border=False):
        s1, s2 = st.columns([4, 1], vertical_alignment="bottom")
        pos = min(max(snap.stream_time_s - t0, 0.0), t1 - t0)
        target = s1.slider(
            "Position",
            0,
            max(1, int(t1 - t0)),
            int(pos),
            format="%d s",
            key="replay_pos",
            help="Jump forward or back; the analysis is redone up to that moment, so every count stays right",
        )
        if s2.form_submit_button("Jump", icon=":material/fast_forward:"):
            want = t0 + float(target)
            if want >= snap.stream_time_s:
                src.seek(want)
            else:  # back in time: the pipeline cannot rewind, so play again from the start up to there
                session.stop()
                _play(path, src.speed, start_s=want)
            st.rerun()

if session is not None:
    name = labels.get(str(getattr(session.source, "path", "")), Path(str(getattr(session.source, "path", ""))).name)
    live_view.show(KEY, r, replaying=name)
