"""The small HTTP/1.1 server side of the phone push: limits and timeouts, rate-limited
logging, connection bookkeeping, responses, and closing after a refusal without losing the
answer (``sensor.sources.phone_push`` is the source built on it)."""

from __future__ import annotations

import asyncio
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
    413: "Payload Too Large",
    503: "Service Unavailable",
}
log = logging.getLogger("holdtrack.push")


def parse_hostport(text: str | None) -> tuple[str, int]:
    """``"HOST:PORT"``, ``"PORT"`` or ``"HOST"`` -> (host, port), defaults filled in."""
    if not text:
        return DEFAULT_HOST, DEFAULT_PORT
    host, sep, port = text.rpartition(":")
    if not sep:
        return (DEFAULT_HOST, int(text)) if text.isdigit() else (text, DEFAULT_PORT)
    try:
        return host.strip("[]") or DEFAULT_HOST, int(port)
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


async def read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """Request line and headers (lower-case names); None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(400, "request head too long") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3:
        raise HttpError(400, "bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return parts[0], parts[1], headers


def response(status: int, text: str, keep_alive: bool) -> bytes:
    body = (text + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body
