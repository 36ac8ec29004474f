"""Whole-history CSV/JSON and a stored session as FIT (decoded with Garmin's SDK)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from garmin_fit_sdk import Decoder, Stream
from store_builders import analysis, hold, reps, session

from dashboard import exports
from sensor import importer
from sensor.store import Store, queries


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    st = Store(tmp_path)
    ext = [r for k in range(2) for r in reps("back_extension", 10, start=10 + 100 * k, every=4)]
    session(st, datetime(2026, 3, 2, 9, tzinfo=UTC), analysis(ext, [hold("side_plank", "left", 300, 31)]), tag="a")
    session(st, datetime(2026, 3, 4, 9, tzinfo=UTC), analysis(reps("bridge", 12), []), tag="b")
    session(st, datetime(2026, 3, 5, 9, tzinfo=UTC), analysis(reps("bridge", 5), []), demo=True, tag="demo")
    return st


def test_history_csv_has_every_rep_and_hold_of_every_session(store: Store) -> None:
    df = pd.read_csv(io.StringIO(exports.history_csv(store)))
    assert list(df.columns[:5]) == ["session", "date", "started_utc", "kind", "exercise"]
    assert len(df) == 20 + 1 + 12  # demo sessions are left out unless asked for
    by = df.groupby("session")["kind"].value_counts().to_dict()
    ids = sorted(df["session"].unique())
    assert by[(ids[0], "rep")] == 20 and by[(ids[0], "hold")] == 1 and by[(ids[1], "rep")] == 12
    assert sorted(df.loc[df.session == ids[0], "set"].dropna().unique()) == [1, 2]
    assert list(df["date"].unique()) == ["2026-03-02", "2026-03-04"]
    assert len(pd.read_csv(io.StringIO(exports.history_csv(store, include_demo=True)))) == 38


def test_history_json_is_each_session_page_export(store: Store) -> None:
    obj = json.loads(exports.history_json(store))
    assert [len(s["reps"]) for s in obj["sessions"]] == [20, 12]
    first = obj["sessions"][0]
    assert first["holds"][0]["side"] == "left" and first["holds"][0]["duration_s"] == pytest.approx(31.0)
    assert len(first["sets"]) == 2 and first["session"]["started_utc"] == "2026-03-02T09:00:00Z"


def test_a_stored_session_as_fit_has_its_sets(store: Store, tmp_path: Path) -> None:
    sid = min(r.id for r in queries.sessions(store))
    d = queries.session_detail(store, sid)
    assert d is not None
    path = tmp_path / "s.fit"
    path.write_bytes(exports.session_fit(d))
    assert Decoder(Stream.from_file(str(path))).check_integrity()
    m, errors = Decoder(Stream.from_file(str(path))).read()
    assert errors == []
    active = [s for s in m["set_mesgs"] if s["set_type"] == "active"]
    assert [(s["category"], s.get("repetitions")) for s in active] == [("hyperextension", 10), ("hyperextension", 10), ("plank", None)]
    assert m["session_mesgs"][0]["start_time"] == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert active[-1]["duration"] == pytest.approx(31.0, abs=1e-3)


def test_the_session_page_fit_is_the_cli_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same sets, reps, durations and start times from the store as from the recording."""
    from store_builders import sim_recording

    from sensor.cli import main

    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path / "data"))
    rec = sim_recording(tmp_path, 808)
    st = Store(tmp_path / "data")
    res = importer.import_recording(st, rec)
    d = queries.session_detail(st, res.session_id)
    assert d is not None
    (tmp_path / "page.fit").write_bytes(exports.session_fit(d))
    assert main(["export", str(rec), "--fit", str(tmp_path / "cli.fit")]) == 0

    def sets(name: str) -> list[tuple[Any, ...]]:
        m, errors = Decoder(Stream.from_file(str(tmp_path / name))).read()
        assert errors == []
        return [(s["set_type"], s["start_time"], s.get("category"), s.get("repetitions"), round(s["duration"], 2)) for s in m["set_mesgs"]]

    assert sets("page.fit") == sets("cli.fit") and len(sets("cli.fit")) >= 3
