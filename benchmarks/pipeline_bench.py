"""Pipeline benchmark: prints figures, asserts nothing.

    uv run python -m benchmarks.pipeline_bench [--hours-long 10]

1. Analysis throughput over a 1-hour 100 Hz session (samples/s), side by side with the
   bare imufusion AHRS loop over the same samples, measured in the same run (ratio).
2. Streaming cost per chunk of 1, 5 and 20 samples (µs) and the share of one core a
   100 Hz sensor in 5-sample chunks takes.
3. Peak memory of the pipeline over a 1-hour and a 10-hour stream (samples generated on
   the fly, so only what the pipeline keeps is counted).
4. Orientation accuracy and speed: the pipeline's fused elevation against imufusion's AHRS
   on the same samples and calibration, both scored against the simulator's true pose.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np

from sensor.analyze import analyze_samples
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.signal.pipeline import Pipeline
from sensor.sim.simulate import SimulatedSession, simulate_session


def long_session(minutes: float, rate: float = 100.0) -> Samples:
    """Whole simulated sessions back to back (times shifted), about ``minutes`` long."""
    parts, t0, seed = [], 0.0, 500
    while t0 < minutes * 60:
        # One wearer, one strap: the same mounting all hour.
        s = simulate_session(seed, rate_hz=rate, mount_rotation_deg=30.0, mount_tilt_deg=10.0).samples
        parts.append(Samples(s.time_s - s.time_s[0] + t0, s.imu))
        t0 = parts[-1].time_s[-1] + 1.0 / rate
        seed += 1
    whole = Samples.concat(parts)
    return whole[: int(np.searchsorted(whole.time_s, minutes * 60))]


def stream(base: Samples, hours: float, chunk: int) -> Iterator[Samples]:
    """``hours`` of samples made by repeating ``base`` with shifted times, chunk by chunk."""
    span = base.time_s[-1] - base.time_s[0] + 0.01
    k = 0
    while k * span < hours * 3600:
        t = base.time_s - base.time_s[0] + k * span
        for i in range(0, len(base), chunk):
            yield Samples(t[i : i + chunk], base.imu[i : i + chunk])
        k += 1


def _imufusion(s: Samples, rate: float):  # type: ignore[no-untyped-def]
    """A default imufusion AHRS at ``rate`` and the samples in its units (deg/s, g)."""
    import imufusion

    ahrs = imufusion.Ahrs()
    st = imufusion.AhrsSettings()
    st.sample_rate = int(round(rate))
    ahrs.set_settings(st)
    return ahrs, np.degrees(s.gyro.astype(np.float64)), s.acc.astype(np.float64) / STANDARD_GRAVITY


def imufusion_loop(s: Samples, rate: float) -> tuple[float, np.ndarray]:
    """imufusion over the samples, keeping its gravity estimate (for accuracy)."""
    ahrs, gyro, acc = _imufusion(s, rate)
    grav = np.empty((len(s), 3))
    t = time.perf_counter()
    for i in range(len(s)):
        ahrs.update_no_magnetometer(gyro[i], acc[i])
        grav[i] = ahrs.get_gravity()
    return time.perf_counter() - t, grav


def bare_imufusion_loop(s: Samples, rate: float) -> float:
    """The bare update loop: the reference for throughput."""
    ahrs, gyro, acc = _imufusion(s, rate)
    t = time.perf_counter()
    for g, a in zip(gyro, acc):
        ahrs.update_no_magnetometer(g, a)
    return time.perf_counter() - t


def best_of(k: int, fn: Callable[..., float], *args: object) -> float:
    """Fastest of k runs: the figure least disturbed by other work on the machine."""
    return min(fn(*args) for _ in range(k))


def _time_analysis(s: Samples) -> float:
    t = time.perf_counter()
    analyze_samples(s)
    return time.perf_counter() - t


def throughput() -> None:
    s = long_session(60.0)
    n = len(s)
    a = analyze_samples(s)  # warm-up: lazy imports, filter design
    ours = best_of(5, _time_analysis, s)
    bare = best_of(5, bare_imufusion_loop, s, 100.0)
    print(
        f"1. analysis of a 1-hour 100 Hz session ({n} samples, best of 5): {n / ours:,.0f} samples/s ({ours:.3f} s); "
        f"{len(a.reps)} reps, {len(a.holds)} holds"
    )
    print(f"   bare imufusion AHRS loop, same samples, best of 5: {n / bare:,.0f} samples/s ({bare:.3f} s)")
    print(f"   ratio (analysis / imufusion loop): {bare / ours:.1f}x")


def per_chunk() -> None:
    s = simulate_session(501, rate_hz=100.0).samples
    print("2. streaming cost per chunk (100 Hz sensor):")
    for size in (1, 5, 20):
        chunks = s.chunks(size)

        def run(chunks: list[Samples] = chunks) -> float:
            p = Pipeline()
            t = time.perf_counter()
            for c in chunks:
                p.feed(c)
            return time.perf_counter() - t

        dt = best_of(3, run)
        us = dt / len(chunks) * 1e6
        core = us * (100.0 / size) / 1e6 * 100
        print(f"   chunks of {size:>2}: {us:7.1f} µs per chunk -> {core:.2f}% of one core in real time")


def memory(hours_long: float) -> None:
    base = simulate_session(502, rate_hz=100.0).samples
    print("3. peak memory of the pipeline over a stream (input generated on the fly):")
    for hours in (1.0, hours_long):
        p = Pipeline()
        tracemalloc.start()
        n = 0
        t = time.perf_counter()
        for c in stream(base, hours, 500):
            p.feed(c)
            n += len(c)
        p.finish()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"   {hours:>4.0f} h ({n:,} samples, {time.perf_counter() - t:.1f} s): peak {peak / 1e6:.2f} MB")


def accuracy() -> None:
    """Elevation error (deg) of each estimator against the true pose, in the lying parts."""
    print("4. orientation: pipeline's fused elevation vs imufusion AHRS (same samples, same calibration)")
    rows = []
    for seed in (503, 504, 505):
        sim: SimulatedSession = simulate_session(seed, rate_hz=100.0, dropouts=False)
        s = sim.samples
        p = Pipeline()
        ours_e: list[np.ndarray] = []
        # The pipeline's own elevation, sample by sample, via its filters on the grid.
        from sensor.signal.orientation import TiltFilter
        from sensor.signal.resample import Resampler

        p.process(s)
        cal = p.calibration
        assert cal is not None and sim.true_up_device is not None, "the simulated session starts with a stand"
        r = Resampler(50.0, 1.0)
        tg, xg, filled, _, _ = r.feed(s)
        tf = TiltFilter(50.0)
        tf.calibrate(cal)
        t0 = time.perf_counter()
        _, _, elev = tf.feed(xg, filled)
        ours_time = time.perf_counter() - t0 + 1e-9
        ours_e.append(np.degrees(elev))
        dt_if, grav = imufusion_loop(s, 100.0)
        M = cal.mounting
        up_true = sim.true_up_device.astype(float) @ M.T
        e_true = np.degrees(np.arcsin(np.clip(up_true[:, 1], -1, 1)))
        up_if = grav @ M.T
        e_if = np.degrees(np.arcsin(np.clip(up_if[:, 1] / np.linalg.norm(up_if, axis=1), -1, 1)))
        e_true_g = np.interp(tg, s.time_s, e_true)
        e_if_g = np.interp(tg, s.time_s, e_if)
        lying = np.abs(np.interp(tg, s.time_s, up_true[:, 1])) < 0.6
        moving = lying & (np.abs(np.gradient(e_true_g, tg)) > 5.0)
        for name, est, secs, n in (("pipeline", ours_e[0], ours_time, len(tg)), ("imufusion", e_if_g, dt_if, len(s))):
            err = est - e_true_g
            rows.append(
                (
                    seed,
                    name,
                    float(np.sqrt(np.mean(err[lying] ** 2))),
                    float(np.sqrt(np.mean(err[moving] ** 2))),
                    float(np.percentile(np.abs(err[moving]), 95)),
                    n / secs,
                )
            )
    for seed, name, rms, rms_mov, p95_mov, rate in rows:
        print(f"   seed {seed} {name:9}: RMS {rms:5.2f}° lying, {rms_mov:5.2f}° while moving (p95 {p95_mov:5.2f}°), {rate:,.0f} samples/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours-long", type=float, default=10.0)
    args = ap.parse_args()
    throughput()
    per_chunk()
    memory(args.hours_long)
    accuracy()


if __name__ == "__main__":
    main()
