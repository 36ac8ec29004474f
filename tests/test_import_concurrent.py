"""Imports running at once, as real processes (issue 21, item 7): the same samples in two
files imported at the same moment are stored once (the check and the insert are one
transaction), and a recording still being written is refused in one line, not stored as
a partial session."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from store_builders import sim_recording
from test_same_samples import quiet_plank, recording

from sensor import importer
from sensor.files.inputs import write_generic_csv
from sensor.samples import Samples
from sensor.store import Store, queries

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 8
START_TIMEOUT_S = 120.0  # two interpreters importing numpy on a loaded machine

# One importer process: for each round, says it is ready, waits for the word, imports its
# file into that round's store and writes the result.
WORKER = """
import json, sys, time
from pathlib import Path
from sensor import importer
from sensor.store import Store
work, name, path, rounds = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
for k in range(rounds):
    store = Store(work / f"store{k}")
    (work / f"ready-{k}-{name}").touch()
    while not (work / f"go-{k}").exists():
        time.sleep(0.001)
    r = importer.import_file(store, path)
    (work / f"result-{k}-{name}.json").write_text(json.dumps([r.status, r.session_id, r.message]))
"""


def wait_for(paths: list[Path], what: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not all(p.exists() for p in paths):
        for proc in procs:
            # Exit 0 is an importer done with its last round while the other still imports.
            assert proc.poll() in (None, 0), f"an importer died: {proc.stderr.read().decode() if proc.stderr else ''}"
        assert time.monotonic() < deadline, f"no {what} in {START_TIMEOUT_S:.0f} s"
        time.sleep(0.01)


def test_the_same_samples_imported_at_once_from_two_files_are_stored_once(tmp_path: Path) -> None:
    plank = quiet_plank(1, 12.0)
    files = {
        "htrec": recording(tmp_path / "plank.htrec", plank, "2025-03-03T07:00:00Z"),
        "csv": tmp_path / "plank-export.csv",
    }
    write_generic_csv(files["csv"], Samples(plank.time_s + 1.7412e9, plank.imu))
    work = tmp_path / "work"
    work.mkdir()
    for k in range(ROUNDS):
        Store(work / f"store{k}")
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(work), name, str(path), str(ROUNDS)], cwd=ROOT, stderr=subprocess.PIPE)
        for name, path in files.items()
    ]
    try:
        for k in range(ROUNDS):
            wait_for([work / f"ready-{k}-{name}" for name in files], "importers ready", procs)
            (work / f"go-{k}").touch()  # both import from here, at once
            wait_for([work / f"result-{k}-{name}.json" for name in files], "import results", procs)
        for proc in procs:
            assert proc.wait(60) == 0
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    twice = []
    for k in range(ROUNDS):
        results = {name: json.loads((work / f"result-{k}-{name}.json").read_text()) for name in files}
        stored = [r.id for r in queries.sessions(Store(work / f"store{k}"))]
        if len(stored) != 1:
            twice.append(k)
            continue
        statuses = sorted(r[0] for r in results.values())
        assert statuses == ["added", "already"], results
        assert all(r[1] == stored[0] for r in results.values()), results  # the second names the first's session
    assert twice == [], f"stored twice in rounds {twice} of {ROUNDS}"


def test_a_losing_import_never_removes_the_copy_the_winner_points_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two imports of one file at once, forced into the order that emptied the recordings
    folder: "first" copies the file into the store, "second" copies it after, then "second"
    stores its session first and "first" finds the same samples already stored. "first"
    removing its copy must never take the file "second"'s session points at."""
    rec = sim_recording(tmp_path, 5)
    data = tmp_path / "data"
    Store(data)
    first_kept, second_stored = threading.Event(), threading.Event()
    keep_file, add_session_unless = Store.keep_file, Store.add_session_unless

    def keep(self: Store, path: Path, info: Any) -> Path | None:
        me = threading.current_thread().name
        if me == "second":
            assert first_kept.wait(120), "first never copied"
        try:
            return keep_file(self, path, info)
        finally:
            if me == "first":
                first_kept.set()

    def add(self: Store, *args: Any) -> int | None:
        me = threading.current_thread().name
        if me == "first":
            assert second_stored.wait(120), "second never stored"
        try:
            return add_session_unless(self, *args)
        finally:
            if me == "second":
                second_stored.set()

    monkeypatch.setattr(Store, "keep_file", keep)
    monkeypatch.setattr(Store, "add_session_unless", add)
    results: dict[str, importer.ImportResult | BaseException] = {}

    def one() -> None:
        try:
            results[threading.current_thread().name] = importer.import_file(Store(data), rec)
        except BaseException as e:  # said by the assert below, not lost in the thread
            results[threading.current_thread().name] = e

    threads = [threading.Thread(target=one, name=name) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert not any(t.is_alive() for t in threads)
    first, second = results["first"], results["second"]
    assert isinstance(first, importer.ImportResult) and isinstance(second, importer.ImportResult), results
    assert (first.status, second.status) == ("already", "added"), results
    assert first.session_id == second.session_id
    st = Store(data)
    with st.connect() as con:
        [kept] = [st.resolve(r[0]) for r in con.execute("SELECT file_path FROM sessions")]
    assert kept.is_file() and kept.read_bytes() == rec.read_bytes()  # the winner's recording is there
    assert list(st.recordings_dir.iterdir()) == [kept]  # and the loser's copy (if any) is gone


# A recorder: writes a few seconds, says so, and keeps the recording open until told to stop.
RECORDER = """
import sys, numpy as np
from pathlib import Path
from sensor.recording import RecordingWriter
from sensor.samples import Samples
from sensor.stream import Header
path = Path(sys.argv[1])
t = np.arange(500) / 100.0
imu = np.tile(np.array([0, 0, 9.81, 0, 0, 0], np.float32), (500, 1))
with RecordingWriter(path, Header(source="ble", sample_rate_hz=100.0, created_utc="2025-03-03T07:00:00Z"), block_s=1.0) as w:
    w.write(Samples(t, imu))
    w.flush()
    Path(sys.argv[2]).touch()
    sys.stdin.read()  # recording on, until the test closes our stdin
"""


@pytest.mark.slow
def test_a_recording_still_being_written_is_refused_in_one_line(tmp_path: Path) -> None:
    rec, ready, data = tmp_path / "live.htrec", tmp_path / "ready", tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-c", RECORDER, str(rec), str(ready)], cwd=ROOT, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for([ready], "recording started", [proc])
        r = subprocess.run(
            [sys.executable, "-m", "sensor.cli", "import", "--data-dir", str(data), str(rec)], cwd=ROOT, capture_output=True, text=True
        )
        assert r.returncode == 1, r.stderr
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert errors == [f"error: {rec}: still being recorded (another program is writing it): import it once that recording has stopped"]
        assert Store(data).session_count() == 0  # no partial session
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(60) == 0, proc.stderr.read().decode() if proc.stderr else ""
    r = subprocess.run(
        [sys.executable, "-m", "sensor.cli", "import", "--data-dir", str(data), str(rec)], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0 and "added as session 1" in r.stdout, r.stderr
