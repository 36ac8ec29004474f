"""The mounting from the exercises (sensor.mount_fit): a routine recorded with no sitting
or walking, analysed as worn somewhere else, is analysed again as worn where only the
exercises fit, and says so; what cannot be checked is said to be unchecked, never
corrected on a guess. Seeds 730-739 are neither tuning (100000-100999) nor reporting seeds."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path

import pytest

from sensor.analyze import analyze_path, analyze_samples
from sensor.events import Analysis, Rep
from sensor.mount_fit import fit_mount
from sensor.recording import write_recording
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session
from sensor.vocab import MOUNTS


@functools.lru_cache(maxsize=4)
def _routine(seed: int, mount: str) -> SimulatedSession:
    # The opening stand, then straight down to the floor: no sitting, no walking.
    return simulate_session(seed, SimOptions(mount=mount, rate_hz=100.0))


def _reps(n_bridges: int, n_ext: int) -> list[Rep]:
    ex = ["bridge"] * n_bridges + ["back_extension"] * n_ext
    return [Rep(e, 10.0 * i, 10.0 * i + 5, 1.0, 10.0 * i + 5) for i, e in enumerate(ex)]  # type: ignore[arg-type]


def test_a_routine_analysed_as_worn_elsewhere_is_found_where_the_exercises_fit() -> None:
    s = _routine(731, "left")
    worn = analyze_samples(s.samples, s.gaps, s.header)
    assert worn.mount == "left" and worn.mount_check == "confirmed", worn.mount_note
    assert len(worn.reps) >= 0.9 * len(s.truth["reps"])
    for given in ("back", "front", "right"):
        a = analyze_samples(s.samples, s.gaps, replace(s.header, mount=given))
        assert (a.mount, a.mount_check) == ("left", "corrected"), (given, a.mount_note)
        assert f"not the {given}" in a.mount_note
        assert [(r.exercise, r.start_s) for r in a.reps] == [(r.exercise, r.start_s) for r in worn.reps]


def test_a_file_says_how_its_mounting_was_found_in_the_json(tmp_path: Path) -> None:
    s = _routine(733, "back")
    path = tmp_path / "s.htrec"
    write_recording(path, replace(s.header, mount="right"), s.samples, s.gaps)
    notes: list[str] = []
    a = analyze_path(path, notes=notes)
    out = json.loads(json.dumps(a.to_json()))
    assert out["mount"]["analysed_as"] == "back" and out["mount"]["check"] == "corrected"
    assert any("worn on the back, not the right" in n for n in notes)
    assert Analysis.from_json(out).mount == "back"
    # The user's word for a mounting the data cannot check stays, and says so.
    named = analyze_path(path, mount="back")
    assert named.mount_check == "confirmed" and len(named.reps) == len(a.reps)


def test_stretching_is_never_corrected_to_a_mounting_that_makes_reps_of_it() -> None:
    """Pelvic tilts read from the mirrored mounting are back extensions; one kind of rep is
    no routine, so the exercises never move the mounting given (unchecked or doubted, and
    said). Only the way down to the floor may, and only to where the sensor is worn."""
    held_out = frozenset(("knee_hugs", "cobra", "floor_sitting", "phone_rate"))  # never run while tuning
    for seed, cls in ((734, "pelvic_tilts"), (735, "cat_cow"), (736, "prone_phone")):
        opt = SimOptions(classes=(cls,), draw_more=True, daily_life=True, mount="left", rate_hz=100.0, exclude=held_out)
        s = simulate_session(seed, opt)
        for given in MOUNTS:
            a = analyze_samples(s.samples, s.gaps, replace(s.header, mount=given))
            if a.mount != given:
                assert (a.mount, a.mount_check) == ("left", "corrected") and "way down" in a.mount_note, (seed, given, a.mount_note)
            else:
                assert a.mount_check in ("unchecked", "doubt", "confirmed"), (seed, given, a.mount_note)
            assert a.mount_note


def test_the_fit_asks_again_only_when_nothing_checked_the_mounting() -> None:
    asked: list[str] = []

    def analyse_as(m: str) -> Analysis:
        asked.append(m)
        return Analysis(reps=_reps(8, 20) if m in ("left", "right") else [], mount=m, duration_s=600.0)

    sat = Analysis(mount="back", mount_check="confirmed", mount_note="mounting back confirmed from the data")
    assert fit_mount(sat, analyse_as) is sat and not asked
    routine = Analysis(reps=_reps(6, 12), mount="back")
    assert fit_mount(routine, analyse_as).mount_check == "confirmed" and not asked
    # Two mountings would each make a routine of it: no guess between them.
    short = Analysis(reps=_reps(1, 3), mount="back", duration_s=50.0)  # no routine fits in under a minute
    assert fit_mount(short, analyse_as) is short and not asked
    few = Analysis(reps=_reps(1, 3), mount="back", duration_s=600.0)
    assert fit_mount(few, analyse_as) is few and few.mount_check == "unchecked"
    assert sorted(asked) == ["front", "left", "right"]


@pytest.mark.parametrize(
    ("bridges", "ext", "given", "fits"),
    [
        (6, 12, 0, "routine"),
        (14, 11, 0, "bridges"),  # no routine: a set of bridges, found as worn only
        (3, 0, 0, "bridges"),
        (5, 30, 0, "bridges"),
        (0, 30, 0, None),  # back extensions alone: the mirror of pelvic tilts or bridges
        (14, 11, 3, None),  # the mounting given found bridges too: no guess
    ],
)
def test_a_mounting_is_found_from_a_routine_or_a_set_of_bridges(bridges: int, ext: int, given: int, fits: str | None) -> None:
    def analyse_as(m: str) -> Analysis:
        return Analysis(reps=_reps(bridges, ext) if m == "front" else [], mount=m, duration_s=600.0)

    a = fit_mount(Analysis(reps=_reps(given, 0), mount="back", duration_s=600.0), analyse_as)
    assert (a.mount == "front") is (fits is not None)
    if fits == "routine":
        assert "only that fits the exercises" in a.mount_note
    elif fits == "bridges":
        assert a.mount_check == "corrected" and "only that finds bridges" in a.mount_note, a.mount_note


def test_two_mountings_that_find_bridges_are_no_guess() -> None:
    def analyse_as(m: str) -> Analysis:
        return Analysis(reps=_reps(4, 10) if m in ("front", "left") else [], mount=m, duration_s=600.0)

    first = Analysis(mount="back", duration_s=600.0)
    assert fit_mount(first, analyse_as) is first and first.mount_check == "unchecked"


def test_single_leg_bridges_told_worn_on_the_front_are_found_on_the_back() -> None:
    # Reporting seed 1160050 of `evaluate --simulate 60 --seed-start 1160000 --hold-out ...`
    # (read once, no threshold set from it): worn on the back, told "front", from the stand
    # straight down; single-leg bridges (held out of tuning) read 4 of 19, so as worn the
    # session is no routine (4 bridges, 40 back extensions), and as told it had 4 reps.
    s = simulate_session(1160050, SimOptions(classes=None, draw_more=True, mount=None, daily_life=None, exclude=()))
    assert s.header.mount == "front" and s.truth["mount"] == "back" and "single_leg_bridge" in s.truth["classes"]
    a = analyze_samples(s.samples_as_read(), s.gaps, s.header)
    assert (a.mount, a.mount_check) == ("back", "corrected"), a.mount_note
    assert "only that finds bridges" in a.mount_note or "way down" in a.mount_note
    true_ext = sum(r["exercise"] == "back_extension" for r in s.truth["reps"])
    assert sum(r.exercise == "back_extension" for r in a.reps) >= 0.9 * true_ext


def test_a_live_session_is_stored_as_worn_where_the_exercises_fit(tmp_path: Path) -> None:
    """The live runner had nothing to check the mounting by; saving the session does."""
    from sensor import importer
    from sensor.runner import SessionRunner
    from sensor.samples import interleave
    from sensor.store import Store, queries

    s = _routine(736, "left")  # its way down to the floor tells nothing either
    header = replace(s.header, mount="back")
    path = tmp_path / "live.htrec"
    write_recording(path, header, s.samples, s.gaps)
    live = SessionRunner(header).run_items(interleave(s.samples, s.gaps)).analysis
    assert live.mount == "back" and live.mount_check in ("doubt", "unchecked")
    res = importer.import_recording(Store(tmp_path / "data"), path, analysis=live)
    assert res.status == "added" and "worn on the left, not the back" in res.message
    d = queries.session_detail(Store(tmp_path / "data"), res.session_id)
    assert d is not None and d.session["mount"] == "left"
    assert len(d.detected.reps) >= 0.9 * len(s.truth["reps"]) > len(live.reps)


def test_the_session_page_says_a_session_was_analysed_as_worn_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_dashboard_apptest import app

    from sensor import importer
    from sensor.store import Store

    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(tmp_path / "data"))
    s = _routine(731, "left")
    path = tmp_path / "told-back.htrec"
    write_recording(path, replace(s.header, mount="back"), s.samples, s.gaps)
    sid = importer.import_recording(Store(tmp_path / "data"), path).session_id
    at = app()
    at.switch_page("views/session.py").run()
    at.selectbox(key="session_pick").set_value(sid).run()
    assert not at.exception, at.exception
    shown = " ".join(str(m.value) for m in at.markdown)
    assert "Worn on the left hip, not as in Settings" in shown, shown[:2000]
