"""The acceptance test, end to end: a simulated workout is served by the fake BlueZ as each
supported sensor, streamed sped up through the real bleak client (``BleSource``), written
with ``RecordingWriter`` and fed to a ``Pipeline`` as it arrives, as the live app does.

For every profile: (a) the reps and holds found live are those ``analyze_samples`` finds
in the simulated samples; (b) the recording holds exactly the samples the sensor sent,
within the profile's quantization, on times consistent with the device clock; (c) the
recording analysed again gives the live events (replay = live).

BLE times start wherever the client's stream clock starts, so times are compared after
subtracting the first sample time on each side; live event times are further taken to the
device's time base through the sample correspondence, because the client's clock may
still be slewing its offset (bounded separately in (b)).
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from sensor.analyze import analyze_path, analyze_samples
from sensor.devices import polar
from sensor.events import Analysis, Event, Gap, Hold, Rep
from sensor.fake_bluez.control import FakeControl
from sensor.fake_bluez.feeds import save_samples_feed
from sensor.fake_bluez.sensor_sim import SensorSpec
from sensor.fake_bluez.testing import LSB, NAME_PREFIX, Collected, new_address, stream_through_fake
from sensor.recording import RecordingWriter, read_recording
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.signal.pipeline import Pipeline
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session
from sensor.sources.ble_link import BleStats
from sensor.sources.ble_source import BleSource
from sensor.sources.clock import DeviceClock
from sensor.stream import LinkStatus, SourceItem

SEED = 2
# Sped up: a 232 s workout streams in 8 s (×30) or 23 s (×10) of wall time. Streams
# without device timestamps are stamped from arrival times, where a host stall of a few
# milliseconds becomes ×speed as much stream time: they run slower.
SPEED = {"witmotion": 10.0, "polar": 30.0, "thingy52": 10.0, "holdtrack": 30.0}
RATES = {"witmotion": 50.0, "polar": 52.0, "thingy52": 50.0, "holdtrack": 50.0}  # each one the profile offers

# Full scale as the fake sensor is configured (acc g, gyro °/s): the workout must fit, or
# clipping, not the link, would make the recording differ from what was simulated.
FULL_SCALE = {
    "witmotion": (16.0, 2000.0),
    "polar": (8.0, 2000.0),  # Verity Sense: ACC ±8 g, GYRO asked for at ±2000 °/s
    "thingy52": (2.0, 1023.0),  # MPU-9250 at ±2 g; the firmware's Q11.5 gyro tops out at 1023 °/s
    "holdtrack": (8.0, 1000.0),  # what HoldTrackProfile.start configures
}
# Samples at the end the sensor may keep back: less than one notification's worth.
PER_NOTIFICATION = {"witmotion": 1, "polar": 24, "thingy52": 1, "holdtrack": 2}

EVENT_TIME_TOL_S = 0.15  # rep/hold start and end, rep time at the top
HOLD_DURATION_TOL_S = 0.3
TIME_EPS_S = 1e-5  # device timestamps are whole µs (the simulation rounds to µs too)
RATE_LOCKED_TOL = 5e-4  # rate error of RateLockedClock's fitted period (measured: < 1e-4 at ×30)


@functools.lru_cache(maxsize=4)
def workout(rate_hz: float) -> SimulatedSession:
    """The simulated workout, on the device's steady sample clock.

    ``jitter=False``: the simulator's timestamp jitter stands for phone/BLE-side
    timestamping, which here is done by the real link; a device clock ticks evenly."""
    return simulate_session(SEED, SimOptions(short=True, rate_hz=rate_hz, dropouts=False, link_losses=0, jitter=False))


@functools.lru_cache(maxsize=4)
def expected_analysis(rate_hz: float) -> Analysis:
    s = workout(rate_hz)
    return analyze_samples(s.samples, s.gaps)


@dataclass
class LiveRun:
    """A ``BleSource`` whose items are recorded, then fed to a pipeline, as they arrive
    (the order ``LiveSession`` uses). Quacks like a source for ``stream_through_fake``."""

    source: BleSource
    path: Path
    events: list[Event] = field(default_factory=list)
    first_time_s: float | None = None

    @property
    def stats(self) -> BleStats:
        return self.source.stats

    async def stream(self) -> AsyncIterator[SourceItem]:
        await self.source.open()
        pipeline = Pipeline()
        with RecordingWriter(self.path, self.source.header) as writer:
            async for item in self.source.stream():
                if isinstance(item, Samples):
                    writer.write(item)
                    if self.first_time_s is None and len(item):
                        self.first_time_s = float(item.time_s[0])
                    self.events += pipeline.feed(item)
                elif isinstance(item, Gap):
                    writer.mark_gap(item.start_s, item.end_s)
                    self.events += pipeline.gap(item.start_s, item.end_s)
                elif isinstance(item, LinkStatus):
                    writer.note(link={"connected": item.connected, "at_s": item.at_s, "message": item.message})
                yield item
            self.events += pipeline.finish()

    async def stop(self) -> None:
        await self.source.stop()


_RepOrHold = TypeVar("_RepOrHold", Rep, Hold)


def shifted(events: list[_RepOrHold], t0: float) -> list[_RepOrHold]:
    return [replace(e, start_s=e.start_s - t0, end_s=e.end_s - t0) for e in events]


def assert_same_events(got_reps: list[Rep], got_holds: list[Hold], want: Analysis, what: str) -> None:
    """Same exercises, counts and sides; times within the tolerances (both sides already
    rebased to their first sample)."""
    assert [r.exercise for r in got_reps] == [r.exercise for r in want.reps], f"{what}: reps differ"
    assert [(h.exercise, h.side) for h in got_holds] == [(h.exercise, h.side) for h in want.holds], f"{what}: holds differ"
    for g, w in zip(got_reps, want.reps):
        assert abs(g.start_s - w.start_s) <= EVENT_TIME_TOL_S, f"{what}: rep start {g.start_s:.3f} vs {w.start_s:.3f}"
        assert abs(g.end_s - w.end_s) <= EVENT_TIME_TOL_S, f"{what}: rep end {g.end_s:.3f} vs {w.end_s:.3f}"
        assert abs(g.hold_s - w.hold_s) <= EVENT_TIME_TOL_S, f"{what}: rep top {g.hold_s:.3f} vs {w.hold_s:.3f}"
    for gh, wh in zip(got_holds, want.holds):
        assert abs(gh.start_s - wh.start_s) <= EVENT_TIME_TOL_S, f"{what}: hold start {gh.start_s:.3f} vs {wh.start_s:.3f}"
        assert abs(gh.end_s - wh.end_s) <= EVENT_TIME_TOL_S, f"{what}: hold end {gh.end_s:.3f} vs {wh.end_s:.3f}"
        assert abs(gh.duration_s - wh.duration_s) <= HOLD_DURATION_TOL_S, f"{what}: hold {gh.duration_s:.2f} s vs {wh.duration_s:.2f} s"


def host_stall_s(sends: list[tuple[float, int]], samples_per_s: float) -> float:
    """The fake sensor's longest stall (s of wall time): how much later than its earliest
    send, against the samples it had sent, a notification went out."""
    if not sends:
        return 0.0
    at = np.array([s for s, _ in sends])
    n = np.cumsum([c for _, c in sends]) - sends[0][1]
    late = at - at[0] - n / samples_per_s
    return float(np.max(late - np.minimum.accumulate(late)))


def quantum(profile: str, source: BleSource) -> np.ndarray:
    """One LSB per channel as this connection decodes it (for Polar: its factors)."""
    acc, gyro = LSB[profile]
    if profile == "polar":
        assert source.started is not None
        factors = source.started.decoder_params["factors"]
        acc = factors[polar.MEAS_ACC] * STANDARD_GRAVITY / 1000.0  # ACC delta type 1: factor × mG
        gyro = math.radians(factors[polar.MEAS_GYRO])  # GYRO delta type 0: factor × °/s
    return np.array([acc] * 3 + [gyro] * 3)


def test_the_workout_fits_every_profile_s_range() -> None:
    """No sensor clips the workout (then (b) compares the link, not saturation)."""
    for profile, rate in RATES.items():
        imu = workout(rate).samples.imu.astype(np.float64)
        acc_g = np.abs(imu[:, :3]).max() / STANDARD_GRAVITY
        gyro_dps = np.degrees(np.abs(imu[:, 3:]).max())
        full_acc, full_gyro = FULL_SCALE[profile]
        assert acc_g < 0.95 * full_acc, f"{profile} clips: {acc_g:.2f} g of ±{full_acc:g} g"
        assert gyro_dps < 0.95 * full_gyro, f"{profile} clips: {gyro_dps:.0f} °/s of ±{full_gyro:g} °/s"
    # The workout is a real one: the analysis finds reps and holds to compare.
    want = expected_analysis(RATES["holdtrack"])
    assert len(want.reps) >= 5 and len(want.holds) >= 2


@pytest.mark.parametrize("profile", list(RATES))
def test_workout_streams_records_and_analyses_the_same(bus: str, tmp_path: Path, profile: str) -> None:
    rate = RATES[profile]
    session = workout(rate)
    sent_all = session.samples
    address = new_address()
    spec = SensorSpec(
        address=address,
        name=f"{NAME_PREFIX[profile]}-{address[-8:].replace(':', '')}",
        profile=profile,
        rate_hz=rate,
        speed=SPEED[profile],
        feed="samples",
        samples_path=save_samples_feed(tmp_path / "workout.npz", sent_all, rate),
        trace=True,
    )
    rec_path = tmp_path / "live.htrec"
    lag = [0.0]  # the client's longest event-loop stall (s of wall time)
    sends: list[tuple[float, int]] = []

    async def watch_loop() -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lag[0] = max(lag[0], time.monotonic() - t - 0.01)

    async def run() -> tuple[LiveRun, Collected]:
        async with FakeControl(bus) as ctl:
            await ctl.add_sensor(spec)
            live = LiveRun(BleSource(spec.address, rate_hz=rate, time_scale=SPEED[profile]), rec_path)
            watcher = asyncio.get_running_loop().create_task(watch_loop())
            try:
                got = await stream_through_fake(live, ctl, spec.address, settle_timeout_s=40.0)
            finally:
                watcher.cancel()
            sends.extend(await ctl.take_trace(spec.address))
        return live, got

    t_wall = time.monotonic()
    live, got = asyncio.run(run())
    wall_s = time.monotonic() - t_wall
    src, st = live.source, got.fake_stats

    # The link was clean: everything the sensor sent arrived, once, in one connection.
    assert st["finished"] and st["connects"] == 1 and st["notifications_dropped"] == 0
    assert st["delivered_runs"] == [[0, st["samples_delivered"]]]
    n_sent = st["samples_delivered"]
    assert len(sent_all) - PER_NOTIFICATION[profile] < n_sent <= len(sent_all)
    assert src.stats.bad == 0 and src.stats.lost == 0 and not got.gaps
    assert src.header.device["profile"] == profile and src.header.sample_rate_hz == rate
    sent = sent_all[:n_sent]

    # (b) The recording is the samples sent: same count and order, within one LSB.
    rec = read_recording(rec_path)
    assert rec.complete and not rec.gaps and rec.header.device["profile"] == profile
    assert len(rec.samples) == n_sent
    err = np.abs(rec.samples.imu.astype(np.float64) - sent.imu.astype(np.float64))
    tol = quantum(profile, src) + 1e-5  # + float32 rounding of values up to ~20 m/s²
    worst = int(np.argmax((err / tol).max(axis=1)))
    assert np.all(err <= tol), f"sample {worst} differs: got {rec.samples.imu[worst]}, sent {sent.imu[worst]}"
    # ...on times consistent with the device clock, after rebasing to the first sample.
    t_rec = rec.samples.time_s - rec.samples.time_s[0]
    t_dev = sent.time_s - sent.time_s[0]
    if profile in ("holdtrack", "polar"):
        # Device timestamps: the client adds an offset that slews at most max_slew s/s.
        bound = DeviceClock(rate).max_slew * t_dev + TIME_EPS_S
    else:
        # No timestamps: times are counted at a rate fitted from arrivals, where a host stall
        # (the fake sensor sending late, the client's loop busy) is speed times as much
        # stream time of late arrivals. Nine in ten samples keep the clock's own bound (a
        # rate or offset error would move them all); every one keeps it widened by the
        # stalls measured (a host's stall is no link fault).
        bound = RATE_LOCKED_TOL * t_dev + 1.0 / rate
        within = float(np.mean(np.abs(t_rec - t_dev) <= bound))
        assert within >= 0.9, f"{within:.0%} of the samples within the clock's bound"
        bound = bound + SPEED[profile] * (host_stall_s(sends, rate * SPEED[profile]) + lag[0])
    dev = np.abs(t_rec - t_dev)
    assert np.all(dev <= bound), f"time off the device clock by {dev.max() * 1e3:.1f} ms"
    assert np.all(np.diff(rec.samples.time_s) > 0)

    # (a) Live reps and holds are the simulation's. Rebasing on the first sample alone
    # would leave in the device clock's offset transient ((b) bounds it: up to ~0.16 s at
    # this speed-up), so live event times are taken to the device time base through the
    # sample correspondence (recorded sample i is sent sample i, checked above).
    assert live.first_time_s == rec.samples.time_s[0]
    assert not [e for e in live.events if isinstance(e, Gap)]
    live_reps = [e for e in live.events if isinstance(e, Rep)]
    live_holds = [e for e in live.events if isinstance(e, Hold)]

    def to_device(t: float) -> float:
        """A live time as device time since the first sample (past the end: extrapolated)."""
        t_last = rec.samples.time_s[-1]
        return float(np.interp(t, rec.samples.time_s, t_dev)) if t <= t_last else t - t_last + float(t_dev[-1])

    want = expected_analysis(rate)
    t0_sim = float(sent_all.time_s[0])
    assert_same_events(
        [replace(r, start_s=to_device(r.start_s), end_s=to_device(r.end_s)) for r in live_reps],
        [replace(h, start_s=to_device(h.start_s), end_s=to_device(h.end_s)) for h in live_holds],
        replace(want, reps=shifted(want.reps, t0_sim), holds=shifted(want.holds, t0_sim)),
        "live",
    )
    # For the log (pytest -s): how far the events are, mapped and rebased on the first sample only.
    got_events: list[Rep | Hold] = [*live_reps, *live_holds]
    want_events: list[Rep | Hold] = [*want.reps, *want.holds]
    mapped = max(
        max(abs(to_device(g.start_s) - (w.start_s - t0_sim)), abs(to_device(g.end_s) - (w.end_s - t0_sim)))
        for g, w in zip(got_events, want_events)
    )
    first_s = live.first_time_s
    assert first_s is not None
    first_aligned = max(abs((g.start_s - first_s) - (w.start_s - t0_sim)) for g, w in zip(got_events, want_events))

    # (c) Replay = live: the recording analysed again gives the same events.
    replay = analyze_path(rec_path)
    assert [replace(r, detected_at_s=0.0) for r in replay.reps] == [replace(r, detected_at_s=0.0) for r in live_reps]
    assert [replace(h, detected_at_s=0.0) for h in replay.holds] == [replace(h, detected_at_s=0.0) for h in live_holds]

    print(
        f"\n{profile}: {n_sent} samples, {len(live_reps)} reps, {len(live_holds)} holds, "
        f"clock dev max {dev.max() * 1e3:.1f} ms ({np.max(dev / bound):.0%} of its bound), "
        f"event diff {mapped * 1e3:.0f} ms (first-sample-aligned {first_aligned * 1e3:.0f} ms), wall {wall_s:.1f} s, "
        f"host stalls {host_stall_s(sends, rate * SPEED[profile]) * 1e3:.1f} ms (sensor) and {lag[0] * 1e3:.1f} ms (client)"
    )
