"""The session store: schema and migrations, imports, failures that stay contained."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session, sim_recording

from sensor import importer
from sensor import store as store_mod
from sensor.cli import main
from sensor.cli import store as cli_store
from sensor.errors import StoreError
from sensor.events import Analysis, Rep
from sensor.store import MIGRATIONS, SCHEMA_VERSION, Store, data_dir, database, queries
from sensor.store.schema import statements

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def count(st: Store, table: str) -> int:
    assert table in {"sessions", "reps", "holds", "sets", "gaps", "traces", "devices", "corrections"}
    with st.connect() as con:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_new_store_is_wal_with_foreign_keys_and_latest_schema(tmp_path: Path) -> None:
    st = Store(tmp_path)
    assert st.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    with st.connect() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert (tmp_path / "recordings").is_dir()


def test_migration_from_version_1_keeps_the_data(tmp_path: Path) -> None:
    db = tmp_path / store_mod.DB_FILE
    con = sqlite3.connect(db)
    for stmt in statements(MIGRATIONS[0]):
        con.execute(stmt)
    con.execute("PRAGMA user_version = 1")
    con.execute(
        "INSERT INTO sessions (started_utc, local_date, duration_s, source_path, file_path, content_hash, kind,"
        " imported_utc) VALUES ('2025-01-06T08:00:00Z', '2025-01-06', 300, '/a', 'a', 'h1', 'htrec', 'x')"
    )
    con.commit()
    con.close()

    st = Store(tmp_path)
    assert st.schema_version() == store_mod.SCHEMA_VERSION == len(MIGRATIONS)  # every step since
    assert count(st, "sessions") == 1
    assert count(st, "traces") == 0  # the table step 2 added exists and is usable
    with st.connect() as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "sessions_date" in names
    # Step 3: the old session is kept, counted, with no corrections.
    assert count(st, "corrections") == 0 and st.session_count() == 1
    # Step 4: an old session reads as whole (nothing known to be damaged or interrupted).
    with st.connect() as con:
        assert tuple(con.execute("SELECT damaged_blocks, interrupted FROM sessions").fetchone()) == (0, 0)
        # Step 5: not analysed again since it was imported.
        assert con.execute("SELECT reanalysed_utc FROM sessions").fetchone()[0] is None
    # Step 6: its first sample's time is not known: the page counts from 0 (it has no trace).
    d = queries.session_detail(st, 1)
    assert d is not None and d.session["start_s"] == 0.0 and d.detected.start_s == 0.0
    # Step 8: no note yet.
    assert d.session["note"] == "" and d.session["noted_utc"] is None
    # Opening again is a no-op.
    assert Store(tmp_path).schema_version() == len(MIGRATIONS)


def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    Store(tmp_path)
    con = sqlite3.connect(tmp_path / store_mod.DB_FILE)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer than this HoldTrack"):
        Store(tmp_path)


def test_damaged_database_gives_a_clear_store_error(tmp_path: Path) -> None:
    (tmp_path / store_mod.DB_FILE).write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="is damaged") as e:
        Store(tmp_path)
    assert "\n" not in str(e.value)


def test_locked_database_gives_a_clear_store_error_and_changes_nothing(tmp_path: Path) -> None:
    st = Store(tmp_path, timeout_s=0.2)
    session(st, T0, analysis(reps("bridge", 3)))
    rec = sim_recording(tmp_path, 5)
    blocker = sqlite3.connect(tmp_path / store_mod.DB_FILE, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another program"):
            session(st, T0, analysis(reps("bridge", 4)), tag="second")
        # A locked store is not the file's fault: import stops with the StoreError.
        with pytest.raises(StoreError, match="locked"):
            importer.import_paths(st, [rec])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert count(st, "sessions") == 1
    assert count(st, "reps") == 3
    assert list(st.recordings_dir.iterdir()) == []  # the copy of the failed import was removed


def test_import_is_idempotent_by_content(tmp_path: Path) -> None:
    rec = sim_recording(tmp_path, 5)
    st = Store(tmp_path / "data")
    first = importer.import_paths(st, [rec])
    assert [r.status for r in first.results] == ["added"]
    n_reps = count(st, "reps")
    assert n_reps > 0
    copy = tmp_path / "renamed.htrec"
    copy.write_bytes(rec.read_bytes())
    again = importer.import_paths(st, [rec, copy, tmp_path])  # the folder holds the same two files again
    assert {r.status for r in again.results} == {"already"}
    assert count(st, "sessions") == 1
    assert count(st, "reps") == n_reps
    kept = list(st.recordings_dir.glob("*.htrec"))
    assert len(kept) == 1 and kept[0].read_bytes() == rec.read_bytes()


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_imported_session_matches_the_analysis(tmp_path: Path) -> None:
    from sensor.analyze import analyze_path

    rec = sim_recording(tmp_path, 6)
    expected = analyze_path(rec)
    st = Store(tmp_path / "data")
    sid = importer.import_paths(st, [rec]).results[0].session_id
    from sensor.store.queries import session_detail

    d = session_detail(st, sid)
    assert d is not None
    assert [(r.exercise, r.start_s, r.hold_s) for r in d.analysis.reps] == [(r.exercise, r.start_s, r.hold_s) for r in expected.reps]
    assert [(h.exercise, h.side, h.duration_s, h.score) for h in d.analysis.holds] == [
        (h.exercise, h.side, h.duration_s, h.score) for h in expected.holds
    ]
    assert d.session["calibrated"] == int(expected.calibrated)
    assert d.trace is not None and d.trace.hz == 5.0
    assert len(d.trace.deg) == pytest.approx(expected.duration_s * 5, abs=2)


def test_bad_files_fail_alone_with_one_line_each(tmp_path: Path) -> None:
    good = sim_recording(tmp_path, 5)
    corrupt = tmp_path / "corrupt.htrec"
    corrupt.write_bytes(good.read_bytes()[:8] + b"\xff" * 64)  # right magic, then junk
    unknown = tmp_path / "notes.txt"
    unknown.write_text("not imu data\n")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n0,0,0,9.8,0,0,0\n0.01,0,zero,9.8,0,0,0\n")
    st = Store(tmp_path / "data")
    report = importer.import_paths(st, [corrupt, unknown, good, bad_csv, tmp_path / "missing.htrec"])
    status = {r.path.name: r.status for r in report.results}
    assert status == {
        "corrupt.htrec": "failed",
        "notes.txt": "failed",
        "sim5.htrec": "added",
        "bad.csv": "failed",
        "missing.htrec": "failed",
    }
    for r in report.failed:
        assert "\n" not in r.message and r.path.name in r.message
    assert "unknown format" in next(r.message for r in report.failed if r.path == unknown)
    assert "no such file" in next(r.message for r in report.failed if r.path.name == "missing.htrec")
    assert count(st, "sessions") == 1
    assert len(list(st.recordings_dir.iterdir())) == 1


def test_an_analysis_that_cannot_be_stored_leaves_no_partial_rows(tmp_path: Path) -> None:
    rec = sim_recording(tmp_path, 5)
    st = Store(tmp_path / "data")
    session(st, T0, analysis(reps("bridge", 2)))
    # The third rep breaks a NOT NULL constraint after the session row was inserted.
    broken = analysis([*reps("bridge", 2), Rep(None, 50.0, 56.0, 5.0, 56.5)])  # type: ignore[arg-type]
    result = importer.import_file(st, rec, analyzer=lambda p: (broken, None))
    assert result.status == "failed" and "cannot be stored" in result.message
    assert (count(st, "sessions"), count(st, "reps"), count(st, "sets")) == (1, 2, 1)
    assert list(st.recordings_dir.iterdir()) == []


def test_file_names_are_data_not_sql(tmp_path: Path) -> None:
    evil = sim_recording(tmp_path, 5, name="x'); DROP TABLE sessions; --.htrec")
    st = Store(tmp_path / "data")
    assert importer.import_paths(st, [evil]).results[0].status == "added"
    with st.connect() as con:
        assert con.execute("SELECT source_path FROM sessions").fetchone()[0].endswith("DROP TABLE sessions; --.htrec")
    assert count(st, "sessions") == 1


def test_sql_is_parameterized_in_the_store_and_query_layer() -> None:
    """No SQL is built from values: the only formatted statements are our own constants."""
    modules = sorted(Path(store_mod.__file__).parent.glob("*.py"))
    assert {"database.py", "writes.py", "queries.py", "edits.py"} <= {m.name for m in modules}
    for mod in modules:
        src = mod.read_text()
        formatted = re.findall(r'execute\w*\(\s*f"([^"]*)"', src)
        assert all(s.startswith("PRAGMA user_version") for s in formatted), formatted
        assert ".format(" not in src and "% (" not in src


def test_reps_are_grouped_into_sets(tmp_path: Path) -> None:
    st = Store(tmp_path)
    rs = (
        reps("bridge", 12, start=0, every=8)  # one set
        + reps("bridge", 5, start=300, every=8)  # after a > 60 s pause: a new set
        + reps("back_extension", 10, start=345, every=4)  # change of exercise: a new set
    )
    sid = session(st, T0, analysis(rs))
    with st.connect() as con:
        sets = [tuple(r) for r in con.execute("SELECT idx, exercise, rep_count FROM sets WHERE session_id = ? ORDER BY idx", (sid,))]
        per_set = [r[0] for r in con.execute("SELECT count(*) FROM reps WHERE session_id = ? GROUP BY set_id ORDER BY set_id", (sid,))]
    assert sets == [(0, "bridge", 12), (1, "bridge", 5), (2, "back_extension", 10)]
    assert per_set == [12, 5, 10]


def test_deleting_a_session_cascades(tmp_path: Path) -> None:
    st = Store(tmp_path)
    session(st, T0, analysis(reps("bridge", 3), [hold("plank", None, 100, 30)]), demo=True)
    session(st, T0, analysis(reps("bridge", 2)), tag="mine")
    assert st.delete_demo() == 1
    assert (count(st, "sessions"), count(st, "reps"), count(st, "holds"), count(st, "traces")) == (1, 2, 0, 1)


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path / "env"))
    assert data_dir(tmp_path / "flag") == tmp_path / "flag"
    assert data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("HOLDTRACK_DATA_DIR")
    import platformdirs

    assert data_dir(None) == Path(platformdirs.user_data_dir("holdtrack"))


def test_cli_import_reports_each_file_and_exits_nonzero_on_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = sim_recording(tmp_path, 5)
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    data = tmp_path / "data"
    assert main(["import", str(good), "--data-dir", str(data)]) == 0
    out = capsys.readouterr()
    assert "added as session 1" in out.out and "1 added" in out.err
    assert main(["import", str(good), str(bad), "--data-dir", str(data)]) == 1
    out = capsys.readouterr()
    assert "already in the store" in out.out
    assert out.err.count("error:") == 1 and "bad.txt: unknown format" in out.err


def test_dashboard_demo_import_and_remote_host_guard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    sim_recording(demo, 5)
    st = Store(tmp_path / "data")
    msg = cli_store.ensure_demo(st, demo)
    assert msg is not None and "1 demo sessions" in msg
    with st.connect() as con:
        assert con.execute("SELECT demo FROM sessions").fetchone()[0] == 1
    assert cli_store.ensure_demo(st, demo) is None  # not on later starts
    # Listening beyond this computer needs the explicit flag (checked before anything starts).
    assert main(["dashboard", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "d2")]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert not (tmp_path / "d2").exists()
    assert cli_store.is_loopback("127.0.0.1") and cli_store.is_loopback("::1") and not cli_store.is_loopback("192.168.1.2")


def test_analysis_round_trips_through_the_store(tmp_path: Path) -> None:
    st = Store(tmp_path)
    a = analysis(reps("bridge", 3), [hold("side_plank", "left", 200, 31.5, 72.5), hold("side_plank", None, 300, 12.0)])
    sid = session(st, T0, a)
    from sensor.store.queries import session_detail

    d = session_detail(st, sid)
    assert d is not None
    assert d.analysis.to_json()["reps"] == Analysis(a.reps).to_json()["reps"]
    assert [h.side for h in d.analysis.holds] == ["left", None]
    assert d.analysis.holds[0].score == 72.5


def test_cli_module_imports_stay_light() -> None:
    """`holdtrack --help` must not pay for streamlit, pandas or numpy."""
    import subprocess
    import sys

    code = "import sys, sensor.cli.store; print(sorted(m for m in ('streamlit', 'pandas', 'numpy', 'altair') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_phone_export_folder_is_one_session(tmp_path: Path) -> None:
    """Folders are searched; a Sensor Logger export folder inside is imported whole."""
    from sensor.analyze import analyze_path
    from sensor.sim.simulate import simulate_session

    s = simulate_session(8, short=True, rate_hz=50.0, dropouts=False, link_losses=0)
    export = tmp_path / "in" / "phone-2025-03-03"
    export.mkdir(parents=True)
    t_ns = (s.samples.time_s * 1e9).astype("int64") + 1_700_000_000_000_000_000

    def logger_csv(xyz: object) -> str:
        rows = [f"{t},{(t - t_ns[0]) / 1e9},{z},{y},{x}" for t, (x, y, z) in zip(t_ns, xyz.tolist(), strict=True)]  # type: ignore[attr-defined]
        return "time,seconds_elapsed,z,y,x\n" + "\n".join(rows) + "\n"

    (export / "TotalAcceleration.csv").write_text(logger_csv(s.samples.acc))
    (export / "Gyroscope.csv").write_text(logger_csv(s.samples.gyro))
    (export / "Metadata.csv").write_text("version,device name,recording time,platform\n3,Pixel,x,android\n")
    sim_recording(tmp_path / "in", 5)
    st = Store(tmp_path / "data")
    report = importer.import_paths(st, [tmp_path / "in"])
    assert sorted(r.path.name for r in report.results) == ["phone-2025-03-03", "sim5.htrec"]
    assert {r.status for r in report.results} == {"added"}
    with st.connect() as con:
        kind, file_path = con.execute("SELECT kind, file_path FROM sessions WHERE source_path LIKE ?", ("%phone-2025-03-03",)).fetchone()
        n_reps = con.execute("SELECT count(*) FROM reps JOIN sessions s ON s.id = reps.session_id WHERE s.kind = 'phone'").fetchone()[0]
    assert kind == "phone" and file_path.endswith(".zip")
    assert n_reps == len(analyze_path(export).reps) > 0
    assert importer.import_paths(st, [export]).results[0].status == "already"


# -- failure paths: nothing lost, nothing left behind, each said as what it is -----------


@pytest.mark.slow  # 1.5-3.6 s: out of make check, still in make test
def test_concurrent_imports_of_one_file_never_fail_or_leave_parts(tmp_path: Path) -> None:
    import threading

    rec = sim_recording(tmp_path, 5)
    data = tmp_path / "data"
    Store(data)
    results: list[str] = []
    start = threading.Barrier(4)

    def one() -> None:
        st = Store(data)
        start.wait()
        results.extend(r.status for r in importer.import_paths(st, [rec]).results)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == ["added"] + ["already"] * 3, results
    st = Store(data)
    assert [p.suffix for p in st.recordings_dir.iterdir()] == [".htrec"]  # no .part left
    with st.connect() as con:
        [kept] = [st.resolve(r[0]) for r in con.execute("SELECT file_path FROM sessions")]
    assert kept.is_file()  # a losing import never removes the copy the winner points at


def test_a_failed_copy_leaves_no_part_and_no_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import shutil

    rec = sim_recording(tmp_path, 5)
    st = Store(tmp_path / "data")

    def half_copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:1000])
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(shutil, "copyfile", half_copy)
    [res] = importer.import_paths(st, [rec]).results
    assert res.status == "failed" and "Input/output error" in res.message
    assert list(st.recordings_dir.iterdir()) == [] and count(st, "sessions") == 0

    def disk_full(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    with pytest.raises(StoreError, match=r"^disk full writing .*recordings") as e:
        importer.import_paths(st, [rec])
    assert "\n" not in str(e.value) and rec.name in str(e.value)  # the store's problem, not the file's
    assert list(st.recordings_dir.iterdir()) == [] and count(st, "sessions") == 0


def test_an_empty_database_is_refused_never_recreated(tmp_path: Path) -> None:
    st = Store(tmp_path)
    session(st, T0, analysis(reps("bridge", 3)))
    db = tmp_path / store_mod.DB_FILE
    for extra in ("-wal", "-shm"):
        (tmp_path / (store_mod.DB_FILE + extra)).unlink(missing_ok=True)
    db.write_bytes(b"")
    with pytest.raises(StoreError, match=r"is empty \(0 bytes\).*will not start a new one") as e:
        Store(tmp_path)
    assert "\n" not in str(e.value)
    assert db.stat().st_size == 0  # left as it was for the user to look at
    # A brand-new folder still gets a new database, never an empty file on the way.
    fresh = Store(tmp_path / "new")
    assert fresh.db_path.stat().st_size > 0 and fresh.schema_version() == SCHEMA_VERSION
    assert sorted(p.name for p in (tmp_path / "new").iterdir() if p.name.startswith(".new-")) == []


def test_damaged_pages_give_one_line_from_queries(tmp_path: Path) -> None:
    from sensor.routine import Routine
    from sensor.store import queries, weeks

    st = Store(tmp_path)
    for i in range(40):
        session(st, T0, analysis(reps("bridge", 12), [hold("plank", None, 100.0, 30.0)]), tag=str(i))
    with st.connect() as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = int(con.execute("PRAGMA page_size").fetchone()[0])
        pages = int(con.execute("PRAGMA page_count").fetchone()[0])
    assert pages > 8
    raw = bytearray(st.db_path.read_bytes())
    for k in (pages // 2, pages // 2 + 1, pages - 2):  # three pages of table data
        raw[k * page : (k + 1) * page] = b"\xa5" * page
    st.db_path.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match="is damaged") as e:
        st2 = Store(tmp_path)
        queries.sessions(st2, Routine())
        weeks.weekly_trends(st2)
        for sid in range(1, 41):
            queries.session_detail(st2, sid)
        with st2.connect() as con:
            con.execute("PRAGMA integrity_check").fetchall()
            raise AssertionError("three damaged pages went unnoticed")
    assert "\n" not in str(e.value)


def test_a_read_only_data_folder_can_be_viewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    st = Store(tmp_path)
    session(st, T0, analysis(reps("bridge", 3)))
    rec = sim_recording(tmp_path / "in", 5)
    # chmod is what a user does; the probe is patched too because root ignores modes.
    monkeypatch.setattr(database, "_writable", lambda folder, db: False)
    os.chmod(st.db_path, 0o444)
    os.chmod(tmp_path, 0o555)
    try:
        ro = Store(tmp_path)
        assert ro.read_only and ro.session_count() == 1
        with pytest.raises(StoreError, match="cannot be written \\(the data folder is read-only: viewing only\\)"):
            session(ro, T0, analysis(reps("bridge", 4)), tag="new")
        with pytest.raises(StoreError):
            importer.import_paths(ro, [rec])
    finally:
        os.chmod(tmp_path, 0o755)
        os.chmod(st.db_path, 0o644)
    assert Store(tmp_path).session_count() == 1
