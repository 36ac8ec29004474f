"""The live runner and the paced sources (replay, simulated wearer)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
from store_builders import sim_recording

from sensor import importer
from sensor.analyze import analyze_path
from sensor.events import Analysis, Gap, Rep
from sensor.live import TRACE_HZ, LiveSession, event_loop
from sensor.recording import read_recording
from sensor.samples import Samples, interleave
from sensor.sources.paced import ReplaySource, SimulatedSource
from sensor.store import Store
from sensor.stream import Header, LinkStatus, SourceItem


def run_to_end(session: LiveSession, timeout_s: float = 60.0) -> None:
    session.start()
    assert session.wait(timeout_s), "the live session did not end"


@pytest.mark.slow
def test_simulated_wearer_live_gives_what_analyze_gives_on_its_recording(tmp_path: Path) -> None:
    finished: list[Path] = []

    def on_finished(path: Path, analysis: Analysis | None) -> str:
        finished.append(path)
        return "saved"

    src = SimulatedSource(11, speed=50, short=True, link_losses=2)
    live = LiveSession(src, recordings_dir=tmp_path, on_finished=on_finished)
    run_to_end(live)
    snap = live.snapshot()
    assert snap.phase == "finished" and snap.error is None and snap.saved == "saved"
    assert snap.calibration == "done"  # the simulated wearer stands still first
    rec = read_recording(snap.recording)
    assert rec.complete and not rec.torn_tail and finished == [snap.recording]
    # The recorder got every sample the source produced, in order, untouched.
    assert len(rec.samples) == snap.samples
    # The live events are the pipeline's answer for this stream: the same as analyzing the file.
    a = analyze_path(snap.recording)
    assert [(r.exercise, r.start_s, r.hold_s) for r in snap.reps] == [(r.exercise, r.start_s, r.hold_s) for r in a.reps]
    assert [(h.exercise, h.side, h.duration_s) for h in snap.holds] == [(h.exercise, h.side, h.duration_s) for h in a.holds]
    assert len(snap.reps) == len(src.truth["reps"])
    # Link losses: marked in the recording, shown as gaps and as link news.
    assert [(g.start_s, g.end_s) for g in snap.gaps] == [(g["start_s"], g["end_s"]) for g in src.truth["gaps"]]
    assert [(g.start_s, g.end_s) for g in rec.gaps] == [(g.start_s, g.end_s) for g in snap.gaps]
    lost = [e for e in snap.link_log if not e.connected and e.message == "connection lost"]
    assert len(lost) == len(snap.gaps) > 0
    assert any("link" in n for n in rec.notes) and any("calibrated_at_s" in n for n in rec.notes)
    # The angle trace is downsampled to TRACE_HZ and covers the end of the stream.
    t = np.array([p[0] for p in snap.trace])
    assert np.all(np.diff(t) >= 1 / TRACE_HZ * 0.999)
    assert t[-1] == pytest.approx(snap.stream_time_s, abs=0.2)


@pytest.mark.slow
def test_stop_closes_the_recording_and_the_store_import_works(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    live = LiveSession(
        SimulatedSource(12, speed=5, short=True),
        recordings_dir=store.recordings_dir,
        on_finished=lambda p, a: importer.import_recording(store, p, analysis=a).message,
    )
    live.start()
    deadline = time.monotonic() + 20
    while live.snapshot().samples < 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    t0 = time.monotonic()
    snap = live.stop(timeout_s=10)
    assert time.monotonic() - t0 < 5
    assert snap.phase == "stopped" and not snap.running
    assert read_recording(snap.recording).complete
    assert snap.saved is not None and "added as session 1" in snap.saved
    assert store.session_count() == 1


@pytest.mark.slow
def test_snapshots_are_consistent_while_running(tmp_path: Path) -> None:
    live = LiveSession(SimulatedSource(13, speed=50, short=True))
    live.start()
    seen: dict[int, list[int]] = {i: [] for i in range(3)}
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        try:
            while True:
                s = live.snapshot()
                # Each snapshot is one consistent state: its reps are its events' reps.
                assert len(s.reps) == sum(isinstance(e, Rep) for e in s.events)
                seen[i].append(s.samples)
                if not s.running:
                    return
                time.sleep(0.01)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for th in threads:
        th.start()
    assert live.wait(60)
    for th in threads:
        th.join(10)
    assert not errors
    total = live.snapshot().samples
    for counts in seen.values():
        assert len(counts) > 10 and counts == sorted(counts) and counts[-1] == total
    assert live.snapshot().recording is None  # nothing recorded when no folder is given


def test_all_sessions_share_one_long_lived_loop_thread() -> None:
    loop = event_loop()
    assert loop is event_loop() and loop.is_running()
    names = [t.name for t in threading.enumerate()]
    assert names.count("holdtrack-live-loop") == 1


class StubbornSource:
    """Yields one chunk, then hangs and ignores stop(): the runner must still end."""

    def __init__(self) -> None:
        self.header = Header(source="stubborn")

    async def stream(self) -> AsyncIterator[SourceItem]:
        yield Samples(np.arange(100) / 100.0, np.tile([0, 9.81, 0, 0, 0, 0], (100, 1)))
        await asyncio.sleep(3600)

    async def stop(self) -> None:
        return None


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_a_source_that_ignores_stop_is_cancelled_and_the_recording_closed(tmp_path: Path) -> None:
    live = LiveSession(StubbornSource(), recordings_dir=tmp_path)
    live.start()
    deadline = time.monotonic() + 10
    while live.snapshot().samples == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    snap = live.stop(timeout_s=1)
    assert snap.phase == "stopped"
    rec = read_recording(snap.recording)
    assert rec.complete and len(rec.samples) == 100


class FailingSource(StubbornSource):
    async def stream(self) -> AsyncIterator[SourceItem]:
        yield Samples(np.arange(10) / 100.0, np.tile([0, 9.81, 0, 0, 0, 0], (10, 1)))
        raise OSError("adapter unplugged")


def test_a_failing_source_is_reported_and_its_data_kept(tmp_path: Path) -> None:
    live = LiveSession(FailingSource(), recordings_dir=tmp_path)
    run_to_end(live, 10)
    snap = live.snapshot()
    assert snap.phase == "failed" and "adapter unplugged" in (snap.error or "")
    assert len(read_recording(snap.recording).samples) == 10


@pytest.mark.slow
def test_replay_gives_the_recorded_bits_at_speed(tmp_path: Path) -> None:
    path = sim_recording(tmp_path, 14)
    rec = read_recording(path)
    src = ReplaySource(path, speed=50)
    assert src.header.source == "replay" and src.header.extra["replay_of"] == str(path)

    async def collect() -> tuple[list[SourceItem], float]:
        t0 = time.monotonic()
        items = [it async for it in src.stream()]
        return items, time.monotonic() - t0

    items, wall = asyncio.run(collect())
    samples = Samples.concat([i for i in items if isinstance(i, Samples)])
    assert np.array_equal(samples.time_s, rec.samples.time_s) and np.array_equal(samples.imu, rec.samples.imu)
    assert [i for i in items if isinstance(i, Gap)] == rec.gaps
    span = float(rec.samples.time_s[-1] - rec.samples.time_s[0])
    assert span / 50 * 0.8 < wall < span / 50 + 2.0  # paced at 50x, not dumped at once
    links = [i for i in items if isinstance(i, LinkStatus)]
    assert links[0].connected and not links[-1].connected and links[-1].message == "end of data"


def test_replay_checks_speed_and_file(tmp_path: Path) -> None:
    path = sim_recording(tmp_path, 14)
    for bad in (0.5, 51, 0):
        with pytest.raises(ValueError, match="between 1 and 50"):
            ReplaySource(path, speed=bad)
    junk = tmp_path / "junk.htrec"
    junk.write_bytes(b"nope")
    from sensor.errors import InputError

    with pytest.raises(InputError, match="bad magic"):  # what analyze says of it
        ReplaySource(junk)


def test_interleave_puts_gaps_before_the_samples_after_them() -> None:
    s = Samples(np.arange(10.0), np.zeros((10, 6)))
    items = list(interleave(s, [Gap(6.5, 7.0), Gap(2.2, 3.0)]))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["Samples", "Gap", "Samples", "Gap", "Samples"]
    assert [len(i) for i in items if isinstance(i, Samples)] == [3, 4, 3]


@pytest.mark.ble
def test_a_bluetooth_sensor_through_the_fake_bluez_recorded_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real BLE client (bleak on BlueZ's D-Bus API, here the fake BlueZ) on the live
    loop: the wearer's samples are recorded, a dropped link shows as a gap and link news."""
    from sensor.fake_bluez.control import FakeControl
    from sensor.fake_bluez.process import FakeBluezProcess
    from sensor.fake_bluez.testing import RATES, spec_for
    from sensor.sources.ble_source import BleSource

    speed = 10.0
    spec = spec_for("witmotion", feed="wearer", seed=7, speed=speed, duration_s=120.0)
    with FakeBluezProcess() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)

        async def control(method: str, *args: object) -> object:
            async with FakeControl(fake.address) as ctl:
                return await getattr(ctl, method)(*args)

        def call(method: str, *args: object) -> object:
            # A guard against a hang, not a timing check: add_sensor simulates the wearer's
            # session inside the call, which takes many times longer on a loaded machine.
            return asyncio.run_coroutine_threadsafe(control(method, *args), event_loop()).result(180)

        call("add_sensor", spec)
        live = LiveSession(BleSource(spec.name, rate_hz=RATES["witmotion"], time_scale=speed), recordings_dir=tmp_path)
        live.start()
        deadline = time.monotonic() + 60  # generous: the machine may be loaded
        while live.snapshot().calibration != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert live.snapshot().calibration == "done", live.snapshot().error
        call("drop_link", spec.address, 0.5)
        deadline = time.monotonic() + 60  # the reconnection gets its own time, whatever calibrating took

        def back() -> bool:
            snap = live.snapshot()
            return bool(snap.gaps) and snap.link is not None and snap.link.connected and len(snap.link_log) >= 3

        while not back() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert back(), live.snapshot().link_log
        snap = live.stop(timeout_s=15)
    assert snap.phase == "stopped" and snap.error is None
    assert snap.gaps, "the dropped link was not marked as a gap"
    assert [e.connected for e in snap.link_log][:3] == [True, False, True]  # connected, dropped, back
    rec = read_recording(snap.recording)
    assert rec.complete and len(rec.samples) == snap.samples > 0
    assert rec.header.device["profile"] == "witmotion" and rec.header.source == "ble"
    assert [(g.start_s, g.end_s) for g in rec.gaps] == [(g.start_s, g.end_s) for g in snap.gaps]


# -- start-up, replay controls, the coach and the saving phase (issue 11) ----------------------


@pytest.mark.slow
def test_the_simulated_wearer_sends_its_first_samples_within_a_second(tmp_path: Path) -> None:
    """The arrival is simulated first and streams while the routine is simulated."""
    for seed in (101, 202):
        src = SimulatedSource(seed, speed=1)

        async def first(src: SimulatedSource = src) -> float:
            t0 = time.monotonic()
            async for item in src.stream():
                if isinstance(item, Samples):
                    await src.stop()
                    return time.monotonic() - t0
            raise AssertionError("no samples")

        assert asyncio.run(first()) < 2.0  # a loaded CI machine; ~0.3 s when idle


@pytest.mark.slow
def test_the_simulated_wearer_is_one_continuous_sensor() -> None:
    src = SimulatedSource(55, speed=50, short=True, link_losses=0)

    async def collect() -> list[SourceItem]:
        return [it async for it in src.stream()]

    samples = Samples.concat([i for i in asyncio.run(collect()) if isinstance(i, Samples)])
    dt = np.diff(samples.time_s)
    rate = src.header.sample_rate_hz
    assert np.all(dt > 0) and np.median(dt) == pytest.approx(1 / rate, rel=0.05)
    assert dt.max() < 1.0  # arrival and routine joined without a hole (dropouts are < 0.5 s)
    # The routine's truth sits on the stream's time axis, after the arrival.
    arrival = float(src.truth["arrival_s"])  # type: ignore[arg-type]
    assert all(r["start_s"] > arrival for r in src.truth["reps"])  # type: ignore[union-attr]


def _replay_times(
    src: ReplaySource, control: Callable[[ReplaySource, float], Awaitable[None]] | None = None
) -> tuple[list[SourceItem], list[tuple[float, float]]]:
    """Items and (wall time, stream time) of each sample chunk; ``control(src, t_stream)``
    may pause, seek or change the speed (called after each chunk, on the loop thread)."""

    async def collect() -> tuple[list[SourceItem], list[tuple[float, float]]]:
        items: list[SourceItem] = []
        marks: list[tuple[float, float]] = []
        async for it in src.stream():
            items.append(it)
            if isinstance(it, Samples):
                marks.append((time.monotonic(), float(it.time_s[-1])))
                if control is not None:
                    await control(src, float(it.time_s[-1]))
        return items, marks

    return asyncio.run(collect())


@pytest.mark.slow
def test_replay_pause_resume_and_speed(tmp_path: Path) -> None:
    path = sim_recording(tmp_path, 14)
    rec = read_recording(path)
    t_first = float(rec.samples.time_s[0])
    state: dict[str, float | bool | None] = {"paused_at": None, "sped": False}

    async def control(src: ReplaySource, t: float) -> None:
        if state["paused_at"] is None and t > t_first + 10:
            src.pause()
            state["paused_at"] = time.monotonic()
            threading.Timer(1.0, src.resume).start()  # another thread resumes, as the UI does
        elif not state["sped"] and t > t_first + 20:
            src.set_speed(50)
            state["sped"] = True

    items, marks = _replay_times(ReplaySource(path, speed=10), control)
    samples = Samples.concat([i for i in items if isinstance(i, Samples)])
    assert np.array_equal(samples.time_s, rec.samples.time_s)  # nothing lost or repeated
    walls = np.array([m[0] for m in marks])
    ts = np.array([m[1] for m in marks])
    k = int(np.argmax(walls > state["paused_at"]))  # first chunk after the pause
    assert walls[k] - state["paused_at"] >= 0.95  # nothing came while paused
    fast = (ts > t_first + 25) & (ts < ts[-1] - 5)
    rate = np.polyfit(walls[fast], ts[fast], 1)[0]
    assert rate == pytest.approx(50, rel=0.25)  # stream seconds per wall second after set_speed(50)


@pytest.mark.slow
def test_replay_seek_forward_and_start_later_give_every_sample_and_the_same_events(tmp_path: Path) -> None:
    path = sim_recording(tmp_path, 15)
    rec = read_recording(path)
    t0, t1 = float(rec.samples.time_s[0]), float(rec.samples.time_s[-1])
    target = t0 + 0.8 * (t1 - t0)

    async def control(src: ReplaySource, t: float) -> None:
        if t < target and src.skip_to_s is None:
            src.seek(target)

    start = time.monotonic()
    items, _ = _replay_times(ReplaySource(path, speed=5), control)
    wall = time.monotonic() - start
    samples = Samples.concat([i for i in items if isinstance(i, Samples)])
    assert np.array_equal(samples.time_s, rec.samples.time_s)
    assert (t1 - target) / 5 * 0.8 < wall < (t1 - t0) / 5 * 0.5  # only the last 20 % was paced
    # A replay started later (how the page goes back in time) feeds the same stream to the pipeline.
    live = LiveSession(ReplaySource(path, speed=50, start_s=target))
    run_to_end(live, 60)
    a = analyze_path(path)
    assert [(r.exercise, r.start_s) for r in live.snapshot().reps] == [(r.exercise, r.start_s) for r in a.reps]


@pytest.mark.slow
def test_the_coach_cues_every_rep_and_the_session_is_saving_until_stored(tmp_path: Path) -> None:
    from sensor.coach import Coach
    from sensor.routine import Routine

    release = threading.Event()
    phases: list[str] = []

    def on_finished(path: Path, analysis: Analysis | None) -> str:
        release.wait(20)
        return "saved"

    live = LiveSession(SimulatedSource(16, speed=50, short=True), recordings_dir=tmp_path, on_finished=on_finished, coach=Coach(Routine()))
    live.start()
    deadline = time.monotonic() + 60
    while live.snapshot().phase != "saving" and time.monotonic() < deadline:
        phases.append(live.snapshot().phase)
        time.sleep(0.02)
    snap = live.snapshot()
    assert snap.phase == "saving" and snap.active and not snap.running and snap.saved is None
    release.set()
    assert live.wait(20)
    snap = live.snapshot()
    assert snap.phase == "finished" and not snap.active and snap.saved == "saved"
    assert [c.at_s for c in snap.cues if c.kind == "rep"] == [r.detected_at_s for r in snap.reps]
    assert len(snap.reps) > 3 and [c.seq for c in snap.cues] == list(range(1, len(snap.cues) + 1))
