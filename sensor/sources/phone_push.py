"""``holdtrack record --phone-push``: Sensor Logger's HTTP push as a live ``Source``.

A small asyncio HTTP/1.1 server (bound to this computer's LAN address unless told
otherwise) takes the JSON batches Sensor Logger POSTs; ``sensor.sources.push_stream``
judges each (kept whole or refused whole, with the reason as the answer), pairs
acceleration and gyroscope and yields ``Samples`` on a stream clock that starts at the
first sample. Set Sensor Logger's push URL to the one ``record`` shows,
``http://HOST:PORT/TOKEN`` (add ``?platform=ios`` for an iPhone without "Standardise Units
& Frames"). A pause in the pushed sample times longer than ``gap_s`` becomes a ``Gap``;
silence longer than ``silence_s`` is reported as a ``LinkStatus`` saying what to do.

Fit for a home Wi-Fi: requests must carry the session's pairing token (others get 403
and are closed); a client gets ``HEADER_TIMEOUT_S`` to send a request head and a paired
one ``IDLE_TIMEOUT_S`` between requests; at most ``MAX_CONNECTIONS`` are open (a new one
evicts the oldest unpaired one) and at most ``MAX_BUFFERED`` body bytes are held; JSON is
parsed off the event loop within a memory bound; repeated log lines are rate-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sensor.errors import DeviceError
from sensor.samples import Samples
from sensor.sources.http_push import (
    BODY_TIMEOUT_S,
    DEFAULT_HOST,
    DEFAULT_PORT,
    HEADER_TIMEOUT_S,
    IDLE_TIMEOUT_S,
    MAX_BODY,
    MAX_BUFFERED,
    MAX_CONNECTIONS,
    Conn,
    HttpError,
    RateLimitedLog,
    content_length,
    linger,
    reachable_host,
    read_head,
    response,
)
from sensor.sources.push_stream import PushStream, Verdict
from sensor.stream import Header, LinkStatus, SourceItem

TICK_S = 0.25  # how often samples held for a late batch are looked at
SILENT_HINT = "keep Sensor Logger open in front with the screen on, on the same Wi-Fi as this computer"


class PhonePushSource:
    """Sensor Logger pushes as a ``Source``. ``open()`` binds the server (``port`` 0 picks
    a free one; ``self.port`` says which; ``self.url`` is what the phone needs);
    ``stream()`` yields until ``stop()``. ``token`` None makes a fresh pairing token;
    ``clock`` is the wall clock batches are dated against (tests replace it);
    ``wait_for_start``: batches with readings are refused (499, shown on the phone) until
    ``stream()`` starts, so a receiver can listen before the session does."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        gap_s: float = 0.5,
        silence_s: float = 3.0,
        token: str | None = None,
        clock: Callable[[], float] = time.time,
        wait_for_start: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.silence_s = silence_s
        self.token = secrets.token_urlsafe(6) if token is None else token
        self.header = Header(
            device={"profile": "phone", "name": "Sensor Logger (push)", "address": f"{host}:{port}"},
            source="phone-push",
        )
        self.push = PushStream(gap_s=gap_s, clock=clock)
        self.push.accepting = not wait_for_start  # (the dashboard listens before Start: the phone can test)
        self.streaming = False  # stream() has been asked for
        self.last_contact: float | None = None  # time.time() of the last paired request (a test push too)
        self.batches = 0  # batches kept
        self.rejected = 0  # bodies refused (not acceptable Sensor Logger batches, or not fitting the stream)
        self.last_refusal: str | None = None  # why the latest refused batch was refused
        self.accepted = 0  # connections accepted from the listening socket
        self.refused = 0  # unpaired connections answered with an error, evicted, or over the cap
        self.timed_out = 0  # unpaired connections closed for not sending a request head in time
        self.samples = 0  # samples released into the stream
        self.last_sample_wall: float | None = None  # time.time() when the newest samples came out
        self._queue: asyncio.Queue[SourceItem | None] = asyncio.Queue()
        self._server: asyncio.base_events.Server | None = None
        self._conns: dict[Conn, None] = {}  # insertion order = age
        self._buffered = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="push-json")  # one: batches judged in order
        self._last_push = 0.0
        self._silent = False
        self._stopping = asyncio.Event()
        self._log = RateLimitedLog()

    @property
    def url(self) -> str:
        """The push URL for the phone (a wildcard bind shows the LAN address)."""
        return f"http://{reachable_host(self.host)}:{self.port}/{self.token}"

    async def open(self) -> None:
        if self._server is not None:
            return
        # e.g. "Too many open files" from the accept loop: one line per LOG_EVERY_S, not per try
        asyncio.get_running_loop().set_exception_handler(self._loop_error)
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port, backlog=256)
        except OSError as e:
            raise DeviceError(f"cannot listen on {self.host}:{self.port} for phone pushes: {e.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        self.header.device["address"] = f"{self.host}:{self.port}"

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", "event loop error"))
        self._log("loop:" + message[:40], f"{message}: {context.get('exception', '')}")

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def stream(self) -> AsyncIterator[SourceItem]:
        await self.open()
        self.streaming = True
        await asyncio.get_running_loop().run_in_executor(self._pool, setattr, self.push, "accepting", True)
        watchdog = asyncio.get_running_loop().create_task(self._watch())
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                yield item
        finally:
            watchdog.cancel()
            await self._close()

    async def stop(self) -> None:
        """Stop listening; samples still held (for a late batch, or their gyro partner) go out first."""
        self._stopping.set()
        await self._close()
        with contextlib.suppress(RuntimeError):  # stopped twice: the pool is gone
            self._put(await asyncio.get_running_loop().run_in_executor(self._pool, self.push.flush))
        self._pool.shutdown(wait=False)
        self._queue.put_nowait(None)

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for conn in list(self._conns):
                conn.writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    # -- the server ----------------------------------------------------------------------

    def _admit(self, conn: Conn) -> bool:
        """Make room for a new connection: evict the oldest unpaired one at the cap."""
        if len(self._conns) >= MAX_CONNECTIONS:
            victim = next((c for c in self._conns if not c.paired), None)
            if victim is None:
                self.refused += 1
                self._log("full", f"{MAX_CONNECTIONS} paired connections open: a new one was refused")
                return False
            self._conns.pop(victim, None)
            victim.writer.transport.abort()
            self.refused += 1
            self._log("evict", f"over {MAX_CONNECTIONS} connections: the oldest unpaired one was closed")
        self._conns[conn] = None
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(writer)
        self.accepted += 1
        if not self._admit(conn):
            writer.transport.abort()
            return
        refused = False
        try:
            while not self._stopping.is_set():
                keep = False
                try:
                    timeout = IDLE_TIMEOUT_S if conn.paired else HEADER_TIMEOUT_S
                    try:
                        request = await asyncio.wait_for(read_head(reader), timeout)
                    except TimeoutError:
                        self.timed_out += conn in self._conns and not conn.paired  # not if evicted meanwhile
                        break
                    if request is None:
                        break
                    url = urlsplit(request.target)
                    if url.path.strip("/") != self.token:
                        self._log("unpaired", "a client without the pairing token was refused")
                        raise HttpError(403, "pairing token missing or wrong: use the URL `holdtrack record --phone-push` shows")
                    conn.paired = True
                    self.last_contact = time.time()
                    keep = request.keep_alive
                    status, text = await self._request(reader, request.method, url.query, request.headers)
                except HttpError as e:
                    status, text, keep, refused = e.status, str(e), False, True
                    # Counted once: not if it was evicted meanwhile (counted then); out of the
                    # table before the answer is sent, so it cannot be evicted after.
                    if conn in self._conns:
                        del self._conns[conn]
                        self.refused += not conn.paired
                writer.write(response(status, text, keep))
                await asyncio.wait_for(writer.drain(), BODY_TIMEOUT_S)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # a client that goes away or stalls mid-request is the client's business
        finally:
            self._conns.pop(conn, None)
            if refused:
                await linger(reader, writer)
            writer.close()

    async def _request(self, reader: asyncio.StreamReader, method: str, query: str, headers: dict[str, str]) -> tuple[int, str]:
        if method == "GET":
            return 200, f"HoldTrack is reachable from here. In Sensor Logger, set this address as the HTTP Push URL: {self.url}"
        if method != "POST":
            return 405, "POST Sensor Logger batches"
        platform = parse_qs(query).get("platform", ["android"])[0]
        if platform not in ("android", "ios"):
            return 400, "platform must be android or ios"
        body = await self._read_body(reader, headers)
        try:
            verdict = await asyncio.get_running_loop().run_in_executor(self._pool, self._judge, body, platform)
        finally:
            self._buffered -= len(body)
        if verdict.status != 200:
            self.rejected += 1
            self.last_refusal = verdict.message
            self._log(f"refused {verdict.status}", f"batch refused: {verdict.message}")
            return verdict.status, verdict.message
        if self.batches == 0 or self._silent:
            self._silent = False
            message = "phone is pushing" if self.batches == 0 else "phone is pushing again"
            self._queue.put_nowait(LinkStatus(True, self._stream_now(), message))
        self.batches += 1
        self._last_push = time.monotonic()
        self._put(verdict.items)
        return 200, verdict.message

    def _judge(self, body: bytes, platform: str) -> Verdict:
        """In the pool thread: any failure is an answer (500), never a dropped connection."""
        try:
            return self.push.offer(body, platform)
        except Exception as e:  # a bug: say so to the phone, keep serving
            self._log("bug", f"error judging a batch: {type(e).__name__}: {e}")
            return Verdict(500, f"internal error: {type(e).__name__}")

    def _reserve(self, n: int) -> None:
        if n > MAX_BODY:
            raise HttpError(413, "body too large")
        if self._buffered + n > MAX_BUFFERED:
            raise HttpError(503, "too much data in flight; try again")
        self._buffered += n

    async def _read_body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        """The body, within MAX_BODY and the shared MAX_BUFFERED (held until parsed)."""
        deadline = asyncio.get_running_loop().time() + BODY_TIMEOUT_S
        reserved = 0
        try:
            async with asyncio.timeout_at(deadline):
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = bytearray()
                    while True:
                        line = (await reader.readuntil(b"\r\n")).split(b";")[0].strip()
                        if not line or len(line) > 8 or not all(c in b"0123456789abcdefABCDEF" for c in line):
                            raise HttpError(400, "bad chunk size")
                        size = int(line, 16)
                        if size == 0:
                            await reader.readuntil(b"\r\n")
                            return bytes(body)
                        self._reserve(size)
                        reserved += size
                        if reserved > MAX_BODY:
                            raise HttpError(413, "body too large")
                        body += await reader.readexactly(size)
                        await reader.readexactly(2)
                length = content_length(headers)
                self._reserve(length)
                reserved = length
                return await reader.readexactly(length) if length else b""
        except BaseException:
            self._buffered -= reserved
            raise

    def _put(self, items: list[SourceItem]) -> None:
        for item in items:
            if isinstance(item, Samples):
                self.samples += len(item)
                self.last_sample_wall = time.time()
            self._queue.put_nowait(item)

    def _stream_now(self) -> float:
        """Stream time of the newest sample (0 before the first)."""
        return self.push.last_stream_s or 0.0

    async def _watch(self) -> None:
        """Release samples held for a late batch; report a silent phone, with what to do."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            self._put(await loop.run_in_executor(self._pool, self.push.tick))
            if self.batches and not self._silent and time.monotonic() - self._last_push > self.silence_s:
                self._silent = True
                self._queue.put_nowait(
                    LinkStatus(False, self._stream_now(), f"no push from the phone for {self.silence_s:g} s: {SILENT_HINT}")
                )
