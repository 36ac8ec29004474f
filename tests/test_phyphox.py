"""phyphox live: the shipped experiment and its QR code, the polling source against the fake
phone (real HTTP on loopback), Wi-Fi lost and a locked screen, the session runner and
``record --source phyphox:``."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensor.errors import DeviceError
from sensor.events import Gap
from sensor.fake_phyphox import FakePhyphox
from sensor.fake_phyphox.server import android_number
from sensor.samples import Samples
from sensor.sources import make_source
from sensor.sources.phyphox import PhyphoxSource, parse_address
from sensor.sources.phyphox_experiment import BUFFERS, experiment_bytes, experiment_from_qr, qr_payloads
from sensor.stream import LinkStatus
from tests.conftest import sim

ROOT = Path(__file__).resolve().parent.parent


def sync(fn: Any) -> Any:
    """An async test run on its own event loop (the project has no asyncio plugin)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return run


def wearer() -> Samples:
    return sim(7, short=True, rate_hz=100.0, dropouts=False, link_losses=0).samples


class Run:
    """A source streamed in the background; what it yields is kept."""

    def __init__(self, src: PhyphoxSource) -> None:
        self.src = src
        self.items: list[Any] = []
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for item in self.src.stream():
            self.items.append(item)

    def samples(self) -> Samples:
        return Samples.concat([i for i in self.items if isinstance(i, Samples)])

    async def until(self, cond: Any, timeout_s: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self.src.stop()
        await asyncio.wait_for(self.task, 30)


# -- the experiment and its QR code --------------------------------------------------------


def test_the_experiment_has_both_sensors_with_time_in_unlimited_buffers() -> None:
    root = ET.fromstring(experiment_bytes())
    assert root.tag == "phyphox" and float(root.get("version", "9")) <= 1.19  # what phyphox-android reads
    sizes = {(c.text or "").strip(): c.get("size") for c in root.iter("container")}
    assert set(BUFFERS) <= set(sizes) and all(sizes[b] == "0" for b in BUFFERS)  # size 1 would keep one value
    sensors = {s.get("type"): {o.get("component"): o.text for o in s.iter("output")} for s in root.iter("sensor")}
    assert sensors["accelerometer"] == {"x": "accX", "y": "accY", "z": "accZ", "t": "acc_time"}
    assert sensors["gyroscope"] == {"x": "gyrX", "y": "gyrY", "z": "gyrZ", "t": "gyr_time"}
    views = list(root.iter("view"))
    assert views and len(list(views[0])) > 0  # phyphox refuses a file without a view element


def test_the_qr_code_carries_the_experiment_in_one_code() -> None:
    codes = qr_payloads()
    assert len(codes) == 1 and len(codes[0]) <= 2953  # byte mode, version 40-L
    assert codes[0][:7] == b"phyphox" and codes[0][11:13] == bytes([0, 1])
    assert experiment_from_qr(codes) == experiment_bytes()
    big = experiment_bytes().replace(b"</description>", os.urandom(4000).hex().encode() + b"</description>")
    parts = qr_payloads(big)
    assert len(parts) > 1 and experiment_from_qr(parts[::-1]) == big  # any scanning order
    with pytest.raises(ValueError, match="missing"):
        experiment_from_qr(parts[:-1])
    damaged = parts[0][:20] + bytes([parts[0][20] ^ 1]) + parts[0][21:]
    with pytest.raises(ValueError, match="CRC32"):
        experiment_from_qr([damaged, *parts[1:]])


def test_android_numbers_and_addresses() -> None:
    assert android_number(9.80665) == "9.80665E0"
    assert android_number(-0.000123456789) == "-1.2345679E-4"
    assert android_number(0.0) == "0E0" and android_number(float("nan")) == "null"
    assert parse_address("http://192.168.1.23:8080") == ("192.168.1.23", 8080)
    assert parse_address("192.168.1.23") == ("192.168.1.23", 8080)
    assert parse_address("phone.local:80/") == ("phone.local", 80)
    with pytest.raises(DeviceError, match="port"):
        parse_address("1.2.3.4:99999")


# -- the source against the fake phone -----------------------------------------------------


@pytest.mark.slow  # 1.5-3.6 s: out of make check, still in make test
@sync
async def test_every_sample_once_in_order_stamped_by_phyphox_time_polled_at_10_hz() -> None:
    with FakePhyphox(wearer()[:4000], speed=20.0) as fake:
        run = Run(make_source(f"phyphox:{fake.host}:{fake.port}"))  # type: ignore[arg-type]
        began = time.monotonic()
        await run.until(lambda: fake.wearer_time() > 30.0, what="30 s of wearer time (1.5 s of wall time)")
        polls_per_s = run.src.polls / (time.monotonic() - began)
        await run.close()
        got = run.samples()
        acc_t, acc_v = fake._recorded("acc")
        gyr_t, gyr_v = fake._recorded("gyr")
    assert fake.commands == ["start", "stop"]  # started at open, stopped at the end
    assert polls_per_s >= 10.0
    assert len(got) == len(acc_t) > 2500  # each recorded accelerometer sample once
    assert np.all(np.diff(got.time_s) > 0)
    # Stamped by phyphox's time buffer (from the first sample), not by arrival.
    np.testing.assert_allclose(got.time_s, acc_t - acc_t[0], atol=1e-6)
    np.testing.assert_allclose(got.acc, acc_v, rtol=2e-7)  # Android writes 8 significant digits
    # The gyro (its own clock, half a sample later) interpolated at the accelerometer's times.
    want = np.stack([np.interp(acc_t, gyr_t, gyr_v[:, c]) for c in range(3)], axis=1)
    np.testing.assert_allclose(got.gyro, want, atol=2e-6)  # times and values to 8 digits


@pytest.mark.slow  # ~5-10 s (timed under load): in `make test`, not `make check`
@sync
async def test_wifi_lost_for_10_s_mid_set_keeps_every_sample_once_and_says_what_to_do() -> None:
    with FakePhyphox(wearer(), speed=5.0) as fake:
        run = Run(PhyphoxSource(fake.host, fake.port, silence_s=0.5))
        await run.until(lambda: len(run.samples()) > 500, what="first samples")
        fake.drop_for(2.0)  # 10 s of the wearer's time at 5x
        await run.until(lambda: any(isinstance(i, LinkStatus) and not i.connected for i in run.items), what="link down")
        down_at = len(run.samples())
        await run.until(lambda: any(isinstance(i, LinkStatus) and i.connected and "again" in i.message for i in run.items), what="back")
        await run.until(lambda: len(run.samples()) > down_at + 2000, what="samples after")
        await run.close()
        acc_t, _ = fake._recorded("acc")
    got = run.samples()
    assert fake.refused > 0
    down = next(i for i in run.items if isinstance(i, LinkStatus) and not i.connected)
    assert "keep phyphox in front" in down.message
    assert len(got) == len(acc_t) and np.all(np.diff(got.time_s) > 0)  # nothing lost, nothing twice
    assert not any(isinstance(i, Gap) for i in run.items)  # phyphox kept measuring: no hole in the data
    assert float(np.max(np.diff(got.time_s))) < 0.05


@pytest.mark.slow  # 1.5-3.6 s: out of make check, still in make test
@sync
async def test_a_locked_screen_is_a_gap_as_long_as_the_pause_and_measuring_starts_again() -> None:
    with FakePhyphox(wearer(), speed=5.0, platform="ios") as fake:
        run = Run(PhyphoxSource(fake.host, fake.port, silence_s=0.3))
        await run.until(lambda: len(run.samples()) > 500, what="first samples")
        before = fake.wearer_time()
        fake.lock_screen_for(1.0)  # ≈ 5 s of the wearer's time
        await run.until(lambda: fake.commands.count("start") == 2, what="started again")
        after = fake.wearer_time()
        await run.until(lambda: run.samples().time_s[-1] > after + 5, what="samples after")
        await run.close()
        acc_t, _ = fake._recorded("acc")
    gaps = [i for i in run.items if isinstance(i, Gap)]
    assert len(gaps) == 1, ([i for i in run.items if not isinstance(i, Samples)], fake._events, fake.commands)
    # The pause in the wearer's time (the phone's clock), within a poll or two at 5x.
    assert gaps[0].end_s - gaps[0].start_s == pytest.approx(after - before, abs=1.0)
    assert any(isinstance(i, LinkStatus) and "started it again" in i.message for i in run.items)
    assert len(run.samples()) == len(acc_t)


@sync
async def test_a_phone_without_the_experiment_or_out_of_reach_is_one_clear_line() -> None:
    other = experiment_bytes().replace(b"gyr", b"rot")
    with FakePhyphox(wearer()[:100], experiment=other) as fake, pytest.raises(DeviceError, match=r"without the buffers gyrX.*scan the QR"):
        await PhyphoxSource(fake.host, fake.port).open()
    with FakePhyphox(wearer()[:100]) as fake:
        port = fake.port
    with pytest.raises(DeviceError, match=r"cannot reach phyphox at http://127.0.0.1:\d+ .*remote access"):
        await PhyphoxSource("127.0.0.1", port, timeout_s=1.0).open()


@pytest.mark.slow
@sync
async def test_a_live_phyphox_session_is_recorded_and_analysed_as_its_recording(tmp_path: Path) -> None:
    from sensor.analyze import analyze_path
    from sensor.runner import SessionRunner

    session = sim(11, short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0)
    with FakePhyphox(session.samples, speed=40.0) as fake:
        src = PhyphoxSource(fake.host, fake.port)
        runner = SessionRunner(src.header, recording=tmp_path / "live.htrec")
        stop_at = float(session.samples.time_s[-1] - session.samples.time_s[0]) - 1.0
        result = await runner.run(src, stop_after_s=stop_at)
    assert result.recording is not None
    again = analyze_path(result.recording)
    live = [(r.exercise, round(r.start_s, 3)) for r in result.analysis.reps]
    assert live == [(r.exercise, round(r.start_s, 3)) for r in again.reps]
    assert len(live) == len(session.truth["reps"]) > 0


@pytest.mark.slow  # 1.5-3.6 s: out of make check, still in make test
def test_record_source_phyphox_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "rec.htrec"
    with FakePhyphox(wearer()[:3000], speed=10.0) as fake:
        proc = subprocess.run(
            [sys.executable, "-m", "sensor.cli", "record", "--source", f"phyphox:{fake.address}", "--duration", "10", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    assert proc.returncode == 0, proc.stderr
    assert "polling phyphox at http://127.0.0.1" in proc.stdout
    assert out.exists() and "session: 1" in proc.stdout  # ten-odd seconds of stream
    bad = subprocess.run(
        [sys.executable, "-m", "sensor.cli", "record", "--source", "phyphox:127.0.0.1:1", "--out", str(tmp_path / "x.htrec")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert bad.returncode == 3 and bad.stderr.count("\n") == 1 and "holdtrack: error: cannot reach phyphox" in bad.stderr


def test_a_pause_inside_one_released_block_is_still_a_gap() -> None:
    # Accelerometer samples held for their gyro partner across a pause go out with the
    # first samples after it: the pause is inside the block (seen once under load).
    src = PhyphoxSource("127.0.0.1", 1)
    t = np.concatenate([np.arange(0, 1, 0.01), 6 + np.arange(0, 1, 0.01)])
    items = src._release(Samples(t, np.zeros((len(t), 6))))
    gaps = [i for i in items if isinstance(i, Gap)]
    assert len(gaps) == 1 and gaps[0].start_s == pytest.approx(0.99) and gaps[0].end_s == pytest.approx(6.0)
    assert sum(len(i) for i in items if isinstance(i, Samples)) == len(t)


def test_the_dashboard_hands_the_gil_over_every_millisecond() -> None:
    # The dashboard's render threads held the phone's poll loop up 5 ms at each turn: 4 polls/s
    # in the dashboard under load against 18 alone (benchmarks/phyphox_latency.py).
    code = (
        "import sys; from dashboard.sensors import share_the_gil as s; a = sys.getswitchinterval(); s(); print(a, sys.getswitchinterval())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    assert float(out[0]) == pytest.approx(0.005) and float(out[1]) <= 0.001
