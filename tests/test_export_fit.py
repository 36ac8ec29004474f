"""``holdtrack export REC --fit``: decoded back with Garmin's own FIT SDK (``garmin-fit-sdk``,
a different code base from the writer), the file holds the sets and reps ``analyze`` finds."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from garmin_fit_sdk import Decoder, Stream
from store_builders import sim_recording

from sensor.analyze import analyze_path
from sensor.cli import main
from sensor.events import Analysis
from sensor.recording import read_header
from sensor.routine import group_sets

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "recordings").glob("*.htrec"))[:2]
PHONE = ROOT.parent / "shared" / "vectors" / "sensor_logger" / "ios_1.11_2022-11-07_21-41-08_head"
# Garmin's decoder names: the FIT profile's exercise categories and set types.
CATEGORY = {"bridge": "hip_raise", "back_extension": "hyperextension", "plank": "plank", "side_plank": "plank"}


def decode(path: Path) -> dict[str, Any]:
    assert Decoder(Stream.from_file(str(path))).check_integrity(), "bad FIT header or CRC"
    messages, errors = Decoder(Stream.from_file(str(path))).read()
    assert errors == []
    return messages


@functools.lru_cache(maxsize=4)
def analysis_of(rec: Path) -> Analysis:
    """``analyze``'s result for a file the test does not change (computed once per file)."""
    return analyze_path(rec)


def expected_sets(rec: Path) -> list[tuple[str, int | None, float]]:
    """(category, reps or None for a hold, duration s) from ``analyze``, in time order."""
    a = analysis_of(rec)
    rows = []
    for members in group_sets(a.reps):
        reps = [a.reps[i] for i in members]
        rows.append((reps[0].start_s, CATEGORY[reps[0].exercise], len(reps), max(r.end_s for r in reps) - reps[0].start_s))
    rows += [(h.start_s, CATEGORY[h.exercise], None, h.duration_s) for h in a.holds]
    return [r[1:] for r in sorted(rows)]


@pytest.mark.parametrize("rec", [*SAMPLES, None], ids=[p.stem for p in SAMPLES] + ["fresh-sim"])
def test_fit_decodes_into_the_sets_and_reps_analyze_finds(rec: Path | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = rec or sim_recording(tmp_path, 31337)  # a seed never used for tuning
    out = tmp_path / "session.fit"
    assert main(["export", str(rec), "--fit", str(out)]) == 0
    want = expected_sets(rec)
    assert f"wrote {len(want)} sets" in capsys.readouterr().out
    m = decode(out)
    assert m["file_id_mesgs"][0]["type"] == "activity"
    active = [s for s in m["set_mesgs"] if s["set_type"] == "active"]
    got = [(s["category"], s.get("repetitions"), s["duration"]) for s in active]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert [g[2] for g in got] == pytest.approx([w[2] for w in want], abs=1e-3)  # FIT stores ms
    assert sum(1 for w in want if w[1] is not None) >= 2 and any(w[1] is None for w in want)
    # Rests fill the time between sets; each set starts where the one before it (or its rest) ended.
    kinds = [s["set_type"] for s in m["set_mesgs"]]
    assert all(a != b for a, b in pairwise(kinds))  # active and rest alternate
    assert [s["message_index"] for s in m["set_mesgs"]] == list(range(len(kinds)))
    (session,) = m["session_mesgs"]
    assert (session["sport"], session["sub_sport"]) == ("training", "strength_training")
    assert session["total_reps"] == len(analysis_of(rec).reps)
    # Dated by the recording's header; the first set starts after the session does.
    start = datetime.strptime(read_header(rec).created_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert session["start_time"] == start
    assert session["start_time"] <= active[0]["start_time"] <= active[-1]["timestamp"] <= session["timestamp"]
    assert m["activity_mesgs"][0]["num_sessions"] == 1


def test_fit_of_a_real_phone_export_dates_it_from_its_unix_times(tmp_path: Path) -> None:
    """A Sensor Logger export (real phone data, no workout in it): a valid activity with no
    sets, dated by the export's own Unix timestamps."""
    assert PHONE.exists(), f"{PHONE} missing (the shared test vectors)"
    out = tmp_path / "phone.fit"
    assert main(["export", str(PHONE), "--fit", str(out)]) == 0
    m = decode(out)
    a = analyze_path(PHONE)
    assert len(m.get("set_mesgs", [])) == len(group_sets(a.reps)) + len(a.holds)
    (session,) = m["session_mesgs"]
    assert session["start_time"].year == 2022 and session["start_time"].month == 11
    assert session["total_elapsed_time"] == pytest.approx(a.duration_s, abs=0.01)


def test_export_says_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = sim_recording(tmp_path, 3)
    assert main(["export", str(rec)]) != 0
    assert "--csv OUT.csv and/or --fit OUT.fit" in capsys.readouterr().err
    assert main(["export", str(rec), "--fit", str(tmp_path / "no" / "dir.fit")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot write" in err and "dir.fit" in err
