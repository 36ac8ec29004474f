"""simulate -> analyze --json (contract.md) -> evaluate, as a user runs them: in-process
through ``sensor.cli.main(argv)``, and once as a real ``holdtrack`` process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sensor.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
def test_simulate_analyze_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "s.htrec"
    code, _, err = run(capsys, "simulate", "--seed", "77", "--short", "--rate", "100", "--out", str(rec))
    assert code == 0, err
    truth = json.loads((tmp_path / "s.truth.json").read_text())

    code, out, err = run(capsys, "analyze", str(rec), "--json")
    assert code == 0, err
    got = json.loads(out)
    assert len(got["reps"]) == len(truth["reps"]) and len(got["holds"]) == len(truth["holds"])
    for rep in got["reps"]:
        assert set(rep) >= {"exercise", "start_s", "end_s", "hold_s", "detected_at_s"}
        assert rep["exercise"] in ("bridge", "back_extension")
        assert rep["start_s"] < rep["end_s"]
    for h in got["holds"]:
        assert set(h) >= {"exercise", "side", "start_s", "end_s", "duration_s", "sway_deg", "tremor_dps", "sag_deg", "detected_at_s"}
        assert h["side"] in ("left", "right", None)

    code, out, _ = run(capsys, "analyze", str(rec))
    assert code == 0 and "Against the routine" in out and "Hip bridge" in out

    code, out, err = run(capsys, "evaluate", str(tmp_path), "--json")
    assert code == 0, err
    ev = json.loads(out)
    for ex, v in ev["summary"]["per_exercise"].items():
        if v["true"]:
            assert v["precision"] == 1.0 and v["recall"] == 1.0, ex
    assert ev["summary"]["false_events"] == 0


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.htrec"
    code, out, err = run(capsys, "analyze", str(missing))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("holdtrack: error: ") and str(missing) in err
    junk = tmp_path / "junk.htrec"
    junk.write_bytes(b"\x00not a recording\xff" * 10)
    code, _, err = run(capsys, "analyze", str(junk))
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(junk) in err


def test_simulate_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.htrec"
    out.write_bytes(b"keep me")
    code, _, err = run(capsys, "simulate", "--seed", "1", "--short", "--out", str(out))
    assert code == 1 and "exists" in err
    assert out.read_bytes() == b"keep me"


def test_holdtrack_runs_as_a_process_and_loads_only_what_analyze_needs(tmp_path: Path) -> None:
    """The one subprocess smoke test: a real interpreter, the real entry point, and the
    modules ``analyze`` pulls in (no dashboard, no Bluetooth, no pandas)."""
    code = (
        "import sys, runpy\n"
        "sys.argv = ['holdtrack', 'analyze', sys.argv[1], '--json']\n"
        "try:\n runpy.run_module('sensor.cli', run_name='__main__')\n"
        "except SystemExit as e:\n rc = e.code\n"
        "bad = [m for m in ('streamlit', 'bleak', 'dbus_fast', 'pandas', 'altair') if m in sys.modules]\n"
        "print('EXIT:%s LOADED:%s' % (rc, ','.join(bad)))"
    )
    import numpy as np

    from sensor.recording import write_recording
    from sensor.samples import Samples
    from sensor.stream import Header

    t = np.arange(0, 20.0, 0.01)
    imu = np.zeros((t.size, 6), np.float32)
    imu[:, 2] = 9.81
    rec = tmp_path / "still.htrec"
    write_recording(rec, Header(source="test", sample_rate_hz=100.0), Samples(t, imu))
    r = subprocess.run([sys.executable, "-c", code, str(rec)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    *json_lines, last = r.stdout.strip().splitlines()
    assert last == "EXIT:0 LOADED:", last
    assert json.loads("\n".join(json_lines))["reps"] == []


def test_simulating_a_phone_writes_a_recording_and_keeps_its_ties_in_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A phone's timestamps tie and step back (the phone_rate class). The recording holds
    the samples as the file readers give them; simulate crashed with "recording times must
    increase" (seen as a user: seed 2106 of tempo_fast --draw-more). The CSV keeps the ties: the reader re-spaces them."""
    import numpy as np

    from sensor.files.inputs import read_generic_csv
    from sensor.recording import read_recording

    rec, csv = tmp_path / "phone.htrec", tmp_path / "phone.csv"
    for out in (rec, csv):
        code, _, err = run(capsys, "simulate", "--seed", "1", "--classes", "phone_rate", "--short", "--out", str(out))
        assert code == 0, err
    t_rec = read_recording(rec).samples.time_s
    assert np.all(np.diff(t_rec) > 0)
    raw = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=0)
    assert np.any(np.diff(raw) <= 0)  # the phone's ties are in the file it wrote
    # Read back, both are the same samples.
    assert len(read_generic_csv(csv)) == len(t_rec)
    # Batched densely, a phone's re-spaced samples are 1 ms apart within a batch: the
    # recording reads back (its rate from the times was the median spacing, 2 kHz, refused).
    dense = tmp_path / "dense.htrec"
    code, _, err = run(capsys, "simulate", "--seed", "2106", "--classes", "tempo_fast", "--draw-more", "--out", str(dense))
    assert code == 0, err
    from sensor.sim.simulate import SimOptions, simulate_session

    sim = simulate_session(2106, SimOptions(classes=("tempo_fast",), draw_more=True, mount=None, daily_life=None))
    assert "phone_rate" in sim.truth["classes"]
    assert len(read_recording(dense).samples) == len(sim.samples_as_read())
