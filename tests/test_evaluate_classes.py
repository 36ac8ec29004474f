"""``holdtrack evaluate`` per class of the catalogue: what a class's figures are made of,
sessions chosen by class, and the held-out classes reported together against the rest.
These check the bookkeeping, never the detector's results."""

from __future__ import annotations

from typing import Any

import pytest

from sensor.cli import main
from sensor.events import Analysis, Hold, Rep
from sensor.sim.class_groups import restrict
from sensor.sim.evaluate import Tally, run_evaluation


def _rep(a: float, z: float, ex: str = "back_extension") -> Rep:
    return Rep(ex, a, z, 0.5, z + 0.1)  # type: ignore[arg-type]


def _truth_rep(a: float, z: float, classes: list[str], set_no: int = 1) -> dict[str, Any]:
    return {"exercise": "back_extension", "start_s": a, "end_s": z, "hold_s": 0.5, "set": set_no, "classes": classes}


def _session() -> tuple[Analysis, dict[str, Any]]:
    """A made-up session: a set with top holds (10-20 s), a plain set (40-50 s), cat-cow
    (100-160 s); found: both sets' reps, an extra plank in the first set, two false reps in
    the cat-cow and one more at 300 s."""
    top, plain = ["backext_top_hold", "mount_back"], ["mount_back"]
    reps = [_truth_rep(10, 14, top), _truth_rep(16, 20, top), _truth_rep(40, 44, plain, 2), _truth_rep(46, 50, plain, 2)]
    truth = {
        "classes": ["backext_top_hold", "cat_cow", "mount_back"],
        "duration_s": 3600.0,
        "reps": reps,
        "holds": [],
        "sets": [
            {"exercise": "back_extension", "set": 1, "reps": 2, "start_s": 10, "end_s": 20, "classes": top},
            {"exercise": "back_extension", "set": 2, "reps": 2, "start_s": 40, "end_s": 50, "classes": plain},
        ],
        "activities": [{"kind": "cat_cow", "classes": ["cat_cow"], "start_s": 100.0, "end_s": 160.0}],
    }
    found = [_rep(10.1, 14), _rep(16, 20.2), _rep(40, 44), _rep(46, 50), _rep(110, 113), _rep(140, 142), _rep(300, 303)]
    plank = Hold("plank", None, 15.0, 18.0, 3.0, 0.1, 1.0, 0.0, 15.5)
    return Analysis(reps=found, holds=[plank], duration_s=3600.0), truth


def test_an_event_class_is_its_reps_with_the_detections_near_them() -> None:
    a, t = _session()
    part = restrict(a, t, {"backext_top_hold"})
    assert part is not None
    sub, st = part
    assert [r["start_s"] for r in st["reps"]] == [10, 16] and [s["set"] for s in st["sets"]] == [1]
    assert [r.start_s for r in sub.reps] == [10.1, 16] and [h.start_s for h in sub.holds] == [15.0]  # the plank read in it
    tally = Tally()
    tally.add(sub, st)
    s = tally.summary()
    assert s["per_exercise"]["back_extension"]["recall"] == 1.0 and s["per_exercise"]["plank"]["precision"] == 0.0
    assert s["false_events"] == 1
    assert st["duration_s"] == pytest.approx(10 + 2 * 2.0)  # the set and its margins


def test_a_stretch_class_is_its_spans_and_its_false_events_count_per_hour_of_stretching() -> None:
    a, t = _session()
    part = restrict(a, t, {"cat_cow"})
    assert part is not None
    sub, st = part
    assert st["reps"] == [] and st["holds"] == []
    assert [r.start_s for r in sub.reps] == [110, 140]
    tally = Tally()
    tally.add(sub, st)
    s = tally.summary()
    assert s["false_events"] == 2 and s["false_events_per_hour"] == pytest.approx(2 / (60 / 3600))


def test_a_session_class_takes_the_whole_session_and_the_rest_is_the_complement() -> None:
    a, t = _session()
    whole = restrict(a, t, {"mount_back"})
    assert whole is not None and whole[0] is a and whole[1] is t
    assert restrict(a, t, {"mount_back"}, rest=True) is None  # held out whole
    part = restrict(a, t, {"backext_top_hold", "cat_cow"}, rest=True)
    assert part is not None
    sub, st = part
    assert [r["start_s"] for r in st["reps"]] == [40, 46]
    assert [r.start_s for r in sub.reps] == [40, 46, 300] and sub.holds == []  # the false rep at 300 s is the rest's
    assert st["duration_s"] == pytest.approx(3600 - 60)  # less the held-out stretching
    assert restrict(a, t, {"knee_hugs"}) is None  # not in this session


@pytest.mark.slow
def test_evaluate_simulates_sessions_of_the_classes_asked_for_and_groups_the_held_out_ones() -> None:
    summary, _, _ = run_evaluation(
        None, simulate=2, seed_start=777_000, jobs=1, classes=("cat_cow", "pelvic_tilts"), hold_out=("pelvic_tilts",), daily_life=True
    )
    classes = summary["classes"]
    assert summary["sessions"] == 2
    assert set(classes) & {"cat_cow", "pelvic_tilts"}  # each session has one of them
    for name, c in classes.items():
        assert c["sessions"] >= 1 and c["category"] in ("stretch", "mount", "sensor", "slip")
        assert c["per_exercise"]["bridge"]["true"] == 0  # stretches: nothing to count
        assert c["held_out"] == (name == "pelvic_tilts")
    groups = summary["class_groups"]
    assert set(groups) == {"held out", "rest"} and groups["held out"]["classes"] == ["pelvic_tilts"]
    if "pelvic_tilts" in classes:
        assert groups["held out"]["hours"] == pytest.approx(classes["pelvic_tilts"]["hours"])
    assert "pelvic_tilts" not in groups["rest"]["classes"]


def test_evaluate_refuses_unknown_classes_and_class_options_without_simulating(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--simulate", "1", "--classes", "cat_kow"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("holdtrack: error: --classes: unknown class 'cat_kow'")
    assert main(["evaluate", "--simulate", "1", "--hold-out", "stretchy"]) == 2
    assert main(["evaluate", "--classes", "cat_cow"]) == 2
    assert main(["evaluate", "--simulate", "1", "--classes", "cobra", "--exclude", "stretch"]) == 2
    assert "both name cobra" in capsys.readouterr().err
    assert main(["evaluate", "--simulate", "1", "--daily-life", "--classes", "tempo_fast"]) == 2
    assert "no exercises" in capsys.readouterr().err
