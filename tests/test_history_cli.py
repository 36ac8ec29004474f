"""``holdtrack history``: a bounded range (the last weeks that have sessions, or
``--weeks``/``--since``/``--all``), demo sessions counted by the dashboard's rule, and
goal lines in plain words."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_builders import analysis, hold, reps, session

from sensor.cli import main
from sensor.errors import UsageError
from sensor.store import Store
from sensor.store.history import WEEKS_WITH_SESSIONS, demo_by_default
from sensor.store.weeks import TODAY_ENV, current_day, week_start

TODAY = current_day()
MON = week_start(TODAY)


def test_a_pinned_today_is_today_and_a_bad_one_says_so(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(TODAY_ENV, "2026-12-07")
    assert current_day() == date(2026, 12, 7) and week_start(current_day()) == date(2026, 12, 7)
    monkeypatch.setenv(TODAY_ENV, "7.12.2026")
    with pytest.raises(UsageError, match=r"HOLDTRACK_TODAY='7.12.2026' is not a date \(YYYY-MM-DD\)"):
        current_day()
    assert main(["history"]) == 2  # the command says it in one line, as a usage error
    assert capsys.readouterr().err.strip() == "holdtrack: error: HOLDTRACK_TODAY='7.12.2026' is not a date (YYYY-MM-DD)"
    monkeypatch.delenv(TODAY_ENV)
    assert current_day() == date.today()


def full(st: Store, day: date, tag: str, *, demo: bool = False) -> int:
    """A session doing the bridge and back extensions to target, a side plank short of it."""
    ext = [r for j in range(3) for r in reps("back_extension", 10, start=j * 150, every=4)]
    a = analysis(ext + reps("bridge", 12, start=600), [hold("side_plank", "left", 900, 31)], duration=1000)
    return session(st, datetime(day.year, day.month, day.day, 9, tzinfo=UTC), a, demo=demo, tag=tag)


@pytest.fixture()
def years(tmp_path: Path) -> Path:
    """A 2022 import, then a session every other week for the last 30 weeks, and demo data."""
    st = Store(tmp_path)
    full(st, date(2022, 11, 7), "2022")
    for k in range(0, 30, 2):
        full(st, MON - timedelta(weeks=k) + timedelta(days=1), f"w{k}")
    for k in range(3):
        full(st, TODAY - timedelta(days=k), f"demo{k}", demo=True)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> str:
    assert main(["history", "--data-dir", str(folder), *args]) == 0
    return capsys.readouterr().out


def week_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if re.match(r"\d{4}-\d\d-\d\d  ", ln)]


def test_by_default_the_last_weeks_with_sessions_not_every_week_since_2022(years: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, years)
    weeks = [ln for ln in week_lines(text) if " of " in ln]
    assert len(weeks) == WEEKS_WITH_SESSIONS  # 12 weeks that have sessions ...
    assert weeks[-1].startswith(MON.isoformat()) and weeks[0].startswith((MON - timedelta(weeks=22)).isoformat())
    assert len(text.splitlines()) < 50  # ... not 200-odd lines since 2022
    assert "2022-11-07" not in text
    assert "4 earlier weeks with sessions not shown (--weeks N, --since DATE or --all)" in text
    # The JSON (for scripts) holds the same range.
    obj = json.loads(run(capsys, years, "--json"))
    assert obj["weeks"][0]["week_start"] == (MON - timedelta(weeks=22)).isoformat() and obj["weeks"][-1]["week_start"] == MON.isoformat()
    assert len(obj["sessions"]) == 12 and obj["range"]["earlier_weeks_with_sessions"] == 4


def test_weeks_since_and_all_choose_the_range(years: Path, capsys: pytest.CaptureFixture[str]) -> None:
    three = [ln for ln in week_lines(run(capsys, years, "--weeks", "3")) if " of " in ln]
    assert [ln[:10] for ln in three] == [(MON - timedelta(weeks=k)).isoformat() for k in (4, 2, 0)]
    since = run(capsys, years, "--since", (MON - timedelta(weeks=5)).isoformat())
    assert week_lines(since)[0].startswith((MON - timedelta(weeks=5)).isoformat())  # the week asked for, even empty
    everything = run(capsys, years, "--all")
    assert week_lines(everything)[0].startswith("2022-11-07")
    # The years between are one line, not 180 weeks of dashes.
    (gap,) = [ln for ln in everything.splitlines() if "weeks without a session" in ln]
    assert "(2022-11-14 to " in gap
    assert len(everything.splitlines()) < 70
    for bad in (["--weeks", "0"], ["--since", "last tuesday"], ["--weeks", "2", "--all"]):
        with pytest.raises(SystemExit) as e:
            main(["history", "--data-dir", str(years), *bad])
        assert e.value.code == 2
    capsys.readouterr()


def test_demo_sessions_count_as_the_dashboard_counts_them(
    years: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hidden while there are sessions of the user's own (said in a line), counted when asked
    or when there is nothing else: the rule the History page's toggle starts from."""
    this_week = lambda obj: obj["weeks"][-1]  # noqa: E731
    mine = json.loads(run(capsys, years, "--json"))
    assert not any(s["demo"] for s in mine["sessions"]) and this_week(mine)["sessions"] == 1
    assert "3 demo sessions left out (--include-demo)" in run(capsys, years)
    asked = json.loads(run(capsys, years, "--json", "--include-demo"))
    assert sum(s["demo"] for s in asked["sessions"]) == 3
    assert this_week(asked)["sessions"] == 1 + sum(1 for k in range(3) if TODAY - timedelta(days=k) >= MON)
    assert not any(s["demo"] for s in json.loads(run(capsys, years, "--json", "--no-demo"))["sessions"])

    only = tmp_path_factory.mktemp("only-demo")
    full(Store(only), TODAY, "demo", demo=True)
    assert [s["demo"] for s in json.loads(run(capsys, only, "--json"))["sessions"]] == [True]
    assert "no sessions of yours yet (1 demo sessions" in run(capsys, only, "--no-demo")
    assert (demo_by_default(0, 5), demo_by_default(3, 5), demo_by_default(3, 3), demo_by_default(0, 0)) == (False, False, True, False)


def test_the_goal_lines_are_plain_words(years: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, years, "--weeks", "1")
    head = text.splitlines()[0]
    assert "Front plank (no goal)" in head
    (week,) = week_lines(text)
    # Bridge and back extensions done to target on 1 of the 3 days asked; the side plank
    # done but short of its target; the front plank is no weekly goal and was not done.
    assert re.fullmatch(r"\S+  0 of 3 +1 of 3 days +1 of 3 days +0 of 3 days, \+1 short +–", week), week
    assert "no goal (" not in text.replace("(no goal)", "") and "done)" not in text
