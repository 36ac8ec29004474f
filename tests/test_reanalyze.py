"""``holdtrack reanalyze``: today's detector over the kept files, so that a better detector
also corrects the history; the user's corrections are never overwritten."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from store_builders import sim_recording

from sensor import importer
from sensor.cli import main
from sensor.events import Analysis, Rep
from sensor.store import Store, edits, queries
from sensor.trace import Trace
from tests.test_vectors import VECTORS


def old_analyzer(path: Path) -> tuple[Analysis, Trace | None]:
    """An older detector's analysis: it read the bus braking as a set of seven back
    extensions (before the rep checks, and before the fused elevation stopped taking the
    accelerometer's change across a 5-Hz phone's dropouts for turns)."""
    a, trace = importer.analyze_file(path)
    t0 = a.start_s + 60.0
    fake = [Rep("back_extension", t0 + 3.0 * k, t0 + 3.0 * k + 1.2, 0.0, t0 + 3.0 * k + 1.3, 12.0) for k in range(7)]
    return replace(a, reps=fake + a.reps), trace


def reps_of(st: Store, sid: int) -> int:
    d = queries.session_detail(st, sid)
    assert d is not None
    return len(d.detected.reps)


@pytest.mark.slow
def test_a_bus_ride_imported_by_an_older_detector_is_corrected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = Store(tmp_path)
    bus = importer.import_file(st, VECTORS / "phyphox" / "custom_experiment_bus_to_home.zip", analyzer=old_analyzer)
    sim = importer.import_file(st, sim_recording(tmp_path, 21))
    assert bus.session_id is not None and sim.session_id is not None
    assert reps_of(st, bus.session_id) == 7  # back extensions on a bus
    expected_sim = reps_of(st, sim.session_id)
    before = st.revision()

    assert main(["reanalyze", "--data-dir", str(tmp_path), "--dry-run"]) == 0
    assert reps_of(st, bus.session_id) >= 5 and st.revision() == before
    assert main(["reanalyze", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert f"session {bus.session_id}: " in out.out and "-> 0 reps" in out.out
    assert f"session {sim.session_id}: unchanged" in out.out
    assert "1 changed, 1 unchanged, 0 kept, 0 failed" in out.err
    assert reps_of(st, bus.session_id) == 0 and reps_of(st, sim.session_id) == expected_sim > 0
    assert st.revision() != before  # the dashboard's cache sees it
    row = next(r for r in queries.sessions(st) if r.id == bus.session_id)
    assert row.back_extension_reps == 0  # history and adherence read the new events


def test_a_corrected_set_that_would_be_gone_keeps_the_sessions_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = Store(tmp_path)
    bus = importer.import_file(st, VECTORS / "phyphox" / "custom_experiment_bus_to_home.zip", analyzer=old_analyzer)
    assert bus.session_id is not None
    n = reps_of(st, bus.session_id)
    edits.correct_set(st, bus.session_id, 0, 4)  # the user's word on the events they saw
    assert main(["reanalyze", "--data-dir", str(tmp_path), str(bus.session_id)]) == 0
    assert "kept as it is (your corrections refer to sets or holds it would no longer have)" in capsys.readouterr().out
    assert reps_of(st, bus.session_id) == n and len(edits.corrections(st)[bus.session_id]) == 1


def _with_a_false_start(path: Path) -> tuple[Analysis, Trace | None]:
    """An older detector that also saw a back-extension set and a plank in the first seconds:
    every real set and hold sits one index later than today's."""
    a, trace = importer.analyze_file(path)
    t0 = a.start_s
    fake = [Rep("back_extension", t0 + 0.2 + k, t0 + 0.9 + k, 0.0, t0 + 1.0 + k, 12.0) for k in range(2)]
    plank = replace(a.holds[0], exercise="plank", side=None, start_s=t0 + 3.0, end_s=t0 + 6.0, duration_s=3.0, detected_at_s=t0 + 3.2)
    return replace(a, reps=fake + a.reps, holds=[plank, *a.holds]), trace


@pytest.mark.slow
@pytest.mark.parametrize("also_the_false_set", [False, True])
def test_corrections_move_with_their_sets_and_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str], also_the_false_set: bool) -> None:
    """The user corrected the first real set's count and the first real hold's side and
    end; today's detector drops the false start, so both are one index earlier: the
    corrections follow them and say the same of the same events. A correction of the false
    set itself has nowhere to go: the session keeps its old events and corrections."""
    st = Store(tmp_path)
    sid = importer.import_file(st, sim_recording(tmp_path, 21), analyzer=_with_a_false_start).session_id
    assert sid is not None
    old = queries.session_detail(st, sid)
    assert old is not None and old.sets[0]["exercise"] == "back_extension" and old.detected.holds[0].exercise == "plank"
    real_set = old.sets[1]
    hold = old.detected.holds[1]
    edits.correct_set(st, sid, 1, real_set["rep_count"] + 1)
    edits.correct_hold(st, sid, 1, end_s=hold.end_s - 1.0, side="left" if hold.side != "left" else "right")
    if also_the_false_set:
        edits.correct_set(st, sid, 0, 0)
    before = queries.session_detail(st, sid)
    assert before is not None

    assert main(["reanalyze", "--data-dir", str(tmp_path), str(sid)]) == 0
    out = capsys.readouterr().out
    after = queries.session_detail(st, sid)
    assert after is not None
    if also_the_false_set:
        assert "kept as it is" in out
        assert after.detected == before.detected and after.corrections == before.corrections
        return
    assert "your corrections moved with their sets and holds" in out
    assert len(after.sets) == len(old.sets) - 1 and len(after.detected.holds) == len(old.detected.holds) - 1
    assert {(c.target, c.idx) for c in after.corrections} == {("set", 0), ("hold", 0)}
    assert after.counts == {0: real_set["rep_count"] + 1}  # the same set, now the first
    assert after.analysis.holds[0] == before.analysis.holds[1]  # the same hold as the user said it was


@pytest.mark.slow
def test_a_missing_file_fails_its_session_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = Store(tmp_path)
    a = importer.import_file(st, sim_recording(tmp_path, 21, "a.htrec"))
    b = importer.import_file(st, sim_recording(tmp_path, 22, "b.htrec"))
    assert a.session_id is not None and b.session_id is not None
    kept = next(Path(p) for sid, _, p, _ in queries.recording_paths(st) if sid == a.session_id)
    kept.unlink()
    assert main(["reanalyze", "--data-dir", str(tmp_path), str(a.session_id), str(b.session_id), "999"]) == 1
    captured = capsys.readouterr()
    assert f"error: session {a.session_id}: " in captured.err and "error: session 999: no such session" in captured.err
    assert f"session {b.session_id}: unchanged" in captured.out
