"""How sure the detector was of each rep and hold (``Rep.confidence``, ``Hold.confidence``) is
stored (schema step 9; rows stored before it count as sure), read back, exported, and marked
on the session page: a rep or hold under ``UNSURE_BELOW`` gets a "?" that says "uncertain:
check this count", so the user checks those first; a confident one gets none."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from store_builders import analysis, database_at_step, hold, reps, session
from test_dashboard_apptest import app, noon

from sensor.store import SCHEMA_VERSION, Store, exports, queries
from sensor.store.weeks import current_day
from sensor.vocab import UNSURE_BELOW, UNSURE_MARK, UNSURE_TIP, unsure

UNSURE_REP = 3  # the fourth bridge
CONFIDENCE_STEP = 9  # sensor.store.schema: the step that added confidence


def unsure_session(st: Store) -> int:
    bridges = reps("bridge", 12, every=8, hold=5.6)
    bridges[UNSURE_REP] = replace(bridges[UNSURE_REP], confidence=0.6)
    holds = [
        replace(hold("side_plank", "left", 300, 33.0), confidence=0.62),
        replace(hold("side_plank", "right", 400, 31.0), confidence=0.95),
    ]
    return session(st, noon(current_day() - timedelta(days=1)), analysis(bridges, holds, duration=500.0))


def test_each_reps_and_holds_confidence_is_stored_read_back_and_exported(tmp_path: Path) -> None:
    st = Store(tmp_path)
    sid = unsure_session(st)
    d = queries.session_detail(st, sid)
    assert d is not None
    want = [0.6 if i == UNSURE_REP else 1.0 for i in range(12)]
    assert [r["confidence"] for r in d.reps] == pytest.approx(want)
    assert [r.confidence for r in d.detected.reps] == pytest.approx(want)
    assert [h.confidence for h in d.analysis.holds] == pytest.approx([0.62, 0.95])
    exported = json.loads(json.dumps(exports.session_json(d), default=str))
    assert [r["confidence"] for r in exported["reps"]] == pytest.approx(want)
    assert [h["confidence"] for h in exported["holds"]] == pytest.approx([0.62, 0.95])
    assert len(exports.session_csv(d).splitlines()) == 1 + 12 + 2  # the CSV still has a row per rep and hold


def test_reps_and_holds_stored_before_confidence_count_as_sure(tmp_path: Path) -> None:
    con = database_at_step(tmp_path, CONFIDENCE_STEP - 1)
    con.execute(
        "INSERT INTO sessions (id, started_utc, local_date, duration_s, source_path, file_path, content_hash, kind, imported_utc)"
        " VALUES (1, '2025-03-03T12:00:00Z', '2025-03-03', 60, '/x.htrec', 'recordings/x.htrec', 'h', 'htrec', '2025-03-03T12:00:00Z')"
    )
    con.execute("INSERT INTO sets (id, session_id, idx, exercise, start_s, end_s, rep_count) VALUES (1, 1, 0, 'bridge', 1, 9, 1)")
    con.execute(
        "INSERT INTO reps (session_id, set_id, idx, exercise, start_s, end_s, hold_s, detected_at_s) VALUES (1, 1, 0, 'bridge', 1, 7, 5, 7.5)"
    )
    con.execute(
        "INSERT INTO holds (session_id, idx, exercise, side, start_s, end_s, duration_s, sway_deg, tremor_dps, sag_deg, detected_at_s)"
        " VALUES (1, 0, 'plank', NULL, 20, 50, 30, 1, 2, 1, 20.5)"
    )
    con.commit()
    con.close()
    st = Store(tmp_path)
    assert st.schema_version() == SCHEMA_VERSION
    d = queries.session_detail(st, 1)
    assert d is not None
    assert [r.confidence for r in d.detected.reps] == [1.0] and [h.confidence for h in d.analysis.holds] == [1.0]


def test_the_threshold() -> None:
    assert unsure(UNSURE_BELOW - 0.01) and not unsure(UNSURE_BELOW) and not unsure(1.0)


def test_the_session_page_marks_the_unsure_rep_and_hold_and_no_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    sid = unsure_session(Store(tmp_path))
    at = app()
    at.switch_page("views/session.py").run()
    at.selectbox(key="session_pick").set_value(sid).run()
    assert not at.exception, at.exception
    page = "".join(h.proto.body for h in at.get("html"))
    mark = f'<span class="unsure" title="{UNSURE_TIP}">{UNSURE_MARK}</span>'
    # Rep bars: one bar a rep, in order; only the fourth carries the mark (and says so on hover).
    rep_bars = re.findall(r'<div class="bar" title="([^"]*)" style="height:[^"]*">(.*?)</div>', page.split('data-testid="ht-rep-bars"')[1])
    assert len(rep_bars) == 12
    assert [body == mark for _, body in rep_bars] == [i == UNSURE_REP for i in range(12)]
    assert rep_bars[UNSURE_REP][0].endswith(f"({UNSURE_TIP})") and UNSURE_TIP not in rep_bars[0][0]
    # Hold bars and the stability table: the left side plank (0.62) marked, the right (0.95) not.
    names = re.findall(r'<div class="name" title="[^"]*">(.*?)</div>', page.split('data-testid="ht-hold-bars"')[1])
    assert names == [f"#1 Side plank (left){mark}", "#2 Side plank (right)"]
    stability = at.table[1].value
    assert list(stability["Hold"]) == [f"#1 Side plank (left) {UNSURE_MARK} ({UNSURE_TIP})", "#2 Side plank (right)"]
