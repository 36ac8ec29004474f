"""Damage kept with the session and shown on its page; a damaged session database refused
at open and shown on every dashboard page as one line (issue 14, items 3 and 5)."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session
from streamlit.testing.v1 import AppTest

from sensor import importer
from sensor import store as store_mod
from sensor.errors import ExitCode, StoreError
from sensor.recording import read_recording
from sensor.recording.recovery import recover_recording
from sensor.store import Store
from sensor.store import check as store_check
from sensor.store import database as store_database
from tests.malformed import _flip_bit, htrec, sample_records, still_samples

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
TIMEOUT = 30
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
PAGES = ("views/history.py", "views/session.py", "views/live.py", "views/replay.py", "views/settings.py")


def stored_flags(st: Store, sid: int) -> tuple[int, int, float]:
    with st.connect() as con:
        row = con.execute("SELECT damaged_blocks, interrupted, duration_s FROM sessions WHERE id = ?", (sid,)).fetchone()
    return int(row[0]), int(row[1]), float(row[2])


def test_import_stores_damaged_blocks_and_an_unclean_end(tmp_path: Path) -> None:
    damaged = tmp_path / "in" / "damaged.htrec"
    damaged.parent.mkdir()
    _flip_bit(0.5)(damaged)
    blocks = read_recording(damaged).damaged_blocks
    assert blocks >= 1
    no_end = tmp_path / "in" / "no-end.htrec"
    no_end.write_bytes(htrec(*sample_records(still_samples(20, seed=3)), end=False))
    # Closed by recovery (as `record` and the Live page do at start): it still ended uncleanly.
    recovered = tmp_path / "in" / "recovered.htrec"
    recovered.write_bytes(htrec(*sample_records(still_samples(25, seed=4)), end=False))
    secs = recover_recording(recovered)
    assert secs is not None and read_recording(recovered).complete
    whole = tmp_path / "in" / "whole.htrec"
    whole.write_bytes(htrec(*sample_records(still_samples(15, seed=5))))

    st = Store(tmp_path / "data")
    report = importer.import_paths(st, [damaged, no_end, recovered, whole])
    by_name = {r.path.name: r for r in report.results}
    assert all(r.status == "added" for r in report.results), [r.message for r in report.results]
    assert "damaged block" in by_name["damaged.htrec"].message
    assert "interrupted" in by_name["recovered.htrec"].message
    sid = {name: r.session_id for name, r in by_name.items()}
    assert stored_flags(st, sid["damaged.htrec"])[:2] == (blocks, 0)
    assert stored_flags(st, sid["no-end.htrec"])[:2] == (0, 1)
    flags = stored_flags(st, sid["recovered.htrec"])
    assert flags[:2] == (0, 1) and abs(flags[2] - secs) < 0.02  # the duration is what was recovered
    assert stored_flags(st, sid["whole.htrec"])[:2] == (0, 0)
    # ... and `holdtrack history` says it per session (JSON fields, and a flag in the text).
    from sensor.routine import Routine
    from sensor.store.history import format_history, history

    h = history(st, Routine())
    by_id = {x["id"]: x for x in h["sessions"]}
    assert by_id[sid["damaged.htrec"]]["damaged_blocks"] == blocks and not by_id[sid["damaged.htrec"]]["interrupted"]
    assert by_id[sid["no-end.htrec"]]["interrupted"] and by_id[sid["whole.htrec"]]["damaged_blocks"] == 0
    text = format_history(h)
    assert f"{blocks} damaged block(s)" in text and text.count("interrupted") == 2


def _app(data: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(data))
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def _session_page(at: AppTest, sid: int) -> AppTest:
    at.query_params["id"] = str(sid)
    at.run()
    at.switch_page("views/session.py").run()
    assert not at.exception, at.exception
    return at


def test_the_session_page_shows_the_damage_in_one_warning_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "damaged.htrec"
    _flip_bit(0.5)(rec)
    blocks = read_recording(rec).damaged_blocks
    st = Store(tmp_path / "data")
    damaged_sid = importer.import_paths(st, [rec]).results[0].session_id
    whole_sid = session(st, T0, analysis(reps("bridge", 10), [hold("plank", None, 200.0, 30.0)]))
    assert damaged_sid is not None

    at = _session_page(_app(tmp_path / "data", monkeypatch), damaged_sid)
    lines = [w.value for w in at.warning if "damaged" in w.value or "interrupted" in w.value]
    assert len(lines) == 1 and "\n" not in lines[0], lines
    assert lines[0].startswith(f"{blocks} damaged block") and "skipped" in lines[0]
    from dashboard import data as dash_data

    exported = json.loads(dash_data.export_json(dash_data.detail(damaged_sid)))  # the page's JSON download
    assert exported["damaged_blocks"] == blocks and exported["interrupted"] is False

    at = _session_page(_app(tmp_path / "data", monkeypatch), whole_sid)
    assert not [w.value for w in at.warning if "damaged" in w.value or "interrupted" in w.value]


def test_the_session_page_says_a_recording_was_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "holdtrack-crashed.htrec"
    rec.write_bytes(htrec(*sample_records(still_samples(20, seed=7)), end=False))
    st = Store(tmp_path / "data")
    sid = importer.import_paths(st, [rec]).results[0].session_id
    assert sid is not None
    at = _session_page(_app(tmp_path / "data", monkeypatch), sid)
    lines = [w.value for w in at.warning if "interrupted" in w.value]
    assert len(lines) == 1 and "s recovered" in lines[0], lines
    assert "damaged" not in lines[0]


def _store_with_sessions(folder: Path, n: int = 40) -> Store:
    st = Store(folder)
    for i in range(n):
        # one a day: the session picker tells them apart by date
        session(st, T0 - timedelta(days=i), analysis(reps("bridge", 12), [hold("plank", None, 100.0, 30.0)]), tag=str(i))
    with st.connect() as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return st


def _damage_pages(db: Path, which: str) -> None:
    """Overwrite pages of table data (``which``: the last one only, or three)."""
    with sqlite3.connect(db) as con:
        page = int(con.execute("PRAGMA page_size").fetchone()[0])
        pages = int(con.execute("PRAGMA page_count").fetchone()[0])
    con.close()
    raw = bytearray(db.read_bytes())
    for k in (pages - 2,) if which == "last" else (pages // 2, pages // 2 + 1, pages - 2):
        raw[k * page : (k + 1) * page] = b"\xa5" * page
    db.write_bytes(bytes(raw))


def test_a_damaged_database_is_refused_at_open_not_at_the_first_bad_query(tmp_path: Path) -> None:
    st = _store_with_sessions(tmp_path)
    _damage_pages(st.db_path, "last")
    size = st.db_path.stat().st_size
    with pytest.raises(StoreError, match=r"is damaged \(quick check: .*\); move it aside") as e:
        Store(tmp_path)
    assert "\n" not in str(e.value)
    assert st.db_path.stat().st_size == size  # refused before any migration could write to it


@pytest.mark.parametrize("command", [["history"], ["history", "--json"], ["import"]])
def test_the_cli_refuses_a_damaged_database_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    from sensor.cli import main

    st = _store_with_sessions(tmp_path / "data")
    _damage_pages(st.db_path, "last")
    rec = tmp_path / "whole.htrec"
    rec.write_bytes(htrec(*sample_records(still_samples(15, seed=5))))
    args = [*command, "--data-dir", str(tmp_path / "data")] + ([str(rec)] if command == ["import"] else [])
    assert main(args) == ExitCode.STORE
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("holdtrack: error: session database ") and "is damaged (quick check: " in err and "***" not in err


def test_the_open_check_is_skipped_above_its_size_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = _store_with_sessions(tmp_path)
    assert store_check.check_database(st) is True
    assert store_check.check_database(st, max_bytes=st.db_path.stat().st_size - 1) is False
    # Above the bound damage is still met, by the query that reads the bad page.
    _damage_pages(st.db_path, "three")
    monkeypatch.setattr(store_check, "QUICK_CHECK_MAX_BYTES", 0)
    big = Store(tmp_path)  # opens: too large to check at every open
    with pytest.raises(StoreError, match=r"is damaged \(database disk image is malformed\)"), big.connect() as con:
        con.execute("SELECT sum(length(deg)) FROM traces").fetchall()  # every trace, every page


def _one_error_line_on_every_page(data: Path, monkeypatch: pytest.MonkeyPatch, expect: str) -> None:
    for page in PAGES:
        at = _app(data, monkeypatch)
        at.run()
        if page != "views/history.py":  # History is the home page
            at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and "\n" not in errors[0], (page, errors)
        assert expect in errors[0], (page, errors[0])


@pytest.mark.parametrize("damage", ["pages", "not-sqlite", "zero-length"])
def test_every_page_shows_a_damaged_store_as_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    st = _store_with_sessions(tmp_path)
    for extra in ("-wal", "-shm"):
        Path(str(st.db_path) + extra).unlink(missing_ok=True)
    if damage == "pages":
        _damage_pages(st.db_path, "three")
        expect = "is damaged"
    elif damage == "not-sqlite":
        st.db_path.write_bytes(b"not a database at all " * 400)
        expect = "is damaged"
    else:
        st.db_path.write_bytes(b"")
        expect = "is empty (0 bytes)"
    before = st.db_path.read_bytes()
    _one_error_line_on_every_page(tmp_path, monkeypatch, expect)
    assert st.db_path.read_bytes() == before  # never recreated, never written
    assert sorted(p.name for p in tmp_path.iterdir()) == [store_mod.DB_FILE, store_mod.RECORDINGS_DIR]


@pytest.mark.slow
def test_a_store_damaged_while_the_dashboard_runs_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's Store is already open (the check at open has passed): what it had read
    stays on screen from its cache, and the first read that meets a bad page says so."""
    _store_with_sessions(tmp_path)
    at = _app(tmp_path, monkeypatch)
    at.run()
    at.switch_page("views/session.py").run()
    assert not at.exception and not at.error
    _damage_pages(tmp_path / store_mod.DB_FILE, "three")
    for sid in range(1, 41):  # each session's details are read for the first time
        at.selectbox(key="session_pick").set_value(sid).run()
        assert not at.exception, (sid, at.exception)
        errors = [e.value for e in at.error]
        if errors:
            assert len(errors) == 1 and "is damaged" in errors[0] and "\n" not in errors[0], (sid, errors)
            assert not at.metric  # the error in place of the page, not beside half of it
            break
    else:
        raise AssertionError("no session page met the damaged pages")


def test_a_read_only_data_folder_is_viewable_in_the_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = _store_with_sessions(tmp_path, 3)
    # chmod is what a user does; the probe is patched too because root ignores modes.
    monkeypatch.setattr(store_database, "_writable", lambda folder, db: False)
    os.chmod(st.db_path, 0o444)
    os.chmod(tmp_path, 0o555)
    try:
        for page in ("views/history.py", "views/session.py"):
            at = _app(tmp_path, monkeypatch)
            at.run()
            if page != "views/history.py":
                at.switch_page(page).run()
            assert not at.exception, (page, at.exception)
            assert not at.error, (page, [e.value for e in at.error])
            assert any("3 sessions" in c.value for c in at.sidebar.caption)
        assert any("ht-figures" in h.proto.body for h in at.get("html"))  # the session page shows its numbers
    finally:
        os.chmod(tmp_path, 0o755)
        os.chmod(st.db_path, 0o644)
