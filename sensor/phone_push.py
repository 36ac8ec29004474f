"""``holdtrack record --phone-push``: Sensor Logger's HTTP push as a live ``Source``.

A small asyncio HTTP/1.1 server (bound to 127.0.0.1 unless told otherwise) takes the JSON
batches Sensor Logger POSTs, pairs acceleration and gyroscope with
``sensor.phone.PushMerger`` and yields ``Samples`` on a stream clock that starts at the
first sample. Set Sensor Logger's push URL to ``http://HOST:PORT/`` (add
``?platform=ios`` for an iPhone without "Standardise Units & Frames"). A pause in the
pushed sample times longer than ``gap_s`` becomes a ``Gap``; silence longer than
``silence_s`` is reported as a ``LinkStatus``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import numpy as np

from sensor.errors import DeviceError, HoldTrackError
from sensor.events import Gap
from sensor.recording import Header
from sensor.samples import Samples
from sensor.sources import LinkStatus, SourceItem

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_BODY = 16 << 20  # Sensor Logger batches are kilobytes; anything this big is not one
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


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


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    """One HTTP/1.1 request: method, target, headers (lower-case names), body; None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise _HttpError(400, "request head too long") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3:
        raise _HttpError(400, "bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            if len(body) + size > MAX_BODY:
                raise _HttpError(413, "body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return parts[0], parts[1], headers, bytes(body)
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise _HttpError(413, "body too large")
    body = await reader.readexactly(length) if length else b""
    return parts[0], parts[1], headers, body


def _response(status: int, text: str, keep_alive: bool) -> bytes:
    body = (text + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


class PhonePushSource:
    """Sensor Logger pushes as a ``Source``. ``open()`` binds the server (``port`` 0 picks
    a free one; ``self.port`` says which); ``stream()`` yields until ``stop()``."""

    def __init__(
        self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, gap_s: float = 0.5, silence_s: float = 3.0
    ) -> None:
        self.host, self.port = host, port
        self.gap_s, self.silence_s = gap_s, silence_s
        self.header = Header(
            device={"profile": "phone", "name": "Sensor Logger (push)", "address": f"{host}:{port}"},
            source="phone-push",
        )
        self.batches = 0
        self.rejected = 0  # bodies that were not Sensor Logger batches
        self.late = 0  # samples older than ones already released (out-of-order batches)
        self._mergers: dict[str, object] = {}
        self._queue: asyncio.Queue[SourceItem | None] = asyncio.Queue()
        self._server: asyncio.base_events.Server | None = None
        self._t0: float | None = None  # epoch seconds of the first sample
        self._last_t: float | None = None
        self._last_push = 0.0
        self._silent = False
        self._stopping = asyncio.Event()

    async def open(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as e:
            raise DeviceError(f"cannot listen on {self.host}:{self.port} for phone pushes: {e.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        self.header.device["address"] = f"{self.host}:{self.port}"

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
        for merger in self._mergers.values():
            with contextlib.suppress(HoldTrackError):
                self._release(merger.flush())  # type: ignore[attr-defined]
        self._queue.put_nowait(None)

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    # -- the server ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    request = await _read_request(reader)
                    if request is None:
                        break
                    method, target, headers, body = request
                    keep = headers.get("connection", "").lower() != "close"
                    status, text = self._handle(method, target, body)
                except _HttpError as e:
                    status, text, keep = e.status, str(e), False
                writer.write(_response(status, text, keep))
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that goes away mid-request is the client's business
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _handle(self, method: str, target: str, body: bytes) -> tuple[int, str]:
        url = urlsplit(target)
        if method == "GET":
            return 200, "HoldTrack phone push: POST Sensor Logger batches here"
        if method != "POST":
            return 405, "POST Sensor Logger batches"
        platform = parse_qs(url.query).get("platform", ["android"])[0]
        if platform not in ("android", "ios"):
            return 400, "platform must be android or ios"
        return self._ingest(body, platform)

    def _ingest(self, body: bytes, platform: str) -> tuple[int, str]:
        from sensor.phone import PushMerger

        merger = self._mergers.get(platform)
        if merger is None:
            merger = self._mergers[platform] = PushMerger(platform, source="phone push")  # type: ignore[arg-type]
        try:
            samples = merger.feed(body)  # type: ignore[attr-defined]
        except HoldTrackError as e:
            self.rejected += 1
            return 400, str(e)
        if self.batches == 0 or self._silent:
            self._silent = False
            message = "phone is pushing" if self.batches == 0 else "phone is pushing again"
            self._queue.put_nowait(LinkStatus(True, self._stream_now(), message))
        self.batches += 1
        self._last_push = time.monotonic()
        self._release(samples)
        return 200, "ok"

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
