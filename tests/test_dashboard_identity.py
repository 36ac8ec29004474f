"""A session is its id on the session page (Streamlit AppTest): sessions that share a label
(one day, the same counts) are each opened and deleted by their link, and a delete asked on
one session is never carried over to another picked afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session
from streamlit.testing.v1 import AppTest

from sensor.store import Store, edits

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


@pytest.fixture()
def look_alikes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, list[int]]:
    """Three sessions of one day an hour apart, 12 bridges each: one label to the eye."""
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    st = Store(tmp_path)
    day = datetime(2025, 3, 3, 8, tzinfo=UTC)
    return st, [session(st, day + timedelta(hours=k), analysis(reps("bridge", 12)), tag=str(k)) for k in range(3)]


def session_page(sid: int) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["id"] = str(sid)
    at.run()
    at.switch_page("views/session.py").run()
    assert not at.exception, at.exception
    return at


def binned(st: Store) -> list[int]:
    return sorted(sid for sid, _, _ in edits.deleted_sessions(st))


@pytest.mark.parametrize("k", [0, 1, 2])
def test_each_look_alike_is_deleted_by_its_link(look_alikes: tuple[Store, list[int]], k: int) -> None:
    st, ids = look_alikes
    sid = ids[k]
    at = session_page(sid)
    assert at.selectbox(key="session_pick").value == sid
    at.button(key="delete_ask").click().run()
    assert [w.value for w in at.warning if "Delete session" in w.value] == [f"Delete session {sid}? It goes to the bin; you can undo."]
    at.button(key="delete_confirm_yes").click().run()
    assert not at.exception, at.exception
    assert binned(st) == [sid]
    # No look-alike is put in its place (a second click where the delete button was would
    # delete it): the notice, its undo and a way on, nothing else.
    keys = [b.key for b in at.button]
    assert "delete_ask" not in keys and "undo_delete" in keys and "open_after_delete" in keys
    assert not [s for s in at.selectbox if s.key == "session_pick"] and "id" not in at.query_params
    at.button(key="undo_delete").click().run()
    assert binned(st) == [] and at.selectbox(key="session_pick").value == sid and at.query_params["id"] == str(sid)
    # Each label names its session (the picker keeps its state by label).
    assert at.selectbox(key="session_pick").options == [f"Session {i} · Mon 03 Mar 2025 · 12 reps, 0 holds" for i in ids[::-1]]


def test_after_a_delete_the_next_session_is_opened_only_when_asked(look_alikes: tuple[Store, list[int]]) -> None:
    st, ids = look_alikes
    at = session_page(ids[2])
    at.button(key="delete_ask").click().run()
    at.button(key="delete_confirm_yes").click().run()
    assert binned(st) == [ids[2]]
    at.button(key="open_after_delete").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="session_pick").value == ids[1] and at.query_params["id"] == str(ids[1])  # the newest left
    assert not [w.value for w in at.warning if "moved to the bin" in w.value]  # the notice is done with
    assert binned(st) == [ids[2]]


def test_a_delete_asked_on_one_session_is_not_carried_to_another(look_alikes: tuple[Store, list[int]]) -> None:
    st, ids = look_alikes
    at = session_page(ids[0])
    at.button(key="delete_ask").click().run()
    assert any(f"Delete session {ids[0]}?" in w.value for w in at.warning)
    at.selectbox(key="session_pick").set_value(ids[1]).run()
    assert not at.exception, at.exception
    assert at.query_params["id"] == str(ids[1])
    assert not [w.value for w in at.warning if "Delete session" in w.value]  # no question about a session not asked for
    assert "delete_confirm_yes" not in [b.key for b in at.button]
    assert binned(st) == []


def test_one_set_is_one_set_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session of one set of each rep exercise: the figures say "in 1 set" for both (back
    extensions read "in 1 sets"), the picker "1 hold"."""
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    st = Store(tmp_path)
    two = [*reps("bridge", 12), *reps("back_extension", 10, start=300.0)]
    sid = session(st, datetime(2025, 3, 3, 8, tzinfo=UTC), analysis(two, [hold("plank", None, 500.0, 40.0)]))
    at = session_page(sid)
    figures = next(h.proto.body for h in at.get("html") if "ht-figures" in h.proto.body)
    assert figures.count("in 1 set<") == 2 and "1 sets" not in figures
    assert at.selectbox(key="session_pick").options == [f"Session {sid} · Mon 03 Mar 2025 · 22 reps, 1 hold"]
