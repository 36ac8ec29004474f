"""A run that ends is saved as a session, or says in one line why not (issue 20, item 6): a
run that holds the samples of a stored session is not "saved as session N" but names that
one; a run of the Live page that saves nothing leaves nothing hidden in the data folder; and
``holdtrack record`` saves to the history as the Live page does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_same_samples import quiet_plank, recording

from sensor.analyze import analyze_path
from sensor.cli import main
from sensor.live import LiveSession
from sensor.saving import save_run
from sensor.sources import make_source
from sensor.store import Store, queries

RECORD = ["record", "--source", "sim:9", "--speed", "50", "--duration", "90"]  # 3 bridges in it


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.slow
def test_a_run_that_repeats_a_stored_session_names_it_and_leaves_no_file(tmp_path: Path) -> None:
    st = Store(tmp_path / "data")
    sim = tmp_path / "sim.htrec"
    assert main([*RECORD, "--out", str(sim), "--data-dir", str(tmp_path / "other")]) == 0
    first = st.recordings_dir / "2026-01-01T10-00-00Z_sim.htrec"
    first.write_bytes(sim.read_bytes())
    done = save_run(st, first, analyze_path(first), discard=True)
    assert (done.session_id, done.message) == (1, "saved as session 1")
    # The same samples again, in a new file of the Live page (another header time, another name).
    again = st.recordings_dir / "2026-01-01T11-00-00Z_sim.htrec"
    from sensor.recording import read_header, read_recording, write_recording

    h = read_header(sim)
    h.created_utc = "2026-01-01T11:00:00Z"
    write_recording(again, h, read_recording(sim).samples)
    done = save_run(st, again, analyze_path(again), discard=True)
    assert (done.session_id, done.same_as) == (None, 1)
    assert done.message == "not saved: this run holds the same samples as session 1, saved before"
    assert not again.exists() and files_in(st.recordings_dir) == [first.name]  # only session 1's file
    assert [r.id for r in queries.sessions(st)] == [1]
    # The very file saved before is its session: said so, and kept.
    assert save_run(st, first, analyze_path(first), discard=True).message == "saved as session 1" and first.exists()


@pytest.mark.slow
def test_a_live_run_that_saves_nothing_leaves_nothing_behind(tmp_path: Path) -> None:
    """A Stop after a moment of standing: nothing detected, nothing saved, no file left in the
    data folder where Replay and History would never show it."""
    st = Store(tmp_path / "data")
    live = LiveSession(
        make_source("sim:4", speed=1.0),
        recordings_dir=st.recordings_dir,
        on_finished=lambda p, a: save_run(st, p, a, discard=True).message,
    )
    live.start()
    assert live.wait_for_data(60)
    live.stop()
    assert live.wait(60)
    snap = live.snapshot()
    assert snap.error is None and snap.saved is not None and snap.saved.startswith("not saved: nothing was detected in"), snap
    assert files_in(st.recordings_dir) == [] and st.session_count() == 0


def test_an_empty_recording_of_the_user_stays(tmp_path: Path) -> None:
    """Nothing detected in the user's own file (not the data folder's): not saved, not removed."""
    st = Store(tmp_path / "data")
    mine = recording(tmp_path / "plank.htrec", quiet_plank(1, 12.0, seconds=9.0), "2025-03-03T07:00:00Z")
    done = save_run(st, mine, None, discard=False)
    assert done.session_id is None and done.message == "not saved: nothing was detected in 9 s"
    assert mine.exists() and st.session_count() == 0


@pytest.mark.slow
def test_record_saves_the_run_into_the_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    out = tmp_path / "run.htrec"
    assert main([*RECORD, "--out", str(out), "--data-dir", str(data)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[-1] == "history: saved as session 1"
    st = Store(data)
    d = queries.session_detail(st, 1)
    assert d is not None and d.trace is not None and len(d.trace.deg) > 0  # the page's timeline, as the Live page saves it
    assert d.session["source_path"] == str(out.resolve()) and out.exists()  # kept by the store as a copy; the user's file stays
    found = analyze_path(out)
    assert (len(d.detected.reps), len(d.detected.holds)) == (len(found.reps), len(found.holds))
    # The run replayed and recorded again: the same samples, named, not saved twice.
    again = tmp_path / "again.htrec"
    assert main(["record", "--source", f"replay:{out}", "--speed", "50", "--out", str(again), "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "history: not saved: this run holds the same samples as session 1, saved before"
    assert again.exists() and st.session_count() == 1


@pytest.mark.slow
def test_record_says_in_one_line_why_a_run_is_not_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short.htrec"
    assert (
        main(["record", "--source", "sim:9", "--speed", "50", "--duration", "2", "--out", str(short), "--data-dir", str(tmp_path / "d")])
        == 0
    )
    last = capsys.readouterr().out.splitlines()[-1]  # the stop comes with a chunk: about 2 s of stream, more on a busy host
    assert re.fullmatch(
        rf"history: not saved: nothing was detected in \d+ s \(holdtrack import {re.escape(str(short))} adds it anyway\)", last
    ), last
    assert short.exists()
    # A store that cannot be used: one line, exit 4, the recording kept.
    (tmp_path / "not-a-folder").write_text("x")
    out = tmp_path / "run.htrec"
    assert main([*RECORD, "--out", str(out), "--data-dir", str(tmp_path / "not-a-folder")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith("holdtrack: error: not saved to history: ") and err[0].endswith(f"the recording is kept: {out}")
    )
    assert out.exists()
