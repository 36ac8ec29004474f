"""Back extensions whichever way the pelvis rocks, planks only when the pelvis is lifted,
daily life on the stomach reports nothing, and ``analyze --trace`` shows why."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from sensor.analyze import analyze_samples
from sensor.cli import main
from sensor.recording import write_recording
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session
from tests.conftest import sim


def sim_with(seed: int, technique: dict[str, object], **kw: object) -> SimulatedSession:
    """A simulated session with some of the wearer's technique forced."""
    return simulate_session(seed, SimOptions(technique=technique, **kw))  # type: ignore[arg-type]


def _backext(seed: int, direction: str, amp: float, hold_max: float = 1.0):
    tech = {"backext_dir": direction, "backext_switch_p": 0.0, "backext_amp_deg": amp, "backext_hold_max_s": hold_max}
    return sim_with(seed, tech, short=True, rate_hz=50.0, exercises=("back_extension",))


@pytest.mark.parametrize("direction,amp", [("head_down", 4.0), ("head_down", 13.0), ("head_up", 4.0), ("head_up", 14.0)])
def test_back_extensions_are_counted_either_way_and_never_a_plank(direction: str, amp: float) -> None:
    s = _backext(300 + int(amp), direction, amp, hold_max=3.0)
    assert {r["variant"] for r in s.truth["reps"]} == {direction}
    a = analyze_samples(s.samples, s.gaps, s.header)
    assert a.holds == []
    assert len(a.reps) == len(s.truth["reps"])
    for r, tr in zip(a.reps, s.truth["reps"]):
        assert r.exercise == "back_extension"
        assert abs(r.start_s - tr["start_s"]) < 0.4 and abs(r.end_s - tr["end_s"]) < 0.4


def test_a_lifted_plank_is_a_plank_with_its_start_and_end_where_the_lift_and_lowering_are() -> None:
    s = sim_with(61, {"plank_elev_deg": 5.0}, short=True, rate_hz=100.0, exercises=("plank",))
    (th,) = s.truth["holds"]
    a = analyze_samples(s.samples, s.gaps, s.header)
    assert a.reps == []
    (h,) = a.holds
    assert h.exercise == "plank"
    assert abs(h.start_s - th["start_s"]) < 0.5 and abs(h.end_s - th["end_s"]) < 0.5


@pytest.mark.slow
def test_daily_life_lying_on_the_stomach_and_side_reports_nothing() -> None:
    for seed in (71, 72, 73):
        s = sim(seed, rate_hz=50.0, daily_life=True)
        assert s.truth["kind"] == "daily_life" and s.truth["reps"] == [] and s.truth["holds"] == []
        a = analyze_samples(s.samples, s.gaps, s.header)
        assert a.reps == [] and a.holds == [], seed


def test_trace_shows_rest_excursion_and_state_at_the_grid_rate(tmp_path: Path) -> None:
    s = _backext(81, "head_down", 8.0)
    rec = tmp_path / "s.htrec"
    write_recording(rec, s.header, s.samples, s.gaps)
    out = tmp_path / "trace.csv"
    assert main(["analyze", str(rec), "--trace", str(out)]) == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["time_s", "elevation_deg", "excursion_deg", "rest_deg", "posture", "state"]
    t = np.array([float(r["time_s"]) for r in rows])
    assert np.allclose(np.median(np.diff(t)), 0.02, atol=1e-9)  # the 50 Hz grid
    reps = s.truth["reps"]
    prone = [r for r in rows if r["posture"] == "prone" and reps[0]["start_s"] - 1 <= float(r["time_s"]) <= reps[-1]["end_s"]]
    rest = np.array([float(r["rest_deg"]) for r in prone])
    # The rest level is not dragged by a set of head-down reps.
    assert np.ptp(rest) < 1.0
    for tr in reps:
        top = 0.5 * (tr["start_s"] + tr["end_s"])
        row = min(prone, key=lambda r: abs(float(r["time_s"]) - top))
        assert float(row["excursion_deg"]) < -0.6 * tr["peak_deg"]  # head end down
        assert row["state"] == "excursion"


@pytest.mark.slow
def test_evaluate_reports_each_variant_and_mounting() -> None:
    from sensor.sim.evaluate import run_evaluation

    summary, _, _ = run_evaluation(None, simulate=3, seed_start=5000, jobs=1)
    groups = summary["variants"]
    assert any(g.startswith("mount ") for g in groups)
    assert any(g.startswith("back_extension head_") for g in groups)
    for g in groups.values():
        assert g["sessions"] >= 1
