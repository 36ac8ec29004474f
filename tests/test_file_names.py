"""A file name that is not UTF-8 (bytes from another system) works, and is shown as
``\\xff`` in every line: it is the name, never the contents, that is odd."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sensor.store import Store
from sensor.store.queries import sessions
from tests.malformed import good_htrec


def test_import_and_analyze_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    odd = folder / os.fsdecode(b"caf\xe9-\xff.htrec")  # Latin-1 bytes, as an old Windows zip gives them
    odd.write_bytes(good_htrec(30))
    cli = [sys.executable, "-m", "sensor.cli"]
    for args in (
        ["import", "--data-dir", str(tmp_path / "d"), str(odd)],
        ["analyze", str(odd)],
        ["import", "--data-dir", str(tmp_path / "e"), str(folder)],
    ):
        r = subprocess.run([*cli, *args], capture_output=True, timeout=120)
        out, err = r.stdout.decode(), r.stderr.decode()  # valid UTF-8: the name's bytes are written as \xe9, \xff
        assert r.returncode == 0, err
        assert "Traceback" not in err and "cannot be read" not in err
        if args[0] == "import":
            assert "caf\\xe9-\\xff.htrec: added as session 1" in out
        else:
            assert "Session caf\\xe9-\\xff.htrec" in out
    (s,) = sessions(Store(tmp_path / "d"))
    assert s.id == 1


def test_a_csv_in_a_folder_whose_name_is_not_utf8(tmp_path: Path) -> None:
    """The CSV reader hands plain files to arrow by name, which must be UTF-8: such a file
    is read through Python instead (was: an internal error in convert, 'cannot be read' in
    import, blaming the contents)."""
    from sensor.files.inputs import write_generic_csv
    from tests.malformed import still_samples

    folder = tmp_path / os.fsdecode(b"d\xfcsseldorf")
    folder.mkdir()
    csv = folder / "s.csv"
    write_generic_csv(csv, still_samples(30))
    cli = [sys.executable, "-m", "sensor.cli"]
    for args in (["convert", str(csv), str(folder / "s.htrec")], ["import", "--data-dir", str(tmp_path / "d"), str(csv)]):
        r = subprocess.run([*cli, *args], capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode()
    assert "d\\xfcsseldorf/s.csv: added as session 1" in r.stdout.decode()
