"""``holdtrack dashboard`` as a real process for the browser tests: started on a free
localhost port over a data folder, waited for on its health endpoint, killed with its
process group (streamlit is a child) at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0  # a loaded machine starts streamlit slowly
LOGS: dict[str, Path] = {}  # each running server's URL -> the file its output goes to


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_dashboard(folder: Path, log_path: Path, *extra: str) -> Iterator[str]:
    """The dashboard over ``folder`` (no demo data, ``extra`` options of ``holdtrack
    dashboard``); yields its URL. Its output goes to ``log_path``, shown if it dies while
    starting."""
    port = free_port()
    cmd = [sys.executable, "-m", "sensor.cli", "dashboard", "--data-dir", str(folder), "--port", str(port), "--no-demo", *extra]
    with serve(cmd, dict(os.environ), port, log_path) as url:
        yield url


@contextmanager
def serve(cmd: list[str], env: dict[str, str], port: int, log_path: Path) -> Iterator[str]:
    """A web server started by ``cmd`` on ``port`` of localhost (Streamlit: waited for on
    its health endpoint), killed with its process group at the end; yields its URL."""
    with open(log_path, "w") as log:  # the server writes here until it is killed
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: streamlit may be a child
        )
        url = f"http://127.0.0.1:{port}"
        LOGS[url] = log_path
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "dashboard did not start"
                time.sleep(0.3)
            yield url
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            except ProcessLookupError:
                pass
