"""One Ctrl-C always ends ``holdtrack record`` with exit 130: the recording closed, the
summary printed, nothing that was acknowledged lost — from the phone push receiver while a
phone keeps pushing, and from a replayed source; right after it starts listening and in
the middle of a stream. (Run it with busy loops in the background too: a loaded machine
slows the stop, it must not lose it.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from store_builders import sim_recording

from sensor.errors import ExitCode
from sensor.recording import read_recording

CLI = [sys.executable, "-m", "sensor.cli"]
END_S = 120.0  # a stop that takes longer than this on a loaded machine is a lost Ctrl-C
pytestmark = pytest.mark.slow


class Phone:
    """Sensor Logger pushing 0.2 s batches at 100 Hz (acceleration and gyroscope) until told
    to stop; counts the samples each 200 answer acknowledged."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        rng = np.random.default_rng(1)
        t0 = time.time_ns()
        i = 0
        while not self.stop.is_set():
            payload = []
            for _ in range(20):
                t = t0 + i * 10_000_000
                acc = rng.normal(0, 0.2, 3) + np.array([0.0, 0.0, 9.81])
                payload.append({"name": "totalacceleration", "time": t, "values": dict(zip("xyz", acc.tolist()))})
                payload.append({"name": "gyroscope", "time": t, "values": dict(zip("xyz", rng.normal(0, 0.05, 3).tolist()))})
                i += 1
            body = json.dumps({"messageId": i, "sessionId": "s", "deviceId": "d", "payload": payload}).encode()
            req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    if r.status == 200:
                        self.acked += 20
            except (urllib.error.URLError, OSError):
                if self.stop.wait(0.05):  # the receiver is gone (or busy): try again shortly
                    return
            self.stop.wait(0.2)  # the phone's own pace: a batch of 0.2 s every 0.2 s


def _record(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "record", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def _ends_with_130(proc: subprocess.Popen[str], out: Path) -> tuple[str, int]:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)  # one Ctrl-C
    try:
        stdout, stderr = proc.communicate(timeout=END_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"one Ctrl-C did not end record in {END_S:.0f} s") from None
    assert proc.returncode == ExitCode.INTERRUPTED, (proc.returncode, stderr)
    assert "session: " in stdout, stdout
    print(f"ended {time.monotonic() - t0:.1f} s after Ctrl-C")
    if not out.exists():  # stopped before the first sample: said so, nothing to close
        assert "no sample came: nothing recorded" in stdout, stdout
        return stdout, 0
    rec = read_recording(out)
    assert rec.complete, "the recording was not closed"
    return stdout, len(rec.samples)


@pytest.mark.parametrize("when", ["listening", "streaming"])
def test_one_ctrl_c_ends_phone_push_recording_with_130(tmp_path: Path, when: str) -> None:
    out = tmp_path / "p.htrec"
    proc = _record(["--phone-push", "127.0.0.1:0", "--out", str(out)])
    phone = None
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "waiting for Sensor Logger pushes on http://127.0.0.1:" in line, line
        phone = Phone(line.split(" on ", 1)[1].strip())
        if when == "streaming":
            deadline = time.monotonic() + 60
            while phone.acked < 200:  # two seconds of samples acknowledged
                assert time.monotonic() < deadline and proc.poll() is None, "no push was acknowledged"
                time.sleep(0.05)
        acked = phone.acked
        _, recorded = _ends_with_130(proc, out)
    finally:
        if phone is not None:
            phone.stop.set()
            phone.thread.join(30)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert recorded >= acked  # every sample the phone was told was taken is in the recording


@pytest.mark.parametrize("when", ["opened", "streaming"])
def test_one_ctrl_c_ends_a_replayed_recording_with_130(tmp_path: Path, when: str) -> None:
    rec = sim_recording(tmp_path, 14)
    out = tmp_path / "r.htrec"
    proc = _record(["--source", f"replay:{rec}", "--speed", "1", "--out", str(out)])
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("calibration: stand upright"), "record did not start"
        if when == "streaming":
            deadline = time.monotonic() + 60
            while not (out.exists() and out.stat().st_size > 4096):
                assert time.monotonic() < deadline and proc.poll() is None, "nothing was recorded"
                time.sleep(0.05)
        _ends_with_130(proc, out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_the_end_of_duration_is_not_an_interruption(tmp_path: Path) -> None:
    rec = sim_recording(tmp_path, 15)
    out = tmp_path / "d.htrec"
    proc = subprocess.run(
        [*CLI, "record", "--source", f"replay:{rec}", "--speed", "50", "--duration", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=END_S,
    )
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert read_recording(out).complete
