"""Settings read from a recording's header are range-checked (``sensor.settings_ranges``):
every numeric setting has a range with its reason, every default lies inside it, anything
inside analyses without error, anything outside is one line naming the setting (exit 2),
and ``--default-settings`` analyses the samples with today's defaults, saying so."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import sim
from sensor.analyze import analyze_samples, analyze_stream
from sensor.cli import main
from sensor.recording import read_header, write_recording
from sensor.samples import interleave
from sensor.settings import DISPLAY_ONLY, PipelineSettings
from sensor.settings_ranges import CHOICES, RANGES, leaves
from sensor.stream import Header
from tests.malformed import header_record, htrec, record, sample_records, still_samples


def numeric_fields(cls: type, prefix: str = "") -> list[str]:
    """Dotted names of every int or float field of a settings dataclass tree, found from the
    classes themselves (not from the table under test)."""
    out = []
    for f in dataclasses.fields(cls):
        if not prefix and f.name in DISPLAY_ONLY:
            continue  # never read from a header
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out += numeric_fields(type(default), f"{prefix}{f.name}.")
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            out.append(f"{prefix}{f.name}")
    return out


def with_setting(name: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings JSON (the defaults', or a copy of ``base``) with one dotted setting changed."""
    obj = copy.deepcopy(base) if base is not None else PipelineSettings().to_json()
    *path, last = name.split(".")
    inner = obj
    for p in path:
        inner = inner[p]
    inner[last] = value
    return obj


def test_every_numeric_setting_has_a_range_with_a_reason() -> None:
    fields = numeric_fields(PipelineSettings)
    assert len(fields) > 40  # the detector's are in the tree
    assert sorted(set(fields) - set(RANGES)) == []  # a new setting needs a row
    assert sorted(set(RANGES) - set(fields)) == []  # and a row names a setting that exists
    for name, (low, high, why) in RANGES.items():
        assert low < high and len(why) > 10, name


def test_every_default_lies_inside_its_range() -> None:
    defaults = dict(leaves(PipelineSettings().to_json()))
    outside = {n: defaults[n] for n, (lo, hi, _) in RANGES.items() if not lo <= defaults[n] <= hi}
    assert outside == {}
    assert all(defaults[n] in choices for n, choices in CHOICES.items())
    PipelineSettings.from_json(PipelineSettings().to_json())  # the defaults pass the check


@pytest.mark.parametrize("name", sorted(RANGES))
def test_outside_its_range_a_setting_is_refused_by_name(name: str) -> None:
    low, high, _ = RANGES[name]
    for value in (low - max(1e-3, abs(low) * 0.01), high * 1.01 + 1e-3, -1.0, 1e9, math.inf):
        if low <= value <= high:
            continue
        # Beyond 1e9 or not finite, the type check already refuses it (also by name).
        with pytest.raises(ValueError, match=rf"setting {name} = .* is outside|settings\.{name} .* is not a number"):
            PipelineSettings.from_json(with_setting(name, value))


def test_a_word_setting_must_be_one_of_its_words() -> None:
    with pytest.raises(ValueError, match="setting mount 'sideways' is not one of"):
        PipelineSettings.from_json(with_setting("mount", "sideways"))


def test_display_switches_in_a_header_are_ignored() -> None:
    s = PipelineSettings.from_json({**PipelineSettings().to_json(), "trace_hz": 1e9, "keep_signals": True})
    assert s.trace_hz is None and s.keep_signals is False


@pytest.mark.slow
@pytest.mark.parametrize("part", range(4))  # four quarters of the cases: the workers share them
def test_every_setting_at_either_end_of_its_range_analyses(part: int) -> None:
    """Each setting at its lowest and highest, the others at their defaults, then random
    mixes of ends and middles: every analysis finishes (no division by zero, no filter
    that cannot be designed), on a calibrated 100 Hz session and a 25 Hz one with gaps. A
    single setting at an end runs the pipeline once; the mixes run the whole analysis,
    which may try the other mountings too (three more runs)."""
    sessions = [sim(7, short=True, rate_hz=100.0), sim(11, short=True, rate_hz=25.0)]
    cases = [(with_setting(n, v), False) for n, (lo, hi, _) in sorted(RANGES.items()) for v in (lo, hi)]
    rng = random.Random(5)
    for _ in range(30):
        obj = PipelineSettings().to_json()
        for n, (lo, hi, _) in RANGES.items():
            obj = with_setting(n, rng.choice([lo, hi, rng.uniform(lo, hi)]), obj)
        cases.append((obj, True))
    for k, (obj, whole) in list(enumerate(cases))[part::4]:
        s = sessions[k % 2]
        settings = PipelineSettings.from_json(obj)
        if whole:
            a = analyze_samples(s.samples, s.gaps, s.header, settings=settings)
        else:
            a = analyze_stream(interleave(s.samples, list(s.gaps)), settings=settings, header=s.header)
        assert a.duration_s == pytest.approx(s.samples.time_s[-1] - s.samples.time_s[0], abs=0.1)


@pytest.mark.timeout(120)
def test_a_hold_whose_every_sample_departs_does_not_stall_the_detector() -> None:
    """At the ends of their ranges (a departure of 0.5° ends a hold, a pelvis turning at
    20°/s is quiet), a hold re-levelled at a chunk's first sample departed there again at
    once: the detector looped on that sample for ever (a random mix of ends found it)."""
    s = sim(7, short=True, rate_hz=100.0)
    obj = with_setting("detector.quiet_dps", 20.0)
    obj = with_setting("detector.hold_end_min_deg", 15.0, obj)
    obj = with_setting("detector.hold_move_deg", 0.5, obj)
    a = analyze_samples(s.samples, s.gaps, s.header, settings=PipelineSettings.from_json(obj))
    assert a.duration_s == pytest.approx(s.samples.time_s[-1] - s.samples.time_s[0], abs=0.1)


def bad_copy(path: Path, settings: dict[str, Any], seconds: float = 20.0) -> Path:
    header = {**Header(source="test").to_json(), "settings": settings}
    path.write_bytes(htrec(*sample_records(still_samples(seconds)), header=header_record(header)))
    return path


def test_analyze_refuses_in_one_line_and_default_settings_analyses(tmp_path: Path) -> None:
    rec = bad_copy(tmp_path / "grid.htrec", with_setting("grid_hz", 1e6), seconds=60.0)
    r = subprocess.run([sys.executable, "-m", "sensor.cli", "analyze", str(rec)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"holdtrack: error: {rec}: setting grid_hz = 1e+06 is outside 25..200") and "--default-settings" in line
    r = subprocess.run(
        [sys.executable, "-m", "sensor.cli", "analyze", "--default-settings", str(rec)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert "analysed with today's default settings" in r.stdout
    assert "1.0 min at 100 Hz" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "sensor.cli", "analyze", "--json", "--default-settings", str(rec)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "default settings" in r.stderr
    assert json.loads(r.stdout)["duration_s"] == pytest.approx(60.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "value"),
    [("detector.hold_min_s", 0.0), ("detector.rest_tau_s", -2.0), ("lp_hz", 40.0), ("calibration.still_s", 0.0), ("max_gap_s", 1e8)],
)
def test_import_refuses_a_setting_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, value: float) -> None:
    rec = bad_copy(tmp_path / "bad.htrec", with_setting(name, value))
    assert main(["import", "--data-dir", str(tmp_path / "d"), str(rec)]) == 1
    err = capsys.readouterr().err
    assert f"setting {name} = {value:g} is outside" in err and "internal error" not in err


@pytest.mark.slow
def test_a_hostile_copy_never_blocks_the_genuine_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = sim(7, short=True, rate_hz=100.0)
    genuine = tmp_path / "genuine.htrec"
    write_recording(genuine, s.header, s.samples, s.gaps)
    hostile = tmp_path / "copy.htrec"
    h = read_header(genuine)
    h.settings = with_setting("detector.hold_min_s", 0.0)
    write_recording(hostile, h, s.samples, s.gaps)
    data = str(tmp_path / "d")
    assert main(["import", "--data-dir", data, str(hostile)]) == 1
    assert "setting detector.hold_min_s = 0 is outside" in capsys.readouterr().err
    assert main(["import", "--data-dir", data, str(genuine)]) == 0
    out = capsys.readouterr().out
    assert "added as session 1" in out
    # Asked for, the copy's samples are analysed with today's defaults: found as the same.
    assert main(["import", "--data-dir", data, "--default-settings", str(hostile)]) == 0
    assert "already in the store (session 1" in capsys.readouterr().out


def test_reanalyze_with_default_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = bad_copy(tmp_path / "bad.htrec", with_setting("grid_hz", 1e6))
    data = str(tmp_path / "d")
    assert main(["import", "--data-dir", data, "--default-settings", str(rec)]) == 0
    assert "analysed with today's default settings" in capsys.readouterr().out
    assert main(["reanalyze", "--data-dir", data]) == 1
    assert "setting grid_hz = 1e+06 is outside" in capsys.readouterr().err
    assert main(["reanalyze", "--data-dir", data, "--default-settings"]) == 0
    err = capsys.readouterr().err
    assert "1 unchanged" in err and "default settings" in err


def test_a_header_over_1_mb_is_named_as_too_large(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = {**Header(source="test").to_json(), "extra": {"pad": "x" * (2 << 20)}}
    rec = tmp_path / "big-header.htrec"
    rec.write_bytes(htrec(*sample_records(still_samples(20)), header=record(b"H", json.dumps(header).encode())))
    assert main(["analyze", str(rec)]) == 2
    err = capsys.readouterr().err
    assert "header is too large (2,097," in err and "no header" not in err
