"""Settings: routine targets, sensor placement, data folder, imports, duplicates, the bin and demo data."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from dashboard import audio, data, ui
from sensor import importer
from sensor.errors import HoldTrackError
from sensor.importer import ImportResult
from sensor.routine import AudioSettings, HoldTarget, RepTarget, Routine
from sensor.store import edits
from sensor.vocab import INPUT_SUFFIXES, MOUNTS

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
            audio=r.audio,
        )
        path = data.save_settings(new)
        st.success(f"Saved to {path}.", icon=":material/check:")

# -- the live coach's sound (dashboard/audio.py) ------------------------------------------------
with st.form("audio"):
    st.subheader("Live coach sound")
    st.caption("Tones and spoken cues during a live session: a tone per rep, hold marks, set done, rest over.")
    a1, a2, a3 = st.columns([1, 2, 2], vertical_alignment="bottom")
    audio_on = a1.toggle("Sound on", value=r.audio.on, key="audio_on")
    volume = a2.slider("Volume", 0, 100, round(r.audio.volume * 100), 5, format="%d%%", key="audio_volume")
    rest = a3.number_input("Rest between sets (s)", 0, 600, int(r.audio.rest_s), 5, key="audio_rest")
    if st.form_submit_button("Save sound settings"):
        data.save_settings(replace(data.routine(), audio=AudioSettings(bool(audio_on), volume / 100.0, float(rest))))
        st.success("Sound settings saved.", icon=":material/check:")

audio.test_button(data.routine().audio.volume)

st.subheader("Data folder")
st.code(str(data.folder()), language=None)
st.caption(
    "Sessions (holdtrack.sqlite3) and recordings live here. To use another folder, start the "
    "dashboard with `holdtrack dashboard --data-dir PATH` or set `HOLDTRACK_DATA_DIR`."
)

st.subheader("Import recordings")
files = st.file_uploader(
    "HoldTrack recordings (.htrec), IMU CSV files, phone exports (a zip, an .xls, or all the CSV files of one export) "
    "or the WitMotion app's .txt",
    type=[x.removeprefix(".") for x in INPUT_SUFFIXES],
    accept_multiple_files=True,
)
if files and st.button("Import", icon=":material/upload:"):
    from sensor.files.uploads import stage_uploads

    try:
        with tempfile.TemporaryDirectory() as tmp:
            paths = stage_uploads(((f.name, f.getvalue()) for f in files), Path(tmp))
            bar = st.progress(0.0, text="Importing…")

            def _progress(done: int, total: int, res: ImportResult) -> None:
                bar.progress(done / total, text=res.path.name)

            report = importer.import_paths(data.store(), paths, _progress)
    except HoldTrackError as e:
        st.error(str(e))
    except OSError as e:
        st.error(f"cannot import: {e.strerror or e}")
    except Exception as e:  # a bug must still not show the user a traceback
        st.error(f"import failed: {type(e).__name__}: {e}")
    else:
        for res in report.results:
            (st.error if res.status == "failed" else st.success)(res.message.replace(str(res.path.parent) + "/", ""))
            d = data.detail(res.session_id) if res.status == "added" and res.session_id is not None else None
            if d is not None and d.session["date_source"] == "file time":
                # The file holds no date (relative times, no metadata): say so rather than guess quietly.
                st.warning(
                    f"{res.path.name} does not say when it was recorded: session {res.session_id} is dated today. "
                    f"Set its date on its [session page](/session?id={res.session_id}).",
                    icon=":material/event:",
                )
        st.info(report.summary())

st.subheader("Duplicates")
st.caption(
    "The same workout imported twice (say as a recording and as its CSV export) is found by its samples, "
    "whatever the file format, and not counted twice."
)
if st.button("Find duplicates", icon=":material/content_copy:", key="find_dups"):
    found = edits.find_duplicates(data.store())
    if found:
        st.warning(
            "; ".join(f"session {a} holds the same samples as session {b}" for a, b in found)
            + ". They are marked and left out of history; merge or unmark them on their session pages."
        )
    else:
        st.success("No duplicates.")

gone = edits.deleted_sessions(data.store())
if gone:
    st.subheader("Bin")
    st.caption("Deleted sessions count nowhere; restore one to bring it back.")
    for sid, day, when in gone[:20]:
        c = st.container(horizontal=True, vertical_alignment="center")
        c.markdown(f"Session {sid} of {ui.day(day)} (deleted {ui.when(when)})")
        if c.button("Restore", key=f"restore_{sid}", icon=":material/restore_from_trash:"):
            edits.undo_delete(data.store(), sid)
            st.rerun()

demo = data.store().session_count() - data.store().session_count(include_demo=False)
if demo:
    st.subheader("Demo data")
    st.caption(f"{demo} sessions are demo data (a simulated person), not yours.")
    if st.button("Remove demo sessions…", icon=":material/delete:", key="demo_ask"):
        st.session_state["demo_confirm"] = True
    if st.session_state.get("demo_confirm"):
        c = st.container(horizontal=True, vertical_alignment="center")
        c.warning(f"Remove the {demo} demo sessions? This cannot be undone (your own sessions stay).", icon=":material/warning:")
        if c.button("Yes, remove them", key="demo_yes", type="primary"):
            n = data.store().delete_demo()
            st.session_state["demo_confirm"] = False
            st.session_state["demo_removed"] = n
            st.rerun()
        if c.button("Cancel", key="demo_no"):
            st.session_state["demo_confirm"] = False
            st.rerun()
if st.session_state.get("demo_removed"):
    st.success(f"Removed {st.session_state.pop('demo_removed')} demo sessions.")
