"""``holdtrack reanalyze``: today's detector over the kept files, so that a better detector
also corrects the history; the user's corrections are never overwritten."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from store_builders import sim_recording

from sensor import importer
from sensor.analyze import analyze_path
from sensor.cli import main
from sensor.events import Analysis
from sensor.settings import PipelineSettings
from sensor.store import Store, edits, queries
from sensor.trace import Trace
from tests.test_vectors import VECTORS

# The detector before the rep turn and jolt checks (tests/test_rep_checks.py): an older version's analysis.
OLD = PipelineSettings(detector=replace(PipelineSettings().detector, rep_min_turn_frac=-math.inf, rep_max_jolt_mps2=math.inf))


def old_analyzer(path: Path) -> tuple[Analysis, Trace | None]:
    return importer._with_trace(analyze_path(path, settings=replace(OLD, trace_hz=importer.TRACE_HZ)))


def reps_of(st: Store, sid: int) -> int:
    d = queries.session_detail(st, sid)
    assert d is not None
    return len(d.detected.reps)


def test_a_bus_ride_imported_by_an_older_detector_is_corrected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = Store(tmp_path)
    bus = importer.import_file(st, VECTORS / "phyphox" / "custom_experiment_bus_to_home.zip", analyzer=old_analyzer)
    sim = importer.import_file(st, sim_recording(tmp_path, 21))
    assert bus.session_id is not None and sim.session_id is not None
    assert reps_of(st, bus.session_id) >= 10  # back extensions on a bus
    expected_sim = reps_of(st, sim.session_id)
    before = st.revision()

    assert main(["reanalyze", "--data-dir", str(tmp_path), "--dry-run"]) == 0
    assert reps_of(st, bus.session_id) >= 10 and st.revision() == before
    assert main(["reanalyze", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert f"session {bus.session_id}: " in out.out and "-> 0 reps" in out.out
    assert f"session {sim.session_id}: unchanged" in out.out
    assert "1 changed, 1 unchanged, 0 kept, 0 failed" in out.err
    assert reps_of(st, bus.session_id) == 0 and reps_of(st, sim.session_id) == expected_sim > 0
    assert st.revision() != before  # the dashboard's cache sees it
    row = next(r for r in queries.sessions(st) if r.id == bus.session_id)
    assert row.back_extension_reps == 0  # history and adherence read the new events


def test_a_session_with_corrections_keeps_its_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = Store(tmp_path)
    bus = importer.import_file(st, VECTORS / "phyphox" / "custom_experiment_bus_to_home.zip", analyzer=old_analyzer)
    assert bus.session_id is not None
    n = reps_of(st, bus.session_id)
    edits.correct_set(st, bus.session_id, 0, 4)  # the user's word on the events they saw
    assert main(["reanalyze", "--data-dir", str(tmp_path), str(bus.session_id)]) == 0
    assert "kept as it is (it has your corrections)" in capsys.readouterr().out
    assert reps_of(st, bus.session_id) == n


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
