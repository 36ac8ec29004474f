"""``holdtrack scan / record / export / fake-sensors`` run as subprocesses against the fake
BlueZ on a private bus (``DBUS_SYSTEM_BUS_ADDRESS``): clear one-line errors, recordings
that survive Ctrl-C and ``kill -9``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensor.fake_bluez.control import control
from sensor.fake_bluez.process import FakeBluezProcess
from sensor.fake_bluez.sensor_sim import SensorSpec
from sensor.fake_bluez.testing import assert_same_samples, delivered_samples, new_address, spec_for
from sensor.recording import read_recording, write_recording
from sensor.samples import Samples
from sensor.settings import PipelineSettings
from sensor.stream import Header

CLI = [sys.executable, "-m", "sensor.cli"]  # the `holdtrack` command
OTHER = SensorSpec(address=new_address(), name="HR strap", profile="", uuids=("0000180d-0000-1000-8000-00805f9b34fb",))
ONLY = spec_for("holdtrack", seed=21)  # endless, real-time


def _run(args: list[str], env: dict[str, str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def one_sensor() -> Iterator[FakeBluezProcess]:
    """Exactly one supported sensor in range (and a heart-rate strap)."""
    with FakeBluezProcess([ONLY, OTHER]) as fake:
        yield fake


@pytest.fixture(scope="module")
def all_profiles() -> Iterator[tuple[FakeBluezProcess, list[SensorSpec]]]:
    specs = [spec_for(p) for p in ("holdtrack", "witmotion", "thingy52", "polar")]
    with FakeBluezProcess([*specs, OTHER]) as fake:
        yield fake, specs


def _one_error_line(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode != 0 and proc.returncode is not None
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("holdtrack: error: ") and fragment in lines[0], lines[0]


def test_scan_lists_every_supported_sensor(all_profiles: tuple[FakeBluezProcess, list[SensorSpec]]) -> None:
    fake, specs = all_profiles
    proc = _run(["scan", "--timeout", "1"], fake.env())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    labels = {"holdtrack": "HoldTrack GATT", "witmotion": "WitMotion", "thingy52": "Thingy:52", "polar": "Polar"}
    for spec in specs:
        line = next(line for line in lines if spec.address in line)
        assert spec.name in line and labels[spec.profile] in line
    assert "1 other Bluetooth device" in proc.stdout
    assert proc.stderr == ""


def test_record_picks_the_only_sensor_and_summarises(one_sensor: FakeBluezProcess, tmp_path: Path) -> None:
    out = tmp_path / "s.htrec"
    proc = _run(["record", "--out", str(out), "--duration", "3", "--scan-timeout", "1.5"], one_sensor.env())
    assert proc.returncode == 0, proc.stderr
    assert f"connected to {ONLY.name}" in proc.stdout
    assert "calibration: stand upright" in proc.stdout
    assert "session: " in proc.stdout and str(out) in proc.stdout
    rec = read_recording(out)
    assert rec.complete and not rec.torn_tail
    assert rec.header.device["profile"] == "holdtrack" and rec.header.source == "ble"
    assert 2.9 <= rec.samples.time_s[-1] - rec.samples.time_s[0] <= 3.2
    assert np.all(np.diff(rec.samples.time_s) > 0)
    assert any("link" in n for n in rec.notes)


def test_record_takes_a_ble_source_spec_and_keeps_the_session_settings(one_sensor: FakeBluezProcess, tmp_path: Path) -> None:
    out = tmp_path / "spec.htrec"
    proc = _run(["record", "--source", f"ble:{ONLY.address}", "--out", str(out), "--duration", "2"], one_sensor.env())
    assert proc.returncode == 0, proc.stderr
    assert f"connected to {ONLY.name}" in proc.stdout and "session: " in proc.stdout
    rec = read_recording(out)
    assert rec.complete and rec.header.source == "ble" and rec.header.device["address"] == ONLY.address
    # The settings the session was stamped and analysed with travel with it.
    assert rec.header.settings is not None
    assert PipelineSettings.from_json(rec.header.settings) == PipelineSettings()


def test_record_with_several_sensors_asks_which(all_profiles: tuple[FakeBluezProcess, list[SensorSpec]], tmp_path: Path) -> None:
    fake, _ = all_profiles
    proc = _run(["record", "--out", str(tmp_path / "x.htrec"), "--duration", "1", "--scan-timeout", "1"], fake.env())
    _one_error_line(proc, "choose one with --device")
    assert not (tmp_path / "x.htrec").exists()


def test_device_errors_are_one_clear_line(one_sensor: FakeBluezProcess, tmp_path: Path) -> None:
    out = str(tmp_path / "r.htrec")
    _one_error_line(_run(["record", "--device", "EE:EE:EE:00:00:09", "--out", out, "--scan-timeout", "1"], one_sensor.env()), "not found")
    _one_error_line(_run(["record", "--device", "HR strap", "--out", out], one_sensor.env()), "not a supported sensor")
    control(one_sensor.address, "set_powered", False)
    try:
        _one_error_line(_run(["record", "--device", ONLY.address, "--out", out], one_sensor.env()), "adapter is off")
        _one_error_line(_run(["scan", "--timeout", "1"], one_sensor.env()), "adapter is off")
    finally:
        control(one_sensor.address, "set_powered", True)
    assert not Path(out).exists()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"adapter": False}, "no Bluetooth LE adapter"), ({"bluez": False}, "bluetoothd) is not running")],
)
def test_no_adapter_and_no_bluetoothd(kwargs: dict[str, bool], fragment: str) -> None:
    with FakeBluezProcess((), **kwargs) as fake:
        _one_error_line(_run(["scan", "--timeout", "1"], fake.env()), fragment)
        _one_error_line(_run(["record", "--device", "AA:BB:CC:DD:EE:FF"], fake.env()), fragment)


def test_no_system_bus_at_all(tmp_path: Path) -> None:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'nobus'}"}
    _one_error_line(_run(["scan", "--timeout", "1"], env), "cannot reach the system D-Bus")


def _start_record(fake: FakeBluezProcess, out: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*CLI, "record", "--device", ONLY.address, "--out", str(out)],
        env=fake.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("connected to"), line + (proc.stderr.read() if proc.stderr else "")
    return proc


def _wait_recorded(out: Path, n: int, timeout_s: float = 60.0) -> int:
    """Wait until the recording being written holds at least ``n`` samples (a condition,
    not a sleep: a busy host records more slowly, not less correctly)."""
    deadline = time.monotonic() + timeout_s
    got = 0
    while time.monotonic() < deadline:
        if out.exists():
            try:
                got = len(read_recording(out).samples)
            except Exception:  # the header may not be flushed yet
                got = 0
            if got >= n:
                return got
        time.sleep(0.1)
    raise AssertionError(f"{out} holds {got} samples after {timeout_s} s, expected {n}")


def test_ctrl_c_stops_cleanly_and_closes_the_recording(one_sensor: FakeBluezProcess, tmp_path: Path) -> None:
    out = tmp_path / "c.htrec"
    proc = _start_record(one_sensor, out)
    _wait_recorded(out, 200)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr  # Ctrl-C: interrupted, the recording closed
    assert "session: " in stdout
    rec = read_recording(out)
    assert rec.complete and len(rec.samples) > 150


def test_kill_9_keeps_all_but_the_last_second(one_sensor: FakeBluezProcess, tmp_path: Path) -> None:
    out = tmp_path / "k.htrec"
    proc = _start_record(one_sensor, out)
    _wait_recorded(out, 200)
    proc.kill()  # SIGKILL: no clean-up at all
    # The fake does not notice a dead client (nor does BlueZ): read what it had delivered
    # by the time of the kill right away.
    after = control(one_sensor.address, "stats", ONLY.address)
    proc.communicate(timeout=30)
    rec = read_recording(out)
    assert not rec.complete
    # What the sensor delivered to this connection (the newest run) ...
    run_start, run_len = after["delivered_runs"][-1]
    # ... is on disk up to at most 1 s (100 samples) before the kill ...
    assert run_len - len(rec.samples) <= 100, (run_len, len(rec.samples))
    assert len(rec.samples) > 150
    # ... sample for sample, from the start of the connection.
    assert_same_samples(rec.samples, delivered_samples(ONLY, [[run_start, len(rec.samples)]]), "holdtrack")


def test_export_writes_the_generic_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    samples = Samples(np.arange(50) / 100.0 + 3.0, rng.standard_normal((50, 6)).astype(np.float32))
    path = tmp_path / "e.htrec"
    write_recording(path, Header(source="test"), samples)
    csv = tmp_path / "e.csv"
    proc = _run(["export", str(path), "--csv", str(csv)], dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    lines = csv.read_text().splitlines()
    assert lines[0] == "time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, 0], samples.time_s, atol=1e-6)
    assert np.array_equal(table[:, 1:].astype(np.float32), samples.imu)  # float32 exactly
    _one_error_line(_run(["export", str(tmp_path / "missing.htrec"), "--csv", str(csv)], dict(os.environ)), "cannot open")


def test_fake_sensors_command_serves_every_profile_and_cleans_up() -> None:
    proc = subprocess.Popen(
        [*CLI, "fake-sensors", "--feed", "synthetic", "--speed", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("export DBUS_SYSTEM_BUS_ADDRESS=unix:path=")
        address = first.split("=", 1)[1]
        socket_dir = Path(address.split("=", 1)[1]).parent
        scan = _run(["scan", "--timeout", "1"], {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address})
        assert scan.returncode == 0, scan.stderr
        for label in ("HoldTrack GATT", "WitMotion", "Thingy:52", "Polar"):
            assert label in scan.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert not socket_dir.exists()  # the private bus is gone


def _push(port: int, body: dict[str, Any], query: str = "") -> tuple[int, str]:
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/{query}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_record_from_sensor_logger_pushes(tmp_path: Path) -> None:
    out = tmp_path / "p.htrec"
    proc = subprocess.Popen(
        [*CLI, "record", "--phone-push", "127.0.0.1:0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "waiting for Sensor Logger pushes on http://127.0.0.1:" in line, line
        url = line.split(" on ", 1)[1].strip()
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        token = url.rsplit("/", 1)[1]
        assert token and _push(port, {"payload": []})[0] == 403  # unpaired: refused
        rng = np.random.default_rng(3)
        t0 = time.time_ns() - 3_000_000_000  # epoch ns: the 3 s pushed end now, as a phone's would
        sent = []
        for batch in range(3):
            payload = []
            for i in range(batch * 100, batch * 100 + 100):
                t = t0 + i * 10_000_000
                acc = rng.normal(0, 1, 3) + np.array([0.0, 0.0, 9.81])
                gyro = rng.normal(0, 0.1, 3)
                sent.append((acc, gyro))
                payload.append({"name": "totalacceleration", "time": t, "values": dict(zip("xyz", acc))})
                payload.append({"name": "gyroscope", "time": t, "values": dict(zip("xyz", gyro))})
            status, _ = _push(port, {"messageId": batch, "sessionId": "s", "deviceId": "d", "payload": payload}, token)
            assert status == 200
        status, text = _push(port, {"messageId": 9, "payload": "nope"}, token)
        assert status == 400 and "payload" in text
        _wait_recorded(out, 300)
    finally:
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr  # Ctrl-C: interrupted, the recording closed
    rec = read_recording(out)
    assert rec.complete and rec.header.source == "phone-push"
    assert len(rec.samples) == 300
    np.testing.assert_allclose(rec.samples.time_s, np.arange(300) * 0.01, atol=1e-6)
    expected = np.array([np.concatenate(p) for p in sent], np.float32)
    np.testing.assert_allclose(rec.samples.imu, expected, atol=1e-5)


def test_record_again_after_a_crash_leaves_the_sensor_connected(one_sensor: FakeBluezProcess, tmp_path: Path) -> None:
    # Like BlueZ, the fake keeps the link of a client that died: the sensor does not
    # advertise, yet recording from it by address must work.
    out = tmp_path / "a.htrec"
    proc = _start_record(one_sensor, out)
    _wait_recorded(out, 20)
    proc.kill()
    proc.communicate(timeout=30)
    assert control(one_sensor.address, "stats", ONLY.address)["connected"]
    again = _run(["record", "--device", ONLY.address, "--out", str(tmp_path / "b.htrec"), "--duration", "1"], one_sensor.env())
    assert again.returncode == 0, again.stderr
    assert len(read_recording(tmp_path / "b.htrec").samples) > 80
