"""Live: pick a sensor, stand still to calibrate, record; see reps and holds as they happen."""

from __future__ import annotations

import streamlit as st

from dashboard import data, live_view, phone_live, sensors
from sensor.live import LiveSession

KEY = "live_session"
FIRST_DATA_WAIT_S = 1.5  # a sensor still connecting after this shows "Connecting…" meanwhile

st.title("Live")
if not sensors.warm_up().is_alive():
    # The analysis and the simulator are loaded (Start shows data at once): a mark for tests,
    # which press Start only then, as a person takes a moment to pick a sensor.
    st.html('<span data-testid="ht-ready"></span>')
r = data.routine()
session: LiveSession | None = st.session_state.get(KEY)
snap = session.snapshot() if session is not None else None

top = st.empty()  # the picker (and the last session's box): cleared in this run when Start is pressed
started = False
if snap is None or not snap.active:
    with top.container():
        # The session that just ended: open it (first thing on the page, above a new start).
        sid = st.session_state.get(f"{KEY}_saved", {}).get("session_id")
        if snap is not None and snap.phase != "idle" and sid is not None:
            with st.container(border=True):
                st.markdown(f"#### :material/check_circle: Session {sid} is saved in your history")
                c1, c2 = st.columns([1, 2], vertical_alignment="center")
                if c1.button("Open the session", type="primary", icon=":material/monitoring:", key="live_open"):
                    st.switch_page("views/session.py", query_params={"id": str(sid)})
                c2.page_link("views/session.py", label=f"Session {sid}", icon=":material/link:", query_params={"id": str(sid)})
        with st.container(border=True):
            st.subheader("Sensor")
            choices = sensors.choices()
            pick = st.selectbox(
                "Sensor", list(choices), format_func=lambda k: choices[k].label, key="live_sensor", label_visibility="collapsed"
            )
            chosen = choices[pick]
            phone_live.leave_others(chosen.kind)
            opts = chosen.options_ui()
            if chosen.kind == "ble":
                st.caption("Wear it on the back of the pelvis, face pointing away from you.")
            c1, c2, _ = st.columns([1, 1, 3], vertical_alignment="bottom")
            record = c2.toggle(
                "Save the session", value=True, key="live_record", help="Record the samples and add the session to your history"
            )
            if c1.button("Start", type="primary", icon=":material/play_arrow:", key="live_start"):
                try:
                    src = chosen.make(opts)
                except Exception as e:
                    st.error(f"Cannot start: {e}")
                else:
                    st.session_state[KEY] = session = sensors.start(src, record=record)
                    # Drawn in this same run, once the first samples are in: data on the first draw.
                    session.wait_for_data(FIRST_DATA_WAIT_S)
                    started = True
            sensors.scan_ui()
    if started and session is not None:
        top.empty()
        snap = session.snapshot()

if session is not None and snap is not None and snap.active:
    c1, c2 = st.columns([1, 5], vertical_alignment="center")
    if c1.button("Stop", type="primary", icon=":material/stop:", key="live_stop"):
        with st.spinner("Closing the recording and saving the session…"):
            session.stop()
        st.rerun()
    c2.caption("Recording: the session goes into your history when you stop." if session.recordings_dir else "Not saving this session.")
    phone_live.status(session)

if session is not None:
    live_view.show(KEY, r)
else:
    st.info(
        "Choose a sensor and press **Start**. The simulated wearer needs no hardware: it does a whole "
        "session of the routine in front of you.",
        icon=":material/info:",
    )
