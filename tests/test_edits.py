"""Editing sessions end to end: duplicates by content, the bin, dates from the recording,
corrections kept beside detections, and ``holdtrack evaluate --labels`` on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session, sim_recording

from sensor import importer
from sensor.cli import main
from sensor.errors import StoreError
from sensor.files.inputs import read_samples, write_generic_csv
from sensor.routine import RepTarget, Routine, save_routine
from sensor.store import SessionInfo, Store, edits, queries, signature
from sensor.store.dates import epoch_to_utc, recording_start

T0 = datetime(2025, 10, 13, 9, 0, tzinfo=UTC)
VECTORS = Path(__file__).resolve().parent.parent.parent / "shared" / "vectors"


def csv_export(rec: Path, out: Path, *, epoch: float | None = None) -> Path:
    """The recording's samples as the generic CSV (optionally with absolute times)."""
    from sensor.samples import Samples

    _, s, _ = read_samples(rec)
    if epoch is not None:
        s = Samples(s.time_s - s.time_s[0] + epoch, s.imu)
    write_generic_csv(out, s)
    return out


@pytest.mark.slow  # 1.5-3.6 s: out of make check, still in make test
def test_a_duplicate_stored_before_signatures_is_found_marked_and_merged(tmp_path: Path) -> None:
    st = Store(tmp_path / "data")
    rec = sim_recording(tmp_path, 7)
    sid = importer.import_paths(st, [rec]).results[0].session_id
    csv = csv_export(rec, tmp_path / "export.csv")
    # As an older HoldTrack stored it: the CSV as a second session, without a signature.
    from sensor.importer import analyze_file

    a, tr = analyze_file(csv)
    copy = st.add_session(a, SessionInfo(T0, str(csv), str(csv), "legacy-hash", kind="csv"), tr)
    other = session(st, T0, analysis(reps("bridge", 12)))  # different samples (none at all)
    edits.correct_set(st, copy, 0, 9)  # a correction made on the copy moves to the original on merge
    assert edits.find_duplicates(st) == [(copy, sid)]
    rows = {r.id: r for r in queries.sessions(st)}
    assert rows[copy].duplicate_of == sid and rows[sid].duplicate_of is None and rows[other].duplicate_of is None
    assert edits.merge_duplicate(st, copy) == sid
    assert copy not in {r.id for r in queries.sessions(st)}
    assert edits.corrections(st)[sid][0].value == 9
    edits.undo_delete(st, copy)  # merging is undoable like any delete
    assert copy in {r.id for r in queries.sessions(st)}
    with pytest.raises(StoreError, match="not marked as a duplicate"):
        edits.merge_duplicate(st, sid)
    with pytest.raises(StoreError, match="itself"):
        edits.mark_duplicate(st, sid, sid)
    with pytest.raises(StoreError, match="no session 999"):
        edits.mark_duplicate(st, 999, sid)


@pytest.mark.slow
def test_signatures_tell_same_samples_from_similar_ones(tmp_path: Path) -> None:
    rec = sim_recording(tmp_path, 7)
    copy = csv_export(rec, tmp_path / "x.csv", epoch=1.76e9)  # absolute times: same samples
    other = sim_recording(tmp_path, 8)
    a, b, c = (signature.sign_file(p) for p in (rec, copy, other))
    assert a is not None and b is not None and c is not None
    assert a.may_match(b) and signature.same_files(rec, copy)
    assert not a.may_match(c) and not signature.same_files(rec, other)
    back = signature.Signature.from_json(a.to_json())  # as stored with the session
    assert back is not None and back.n == a.n and back.may_match(a)
    assert signature.sign_file(tmp_path / "missing.csv") is None


def test_the_bin_and_re_importing_a_deleted_file(tmp_path: Path) -> None:
    st = Store(tmp_path / "data")
    rec = sim_recording(tmp_path, 7)
    sid = importer.import_paths(st, [rec]).results[0].session_id
    edits.delete_session(st, sid)
    assert st.session_count() == 0 and queries.sessions(st) == [] and queries.recording_paths(st) == []
    assert [x[0] for x in edits.deleted_sessions(st)] == [sid]
    again = importer.import_paths(st, [rec]).results[0]
    assert (again.status, again.session_id) == ("added", sid) and "restored" in again.message
    assert st.session_count() == 1
    with pytest.raises(StoreError, match="no session 42"):
        edits.delete_session(st, 42)


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_dates_come_from_the_recording(tmp_path: Path) -> None:
    st = Store(tmp_path / "data")
    rec = sim_recording(tmp_path, 7)
    # A CSV with absolute times (ms since 1970 here) is dated by its first timestamp.
    first = datetime(2025, 6, 19, 20, 33, 26, tzinfo=UTC).timestamp()
    csv = csv_export(rec, tmp_path / "abs.csv", epoch=first * 1000.0)
    assert recording_start(csv, "csv") == datetime(2025, 6, 19, 20, 33, 26, tzinfo=UTC)
    assert epoch_to_utc(12.5) is None and epoch_to_utc(1.7e18).year == 2023  # relative seconds; ns
    # phyphox keeps the start in meta/time.csv (system time, s).
    folder = tmp_path / "phyphox"
    (folder / "meta").mkdir(parents=True)
    (folder / "meta" / "time.csv").write_text(
        '"event";"experiment time";"system time";"system time text"\n"START";0.0E0;1.750379606798499E9;"x"\n'
    )
    (folder / "Accelerometer.csv").write_text('"Time (s)";"X (m/s^2)"\n0.01;0.1\n')
    assert recording_start(folder, "phone").date().isoformat() == "2025-06-20"  # 00:33 UTC
    if (VECTORS / "sensor_logger").is_dir():  # a real Sensor Logger export: epoch ns in "time"
        sl = next(p for p in sorted((VECTORS / "sensor_logger").iterdir()) if p.name.startswith("android_1.28"))
        assert recording_start(sl, "phone").date().isoformat() == "2024-02-11"
    # A CSV with relative times says nothing: the file time stands in, and the session says so.
    rel = csv_export(rec, tmp_path / "rel.csv")
    sid = importer.import_paths(st, [rel]).results[0].session_id
    row = next(r for r in queries.sessions(st) if r.id == sid)
    assert row.date_source == "file time"
    edits.set_started(st, sid, datetime(2025, 3, 4, 18, 30))
    row = next(r for r in queries.sessions(st) if r.id == sid)
    assert row.date_source == "edited" and row.local_date.isoformat() == "2025-03-04"


@pytest.mark.slow
def test_a_file_on_unix_time_is_shown_in_seconds_into_the_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV with absolute times (as phones write them) keeps its times on its own axis in the
    JSON and the store, but what people read counts from the session's start: the summary
    is word for word the one of the same samples timed from 0, and the stored session knows
    its first sample's time, also after ``reanalyze``."""
    rec = sim_recording(tmp_path, 7)
    first = datetime(2025, 6, 19, 20, 33, 26, tzinfo=UTC).timestamp()
    absolute = csv_export(rec, tmp_path / "absolute.csv", epoch=first)
    relative = csv_export(rec, tmp_path / "relative.csv", epoch=0.0)
    summaries = []
    for path in (absolute, relative):
        assert main(["analyze", str(path)]) == 0
        summaries.append(capsys.readouterr().out.replace(path.name, "FILE"))
    assert summaries[0] == summaries[1] and " min:" in summaries[0] and "reps" in summaries[0]
    assert main(["analyze", "--json", str(absolute)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["start_s"] == pytest.approx(first, abs=1e-6) and out["reps"][0]["start_s"] > first  # the file's own axis

    st = Store(tmp_path / "data")
    sid = importer.import_paths(st, [absolute]).results[0].session_id
    assert sid is not None
    for step in ("imported", "found again"):
        d = queries.session_detail(st, sid)
        assert d is not None and d.detected.start_s == pytest.approx(first, abs=1e-6), step
        assert 0 < d.detected.holds[0].start_s - d.detected.start_s < d.detected.duration_s
        st.replace_analysis(sid, *importer.analyze_file(absolute))  # what reanalyze stores


def test_corrections_sit_beside_the_detected_events(tmp_path: Path) -> None:
    st = Store(tmp_path)
    sid = session(st, T0, analysis(reps("bridge", 11, hold=5.5), [hold("side_plank", None, 300, 28.0)], calibrated=False))
    edits.correct_set(st, sid, 0, 12)
    edits.correct_hold(st, sid, 0, start_s=299.0, end_s=331.0, side="left")
    d = queries.session_detail(st, sid)
    assert d is not None
    assert d.detected.holds[0].side is None and d.detected.holds[0].duration_s == 28.0  # as detected
    h = d.analysis.holds[0]
    assert (h.side, h.start_s, h.end_s, h.duration_s) == ("left", 299.0, 331.0, 32.0)
    assert d.counts == {0: 12} and d.sets[0]["rep_count"] == 11
    row = queries.sessions(st)[0]
    assert (row.bridge_reps, row.bridge_full_sets, row.side_left, row.side_left_ok, row.corrected) == (12, 1, 1, 1, True)
    for bad in (dict(side="up"), dict(start_s=10.0, end_s=5.0)):
        with pytest.raises(StoreError):
            edits.correct_hold(st, sid, 0, **bad)
    with pytest.raises(StoreError, match="no hold 5"):
        edits.correct_hold(st, sid, 4, side="left")
    with pytest.raises(StoreError, match="not possible"):
        edits.correct_set(st, sid, 0, -1)
    assert edits.clear_corrections(st, sid, "hold", 0) == 3
    assert queries.sessions(st)[0].side_unknown == 1


@pytest.mark.slow
def test_evaluate_labels_scores_the_detector_against_the_users_word(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    st = Store(data)
    rec = sim_recording(tmp_path, 11)
    sid = importer.import_paths(st, [rec]).results[0].session_id
    d = queries.session_detail(st, sid)
    assert d is not None and d.sets and d.detected.holds
    n_sets, n_holds = len(d.sets), len(d.detected.holds)
    first = d.sets[0]["rep_count"]
    edits.correct_set(st, sid, 0, first + 1)  # "I did one more"
    h = d.detected.holds[0]
    edits.correct_hold(st, sid, 0, end_s=h.end_s + 2.0)
    assert main(["evaluate", "--labels", "--json", "--data-dir", str(data), "--export-labels", str(tmp_path / "labels")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sessions"] == 1
    assert (out["sets"]["total"], out["sets"]["exact"]) == (n_sets, n_sets - 1)
    assert out["sets"]["reps_labelled"] == out["sets"]["reps_detected"] + 1
    assert out["holds"]["total"] == n_holds
    assert out["holds"]["end_error_s"]["p95"] == pytest.approx(
        float(__import__("numpy").percentile([2.0] + [0.0] * (n_holds - 1), 95)), abs=1e-3
    )
    assert any("counted" in m and f"you said {first + 1}" in m for m in out["misses"])
    # The export is a labelled folder that `holdtrack evaluate DIR` reads like recordings/.
    truth = json.loads((tmp_path / "labels" / f"session-{sid}.truth.json").read_text())
    assert truth["labels"] == "user" and truth["sets"][0]["reps"] == first + 1
    assert main(["evaluate", str(tmp_path / "labels"), "--json", "--jobs", "1"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["summary"]["sessions"] == 1
    assert scored["summary"]["sets"]["total"] == n_sets
    assert any(f"counted {first} of {first + 1}" in m for m in scored["misses"])


def test_evaluate_labels_with_no_corrections_says_how_to_make_some(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--labels", "--data-dir", str(tmp_path)]) == 0
    assert "no labelled sessions yet" in capsys.readouterr().out


def test_analyze_uses_the_saved_targets_and_one_wording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = sim_recording(tmp_path, 7)
    save_routine(Routine(bridge=RepTarget(3.0, 4, 1, 3)), tmp_path / "data")
    assert main(["analyze", str(rec), "--data-dir", str(tmp_path / "data")]) == 0
    text = capsys.readouterr().out
    per_set = [ln for ln in text.splitlines() if "held at the top (s)" in ln]
    summary = [ln for ln in text.splitlines() if ln.strip()[2:].startswith("Hip bridge:")]
    assert per_set and summary
    assert "held 3.0 s or more" in per_set[0] and "held 3.0 s or more" in summary[0]
    # The per-set counts add up to the summary's count: one judgement, one wording.
    import re

    held = sum(int(re.search(r"— (\d+) of", ln).group(1)) for ln in per_set)  # type: ignore[union-attr]
    assert f"{held} of " in summary[0]
    assert "target: 1 set of 4 reps, each held 3.0 s" in summary[0]


def test_history_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = Store(tmp_path)
    assert main(["history", "--data-dir", str(tmp_path)]) == 0
    assert "no sessions yet" in capsys.readouterr().out
    session(st, T0, analysis([r for k in range(3) for r in reps("back_extension", 10, start=k * 150, every=4)]))
    assert main(["history", "--data-dir", str(tmp_path), "--no-demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    week = next(ln for ln in out if ln.startswith("2025-10-13"))
    assert "1 of 3 days" in week and week.rstrip().endswith("–")  # back extensions; the front plank (no goal, not done)
    assert any(ln.startswith("#1") and "to target: Back extension" in ln for ln in out)


def test_an_empty_recording_is_saved_only_when_asked(tmp_path: Path) -> None:
    from sensor.recording import write_recording
    from sensor.saving import save_run
    from sensor.sim.simulate import simulate_session

    st = Store(tmp_path / "data")
    sim = simulate_session(4, short=True)
    cut = sim.samples[: int(9 * sim.header.sample_rate_hz)]  # a Stop after 9 s: standing, nothing done
    path = tmp_path / "stopped.htrec"
    write_recording(path, sim.header, cut)
    result = save_run(st, path, None, discard=False)
    assert result.session_id is None and "not saved" in result.message
    assert st.session_count() == 0 and path.exists()  # the user's file stays: nothing lost
    assert importer.import_recording(st, path).status == "added"  # asked for: kept
    full = sim_recording(tmp_path, 5)
    assert save_run(st, full, None, discard=False).session_id is not None
