"""A full disk (a real one: a small tmpfs, see tests/full_disk.py) is one line naming the
file (``disk full writing PATH``), never an internal error, never a truncated file under
the final name, and never loses what was already recorded or stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from full_disk import kind, run_full

from sensor.recording import read_recording, write_recording
from sensor.store import Store
from sensor.store.queries import sessions

FULL = re.compile(r"^holdtrack: error: (disk full|file size limit reached) writing ")


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("holdtrack:")]
    assert len(lines) == 1, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr and "disk I/O error" not in stderr, stderr
    return lines[0]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import sim

    s = sim(7, short=True, rate_hz=100.0)
    path = tmp_path_factory.mktemp("rec") / "session.htrec"
    write_recording(path, s.header, s.samples, s.gaps)
    return path


@pytest.mark.slow  # ~5-10 s (timed under load): in `make test`, not `make check`
def test_record_stops_in_one_line_and_keeps_what_it_wrote(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    out = disk / "live.htrec"
    r, after = run_full(disk, 96, ["record", "--source", "sim:3", "--speed", "50", "--duration", "300", "--out", str(out)])
    assert r.returncode == 1, r.stderr
    line = one_line(r.stderr)
    assert FULL.match(line) and f"writing {out}" in line and "what was recorded before is kept" in line
    kept = read_recording(after / "live.htrec", validate=False)
    assert not kept.complete  # no end record fitted: it reads as an interrupted recording
    span = kept.samples.time_s[-1] - kept.samples.time_s[0]
    assert len(kept.samples) > 1000 and span > 10.0  # tens of seconds were on the disk before it filled


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sim.csv", "sim.htrec"])
def test_simulate_leaves_nothing_half_written(tmp_path: Path, name: str) -> None:
    disk = tmp_path / "disk"
    r, after = run_full(disk, 64, ["simulate", "--seed", "3", "--short", "--out", str(disk / name)])
    assert r.returncode == 1
    assert FULL.match(one_line(r.stderr)) and f"writing {disk / name}" in r.stderr
    assert sorted(p.name for p in after.iterdir()) == []  # no output, no temporary file


def test_convert_leaves_nothing_half_written(tmp_path: Path, recording: Path) -> None:
    disk = tmp_path / "disk"
    r, after = run_full(disk, 64, ["convert", str(recording), str(disk / "copy.htrec")])
    assert r.returncode == 1
    assert FULL.match(one_line(r.stderr)) and f"writing {disk / 'copy.htrec'}" in r.stderr
    assert list(after.iterdir()) == []


@pytest.mark.parametrize("option", ["--csv", "--fit"])
def test_export_leaves_no_truncated_file(tmp_path: Path, recording: Path, option: str) -> None:
    disk = tmp_path / "disk"
    out = disk / ("out.csv" if option == "--csv" else "out.fit")
    size = 64 if option == "--csv" else 0  # the FIT file is about 2 kB
    r, after = run_full(disk, size, ["export", str(recording), option, str(out), "--data-dir", str(tmp_path / "none")])
    assert r.returncode == 1, r.stderr
    assert FULL.match(one_line(r.stderr)) and f"writing {out}" in r.stderr
    assert list(after.iterdir()) == []  # was: a truncated CSV / a 0-byte FIT under the final name


def test_import_keeps_what_was_stored(tmp_path: Path) -> None:
    """The disk fills on the second, larger file: the first stays stored, the second is one
    line and the import stops (exit 4: the store cannot take more)."""
    from tests.malformed import good_htrec

    first, second = tmp_path / "first.htrec", tmp_path / "second.htrec"
    first.write_bytes(good_htrec(20))  # 43 kB
    second.write_bytes(good_htrec(600))  # 1.3 MB
    disk = tmp_path / "disk"
    r, after = run_full(disk, 500, ["import", "--jobs", "1", "--data-dir", str(disk / "d"), str(first), str(second)])
    assert r.returncode == 4, r.stderr
    line = one_line(r.stderr)
    assert re.search(r"(disk full|file size limit reached) writing ", line), line
    assert "added as session 1" in r.stdout
    assert [k.id for k in sessions(Store(after / "d"))] == [1]
    assert kind() in ("disk full writing", "file size limit reached writing")
