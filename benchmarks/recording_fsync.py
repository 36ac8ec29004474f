"""The cost of the recording's durability policy (an fsync per block, twice a second).

Writes a 100 Hz stream in 5-sample chunks (what BLE delivers), 0.5-s blocks, into a
recording with and without fsync, and reports the fsync latency and what it costs per
second of recorded data (wall time, which the recorder's thread waits, and CPU time).

    uv run python -m benchmarks.recording_fsync [--seconds 600] [--paced 30] [--dir PATH]

``--paced`` also writes a live recording at real-time pace and measures how long each
sample stays exposed to a power cut (the issue's bound: 1 s).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from sensor.recording import RecordingWriter
from sensor.samples import Samples
from sensor.stream import Header


def run(folder: Path, seconds: float, fsync: bool) -> tuple[float, float, list[float]]:
    rate = 100.0
    n = int(seconds * rate)
    rng = np.random.default_rng(0)
    s = Samples(np.arange(n) / rate, rng.normal(0, 1, (n, 6)).astype(np.float32))
    lat: list[float] = []
    real = os.fsync

    def timed(fd: int) -> None:
        t = time.perf_counter()
        real(fd)
        lat.append(time.perf_counter() - t)

    os.fsync = timed  # type: ignore[assignment]
    try:
        path = folder / f"bench-{fsync}-{time.time_ns()}.htrec"
        wall, cpu = time.perf_counter(), time.process_time()
        with RecordingWriter(path, Header(source="bench"), fsync=fsync) as w:
            for chunk in s.chunks(5):
                w.write(chunk)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        path.unlink()
    finally:
        os.fsync = real
    return wall, cpu, lat


def paced(folder: Path, seconds: float) -> tuple[list[float], list[float], list[float]]:
    """A live recording at real-time pace (5 samples every 50 ms, as BLE delivers them):
    the caller's time in each ``write`` (ms), fsync latencies (ms), and for every sample
    how long it stayed exposed to a power cut (s from its arrival until an fsync that
    covers its bytes completed): the loss bound, measured."""
    rate, chunk = 100.0, 5
    n = int(seconds * rate)
    rng = np.random.default_rng(1)
    s = Samples(np.arange(n) / rate, rng.normal(0, 1, (n, 6)).astype(np.float32))
    syncs: list[tuple[int, float, float]] = []  # (file size when it started, latency, completion time)
    real = os.fsync

    def timed(fd: int) -> None:
        size = os.fstat(fd).st_size
        t = time.perf_counter()
        real(fd)
        done = time.perf_counter()
        syncs.append((size, done - t, done))

    os.fsync = timed  # type: ignore[assignment]
    calls: list[float] = []
    arrivals: list[tuple[float, int]] = []  # (arrival time, file size after the write returned)
    try:
        path = folder / f"bench-paced-{time.time_ns()}.htrec"
        with RecordingWriter(path, Header(source="bench")) as w:
            start = time.perf_counter()
            for i, c in enumerate(s.chunks(chunk)):
                due = start + (i + 1) * chunk / rate
                while (now := time.perf_counter()) < due:
                    time.sleep(min(0.01, due - now))
                t = time.perf_counter()
                w.write(c)
                calls.append((time.perf_counter() - t) * 1e3)
                arrivals.append((t, os.fstat(w._f.fileno()).st_size))
        path.unlink()
    finally:
        os.fsync = real
    exposed: list[float] = []
    sizes = [a[1] for a in arrivals]
    for i, (t, _) in enumerate(arrivals):
        before = sizes[i - 1] if i else 0
        # The chunk is in the file once its block is flushed: the first write that grew it.
        j = next((k for k in range(i, len(sizes)) if sizes[k] > before), None)
        if j is None:
            continue  # in the last block, written by close() (which always fsyncs)
        done = min((d for size, _, d in syncs if size >= sizes[j]), default=None)
        if done is not None:
            exposed.append(done - t)
    return calls, [lat * 1e3 for _, lat, _ in syncs], exposed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600.0, help="seconds of 100 Hz data to write")
    ap.add_argument("--dir", type=Path, default=None, help="folder to write in (default: the data folder's disk, /tmp)")
    ap.add_argument("--paced", type=float, default=30.0, help="seconds of a live (real-time) recording to time")
    args = ap.parse_args()
    folder = args.dir or Path(tempfile.gettempdir())
    off_wall, off_cpu, _ = run(folder, args.seconds, False)
    on_wall, on_cpu, lat = run(folder, args.seconds, True)
    ms = np.array(lat) * 1e3

    def per_s(x: float) -> float:
        return float(x / args.seconds * 1e3)  # ms per second of data

    print(f"{len(lat)} fsyncs for {args.seconds:.0f} s of 100 Hz data in {folder} ({len(lat) / args.seconds:.1f}/s)")
    print(f"fsync latency: median {np.median(ms):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.1f} ms")
    print(
        f"per second of data: wall {per_s(on_wall):.2f} ms with fsync vs {per_s(off_wall):.2f} ms without "
        f"(+{per_s(on_wall - off_wall):.2f} ms = {(on_wall - off_wall) / args.seconds * 100:.3f} % of real time); "
        f"CPU +{per_s(on_cpu - off_cpu):.2f} ms (writing as fast as possible: fsyncs coalesce)"
    )
    if args.paced > 0:
        calls, sync_ms, exposed = paced(folder, args.paced)
        live = np.array(sync_ms)
        print(
            f"live pace, {args.paced:.0f} s at 100 Hz: {len(live)} fsyncs ({len(live) / args.paced:.1f}/s), latency median "
            f"{np.median(live):.2f} ms, max {live.max():.1f} ms; write() median {np.median(calls):.3f} ms, max {max(calls):.1f} ms "
            f"(the caller never waits on the disk); a sample is exposed to a power cut for at most {max(exposed):.2f} s "
            f"(p99 {np.percentile(exposed, 99):.2f} s)"
        )


if __name__ == "__main__":
    main()
