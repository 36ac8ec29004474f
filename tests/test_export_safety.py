"""Outputs never replace their input, never overwrite a file unasked, and are written whole
(a temporary file beside them, renamed): ``export``, ``convert``, ``simulate``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sensor.cli import main
from sensor.files.inputs import read_generic_csv
from sensor.recording import read_recording
from tests.malformed import good_htrec


@pytest.fixture()
def rec(tmp_path: Path) -> Path:
    path = tmp_path / "session.htrec"
    path.write_bytes(good_htrec(30))
    return path


def export(*args: str | Path) -> int:
    return main(["export", *map(str, args), "--data-dir", "/nonexistent-holdtrack-store"])


@pytest.mark.parametrize("option", ["--csv", "--fit"])
def test_export_never_replaces_the_recording(rec: Path, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = rec.read_bytes()
    (rec.parent / "link.htrec").symlink_to(rec)
    os.link(rec, rec.parent / "hard.htrec")
    for target in (rec, rec.parent / "link.htrec", rec.parent / "hard.htrec", rec.parent / "sub" / ".." / rec.name):
        (rec.parent / "sub").mkdir(exist_ok=True)
        for force in ([], ["--force"]):
            assert export(rec, option, target, *force) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "is the input itself" in err and option in err
    assert rec.read_bytes() == before  # was: replaced by the export, exit 0


def test_export_refuses_to_overwrite_without_force(rec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv, out_fit = tmp_path / "out.csv", tmp_path / "out.fit"
    out_csv.write_text("my notes\n")
    out_fit.write_bytes(b"precious")
    assert export(rec, "--csv", out_csv) == 1
    assert f"{out_csv}: exists (use --force to replace it)" in capsys.readouterr().err
    assert export(rec, "--fit", out_fit) == 1
    assert out_csv.read_text() == "my notes\n" and out_fit.read_bytes() == b"precious"
    assert export(rec, "--csv", out_csv, "--fit", out_fit, "--force") == 0
    assert len(read_generic_csv(out_csv)) == len(read_recording(rec).samples)
    assert out_fit.read_bytes()[8:12] == b".FIT"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


def test_export_refuses_one_file_for_both(rec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert export(rec, "--csv", tmp_path / "x", "--fit", tmp_path / "x") == 2
    assert "same file" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_convert_never_replaces_its_input(tmp_path: Path, rec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "s.csv"
    assert export(rec, "--csv", csv) == 0
    before = csv.read_bytes()
    assert main(["convert", str(csv), str(csv), "--force"]) == 2  # was: the CSV replaced by a recording
    assert "is the input itself" in capsys.readouterr().err
    assert csv.read_bytes() == before


def test_simulate_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.htrec"
    out.write_bytes(b"mine")
    assert main(["simulate", "--seed", "1", "--short", "--out", str(out)]) == 1
    assert "exists (use --force" in capsys.readouterr().err and out.read_bytes() == b"mine"
    assert main(["simulate", "--seed", "1", "--short", "--out", str(out), "--force"]) == 0
    assert len(read_recording(out).samples) > 1000


def test_analyze_trace_never_replaces_the_input(rec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = rec.read_bytes()
    assert main(["analyze", str(rec), "--trace", str(rec)]) == 2
    assert "is the input itself" in capsys.readouterr().err and rec.read_bytes() == before
