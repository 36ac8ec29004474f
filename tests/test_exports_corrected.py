"""Every export carries what the user corrected: a set's count, a hold's start, end and
side. Checked by decoding each file: the CSVs with ``csv``, the JSON with ``json`` and the
FIT with Garmin's own SDK (``garmin-fit-sdk``), from the dashboard's functions and from
``holdtrack export``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from garmin_fit_sdk import Decoder, Stream
from store_builders import analysis, hold, reps, session, sim_recording

from dashboard import data as dash_data
from dashboard import exports
from sensor import importer
from sensor.cli import main
from sensor.routine import group_sets
from sensor.store import Store, edits, queries


def fit_messages(blob: bytes) -> dict[str, Any]:
    stream = Stream.from_byte_array(bytearray(blob))
    assert Decoder(stream).check_integrity(), "bad FIT header or CRC"
    messages, errors = Decoder(Stream.from_byte_array(bytearray(blob))).read()
    assert errors == []
    return messages


def active_sets(m: dict[str, Any]) -> list[tuple[str, int | None, float]]:
    return [(s["category"], s.get("repetitions"), round(s["duration"], 3)) for s in m["set_mesgs"] if s["set_type"] == "active"]


@pytest.fixture()
def corrected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, int]:
    """A session of 14 bridges (one set) and 10 + 10 back extensions; the user says the
    bridge set was 12, the second back-extension set 8, and the side plank (detected 20 s,
    side unknown) was a left one held from 300 s to 331 s."""
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    st = Store(tmp_path)
    rs = reps("bridge", 14, start=10) + [r for k in range(2) for r in reps("back_extension", 10, start=200 + 100 * k, every=4)]
    sid = session(st, datetime(2026, 3, 2, 9, tzinfo=UTC), analysis(rs, [hold("side_plank", None, 500, 20)], duration=700))
    edits.correct_set(st, sid, 0, 12)
    edits.correct_set(st, sid, 2, 8)
    edits.correct_hold(st, sid, 0, start_s=500.0, end_s=531.0, side="left")
    return st, sid


def test_session_csv_and_json_carry_the_corrections(corrected: tuple[Store, int]) -> None:
    st, sid = corrected
    d = queries.session_detail(st, sid)
    assert d is not None
    rows = list(csv.DictReader(io.StringIO(dash_data.export_csv(d))))
    by_set = {(r["exercise"], r["set"]): r["set_reps_counted"] for r in rows if r["kind"] == "rep"}
    assert by_set == {("bridge", "1"): "12", ("back_extension", "1"): "10", ("back_extension", "2"): "8"}
    (side,) = [r for r in rows if r["kind"] == "hold"]
    assert (side["side"], float(side["start_s"]), float(side["duration_s"]), side["corrected"]) == ("left", 500.0, 31.0, "True")

    obj = json.loads(dash_data.export_json(d))
    assert [(s["exercise"], s["rep_count"], s["reps_counted"], s["corrected"]) for s in obj["sets"]] == [
        ("bridge", 14, 12, True),
        ("back_extension", 10, 10, False),
        ("back_extension", 10, 8, True),
    ]
    (h,) = obj["holds"]
    assert (h["side"], h["start_s"], h["end_s"], h["duration_s"]) == ("left", 500.0, 531.0, pytest.approx(31.0))
    assert obj["detected_holds"]["0"]["duration_s"] == pytest.approx(20.0) and obj["detected_holds"]["0"]["side"] is None


def test_history_exports_carry_the_corrections_and_write_integers(corrected: tuple[Store, int]) -> None:
    st, sid = corrected
    text = exports.history_csv(st)
    rows = list(csv.DictReader(io.StringIO(text)))
    counted = {(r["exercise"], r["set"]): int(r["set_reps_counted"]) for r in rows if r["kind"] == "rep"}
    assert counted == {("bridge", "1"): 12, ("back_extension", "1"): 10, ("back_extension", "2"): 8}
    # Whole numbers as integers, wherever they are: the session id, sets, reps in a set.
    for r in rows:
        for col in ("session", "set", "rep_in_set", "set_reps_detected", "set_reps_counted"):
            assert "." not in r[col], (col, r[col])
    assert rows[0]["session"] == str(sid) and rows[0]["set"] == "1" and rows[0]["rep_in_set"] == "1"
    (side,) = [r for r in rows if r["kind"] == "hold"]
    assert side["side"] == "left" and float(side["duration_s"]) == 31.0

    (s,) = json.loads(exports.history_json(st))["sessions"]
    assert [x["reps_counted"] for x in s["sets"]] == [12, 10, 8] and s["holds"][0]["side"] == "left"


def test_the_dashboard_fit_carries_the_corrections(corrected: tuple[Store, int]) -> None:
    st, sid = corrected
    d = queries.session_detail(st, sid)
    assert d is not None
    m = fit_messages(exports.session_fit(d))
    assert active_sets(m) == [("hip_raise", 12, 110.0), ("hyperextension", 10, 42.0), ("hyperextension", 8, 42.0), ("plank", None, 31.0)]
    assert m["session_mesgs"][0]["total_reps"] == 30  # 12 + 10 + 8, not the 34 detected
    plank = [s for s in m["set_mesgs"] if s["set_type"] == "active"][-1]
    assert plank["start_time"] == datetime(2026, 3, 2, 9, 8, 20, tzinfo=UTC)  # 500 s in, as corrected


def test_a_set_corrected_to_no_reps_is_not_in_the_fit(corrected: tuple[Store, int]) -> None:
    st, sid = corrected
    edits.correct_set(st, sid, 1, 0)
    d = queries.session_detail(st, sid)
    assert d is not None
    m = fit_messages(exports.session_fit(d))
    assert [(c, n) for c, n, _ in active_sets(m)] == [("hip_raise", 12), ("hyperextension", 8), ("plank", None)]


@pytest.mark.slow
def test_cli_export_of_a_stored_recording_carries_its_corrections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``holdtrack export REC --fit`` writes what the dashboard's button writes, whether REC
    is the file the user imported or the copy in the data folder; a file the store does not
    hold is exported as analysed."""
    folder = tmp_path / "data"
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(folder))
    rec = sim_recording(tmp_path, 808)
    st = Store(folder)
    sid = importer.import_recording(st, rec).session_id
    assert sid is not None
    d = queries.session_detail(st, sid)
    assert d is not None
    sets = group_sets(d.detected.reps)
    assert len(sets) >= 2, "the simulated session needs two sets of reps"
    detected = len(sets[0])
    edits.correct_set(st, sid, 0, detected + 3)
    d = queries.session_detail(st, sid)
    assert d is not None
    page = fit_messages(exports.session_fit(d))

    kept = st.resolve(str(d.session["file_path"]))
    for source in (rec, kept):
        out = tmp_path / f"{source.stem}-cli.fit"
        assert main(["export", str(source), "--fit", str(out)]) == 0
        assert f"(stored session {sid}, with your corrections)" in capsys.readouterr().out
        cli = fit_messages(out.read_bytes())
        assert active_sets(cli) == active_sets(page)
        assert active_sets(cli)[0][1] == detected + 3
        assert cli["session_mesgs"][0]["total_reps"] == len(d.detected.reps) + 3

    other = sim_recording(tmp_path, 809)  # never imported: as analysed, no note
    assert main(["export", str(other), "--fit", str(tmp_path / "other.fit")]) == 0
    assert "stored session" not in capsys.readouterr().out


def test_cli_export_makes_no_store_where_there_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path / "nothing-here"))
    rec = sim_recording(tmp_path, 810)
    assert main(["export", str(rec), "--fit", str(tmp_path / "x.fit")]) == 0
    assert not (tmp_path / "nothing-here").exists()
