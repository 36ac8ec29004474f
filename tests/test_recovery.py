"""Recordings a crash left open: recovered (torn tail cut, end record added) and said,
by ``record`` and by the live view; a recording still being written is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sensor.events import Analysis
from sensor.live import LiveSession
from sensor.recording import RecordingWriter, read_recording
from sensor.recording.recovery import recover_interrupted, recover_recording
from sensor.sources.paced import SimulatedSource
from sensor.stream import Header
from tests.malformed import still_samples


def crashed_recording(path: Path, seconds: float = 30.0, torn: bytes = b"S\x10\x00") -> np.ndarray:
    """A recording whose writer died: blocks on disk, no end record, a torn tail."""
    s = still_samples(seconds)
    w = RecordingWriter(path, Header(source="test"), block_s=1.0)
    for chunk in s.chunks(50):
        w.write(chunk)
    w.flush()
    w._f.write(torn)  # half a record: the crash came mid-write
    w._f.close()  # no end record (the process was killed)
    return s.time_s


def test_a_crashed_recording_is_recovered_once_and_reads_whole(tmp_path: Path) -> None:
    p = tmp_path / "holdtrack-1.htrec"
    t = crashed_recording(p)
    before = read_recording(p)
    assert not before.complete and before.torn_tail
    secs = recover_recording(p)
    assert secs is not None and abs(secs - (t[-1] - t[0])) < 1e-9
    after = read_recording(p)
    assert after.complete and not after.torn_tail and after.damaged_blocks == 0
    assert np.array_equal(after.samples.time_s, before.samples.time_s)  # nothing lost, nothing invented
    assert recover_recording(p) is None  # now it ends cleanly


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_a_recording_being_written_is_never_touched(tmp_path: Path) -> None:
    p = tmp_path / "holdtrack-live.htrec"
    with RecordingWriter(p, Header(source="test")) as w:
        w.write(still_samples(5))
        w.flush()
        size = p.stat().st_size
        assert recover_interrupted(tmp_path, "holdtrack-*.htrec") == []
        assert p.stat().st_size == size
    assert read_recording(p).complete


def test_record_says_what_it_recovered(tmp_path: Path) -> None:
    old = tmp_path / "holdtrack-20260101-000000.htrec"
    crashed_recording(old)
    cli = [sys.executable, "-m", "sensor.cli"]
    proc = subprocess.Popen(
        cli + ["record", "--phone-push", "127.0.0.1:0", "--out", str(tmp_path / "new.htrec")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == f"recovered 30.0 s from an interrupted recording: {old}", first
        assert "waiting for Sensor Logger pushes" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert read_recording(old).complete


@pytest.mark.slow
def test_the_live_view_recovers_and_saves_an_interrupted_session(tmp_path: Path) -> None:
    crashed = tmp_path / "2026-01-01T10-00-00Z_ble.htrec"
    crashed_recording(crashed, seconds=12.0)
    store_copy = tmp_path / "2026-01-01_0123456789ab.htrec"  # the store's naming: not ours to touch
    crashed_recording(store_copy, seconds=5.0)
    size = store_copy.stat().st_size
    saved: list[Path] = []

    def on_finished(path: Path, analysis: Analysis | None) -> str:
        saved.append(path)
        return "saved"

    live = LiveSession(SimulatedSource(3, speed=50, short=True), recordings_dir=tmp_path, on_finished=on_finished)
    live.start()
    assert live.wait(120)
    snap = live.snapshot()
    assert snap.recovered == f"recovered 12.0 s from an interrupted recording ({crashed.name})"
    assert saved[0] == crashed and saved[-1] == snap.recording  # imported like a finished session
    assert read_recording(crashed).complete
    assert store_copy.stat().st_size == size and os.path.exists(store_copy)
