"""The cost of the recording's durability policy (an fsync per block, twice a second).

Writes a 100 Hz stream in 5-sample chunks (what BLE delivers), 0.5-s blocks, into a
recording with and without fsync, and reports the fsync latency and what it costs per
second of recorded data (wall time, which the recorder's thread waits, and CPU time).

    uv run python benchmarks/recording_fsync.py [--seconds 600] [--dir PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600.0, help="seconds of 100 Hz data to write")
    ap.add_argument("--dir", type=Path, default=None, help="folder to write in (default: the data folder's disk, /tmp)")
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
        f"CPU +{per_s(on_cpu - off_cpu):.2f} ms"
    )


if __name__ == "__main__":
    main()
