"""Replay: any recording played into the live view at 1×–50×, as a sensor would send it."""

from __future__ import annotations

import streamlit as st

from dashboard import data, live_view
from sensor.live import LiveSession
from sensor.sources import MAX_SPEED, MIN_SPEED, ReplaySource

KEY = "replay_session"

st.title("Replay")
st.caption("Plays a recording through the same path as a live sensor (nothing is saved), "
           "so you can watch a past session as it happened.")
r = data.routine()
session: LiveSession | None = st.session_state.get(KEY)
snap = session.snapshot() if session is not None else None
recs = data.recordings()

if not recs:
    st.info("No recordings yet: record a session on the **Live** page or import one.", icon=":material/info:")
    st.stop()

labels = {str(p): name for name, p in recs}
if snap is None or not snap.running:
    c1, c2, c3 = st.columns([3, 2, 1], vertical_alignment="bottom")
    path = c1.selectbox("Recording", list(labels), format_func=labels.get, key="replay_path")
    speed = c2.slider("Speed", int(MIN_SPEED), int(MAX_SPEED), 10, format="%d×", key="replay_speed")
    if c3.button("Play", type="primary", icon=":material/play_arrow:", key="replay_play"):
        try:
            src = ReplaySource(path, speed)
        except Exception as e:  # noqa: BLE001 - a damaged file: say so, keep the page
            st.error(f"Cannot replay: {e}")
        else:
            session = LiveSession(src)
            session.start()
            st.session_state[KEY] = session
            st.rerun()
else:
    c1, c2 = st.columns([1, 5], vertical_alignment="center")
    if c1.button("Stop", type="primary", icon=":material/stop:", key="replay_stop"):
        session.stop()
        st.rerun()
    src = session.source
    c2.caption(f"Playing **{labels.get(str(getattr(src, 'path', '')), getattr(src, 'path', ''))}** "
               f"at {getattr(src, 'speed', 1):.0f}×")

if session is not None:
    live_view.show(KEY, r)
