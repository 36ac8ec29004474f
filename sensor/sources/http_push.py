"""The small HTTP/1.1 server side of the phone push: limits and timeouts, rate-limited
logging, connection bookkeeping, responses, and closing after a refusal without losing the
answer (``sensor.sources.phone_push`` is the source built on it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from sensor.errors import DeviceError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_BODY = 4 << 20  # Sensor Logger batches are kilobytes; anything this big is not one
MAX_BUFFERED = 16 << 20  # body bytes held across all connections at once
MAX_CONNECTIONS = 64
HEADER_TIMEOUT_S = 10.0  # to send a whole request head
BODY_TIMEOUT_S = 30.0  # to send a whole body
IDLE_TIMEOUT_S = 60.0  # a paired keep-alive connection between requests
LOG_EVERY_S = 10.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    499: "Refused",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
log = logging.getLogger("holdtrack.push")


def parse_hostport(text: str | None) -> tuple[str, int]:
    """``"HOST:PORT"``, ``"PORT"`` or ``"HOST"`` -> (host, port), defaults filled in: the
    port ``DEFAULT_PORT``, the host this computer's LAN address (what a phone can reach;
    loopback without a network)."""
    if not text:
        return lan_address() or DEFAULT_HOST, DEFAULT_PORT
    host, sep, port = text.rpartition(":")
    if not sep:
        return (lan_address() or DEFAULT_HOST, int(text)) if text.isdigit() else (text, DEFAULT_PORT)
    try:
        return host.strip("[]") or lan_address() or DEFAULT_HOST, int(port)
    except ValueError:
        raise DeviceError(f"bad --phone-push address {text!r}: use HOST:PORT") from None


LINGER_S = 1.0  # after refusing a request mid-body: how long to read and drop the rest
LINGER_BYTES = 1 << 20


async def linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close after a refusal without losing the answer: closing a socket with unread data
    makes the kernel send a reset, which can reach the client before it has read the
    response. Half-close, then drop what the client still sends, bounded in time and bytes."""
    try:
        if writer.can_write_eof():
            writer.write_eof()
        left = LINGER_BYTES
        deadline = asyncio.get_running_loop().time() + LINGER_S
        while left > 0:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            data = await asyncio.wait_for(reader.read(min(left, 65536)), remaining)
            if not data:
                break
            left -= len(data)
    except (ConnectionError, TimeoutError, OSError):
        pass


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RateLimitedLog:
    """At most one line per kind of message every ``every_s``; the rest are counted."""

    def __init__(self, every_s: float = LOG_EVERY_S) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, kind: str, message: str) -> None:
        now = time.monotonic()
        if now - self._last.get(kind, float("-inf")) < self.every_s:
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        self._last[kind] = now
        more = self._held.pop(kind, 0)
        log.warning("phone push: %s%s", message, f" (and {more} more like it)" if more else "")


@dataclass(eq=False)
class Conn:
    writer: asyncio.StreamWriter
    since: float = field(default_factory=time.monotonic)
    paired: bool = False


@dataclass(slots=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-case names

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 (and anything
        else) is answered and closed, as it expects."""
        return self.version == "HTTP/1.1" and self.headers.get("connection", "").lower() != "close"


_SINGLE = ("content-length", "transfer-encoding", "host")


async def read_head(reader: asyncio.StreamReader) -> Request | None:
    """Request line and headers; None at EOF. A header that may appear once appearing
    twice (two Content-Lengths: which one frames the body?) is refused."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(400, "request head too long") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise HttpError(400, "bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            if k in headers and k in _SINGLE:
                raise HttpError(400, f"{k} given twice")
            headers[k] = v.strip()
    if "content-length" in headers and "transfer-encoding" in headers:
        raise HttpError(400, "both Content-Length and Transfer-Encoding given")
    return Request(parts[0], parts[1], parts[2], headers)


def content_length(headers: dict[str, str]) -> int:
    """The body's length: digits only (no sign, no spaces inside, no ``5_000``)."""
    text = headers.get("content-length", "0")
    if not text.isdigit() or not text.isascii() or len(text) > 12:
        raise HttpError(400, "bad Content-Length")
    return int(text)


def lan_address() -> str | None:
    """This computer's address on its local network (the interface of the default route;
    no packet is sent), or None without one."""
    import socket

    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only selects the interface
        addr = str(s.getsockname()[0])
        if not addr.startswith("127.") and addr != "0.0.0.0":
            return addr
    return None


def reachable_host(host: str) -> str:
    """The address to give a phone for a server bound to ``host``: a wildcard address is
    no address to connect to, so the LAN address stands in for it."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        return lan_address() or "127.0.0.1"
    return host


def response(status: int, text: str, keep_alive: bool) -> bytes:
    body = (text + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body
