"""BLE capture cost, measured through the fake BlueZ on a private D-Bus.

For each case a simulated sensor streams to a ``BleSource`` (bleak's BlueZ backend,
bleak-retry-connector, the profile's decoder and the sample clock) for a few seconds:

- latency: from the fake handing a notification to the bus (``time.monotonic`` in the
  fake's process: CLOCK_MONOTONIC is system-wide) to ``BleSource.stream()`` yielding its
  samples; p50 and p99 over every sample after a 1 s warm-up;
- latency to events: from the same notification to the moment the live ``Pipeline`` has
  run over its samples (the earliest an event they complete can be reported; the pipeline
  gathers 0.1 s of stream time per run, so this is the notification-to-event latency);
- CPU: process CPU time over wall time, for the client (BLE + pipeline) and for the fake,
  in % of a core.

"1 kHz" runs a 100 Hz sensor at speed 10 (no profile we support samples at 1 kHz; the
BLE path sees the same notification and sample rates). Run:
``uv run python -m benchmarks.ble_latency [--seconds 8]`` (needs ``dbus-daemon``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass

import numpy as np

from sensor.fake_bluez.control import FakeControl
from sensor.fake_bluez.process import FakeBluezProcess
from sensor.fake_bluez.testing import RATES, spec_for
from sensor.samples import Samples

CASES = (("holdtrack", 1.0), ("witmotion", 1.0), ("holdtrack", 10.0), ("witmotion", 10.0))


@dataclass
class Result:
    profile: str
    sample_hz: float
    notify_hz: float
    samples: int
    p50_ms: float
    p99_ms: float
    event_p50_ms: float
    event_p99_ms: float
    client_cpu: float
    fake_cpu: float


def _cpu_s(pid: int) -> float:
    """utime + stime of a process, seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(bus: str, fake_pid: int, profile: str, speed: float, seconds: float) -> Result:
    from sensor.signal.pipeline import Pipeline
    from sensor.sources.ble_source import BleSource

    pipe = Pipeline()
    spec = spec_for(profile, speed=speed, seed=1, trace=True)
    async with FakeControl(bus) as ctl:
        await ctl.add_sensor(spec)
        src = BleSource(spec.address, rate_hz=RATES[profile], time_scale=speed)
        await src.open()
        yields: list[tuple[float, int]] = []
        processed: list[tuple[float, int]] = []  # (when the pipeline ran, samples it took)
        waiting = 0
        cpu0, fake0, wall0 = time.process_time(), _cpu_s(fake_pid), time.monotonic()
        stopped = False
        async for item in src.stream():
            if isinstance(item, Samples):
                yields.append((time.monotonic(), len(item)))
                waiting += len(item)
                pipe.feed(item)
                if pipe.pending_samples == 0:  # it ran over everything it had gathered
                    processed.append((time.monotonic(), waiting))
                    waiting = 0
            if not stopped and time.monotonic() - wall0 >= seconds:
                stopped = True
                cpu1, fake1, wall1 = time.process_time(), _cpu_s(fake_pid), time.monotonic()
                await src.stop()
        trace = await ctl.take_trace(spec.address)
    sent = np.repeat([t for t, _ in trace], [n for _, n in trace])
    got = np.repeat([t for t, _ in yields], [n for _, n in yields])
    n = min(len(sent), len(got))
    keep = sent[:n] > sent[0] + 1.0  # warm-up: connection set-up, first packets
    latency_ms = (got[:n] - sent[:n])[keep] * 1e3
    done = np.repeat([t for t, _ in processed], [k for _, k in processed])
    m = min(len(sent), len(done))
    keep_e = sent[:m] > sent[0] + 1.0
    event_ms = (done[:m] - sent[:m])[keep_e] * 1e3
    wall = wall1 - wall0
    return Result(
        profile=profile,
        sample_hz=RATES[profile] * speed,
        notify_hz=len(trace) / max(1e-9, trace[-1][0] - trace[0][0]) if len(trace) > 1 else 0.0,
        samples=int(keep.sum()),
        p50_ms=float(np.percentile(latency_ms, 50)),
        p99_ms=float(np.percentile(latency_ms, 99)),
        event_p50_ms=float(np.percentile(event_ms, 50)),
        event_p99_ms=float(np.percentile(event_ms, 99)),
        client_cpu=100.0 * (cpu1 - cpu0) / wall,
        fake_cpu=100.0 * (fake1 - fake0) / wall,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="streaming time per case")
    args = parser.parse_args()
    with FakeBluezProcess() as fake:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = fake.address
        assert fake.proc is not None
        results = [asyncio.run(_measure(fake.address, fake.proc.pid, p, s, args.seconds)) for p, s in CASES]
    print(
        f"{'profile':<10} {'samples/s':>9} {'notif/s':>8} {'n':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'event p50':>9} {'event p99':>9} {'client CPU':>10} {'fake CPU':>9}"
    )
    for r in results:
        print(
            f"{r.profile:<10} {r.sample_hz:>9.0f} {r.notify_hz:>8.0f} {r.samples:>6} {r.p50_ms:>7.2f} "
            f"{r.p99_ms:>7.2f} {r.event_p50_ms:>9.1f} {r.event_p99_ms:>9.1f} {r.client_cpu:>9.1f}% {r.fake_cpu:>8.1f}%"
        )


if __name__ == "__main__":
    main()
