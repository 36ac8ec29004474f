"""simulate -> analyze --json (contract.md) -> evaluate, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sensor.cli", *args], capture_output=True, text=True, timeout=300)


def test_simulate_analyze_evaluate(tmp_path) -> None:
    rec = tmp_path / "s.htrec"
    r = run("simulate", "--seed", "77", "--short", "--rate", "100", "--out", str(rec))
    assert r.returncode == 0, r.stderr
    truth = json.loads((tmp_path / "s.truth.json").read_text())

    r = run("analyze", str(rec), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["reps"]) == len(truth["reps"]) and len(out["holds"]) == len(truth["holds"])
    for rep in out["reps"]:
        assert set(rep) >= {"exercise", "start_s", "end_s", "hold_s", "detected_at_s"}
        assert rep["exercise"] in ("bridge", "back_extension")
        assert rep["start_s"] < rep["end_s"]
    for h in out["holds"]:
        assert set(h) >= {"exercise", "side", "start_s", "end_s", "duration_s", "sway_deg", "tremor_dps", "sag_deg", "detected_at_s"}
        assert h["side"] in ("left", "right", None)

    r = run("analyze", str(rec))
    assert r.returncode == 0 and "Against the routine" in r.stdout and "Hip bridges" in r.stdout

    r = run("evaluate", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    for ex, v in ev["summary"]["per_exercise"].items():
        if v["true"]:
            assert v["precision"] == 1.0 and v["recall"] == 1.0, ex
    assert ev["summary"]["false_events"] == 0


def test_analyze_does_not_import_the_dashboard_or_ble() -> None:
    code = (
        "import sys, sensor.cli as c\n"
        "sys.argv=['holdtrack','analyze','--help']\n"
        "try:\n c.main()\nexcept SystemExit: pass\n"
        "import sensor.analyze, sensor.inputs, sensor.report\n"
        "bad=[m for m in ('streamlit','bleak','dbus_fast','pandas','altair') if m in sys.modules]\n"
        "print('LOADED:' + ','.join(bad))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "LOADED:"
