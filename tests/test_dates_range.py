"""When a session took place: a recording's date is accepted from 2000 up to two days from
now (``sensor.files.limits``, ``sensor.store.dates``), refused outside that in one line in
any time zone, and a store already holding impossible dates still shows its history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, reps, session
from streamlit.testing.v1 import AppTest

from sensor.cli import main
from sensor.store import Store
from sensor.store.weeks import current_day
from sensor.stream import Header
from tests.malformed import header_record, htrec, sample_records, still_samples

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
# East and west of UTC by as much as clocks go (+14 h, -11 h), and the two the issue met.
ZONES = ("UTC", "Asia/Tokyo", "Pacific/Kiritimati", "America/New_York", "Pacific/Pago_Pago")


def dated(path: Path, created_utc: str) -> Path:
    header = {**Header(source="test").to_json(), "created_utc": created_utc}
    path.write_bytes(htrec(*sample_records(still_samples(20, seed=len(created_utc) + ord(created_utc[3]))), header=header_record(header)))
    return path


def holdtrack(*args: str, tz: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": tz}
    return subprocess.run([sys.executable, "-m", "sensor.cli", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("tz", ZONES)
def test_impossible_dates_are_refused_in_any_time_zone(tmp_path: Path, tz: str) -> None:
    soon = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bad = {
        "9999.htrec": "9999-12-31T23:59:59Z",
        "year1.htrec": "0001-01-01T00:00:00Z",
        "2999.htrec": "2999-06-01T00:00:00Z",
        "1999.htrec": "1999-12-31T12:00:00Z",
        "next-month.htrec": soon,  # inside 2000-2100 but in the future: a clock set wrong
        "not-a-time.htrec": "yesterday",
    }
    files = [dated(tmp_path / name, when) for name, when in bad.items()]
    good = dated(tmp_path / "good.htrec", "2025-01-15T12:00:00Z")
    data = tmp_path / "data"
    r = holdtrack("import", "--data-dir", str(data), *map(str, files), str(good), tz=tz)
    assert r.returncode == 1, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == len(bad), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    for name in bad:
        (line,) = [ln for ln in errors if name in ln]
        assert "created_utc" in line or "in the future" in line, line
    assert "1 added" in r.stderr
    h = holdtrack("history", "--json", "--data-dir", str(data), tz=tz)
    assert h.returncode == 0, h.stderr
    obj = json.loads(h.stdout)
    assert [s["date"] for s in obj["sessions"]] == ["2025-01-15" if tz != "Pacific/Kiritimati" else "2025-01-16"]
    assert len(obj["weeks"]) <= (current_day() - date(2025, 1, 13)).days // 7 + 2


def test_a_clock_a_little_ahead_is_accepted(tmp_path: Path) -> None:
    ahead = (datetime.now(UTC) + timedelta(hours=14)).strftime("%Y-%m-%dT%H:%M:%SZ")  # local time written as UTC
    assert main(["import", "--data-dir", str(tmp_path / "d"), str(dated(tmp_path / "a.htrec", ahead))]) == 0


def test_a_file_time_in_the_future_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sensor.files.inputs import write_generic_csv

    csv = tmp_path / "relative-times.csv"  # times from 0: the date can only come from the file's time
    write_generic_csv(csv, still_samples(20))
    far = datetime(2300, 1, 1, tzinfo=UTC).timestamp()  # ext4 keeps times up to 2446
    os.utime(csv, (far, far))
    assert main(["import", "--data-dir", str(tmp_path / "d"), str(csv)]) == 1
    err = capsys.readouterr().err
    assert "modification time says it started 2300-01-01" in err and "in the future" in err


def test_header_times_are_checked_when_read() -> None:
    base = Header(source="test").to_json()
    assert Header.from_json({**base, "created_utc": "2025-06-29T18:44:41Z"}).created_utc == "2025-06-29T18:44:41Z"
    assert Header.from_json({**base, "created_utc": ""}).created_utc == ""
    for bad in ("9999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2025-06-29", 5, {"y": 1}):
        with pytest.raises(ValueError, match="created_utc"):
            Header.from_json({**base, "created_utc": bad})


@pytest.fixture()
def bad_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store written before dates were checked: rows dated 9999, 2999, year 1 and not a
    date at all, beside two good sessions three weeks apart."""
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path))
    st = Store(tmp_path)
    # A day ago, not noon UTC today: rows are written with this machine's (UTC) local date,
    # which west of UTC in the evening is tomorrow, outside History's range (a fixture's
    # session from the future: this failed between 00:00 and 05:00 UTC).
    recent = datetime.combine(current_day(), datetime.now(UTC).time().replace(microsecond=0), UTC) - timedelta(days=1)
    for k, when in enumerate((recent, recent - timedelta(days=21), recent, recent, recent, recent)):
        session(st, when, analysis(reps("bridge", 12, hold=6.0)), tag=str(k))
    with st.transaction() as con:
        for sid, started, day in (
            (3, "9999-12-31T23:59:59Z", "9999-12-31"),
            (4, "2999-06-01T00:00:00Z", "2999-06-01"),
            (5, "0001-01-01T00:00:00Z", "0001-01-01"),
            (6, "garbage", "not a date"),
        ):
            con.execute("UPDATE sessions SET started_utc = ?, local_date = ? WHERE id = ?", (started, day, sid))
    return tmp_path


def test_history_survives_rows_already_bad(bad_rows: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for tz in ("Asia/Tokyo", "America/New_York"):
        r = holdtrack("history", "--data-dir", str(bad_rows), tz=tz)
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.splitlines()) < 20, r.stdout[:2000]  # 4 weeks, 6 sessions, the legend
    assert main(["history", "--json", "--data-dir", str(bad_rows)]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert len(obj["weeks"]) in (4, 5)  # three weeks ago to this week
    assert len(obj["sessions"]) == 6  # the odd rows are still listed, for the user to fix or delete
    assert sum(w["sessions"] for w in obj["weeks"]) == 2


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/New_York"])
def test_dashboard_survives_rows_already_bad(bad_rows: Path, tz: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """History, and the Session page of every row (the unparsable one sorts newest, so it is
    the page's first pick): 9999 overflows east of UTC, year 1 west of it."""
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        assert at.title[0].value == "History"
        assert len(at.dataframe[-1].value) == 6
        at.switch_page("views/session.py").run()
        assert not at.exception, at.exception
        for sid in range(1, 7):
            at.query_params["id"] = str(sid)
            at.run()
            assert not at.exception, (sid, at.exception)
    finally:
        monkeypatch.undo()
        time.tzset()
