"""The session page's editing parts: corrections ("I did 12, it counted 11"), date, sides,
duplicates and delete with undo. Every write goes through ``sensor.store.edits``; the page reruns
and reads the store again (its cache key changes with every edit)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import data, ui
from sensor.routine import group_sets
from sensor.store import edits
from sensor.store.dates import local_time
from sensor.store.queries import SessionDetail, SessionRow
from sensor.vocab import counted


def open_session(sid: int | None) -> None:
    """Show session ``sid`` (None: the newest) on the next run: the link (?id=) says which,
    and the page's picker follows it."""
    st.session_state["session_id"] = sid
    if sid is None:
        st.query_params.pop("id", None)
    else:
        st.query_params["id"] = str(sid)


def bin_notice(newest: int | None) -> None:
    """After a delete: say where the session went, with an undo. Right after it (no session
    asked for by the link) nothing else is shown until the user opens one: two sessions of
    one day look alike, and one shown in place of the deleted one, scrolled to where its
    delete button was, is the next one deleted by mistake."""
    gone = st.session_state.get("deleted_session")
    if gone is None:
        return
    c = st.container(horizontal=True, vertical_alignment="center")
    c.warning(f"Session {gone} moved to the bin: it no longer counts anywhere.", icon=":material/delete:")
    if c.button("Undo", key="undo_delete", icon=":material/undo:"):
        edits.undo_delete(data.store(), int(gone))
        st.session_state.pop("deleted_session", None)
        open_session(int(gone))
        st.rerun()
    if "id" in st.query_params:
        return
    if newest is not None and c.button(f"Open session {newest}", key="open_after_delete", icon=":material/arrow_forward:"):
        st.session_state.pop("deleted_session", None)
        open_session(newest)
        st.rerun()
    st.stop()


def unknown_session(wanted: str, newest: int) -> None:
    """``/session?id=…`` of a session that does not exist (or is in the bin): say so, stop."""
    sid = int(wanted) if wanted.isdigit() else None
    d = data.detail(sid) if sid is not None else None
    if sid is not None and d is not None and d.session.get("deleted_utc"):
        st.warning(f"Session {sid} is in the bin.", icon=":material/delete:")
        if st.button("Restore it", key="restore_session", icon=":material/restore_from_trash:"):
            edits.undo_delete(data.store(), sid)
            open_session(sid)
            st.rerun()
    else:
        st.error(f"There is no session {wanted}.", icon=":material/error:")
    if st.button("Open the newest session", key="open_newest"):
        open_session(newest)
        st.rerun()
    st.stop()


def _set_names(d: SessionDetail) -> list[tuple[int, str, int]]:
    """(set index, its name on this page, detected reps) for every set of the session."""
    out: list[tuple[int, str, int]] = []
    seen: dict[str, int] = {}
    for k, idx in enumerate(group_sets(d.detected.reps)):
        ex = d.detected.reps[idx[0]].exercise
        seen[ex] = seen.get(ex, 0) + 1
        out.append((k, f"{ui.label(ex)}, set {seen[ex]}", len(idx)))
    return out


def corrected_sets_words(d: SessionDetail, exercise: str) -> str:
    """ " Set 1: 11 counted, 12 by you." for the caption under an exercise's chart."""
    words = [
        f"{name.split(', ')[1].capitalize()}: {n} counted, {d.counts[k]} by you"
        for k, name, n in _set_names(d)
        if k in d.counts and name.startswith(ui.label(exercise))
    ]
    return (" " + "; ".join(words) + ".") if words else ""


def hold_fix_words(d: SessionDetail, i: int) -> str:
    fixes = [c for c in d.corrections if c.target == "hold" and c.idx == i]
    if not fixes:
        return ""
    h, t0 = d.detected.holds[i], d.detected.start_s  # shown as seconds into the session
    parts = []
    for c in fixes:
        was = {"start_s": f"{h.start_s - t0:.1f} s", "end_s": f"{h.end_s - t0:.1f} s", "side": h.side or "unknown"}[c.field]
        now = f"{c.value - t0:.1f} s" if c.field != "side" else c.value
        parts.append(f"{c.field.removesuffix('_s')} {was} → {now}")
    return "; ".join(parts)


def corrections_panel(d: SessionDetail, sid: int) -> None:
    """Correct a set's rep count or a hold's start, end or side; kept beside the detected values."""
    st.subheader("Correct what was counted")
    st.caption(
        "Your corrections are kept beside what was detected (never over it): history counts your numbers, "
        "and `holdtrack evaluate --labels` scores the detector against them."
    )
    items: list[tuple[str, int, str]] = [("set", k, f"{name}: {counted(n, 'rep')} counted") for k, name, n in _set_names(d)]
    items += [
        ("hold", i, f"Hold {i + 1}, {ui.hold_label(h.exercise, h.side)}: {h.duration_s:.1f} s") for i, h in enumerate(d.detected.holds)
    ]
    if not items:
        st.caption("Nothing was detected in this session.")
        return
    labels = [x[2] for x in items]
    pick = st.selectbox("Set or hold", range(len(items)), format_func=lambda j: labels[j], key=f"fix_pick_{sid}")
    target, idx, _ = items[int(pick)]
    c = st.columns([1, 1, 1, 2])
    if target == "set":
        now = d.counts.get(idx, next(n for k, _, n in _set_names(d) if k == idx))
        reps = c[0].number_input("Reps you did", 0, 500, int(now), 1, key=f"fix_reps_{sid}_{idx}")
        if c[1].button("Save correction", key="fix_save", type="primary"):
            edits.correct_set(data.store(), sid, idx, int(reps))
            st.toast(f"Saved: {counted(int(reps), 'rep')}")
            st.rerun()
    else:
        h, cur = d.detected.holds[idx], d.analysis.holds[idx]
        # Seconds into the session; stored on the recording's own time axis (+ t0), as the events are.
        t0, top = d.detected.start_s, float(d.detected.duration_s) + 60.0
        start = c[0].number_input("Start (s)", 0.0, top, min(top, max(0.0, round(cur.start_s - t0, 1))), 0.5, key=f"fix_start_{sid}_{idx}")
        end = c[1].number_input("End (s)", 0.0, top, min(top, max(0.0, round(cur.end_s - t0, 1))), 0.5, key=f"fix_end_{sid}_{idx}")
        side = None
        if h.exercise == "side_plank":
            side = c[2].selectbox(
                "Side (resting on)",
                ["left", "right"],
                index=None if cur.side is None else ["left", "right"].index(cur.side),
                placeholder="unknown",
                key=f"fix_side_{sid}_{idx}",
            )
        if c[3].button("Save correction", key="fix_save", type="primary"):
            if end <= start:
                st.error(f"A hold must end after it starts ({start:.1f} s to {end:.1f} s).")
            else:
                moved = abs(start - round(h.start_s - t0, 1)) > 1e-9 or abs(end - round(h.end_s - t0, 1)) > 1e-9
                edits.correct_hold(
                    data.store(),
                    sid,
                    idx,
                    start_s=start + t0 if moved else None,
                    end_s=end + t0 if moved else None,
                    side=side if side != h.side else None,
                )
                st.toast("Saved")
                st.rerun()
    fixed = any(x.target == target and x.idx == idx for x in d.corrections)
    if fixed and st.button("Back to what was detected", key="fix_clear", icon=":material/undo:"):
        edits.clear_corrections(data.store(), sid, target, idx)
        st.rerun()


def _confirm(key: str, question: str) -> bool:
    """A destructive action's second step: True once the user confirmed."""
    if not st.session_state.get(key):
        return False
    c = st.container(horizontal=True, vertical_alignment="center")
    c.warning(question, icon=":material/warning:")
    if c.button("Yes", key=f"{key}_yes", type="primary"):
        st.session_state[key] = False
        return True
    if c.button("Cancel", key=f"{key}_no"):
        st.session_state[key] = False
        st.rerun()
    return False


def edit_panel(d: SessionDetail, row: SessionRow, rows: list[SessionRow]) -> None:
    """Date and time, sides of unknown side planks, duplicates, delete."""
    sid = row.id
    st.subheader("Edit this session")
    # A row stored before dates were checked may hold no usable time: the edit starts from now.
    local = local_time(d.session["started_utc"]) or datetime.now().astimezone()
    c = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
    day = c[0].date_input("Date", local.date(), key=f"edit_day_{sid}")
    at = c[1].time_input("Time", local.time().replace(second=0, microsecond=0), key=f"edit_time_{sid}")
    if c[2].button("Save date", key="edit_date_save"):
        edits.set_started(data.store(), sid, datetime.combine(day, at))
        st.rerun()
    c[3].caption(
        {
            "recording": "Date from the recording.",
            "edited": "Date set by you.",
            "file time": "The file said nothing: this is its modification time.",
        }.get(row.date_source, "")
    )

    unknown = [i for i, h in enumerate(d.detected.holds) if h.exercise == "side_plank" and h.side is None]
    if unknown:
        st.markdown("**Side planks without a side** (no opening stand). Which side did you rest on?")
        cols = st.columns(min(4, len(unknown)))
        chosen: dict[int, str] = {}
        for n, i in enumerate(unknown):
            cur = d.analysis.holds[i].side
            v = cols[n % len(cols)].segmented_control(
                f"Hold {i + 1} ({d.detected.holds[i].duration_s:.0f} s)", ["left", "right"], default=cur, key=f"edit_side_{sid}_{i}"
            )
            if v:
                chosen[i] = str(v)
        if st.button("Save sides", key="edit_sides_save", disabled=not chosen):
            edits.set_sides(data.store(), sid, chosen)
            st.rerun()

    if row.duplicate_of is not None:
        box = st.container(horizontal=True, vertical_alignment="center")
        box.info(f"This session holds the same samples as session {row.duplicate_of}; it is not counted.")
        if box.button(f"Merge into session {row.duplicate_of}", key="dup_merge"):
            original = edits.merge_duplicate(data.store(), sid)
            st.session_state["deleted_session"] = sid
            open_session(original)
            st.rerun()
        if box.button("Not a duplicate", key="dup_unmark"):
            edits.mark_duplicate(data.store(), sid, None)
            st.rerun()
    else:
        others = [x.id for x in rows if x.id != sid and x.local_date == row.local_date]
        if others:
            c = st.columns([2, 1], vertical_alignment="bottom")
            of = c[0].selectbox("Same workout as", others, format_func=lambda i: f"session {i}", key=f"dup_of_{sid}")
            if c[1].button("Mark as duplicate", key="dup_mark"):
                edits.mark_duplicate(data.store(), sid, int(of))
                st.rerun()

    # The question remembers which session it is about: picking another session never
    # turns "Yes" into deleting that one.
    if st.button("Delete this session…", key="delete_ask", icon=":material/delete:"):
        st.session_state["delete_confirm"] = sid
    if st.session_state.get("delete_confirm") not in (None, sid):
        st.session_state["delete_confirm"] = None
    if _confirm("delete_confirm", f"Delete session {sid}? It goes to the bin; you can undo."):
        edits.delete_session(data.store(), sid)
        st.session_state["deleted_session"] = sid
        open_session(None)
        st.rerun()
