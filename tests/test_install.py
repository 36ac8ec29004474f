"""The wheel, installed into a fresh virtual environment and run from another folder, is a
working ``holdtrack``: nothing is read from the repository (no sys.path or PYTHONPATH
edits), the dashboard app is found in the installed package and the demo data is made on
the first start.

The wheel is installed without its dependencies (no network needed): the fresh
environment sees the project environment's packages through a ``.pth`` path line, which
does not run that environment's own ``.pth`` files, so the editable install of this
checkout stays invisible.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)  # polling interval, not a wait for an outcome
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel installed; returns its bin folder."""
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build and install the wheel (make setup installs it)"
    tmp = tmp_path_factory.mktemp("install")
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(tmp / "dist"), str(REPO)], check=True, capture_output=True, timeout=600)
    (wheel,) = (tmp / "dist").glob("holdtrack-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True
    )
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(site.stdout.strip()) / "holdtrack-deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [uv, "pip", "install", "--python", str(py), "--no-deps", "--offline", str(wheel)], check=True, capture_output=True, timeout=300
    )
    return venv / "bin"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["HOLDTRACK_DATA_DIR"] = str(tmp / "data")
    return env


def _run(bin_dir: Path, tmp: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    exe = bin_dir / argv[0]
    return subprocess.run([str(exe), *argv[1:]], cwd=tmp, env=_env(tmp), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_installed_package_runs_from_elsewhere(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import json, sys, sensor, dashboard; from sensor.cli.store import app_path; from sensor.sim.demo import sample_recordings; "
        "print(json.dumps({'sensor': sensor.__file__, 'dashboard': dashboard.__file__, 'app': str(app_path()), "
        "'samples': [str(p) for p in sample_recordings()], 'path': sys.path}))"
    )
    r = _run(installed, tmp_path, "python", "-c", probe)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    venv = str(installed.parent)
    assert got["sensor"].startswith(venv) and got["dashboard"].startswith(venv)
    app = Path(got["app"])
    assert str(app).startswith(venv) and app.is_file() and (app.parent / "views" / "history.py").is_file()
    assert got["samples"] == []  # the checkout's sample recordings are not part of the install
    assert not any(p == str(REPO) or p.startswith(str(REPO / "sensor")) for p in got["path"])

    r = _run(installed, tmp_path, "holdtrack", "--help")
    assert r.returncode == 0 and "dashboard" in r.stdout, r.stderr
    r = _run(installed, tmp_path, "holdtrack", "simulate", "--seed", "41", "--short", "--rate", "50", "--out", "s.htrec")
    assert r.returncode == 0, r.stderr
    r = _run(installed, tmp_path, "holdtrack", "analyze", "s.htrec", "--json")
    assert r.returncode == 0, r.stderr
    truth = json.loads((tmp_path / "s.truth.json").read_text())
    assert len(json.loads(r.stdout)["reps"]) == len(truth["reps"]) > 0
    r = _run(installed, tmp_path, "holdtrack", "analyze", "missing.csv")
    assert r.returncode == 2 and "missing.csv" in r.stderr


@pytest.mark.slow
def test_installed_dashboard_starts_with_demo_data(installed: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path)
    proc = subprocess.Popen(
        [str(installed / "holdtrack"), "dashboard", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: proc.poll() is not None or _healthy(f"http://127.0.0.1:{port}/_stcore/health"), 240, "the dashboard")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        r = _run(installed, tmp_path, "holdtrack", "history", "--json")
        assert r.returncode == 0, r.stderr
        sessions = json.loads(r.stdout)["sessions"]
        assert len(sessions) > 0 and all(s["demo"] for s in sessions)
        # The installed app script runs (imports, first page) against that data.
        script = (
            "from streamlit.testing.v1 import AppTest; from sensor.cli.store import app_path; "
            "at = AppTest.from_file(str(app_path()), default_timeout=120); at.run(); "
            "assert not at.exception, [e.value for e in at.exception]; assert not at.error, [e.value for e in at.error]"
        )
        r = _run(installed, tmp_path, "python", "-c", script)
        assert r.returncode == 0, r.stderr
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
