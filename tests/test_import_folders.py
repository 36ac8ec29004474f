"""Folders given to ``import`` are walked once by real path: links to the folder itself,
to a parent, or two names for one file neither loop nor find a file twice."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sensor.importer import expand_paths
from tests.malformed import good_htrec

VECTORS = Path(__file__).resolve().parent.parent.parent / "shared" / "vectors"


def tree(root: Path) -> tuple[Path, list[Path]]:
    """root/in/{a.htrec, sub/b.htrec, sub/c.csv} with links: in/self -> ., in/again -> .,
    in/sub/up -> .., in/sub/top -> ../.. and in/alias.htrec -> sub/b.htrec."""
    top = root / "in"
    (top / "sub").mkdir(parents=True)
    files = [top / "a.htrec", top / "sub" / "b.htrec", top / "sub" / "c.csv"]
    for i, f in enumerate(files):
        f.write_bytes(good_htrec(10 + i) if f.suffix == ".htrec" else b"time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
    (top / "self").symlink_to(".")
    (top / "again").symlink_to(".")
    (top / "sub" / "up").symlink_to("..")
    (top / "sub" / "top").symlink_to("../..")
    (top / "alias.htrec").symlink_to("sub/b.htrec")
    return top, files


def test_one_link_to_itself_finds_each_file_once(tmp_path: Path) -> None:
    top = tmp_path / "in"
    top.mkdir()
    (top / "a.htrec").write_bytes(good_htrec(10))
    (top / "loop").symlink_to(".")
    assert expand_paths([top]) == [top / "a.htrec"]  # was: 41 times, until the path grew too long


def test_links_in_every_direction_find_each_file_once(tmp_path: Path) -> None:
    top, files = tree(tmp_path)
    # Walked in a child process: before, two links to itself walked for ever, memory growing.
    code = "import sys; from sensor.importer import expand_paths; print('\\n'.join(map(str, expand_paths(sys.argv[1:]))))"
    r = subprocess.run([sys.executable, "-c", code, str(top), str(top / "sub")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    found = [Path(p).resolve() for p in r.stdout.split()]
    assert sorted(found) == sorted(f.resolve() for f in files)


def test_an_export_folder_with_a_link_to_itself_is_one_session(tmp_path: Path) -> None:
    export = tmp_path / "in" / "phone"
    shutil.copytree(VECTORS / "sensor_logger" / "ios_1.11_2022-11-07_18-55-55", export)
    (export / "self").symlink_to(".")
    (export / "up").symlink_to("..")
    assert expand_paths([tmp_path / "in"]) == [export]
    from sensor.importer import content_hash

    assert content_hash(export) == content_hash(export)  # the hash's walk ends too


def test_import_of_a_looping_folder_ends_with_each_file_once(tmp_path: Path) -> None:
    top, _files = tree(tmp_path)
    (top / "sub" / "c.csv").unlink()
    r = subprocess.run(
        [sys.executable, "-m", "sensor.cli", "import", "--jobs", "1", "--data-dir", str(tmp_path / "d"), str(top)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("added as session") == 2 and "already" not in r.stdout
    assert "2 added, 0 already in the store, 0 failed" in r.stderr
