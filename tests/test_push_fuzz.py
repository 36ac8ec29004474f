"""Fuzz of the phone push receiver (issue 21, item 1): thousands of random valid and hostile
batches (order, dates, types, sizes) against the real server under the session runner;
then the recording reads and analyses, and holds every sample of every batch answered 200
exactly once, and nothing else; memory stays bounded."""

from __future__ import annotations

import asyncio
import gc
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensor.analyze import analyze_path
from sensor.recording import read_recording
from sensor.runner import SessionRunner
from sensor.samples import Samples
from sensor.sim.simulate import simulate_session
from sensor.sources.http_push import MAX_BODY
from sensor.sources.phone_push import PhonePushSource
from sensor.stream import Header

T0_NS = 1_790_000_000_000_000_000
TOKEN = "fuzz"
HOUR_NS = 3600 * 10**9


@dataclass
class Sent:
    kind: str
    body: bytes
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # phone samples it carries
    status: int = 0
    message: str = ""


class Phone:
    """A simulated workout as Sensor Logger items, cut into batches of random sizes."""

    def __init__(self, rng: np.random.Generator, seconds: float) -> None:
        parts, t0 = [], 0.0
        while t0 < seconds:  # one simulated session after another
            s = simulate_session(11 + len(parts), rate_hz=100.0, dropouts=False, short=True).samples
            parts.append(Samples(s.time_s - s.time_s[0] + t0, s.imu))
            t0 += float(s.time_s[-1] - s.time_s[0]) + 0.01
        self.s = Samples.concat(parts)
        self.t_ns = T0_NS + np.round((self.s.time_s - self.s.time_s[0]) * 1e9).astype(np.int64)
        self.rng = rng
        self.next = 0
        self.mid = 0

    def chunk(self) -> np.ndarray:
        n = int(self.rng.integers(1, 21))
        idx = np.arange(self.next, min(self.next + n, len(self.s)))
        self.next += n
        return idx

    def body(self, idx: np.ndarray, *, strings: bool = False, duplicate: bool = False, extra: list[Any] | None = None) -> bytes:
        items: list[Any] = []
        for i in idx.tolist():
            t: Any = str(self.t_ns[i]) if strings else int(self.t_ns[i])
            a, g = self.s.acc[i].tolist(), self.s.gyro[i].tolist()
            items.append({"name": "totalacceleration", "time": t, "values": dict(zip("xyz", a))})
            items.append({"name": "gyroscope", "time": t, "values": dict(zip("xyz", g))})
            if duplicate:  # Sensor Logger can log a reading twice
                items.append({"name": "totalacceleration", "time": t, "values": dict(zip("xyz", a))})
        self.mid += 1
        return json.dumps({"messageId": self.mid, "sessionId": "s", "deviceId": "d", "payload": items + (extra or [])}).encode()

    def fake(self, n: int, t0_ns: int, value: Any = 9.8, time_as: Any = int) -> bytes:
        items = []
        for k in range(n):
            t = time_as(t0_ns + k * 10_000_000)
            items.append({"name": "totalacceleration", "time": t, "values": {"x": 0.0, "y": value, "z": 9.8}})
            items.append({"name": "gyroscope", "time": t, "values": {"x": 0.0, "y": 0.0, "z": 0.0}})
        return json.dumps({"messageId": 0, "payload": items}).encode()


def hostile(phone: Phone, rng: np.random.Generator) -> Sent:
    now = int(phone.t_ns[min(phone.next, len(phone.t_ns) - 1)])
    r = float(rng.random())
    if r < 0.3:
        off = int(rng.choice([HOUR_NS, 80 * 8766 * HOUR_NS, -HOUR_NS, 30 * 10**9, 7 * 10**9, -70 * 10**9, -10 * HOUR_NS]))
        return Sent("dated", phone.fake(int(rng.integers(1, 50)), now + off, time_as=str if rng.random() < 0.5 else int))
    if r < 0.55:
        bad = [1e308, "NaN", "1e400", 10**400, True, None, "x", [1], 1e4, -3e38][int(rng.integers(0, 10))]
        body = (
            phone.fake(5, now, value=bad)
            if rng.random() < 0.7
            else json.dumps(
                {"payload": [{"name": "gyroscope", "time": 10**400 if rng.random() < 0.5 else "soon", "values": {"x": 0, "y": 0, "z": 0}}]}
            ).encode()
        )
        return Sent("value", body)
    if r < 0.8:
        shapes = [
            b"[1,2,3]",
            b'{"payload": "x"}',
            b'{"payload": [1]}',
            b"not json",
            b"",
            b"[" * 5000,
            b'{"payload": [' + b"[" * 40 + b"]" * 40 + b"]}",
            b'{"payload": []}',
            b'{"messageId": 1, "payload": [{"name": "test"}]}',
            b'{"payload": [{"name": "location", "time": 1, "values": {}}]}',
        ]
        return Sent("shape", shapes[int(rng.integers(0, len(shapes)))])
    if r < 0.99:
        return Sent(
            "other",
            json.dumps(
                {"payload": [{"name": "barometer", "time": now, "values": {"pressure": 1013}}] * int(rng.integers(1, 100))}
            ).encode(),
        )
    k = int(rng.integers(0, 3))
    if k == 0:  # 4 MB of one string, in a batch without readings: fine, and cheap
        return Sent("other", b'{"payload": [], "camera": "' + b"A" * ((4 << 20) - 40) + b'"}')
    return Sent("big", b"x" * (MAX_BODY + 1) if k == 1 else b"[" + b"{}," * 999_999 + b"{}]")


async def _post(conn: list[Any], port: int, body: bytes) -> tuple[int, str]:
    for _ in range(3):
        if not conn:
            conn.extend(await asyncio.open_connection("127.0.0.1", port))
        reader, writer = conn
        try:
            writer.write(f"POST /{TOKEN} HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            text = (await reader.readexactly(length)).decode()
            if b"connection: close" in head.lower():
                writer.close()
                conn.clear()
            return int(head.split()[1]), text.strip()
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            conn.clear()
    raise AssertionError("no answer")


def _status_bytes(key: str) -> int:
    """One of this process's memory figures from /proc/self/status (VmRSS, VmHWM), bytes."""
    line = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith(key + ":"))
    return int(line.split()[1]) << 10


def run_fuzz(n_batches: int, seed: int, tmp_path: Path, trace: bool = False) -> tuple[list[Sent], Phone, PhonePushSource, Any, int]:
    """Send ``n_batches``; with ``trace``, how far the process's resident memory rose above
    where it was when serving began (the phone's simulation and the imports before it left
    out). The kernel's peak mark is reset then (``clear_refs`` 5), so the peak is the
    serving's own; under tracemalloc the test took three times as long (140 s against 46 s)."""
    rng = np.random.default_rng(seed)
    phone = Phone(rng, n_batches * 0.12)
    clock_now = [T0_NS / 1e9]
    sent: list[Sent] = []
    recent: list[Sent] = []  # bodies kept to repeat (all of them would be the client's memory, not the server's)

    async def main() -> Any:
        src = PhonePushSource("127.0.0.1", 0, token=TOKEN, clock=lambda: clock_now[0])
        await src.open()
        runner = SessionRunner(src.header, recording=tmp_path / "fuzz.htrec")
        task = asyncio.get_running_loop().create_task(runner.run(src))
        conn: list[Any] = []
        held: list[tuple[int, Sent]] = []  # (send after step, batch)
        for step in range(n_batches):
            due = [h for h in held if h[0] <= step]
            held = [h for h in held if h[0] > step]
            r = float(rng.random())
            if step == 0 or r < 0.70:
                idx = phone.chunk()
                if not len(idx):
                    break
                v = float(rng.random())
                kind, body = "valid", phone.body(idx)
                if v < 0.1:
                    kind, body = "valid", phone.body(idx, strings=True)
                elif v < 0.15:
                    kind, body = "valid", phone.body(idx, duplicate=True)
                elif v < 0.152:
                    kind, body = (
                        "valid",
                        phone.body(idx, extra=[{"name": "camera", "time": int(phone.t_ns[idx[0]]), "values": {"image": "A" * (2 << 20)}}]),
                    )
                item = Sent(kind, body, idx)
                clock_now[0] = max(clock_now[0], phone.t_ns[idx[-1]] / 1e9 + 0.05)
            elif r < 0.75:
                idx = phone.chunk()
                if not len(idx):
                    break
                d = int(rng.integers(1, 9)) if rng.random() < 0.6 else int(rng.integers(100, 150))
                held.append((step + d, Sent("delayed-near" if d < 9 else "delayed-far", phone.body(idx), idx)))
                clock_now[0] = max(clock_now[0], phone.t_ns[idx[-1]] / 1e9 + 0.05)
                item = None
            elif r < 0.78 and recent:
                before = recent[int(rng.integers(0, len(recent)))]
                item = Sent("repeat", before.body, before.indices if before.status == 200 else np.zeros(0, np.int64))
            else:
                item = hostile(phone, rng)
            for it in [h for _, h in due] + ([item] if item is not None else []):
                await send(conn, src.port, it)
        for _, it in held:  # delayed past the end: less than they were meant to be
            it.kind = "delayed-end"
            await send(conn, src.port, it)
        if conn:
            conn[1].close()
        await src.stop()
        return src, await asyncio.wait_for(task, 120)

    async def send(conn: list[Any], port: int, it: Sent) -> None:
        it.status, it.message = await _post(conn, port, it.body)
        sent.append(it)
        if len(it.indices):  # the phone's own batches are retried (a hostile one repeated later can fit the clock by then)
            recent.append(Sent(it.kind, it.body, it.indices, it.status))
            del recent[:-200]
        it.body = b""

    if trace:
        SessionRunner(Header())  # the analysis's modules imported (tens of MB of code), not counted as serving
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # the peak mark back to the resident size now
        base = _status_bytes("VmRSS")
    src, result = asyncio.run(main())
    peak = _status_bytes("VmHWM") - base if trace else 0
    return sent, phone, src, result, peak


def check(sent: list[Sent], phone: Phone, src: PhonePushSource, result: Any, path: Path) -> None:
    statuses = [s.status for s in sent]
    assert all(100 <= s < 600 for s in statuses)  # every request answered
    assert all(s.status == 200 for s in sent if s.kind == "valid"), "a batch in order was refused"
    assert all(s.status != 200 for s in sent if s.kind in ("dated", "value", "big"))
    far = [s.status for s in sent if s.kind == "delayed-far"]
    odd = [(s.status, s.indices[[0, -1]].tolist(), s.message) for s in sent if s.kind == "delayed-far" and s.status != 409]
    assert far and not odd, odd  # later than the reorder window: refused, not dropped
    near = [s.status for s in sent if s.kind == "delayed-near"]
    assert near.count(200) >= 0.9 * len(near), near  # a host stall may close the window early: refused then, never lost
    kept = np.unique(np.concatenate([s.indices for s in sent if s.status == 200]))
    rec = read_recording(path)  # the reader's every check
    assert len(rec.samples) == len(kept) == result.samples, (len(rec.samples), len(kept))
    expect_t = (phone.t_ns[kept] - phone.t_ns[kept[0]]) / 1e9
    np.testing.assert_allclose(rec.samples.time_s - rec.samples.time_s[0], expect_t, atol=2e-6)
    np.testing.assert_array_equal(rec.samples.acc, phone.s.acc[kept])
    np.testing.assert_array_equal(rec.samples.gyro, phone.s.gyro[kept])
    assert src.push.accepted_samples >= len(kept)  # (a retried body is counted once it is kept)
    analysis = analyze_path(path)
    assert analysis.duration_s > 0 and (analysis.reps or analysis.holds)


@pytest.mark.slow
def test_push_fuzz_quick(tmp_path: Path) -> None:
    sent, phone, src, result, _ = run_fuzz(1500, 2, tmp_path)
    check(sent, phone, src, result, tmp_path / "fuzz.htrec")


@pytest.mark.slow
def test_push_fuzz_ten_thousand_batches_in_bounded_memory(tmp_path: Path) -> None:
    sent, phone, src, result, peak = run_fuzz(10_000, 1, tmp_path, trace=True)
    check(sent, phone, src, result, tmp_path / "fuzz.htrec")
    kinds = {k: sum(s.kind == k for s in sent) for k in sorted({s.kind for s in sent})}
    print(f"\n{len(sent)} batches {kinds}; {sum(s.status == 200 for s in sent)} answered 200; peak {peak / 2**20:.0f} MB above the start")
    assert len(sent) == 10_000 and peak < 100 << 20, (len(sent), peak)
