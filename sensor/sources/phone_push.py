"""``holdtrack record --phone-push``: Sensor Logger's HTTP push as a live ``Source``.

A small asyncio HTTP/1.1 server (bound to 127.0.0.1 unless told otherwise) takes the JSON
batches Sensor Logger POSTs, pairs acceleration and gyroscope with
``sensor.sources.phone_streams.PushMerger`` and yields ``Samples`` on a stream clock that starts at the
first sample. Set Sensor Logger's push URL to the one ``record`` shows,
``http://HOST:PORT/TOKEN`` (add ``?platform=ios`` for an iPhone without "Standardise Units
& Frames"). A pause in the pushed sample times longer than ``gap_s`` becomes a ``Gap``;
silence longer than ``silence_s`` is reported as a ``LinkStatus``.

Fit for a home Wi-Fi: requests must carry the session's pairing token (others get 403
and are closed); a client gets ``HEADER_TIMEOUT_S`` to send a request head and a paired
one ``IDLE_TIMEOUT_S`` between requests; at most ``MAX_CONNECTIONS`` are open (a new one
evicts the oldest unpaired one) and at most ``MAX_BUFFERED`` body bytes are held; JSON is
parsed off the event loop with a depth limit; a batch dated far from the stream's clock
is rejected and never moves it; repeated log lines are rate-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from sensor.errors import DeviceError, HoldTrackError, InputError
from sensor.events import Gap
from sensor.files.limits import MAX_PAUSE_S
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
    linger,
    read_head,
    response,
)
from sensor.stream import Header, LinkStatus, SourceItem

_PUSHED = ("totalacceleration", "accelerometer", "gravity", "gyroscope")

MAX_BATCH_SPAN_S = 600.0  # one batch covers seconds; more is a broken clock

MAX_LATE_S = 30.0  # a batch may reach back this far before the newest sample (phone.MAX_BUFFER_S)


class PhonePushSource:
    """Sensor Logger pushes as a ``Source``. ``open()`` binds the server (``port`` 0 picks
    a free one; ``self.port`` says which; ``self.url`` is what the phone needs);
    ``stream()`` yields until ``stop()``. ``token`` None makes a fresh pairing token."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        gap_s: float = 0.5,
        silence_s: float = 3.0,
        token: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.gap_s, self.silence_s = gap_s, silence_s
        self.token = secrets.token_urlsafe(6) if token is None else token
        self.header = Header(
            device={"profile": "phone", "name": "Sensor Logger (push)", "address": f"{host}:{port}"},
            source="phone-push",
        )
        self.batches = 0
        self.rejected = 0  # bodies that were not acceptable Sensor Logger batches
        self.late = 0  # samples older than ones already released (out-of-order batches)
        self.accepted = 0  # connections accepted from the listening socket
        self.refused = 0  # unpaired connections answered with an error, evicted, or over the cap
        self.timed_out = 0  # unpaired connections closed for not sending a request head in time
        self._mergers: dict[str, Any] = {}
        self._queue: asyncio.Queue[SourceItem | None] = asyncio.Queue()
        self._server: asyncio.base_events.Server | None = None
        self._conns: dict[Conn, None] = {}  # insertion order = age
        self._buffered = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="push-json")  # one: batches stay in order
        self._clock: float | None = None  # newest accepted sample time (epoch s), owned by the pool thread
        self._t0: float | None = None  # epoch seconds of the first sample
        self._last_t: float | None = None
        self._last_push = 0.0
        self._silent = False
        self._stopping = asyncio.Event()
        self._log = RateLimitedLog()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/{self.token}"

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

    async def stream(self) -> AsyncIterator[SourceItem]:
        await self.open()
        watchdog = asyncio.get_running_loop().create_task(self._watch_silence())
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
        """Stop listening; samples still waiting for their gyro partner go out first."""
        self._stopping.set()
        await self._close()
        loop = asyncio.get_running_loop()
        for merger in list(self._mergers.values()):
            with contextlib.suppress(HoldTrackError):
                self._release(await loop.run_in_executor(self._pool, merger.flush))
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
                    method, target, headers = request
                    url = urlsplit(target)
                    if url.path.strip("/") != self.token:
                        self._log("unpaired", "a client without the pairing token was refused")
                        raise HttpError(403, "pairing token missing or wrong: use the URL `holdtrack record --phone-push` shows")
                    conn.paired = True
                    keep = headers.get("connection", "").lower() != "close"
                    status, text = await self._request(reader, method, url.query, headers)
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
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            pass  # a client that goes away or stalls mid-request is the client's business
        finally:
            self._conns.pop(conn, None)
            if refused:
                await linger(reader, writer)
            writer.close()

    async def _request(self, reader: asyncio.StreamReader, method: str, query: str, headers: dict[str, str]) -> tuple[int, str]:
        if method == "GET":
            return 200, "HoldTrack phone push: POST Sensor Logger batches here"
        if method != "POST":
            return 405, "POST Sensor Logger batches"
        platform = parse_qs(query).get("platform", ["android"])[0]
        if platform not in ("android", "ios"):
            return 400, "platform must be android or ios"
        body = await self._read_body(reader, headers)
        try:
            samples = await asyncio.get_running_loop().run_in_executor(self._pool, self._parse, body, platform)
        except HoldTrackError as e:
            self.rejected += 1
            self._log("rejected", f"batch rejected: {e}")
            return 400, str(e)
        finally:
            self._buffered -= len(body)
        if self.batches == 0 or self._silent:
            self._silent = False
            message = "phone is pushing" if self.batches == 0 else "phone is pushing again"
            self._queue.put_nowait(LinkStatus(True, self._stream_now(), message))
        self.batches += 1
        self._last_push = time.monotonic()
        self._release(samples)
        return 200, "ok"

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
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            await reader.readuntil(b"\r\n")
                            return bytes(body)
                        self._reserve(size)
                        reserved += size
                        if reserved > MAX_BODY:
                            raise HttpError(413, "body too large")
                        body += await reader.readexactly(size)
                        await reader.readexactly(2)
                try:
                    length = int(headers.get("content-length", "0") or 0)
                except ValueError:
                    raise HttpError(400, "bad Content-Length") from None
                if length < 0:
                    raise HttpError(400, "bad Content-Length")
                self._reserve(length)
                reserved = length
                return await reader.readexactly(length) if length else b""
        except BaseException:
            self._buffered -= reserved
            raise

    def _parse(self, body: bytes, platform: str) -> Samples:
        """In the pool thread: bounded JSON, a batch dated near the stream clock, merged."""
        from sensor.files.checks import parse_json
        from sensor.sources.phone_streams import PushMerger

        try:
            batch = parse_json(body)
        except ValueError as e:
            raise InputError("phone push", str(e)) from None
        times = _batch_times(batch)
        if times is not None and times.size:
            lo, hi = float(times.min()), float(times.max())
            if hi - lo > MAX_BATCH_SPAN_S:
                raise InputError("phone push", f"batch spans {hi - lo:.0f} s of sample times; ignored")
            if self._clock is not None and (lo < self._clock - MAX_LATE_S or hi > self._clock + MAX_PAUSE_S):
                off = (hi if hi > self._clock else lo) - self._clock
                raise InputError("phone push", f"batch dated {off:+.0f} s from the stream's clock; ignored")
        merger = self._mergers.get(platform)
        if merger is None:
            merger = self._mergers[platform] = PushMerger(platform, source="phone push")  # type: ignore[arg-type]
        samples = merger.feed(batch)
        if times is not None and times.size:
            self._clock = max(self._clock or -np.inf, float(times.max()))
        return samples

    def _release(self, samples: Samples) -> None:
        if len(samples) == 0:
            return
        t = samples.time_s
        if self._last_t is not None:
            keep = t > self._last_t
            self.late += int(np.count_nonzero(~keep))
            if not keep.any():
                return
            samples = Samples(t[keep], samples.imu[keep])
            t = samples.time_s
        if self._t0 is None:
            self._t0 = float(t[0])
        stream_t = t - self._t0
        if self._last_t is not None and float(t[0]) - self._last_t > self.gap_s:
            self._queue.put_nowait(Gap(self._last_t - self._t0, float(stream_t[0])))
        self._last_t = float(t[-1])
        self._queue.put_nowait(Samples(stream_t, samples.imu))

    def _stream_now(self) -> float:
        """Stream time of the newest sample (0 before the first)."""
        return self._last_t - self._t0 if self._last_t is not None and self._t0 is not None else 0.0

    async def _watch_silence(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if self.batches and not self._silent and time.monotonic() - self._last_push > self.silence_s:
                self._silent = True
                self._queue.put_nowait(LinkStatus(False, self._stream_now(), f"no push from the phone for {self.silence_s:g} s"))


def _batch_times(batch: Any) -> np.ndarray | None:
    """Epoch seconds of the items HoldTrack uses (None when the shape is not a batch:
    the merger then says what is wrong)."""
    if not isinstance(batch, dict) or not isinstance(batch.get("payload"), list):
        return None
    out = []
    for item in batch["payload"]:
        if isinstance(item, dict) and str(item.get("name", "")).lower() in _PUSHED:
            t = item.get("time")
            if isinstance(t, (int, float)) and not isinstance(t, bool) and np.isfinite(t):
                out.append(t / 1e9)
    return np.array(out, np.float64)
