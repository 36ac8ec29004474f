"""A simulated Sensor Logger phone: samples (a simulated workout) as the HTTP push batches
the app POSTs (the schema of its PUSHING.md: ``messageId``, ``sessionId``, ``deviceId``,
``payload`` of ``{name, time: epoch ns, values: {x, y, z}}``), and a client that pushes them
once every batch period in real time, as the phone does. Tests, benchmarks and demos use
it; HoldTrack's runtime does not.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from sensor.samples import Samples

BATCH_PERIOD_S = 1.0  # the app's default: "batchPeriod": 1000 in an exported config (phone-live.md)
STANDARD_GRAVITY = 9.80665


def push_items(samples: Samples, t0_ns: int, platform: str = "android") -> list[dict[str, Any]]:
    """One item per sensor and sample, stamped ``t0_ns`` + the sample's time. Android sends
    ``totalacceleration``; iOS ``accelerometer`` (without gravity) and ``gravity``, with the
    sign of the app's default (not standardised): both flipped."""
    t_ns = t0_ns + np.round((samples.time_s - samples.time_s[0]) * 1e9).astype(np.int64)
    acc = samples.acc.astype(np.float64)
    gyro = samples.gyro.astype(np.float64)
    out: list[dict[str, Any]] = []
    if platform == "ios":
        norm = np.linalg.norm(acc, axis=1, keepdims=True)
        gravity = acc / np.where(norm > 0, norm, 1.0) * STANDARD_GRAVITY  # a simple split; the sum is what counts
        streams = [("accelerometer", -(acc - gravity)), ("gravity", -gravity)]
    else:
        streams = [("totalacceleration", acc)]
    streams.append(("gyroscope", gyro))
    for i, t in enumerate(t_ns.tolist()):
        for name, v in streams:
            x, y, z = v[i].tolist()
            out.append({"name": name, "time": t, "values": {"x": x, "y": y, "z": z}})
    return out


def batch_body(items: Sequence[dict[str, Any]], message_id: int, session_id: str = "sim", device_id: str = "sim-phone") -> bytes:
    return json.dumps({"messageId": message_id, "sessionId": session_id, "deviceId": device_id, "payload": list(items)}).encode()


@dataclass
class PhoneLog:
    """What the phone sent: per message, the wall time it went, its status, its sample times."""

    sent: list[tuple[float, int, int]] = field(default_factory=list)  # (time.time(), messageId, status)
    first_ns: int = 0


class SensorLoggerPhone:
    """Pushes ``samples`` to ``url`` as Sensor Logger does: every ``period_s`` a POST of the
    samples taken during it, stamped with this computer's clock (a phone on network time).
    ``offline``: (start, end) seconds into the samples during which the Wi-Fi is gone; the
    batches of that time are lost (``resend=False``) or sent when it is back."""

    def __init__(
        self, url: str, samples: Samples, *, period_s: float = BATCH_PERIOD_S, platform: str = "android", session_id: str = "sim"
    ) -> None:
        self.url = url
        self.samples = samples
        self.period_s = period_s
        self.platform = platform
        self.session_id = session_id
        self.log = PhoneLog()

    async def run(
        self, *, offline: Sequence[tuple[float, float]] = (), resend: bool = False, stop: asyncio.Event | None = None
    ) -> PhoneLog:
        u = urlsplit(self.url)
        path = u.path + (f"?{u.query}" if u.query else "")
        if self.platform == "ios" and "platform=" not in u.query:
            path += ("&" if u.query else "?") + "platform=ios"
        host, port = u.hostname or "127.0.0.1", u.port or 80
        t = self.samples.time_s - self.samples.time_s[0]
        start_wall = time.time()
        self.log.first_ns = t0_ns = int(start_wall * 1e9)
        items_at = np.floor(t / self.period_s).astype(np.int64)
        n_batches = int(items_at[-1]) + 1
        queued: list[tuple[int, bytes]] = []
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for k in range(n_batches):
            due = start_wall + (k + 1) * self.period_s
            await asyncio.sleep(max(0.0, due - time.time()))
            if stop is not None and stop.is_set():
                break
            sel = np.flatnonzero(items_at == k)
            if not len(sel):
                continue
            part = self.samples[int(sel[0]) : int(sel[-1]) + 1]
            body = batch_body(
                push_items(part, t0_ns + int(round(float(part.time_s[0] - self.samples.time_s[0]) * 1e9)), self.platform),
                k,
                self.session_id,
            )
            if any(a <= k * self.period_s < b for a, b in offline):
                if resend:
                    queued.append((k, body))
                continue
            for mid, b in [*queued, (k, body)]:
                conn, status = await self._post(conn, host, port, path, b)
                self.log.sent.append((time.time(), mid, status))
            queued.clear()
        if conn is not None:
            conn[1].close()
        return self.log

    async def _post(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, host: str, port: int, path: str, body: bytes
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, int]:
        """One POST on a kept-alive connection (a new one when the old is gone); 0 if it failed."""
        for _ in range(2):
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
                reader, writer = conn
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                await writer.drain()
                answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                length = int(answer.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                if b"connection: close" in answer.lower():
                    writer.close()
                    conn = None
                return conn, int(answer.split()[1])
            except (OSError, asyncio.IncompleteReadError, TimeoutError, IndexError, ValueError):
                if conn is not None:
                    conn[1].close()
                conn = None
        return None, 0
