"""``record --source phyphox:HOST[:PORT]``: a phone running phyphox, polled over its remote
access as a live ``Source``.

phyphox serves its running experiment over HTTP (the phone is the server): ``/config`` names
the buffers, ``/get?buf=T|ref`` gives the values of ``buf`` where ``ref`` is greater than T
(incremental, so nothing is fetched twice), ``/control?cmd=start|stop`` runs the
measurement, ``/time`` maps experiment time to the phone's clock. This source checks that
the phone runs HoldTrack's experiment (``phyphox_experiment``), starts the measurement,
polls every ``poll_s`` (one request in flight, as phyphox's own web client does), pairs the
accelerometer with the gyroscope interpolated at its times, and stamps samples with
phyphox's time buffer mapped onto the phone's clock, so a measurement paused by a locked
screen leaves a ``Gap`` as long as the pause.

Wi-Fi as it is: a poll that fails is retried; after ``silence_s`` without an answer a
``LinkStatus`` says what to do; phyphox keeps measuring meanwhile, so the next answer
brings every sample of the outage, once. Facts and sources: /work/shared/phone-live.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import numpy as np

from sensor.errors import DeviceError
from sensor.events import Gap
from sensor.samples import Samples
from sensor.sources.phyphox_experiment import ACC, BUFFERS, GYRO
from sensor.stream import Header, LinkStatus, SourceItem

DEFAULT_PORT = 8080  # Android's default; iPhones serve on 80 (phyphox shows the address)
POLL_S = 0.05  # ≥ 10 Hz with room for a slow Wi-Fi round trip; phyphox's client waits 30 ms
TIMEOUT_S = 3.0  # one request; the official client gives /get 10 s
MAX_REPLY = 64 << 20  # an hour of 100 Hz in the eight buffers is ≈ 40 MB of JSON
RETRY_S = 0.5  # between polls while the phone does not answer
ADVICE = "keep phyphox in front with the screen on, on the same Wi-Fi as this computer"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` or phyphox's ``http://HOST:PORT`` -> (host, port)."""
    text = text.strip()
    for prefix in ("http://", "https://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    text = text.split("/", 1)[0]
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:
        host, port = text, ""
    host = host.strip("[]")
    if not host:
        raise DeviceError("phyphox address: give HOST[:PORT], as phyphox shows it (e.g. 192.168.1.23:8080)")
    if not port:
        return host, DEFAULT_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DeviceError(f"phyphox address {text!r}: the port is not a number from 1 to 65535")
    return host, int(port)


async def http_get(host: str, port: int, target: str, timeout_s: float = TIMEOUT_S) -> Any:
    """GET ``target`` and return its JSON. One connection per request, closed after it:
    phyphox's servers are small and keep-alive is reported to upset them.
    Raises OSError / TimeoutError for the network, ValueError for a bad answer."""
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            parts = head.split(b"\r\n", 1)[0].split()
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (ln.decode("latin-1").partition(":") for ln in head.split(b"\r\n")[1:] if ln)
            }
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = bytearray()
                while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)) > 0:
                    if len(body) + size > MAX_REPLY:
                        raise ValueError("reply too large")
                    body += await reader.readexactly(size)
                    await reader.readexactly(2)
            elif "content-length" in headers:
                n = int(headers["content-length"])
                if n > MAX_REPLY:
                    raise ValueError("reply too large")
                body = bytearray(await reader.readexactly(n))
            else:
                body = bytearray(await reader.read(MAX_REPLY + 1))
                if len(body) > MAX_REPLY:
                    raise ValueError("reply too large")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise ConnectionResetError(0, "closed without an answer") from None
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    if status != 200:
        raise ValueError(f"HTTP {status} for {target.split('?')[0]}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{target.split('?')[0]} did not answer JSON") from None


def _values(reply: dict[str, Any], name: str) -> np.ndarray:
    """A buffer's values from a ``/get`` reply as float64 (null -> NaN; absent -> empty)."""
    entry = reply.get(name)
    raw = entry.get("buffer") if isinstance(entry, dict) else None
    if not isinstance(raw, list):
        return np.empty(0)
    out = np.array([v if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan for v in raw], np.float64)
    return out


class _Sensor:
    """One three-axis sensor's buffers: what has been fetched and not yet released."""

    def __init__(self, names: tuple[str, str, str, str]) -> None:
        self.names = names
        self.t = np.empty(0)
        self.v = np.empty((0, 3))
        self.last_fetched: float | None = None  # experiment time of the newest value fetched

    def query(self) -> str:
        x, y, z, t = self.names
        if self.last_fetched is None:
            return "&".join(f"{n}=full" for n in self.names)
        since = repr(self.last_fetched)
        ref = quote("|")
        return "&".join([*(f"{n}={since}{ref}{t}" for n in (x, y, z)), f"{t}={since}"])

    def take(self, reply: dict[str, Any]) -> None:
        cols = [_values(reply, n) for n in self.names]
        n = min(len(c) for c in cols)
        if n == 0:
            return
        x, y, z, t = (c[:n] for c in cols)
        ok = np.isfinite(t) & np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
        if self.last_fetched is not None:
            ok &= t > self.last_fetched
        t, v = t[ok], np.stack([x[ok], y[ok], z[ok]], axis=1)
        if len(t) == 0:
            return
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        self.last_fetched = float(t[-1])
        self.t = np.concatenate([self.t, t])
        self.v = np.concatenate([self.v, v])


class PhyphoxSource:
    """A phyphox phone at ``host:port`` as a ``Source``. ``start``: start the measurement
    at ``open()`` and stop it at ``stop()`` (a measurement already running is left
    running)."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        poll_s: float = POLL_S,
        timeout_s: float = TIMEOUT_S,
        gap_s: float = 0.5,
        silence_s: float = 3.0,
        start: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.poll_s, self.timeout_s, self.gap_s, self.silence_s = poll_s, timeout_s, gap_s, silence_s
        self.start = start
        self.header = Header(device={"profile": "phone", "name": "phyphox", "address": f"{host}:{port}"}, source="phyphox")
        self.polls = 0  # answered polls
        self.failed = 0  # polls without an answer
        self.last_answer = 0.0  # monotonic time of the last answer
        self.last_sample = 0.0  # monotonic time samples last came
        self.session: str | None = None
        self.measuring = False
        self._acc, self._gyr = _Sensor(ACC), _Sensor(GYRO)
        self._events: list[tuple[float, float]] = []  # (experiment time, phone clock s) of each START
        self._started_it = False
        self._opened = False
        self._stopping = asyncio.Event()
        self._t0: float | None = None  # phone-clock time of the first sample
        self._last_t: float | None = None  # stream time of the last sample released
        self._down_since: float | None = None
        self._said_down = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _get(self, target: str) -> Any:
        return await http_get(self.host, self.port, target, self.timeout_s)

    async def open(self) -> None:
        if self._opened:
            return
        try:
            config = await self._get("/config")
        except (OSError, TimeoutError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else "no answer"
            raise DeviceError(f"cannot reach phyphox at {self.url} ({why}): allow remote access in phyphox and check the address") from None
        except ValueError as e:
            raise DeviceError(f"{self.url} is not phyphox's remote access: {e}") from None
        names = {b.get("name") for b in config.get("buffers", []) if isinstance(b, dict)} if isinstance(config, dict) else set()
        missing = [b for b in BUFFERS if b not in names]
        if missing:
            title = config.get("title", "?") if isinstance(config, dict) else "?"
            raise DeviceError(
                f"phyphox at {self.url} runs {title!r}, without the buffers {', '.join(missing)}: "
                "load HoldTrack's experiment (scan the QR code on the Live page)"
            )
        self.header.device["name"] = f"phyphox ({config.get('title', 'HoldTrack IMU')})"
        await self._poll_once(first=True)
        if self.start and not self.measuring:
            await self._control("start")
            self._started_it = True
        await self._fetch_time()
        self._opened = True

    async def _control(self, cmd: str) -> None:
        try:
            reply = await self._get(f"/control?cmd={cmd}")
        except (OSError, TimeoutError, ValueError) as e:
            raise DeviceError(f"phyphox at {self.url} did not take '{cmd}': {e}") from None
        if not (isinstance(reply, dict) and reply.get("result") is True):
            raise DeviceError(f"phyphox at {self.url} refused '{cmd}'")
        self.measuring = cmd == "start"

    async def _fetch_time(self) -> None:
        """The START events of ``/time`` (phyphox 1.1.8 and later; older ones: none)."""
        try:
            events = await self._get("/time")
        except (OSError, TimeoutError, ValueError):
            return
        if isinstance(events, list):
            self._events = [
                (float(e["experimentTime"]), float(e["systemTime"]))
                for e in events
                if isinstance(e, dict)
                and e.get("event") == "START"
                and isinstance(e.get("experimentTime"), (int, float))
                and isinstance(e.get("systemTime"), (int, float))
            ]

    async def _poll_once(self, first: bool = False) -> None:
        target = "/get?" + "&".join([self._acc.query(), self._gyr.query()])
        reply = await self._get(target)
        if not isinstance(reply, dict) or not isinstance(reply.get("buffer"), dict):
            raise ValueError("/get answered without buffers")
        status: dict[str, Any] = reply["status"] if isinstance(reply.get("status"), dict) else {}
        session = str(status.get("session", ""))
        if self.session is not None and session != self.session and not first:
            await self._fetch_time()  # a new server (app back from the background): maybe cleared
        self.session = session
        self.measuring = bool(status.get("measuring"))
        self._acc.take(reply["buffer"])
        self._gyr.take(reply["buffer"])
        self.polls += 1
        self.last_answer = time.monotonic()

    # -- stamping and pairing ------------------------------------------------------------

    def _phone_clock(self, te: np.ndarray) -> np.ndarray:
        """Experiment time -> the phone's clock (s), through the START events: a pause
        (screen locked) shows as the time it lasted. Without events: experiment time."""
        if not self._events:
            return te
        ev = np.array(self._events)
        i = np.clip(np.searchsorted(ev[:, 0], te, side="right") - 1, 0, len(ev) - 1)
        out: np.ndarray = te - ev[i, 0] + ev[i, 1]
        return out

    def _pairs(self, final: bool = False) -> Samples:
        """Accelerometer samples whose time the gyroscope has reached, gyro interpolated."""
        a, g = self._acc, self._gyr
        if len(a.t) == 0 or len(g.t) == 0:
            return Samples.empty()
        k = len(a.t) if final else int(np.searchsorted(a.t, g.t[-1], side="right"))
        if k == 0:
            return Samples.empty()
        t = a.t[:k]
        gyro = np.stack([np.interp(t, g.t, g.v[:, c]) for c in range(3)], axis=1)
        imu = np.concatenate([a.v[:k], gyro], axis=1)
        a.t, a.v = a.t[k:], a.v[k:]
        j = max(0, int(np.searchsorted(g.t, t[-1], side="right")) - 1)  # keep one gyro sample before the next
        g.t, g.v = g.t[j:], g.v[j:]
        return Samples(self._phone_clock(t), imu)

    def _release(self, samples: Samples) -> list[SourceItem]:
        if len(samples) == 0:
            return []
        if self._t0 is None:
            self._t0 = float(samples.time_s[0])
        t = samples.time_s - self._t0
        imu = samples.imu
        if self._last_t is not None:
            keep = t > self._last_t
            t, imu = t[keep], imu[keep]
            if len(t) == 0:
                return []
        # A pause may fall before this block or inside it (samples held for their gyro
        # partner go out with the first ones after it): cut at every step over gap_s.
        prev = np.concatenate([[self._last_t if self._last_t is not None else t[0]], t[:-1]])
        cuts = np.flatnonzero(t - prev > self.gap_s)
        out: list[SourceItem] = []
        start = 0
        for c in cuts:
            if c > start:
                out.append(Samples(t[start:c], imu[start:c]))
            out.append(Gap(float(prev[c]), float(t[c])))
            start = int(c)
        out.append(Samples(t[start:], imu[start:]))
        self._last_t = float(t[-1])
        self.last_sample = time.monotonic()
        return out

    # -- the stream ----------------------------------------------------------------------

    async def stream(self) -> AsyncIterator[SourceItem]:
        await self.open()
        yield LinkStatus(True, 0.0, f"phyphox at {self.url} is measuring")
        for item in self._release(self._pairs()):
            yield item
        try:
            while not self._stopping.is_set():
                began = time.monotonic()
                try:
                    await self._poll_once()
                except (OSError, TimeoutError, ValueError) as e:
                    self.failed += 1
                    now = time.monotonic()
                    self._down_since = self._down_since or now
                    if not self._said_down and now - self._down_since >= self.silence_s:
                        self._said_down = True
                        yield LinkStatus(False, self._last_t or 0.0, f"phyphox at {self.url} is not answering ({_why(e)}): {ADVICE}")
                    await self._wait(RETRY_S)
                    continue
                if self._down_since is not None:
                    if self._said_down:
                        yield LinkStatus(
                            True, self._last_t or 0.0, f"phyphox answers again after {time.monotonic() - self._down_since:.0f} s"
                        )
                    self._down_since, self._said_down = None, False
                if not self.measuring and self.start and not self._stopping.is_set():
                    # Stopped on the phone (the app went to the background, or its own
                    # button): start again so the session goes on, and say so.
                    with contextlib.suppress(DeviceError):
                        await self._control("start")
                        await self._fetch_time()
                        yield LinkStatus(True, self._last_t or 0.0, f"phyphox had stopped measuring; started it again: {ADVICE}")
                for item in self._release(self._pairs()):
                    yield item
                await self._wait(self.poll_s - (time.monotonic() - began))
            # The last samples: stop measuring (if we started it), one more poll, then
            # whatever waits for its gyro partner.
            await self._stop_measuring()
            with contextlib.suppress(OSError, TimeoutError, ValueError):
                await self._poll_once()
            for item in self._release(self._pairs(final=True)):
                yield item
        finally:
            await self._stop_measuring()

    async def _stop_measuring(self) -> None:
        if self._started_it:
            self._started_it = False
            with contextlib.suppress(DeviceError):
                await self._control("stop")

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)

    async def stop(self) -> None:
        """End the stream after one last poll (the measurement is stopped if we started it)."""
        self._stopping.set()


def _why(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "timed out"
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    return str(e)
