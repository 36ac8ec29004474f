"""DNS rebinding: the dashboard (which can delete and merge sessions, and has no login)
answers only this computer's own names — localhost, 127.0.0.1, [::1], with any port —
unless ``holdtrack dashboard --allow-remote``. Checked with raw HTTP requests carrying a
foreign Host header and a loopback one, for a page, the health check and the websocket
the app runs over."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dashboard_server import serve_dashboard

from sensor.store import Store

pytestmark = pytest.mark.slow  # starts the real dashboard twice
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key


def request(url: str, host: str, path: str, *, websocket: bool = False) -> str:
    """The status line the server answers a raw HTTP/1.1 request with this Host header."""
    parts = urlsplit(url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close" if not websocket else "Connection: Upgrade"]
    if websocket:
        lines += ["Upgrade: websocket", f"Sec-WebSocket-Key: {WS_KEY}", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    return head.split(b"\r\n", 1)[0].decode(errors="replace")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("hosts-data")
    Store(folder)
    with (
        serve_dashboard(folder, folder.parent / "hosts.log") as local,
        serve_dashboard(folder, folder.parent / "hosts-remote.log", "--allow-remote") as remote,
    ):
        yield local, remote


FOREIGN = ("rebind.example.com", "evil.example:8501", "192.168.1.20", "127.0.0.1.nip.io")


def test_foreign_host_names_are_refused(servers: tuple[str, str]) -> None:
    url, _ = servers
    port = urlsplit(url).port
    for host in (*FOREIGN, f"rebind.example.com:{port}"):
        for path in ("/", "/history", "/_stcore/health"):
            assert request(url, host, path).startswith("HTTP/1.1 400"), (host, path)
        assert request(url, host, "/_stcore/stream", websocket=True).startswith("HTTP/1.1 400"), host


def test_loopback_names_are_served(servers: tuple[str, str]) -> None:
    url, _ = servers
    port = urlsplit(url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", f"LOCALHOST:{port}", "localhost:9999"):
        assert request(url, host, "/").startswith("HTTP/1.1 200"), host
        assert request(url, host, "/_stcore/health").startswith("HTTP/1.1 200"), host
        assert request(url, host, "/_stcore/stream", websocket=True).startswith("HTTP/1.1 101"), host


def test_allow_remote_serves_any_name(servers: tuple[str, str]) -> None:
    _, url = servers
    for host in FOREIGN:
        assert request(url, host, "/").startswith("HTTP/1.1 200"), host
        assert request(url, host, "/_stcore/stream", websocket=True).startswith("HTTP/1.1 101"), host


def test_the_hosts_served_are_said_in_one_place() -> None:
    from sensor.cli.store import streamlit_command

    cmd, env = streamlit_command(Path("/tmp/x"), "::1", 8501)
    assert cmd[4].endswith("server.py") and env["HOLDTRACK_ALLOWED_HOSTS"] == "localhost,127.0.0.1,[::1]"
    assert streamlit_command(Path("/tmp/x"), "127.0.0.2", 8501)[1]["HOLDTRACK_ALLOWED_HOSTS"].endswith(",127.0.0.2")
    assert streamlit_command(Path("/tmp/x"), "0.0.0.0", 8501, allow_remote=True)[1]["HOLDTRACK_ALLOWED_HOSTS"] == "*"
