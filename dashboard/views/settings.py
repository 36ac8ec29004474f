"""Settings: routine targets, sensor placement, data folder, imports and demo data."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboard import data
from sensor.errors import HoldTrackError
from sensor.routine import MOUNTS, HoldTarget, RepTarget, Routine

st.title("Settings")
r = data.routine()

MOUNT_WORDS = {
    "back": "Back of the pelvis (sacrum, back of the belt), face pointing away from the body",
    "front": "Front of the belt (below the navel), face pointing forward",
    "left": "Left hip, face pointing out to the left",
    "right": "Right hip, face pointing out to the right",
}

with st.form("targets"):
    st.subheader("Your routine")
    st.caption("Defaults follow the back-strengthening guide; change them to your own plan.")
    c1, c2 = st.columns(2)
    with c1, st.container(border=True):
        st.markdown("**Hip bridge**")
        b_hold = st.number_input("Hold at the top (s)", 1.0, 60.0, float(r.bridge.hold_s), 0.5, key="b_hold")
        b_reps = st.number_input("Reps per set", 1, 50, int(r.bridge.reps_per_set), key="b_reps")
        b_sets = st.number_input("Sets per session", 1, 10, int(r.bridge.sets_per_session), key="b_sets")
        b_week = st.number_input("Days per week", 0, 7, int(r.bridge.sessions_per_week), key="b_week")
    with c2, st.container(border=True):
        st.markdown("**Back extension**")
        e_hold = st.number_input("Hold at the top (s, 0 = no hold)", 0.0, 60.0, float(r.back_extension.hold_s), 0.5, key="e_hold")
        e_reps = st.number_input("Reps per set", 1, 50, int(r.back_extension.reps_per_set), key="e_reps")
        e_sets = st.number_input("Sets per session", 1, 10, int(r.back_extension.sets_per_session), key="e_sets")
        e_week = st.number_input("Days per week", 0, 7, int(r.back_extension.sessions_per_week), key="e_week")
    c3, c4 = st.columns(2)
    with c3, st.container(border=True):
        st.markdown("**Side plank** (each side)")
        s_hold = st.number_input("Hold (s)", 5.0, 600.0, float(r.side_plank.hold_s), 5.0, key="s_hold")
        s_n = st.number_input("Holds per side", 1, 10, int(r.side_plank.holds), key="s_n")
        s_week = st.number_input("Days per week", 0, 7, int(r.side_plank.sessions_per_week), key="s_week")
    with c4, st.container(border=True):
        st.markdown("**Front plank**")
        p_hold = st.number_input("Hold (s)", 5.0, 600.0, float(r.plank.hold_s), 5.0, key="p_hold")
        p_n = st.number_input("Holds", 1, 10, int(r.plank.holds), key="p_n")
        p_week = st.number_input("Days per week (0 = not tracked)", 0, 7, int(r.plank.sessions_per_week), key="p_week")
    st.subheader("Sensor placement")
    mount = st.radio("Where the sensor is worn", MOUNTS, index=MOUNTS.index(r.mount), format_func=MOUNT_WORDS.get, key="mount")
    if st.form_submit_button("Save settings", type="primary"):
        new = Routine(
            bridge=RepTarget(float(b_hold), int(b_reps), int(b_sets), int(b_week)),
            back_extension=RepTarget(float(e_hold), int(e_reps), int(e_sets), int(e_week)),
            side_plank=HoldTarget(float(s_hold), int(s_n), int(s_week)),
            plank=HoldTarget(float(p_hold), int(p_n), int(p_week)),
            mount=str(mount),
        )
        path = data.save_settings(new)
        st.success(f"Saved to {path}.", icon=":material/check:")

st.subheader("Data folder")
st.code(str(data.folder()), language=None)
st.caption(
    "Sessions (holdtrack.sqlite3) and recordings live here. To use another folder, start the "
    "dashboard with `holdtrack dashboard --data-dir PATH` or set `HOLDTRACK_DATA_DIR`."
)

st.subheader("Import recordings")
files = st.file_uploader("HoldTrack recordings (.htrec) or IMU CSV files", type=["htrec", "csv"], accept_multiple_files=True)
if files and st.button("Import", icon=":material/upload:"):
    try:
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, f in enumerate(files):
                # One folder per upload: phones name every export alike ("Raw Data.csv").
                p = Path(tmp) / str(i) / Path(f.name).name
                p.parent.mkdir()
                p.write_bytes(f.getbuffer())
                paths.append(p)
            bar = st.progress(0.0, text="Importing…")
            report = data.store().import_paths(paths, lambda done, total, res: bar.progress(done / total, text=res.path.name))
    except HoldTrackError as e:
        st.error(str(e))
    except OSError as e:
        st.error(f"cannot import: {e.strerror or e}")
    except Exception as e:  # a bug must still not show the user a traceback
        st.error(f"import failed: {type(e).__name__}: {e}")
    else:
        for res in report.results:
            (st.error if res.status == "failed" else st.success)(res.message.replace(str(res.path.parent) + "/", ""))
        st.info(report.summary())

demo = data.store().session_count() - data.store().session_count(include_demo=False)
if demo:
    st.subheader("Demo data")
    st.caption(f"{demo} sessions come from the bundled sample recordings.")
    if st.button("Remove demo sessions", icon=":material/delete:"):
        n = data.store().delete_demo()
        st.success(f"Removed {n} demo sessions.")
        st.rerun()
