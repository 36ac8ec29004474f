"""The session runner: one wiring of source → recorder → pipeline → sinks, whoever runs it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from store_builders import sim_recording

from sensor import importer
from sensor.analyze import analyze_path
from sensor.cli import main
from sensor.errors import UsageError
from sensor.events import Analysis, Event, Gap
from sensor.live import LiveSession
from sensor.recording import read_header, read_recording
from sensor.runner import RunResult, SessionRunner, settings_for
from sensor.samples import Samples
from sensor.settings import PipelineSettings
from sensor.sources import make_source
from sensor.sources.ble_source import BleSource
from sensor.sources.paced import ReplaySource, SimulatedSource
from sensor.sources.phone_push import PhonePushSource
from sensor.store import Store
from sensor.stream import Header, SourceItem


def events_of(a: Analysis) -> list[tuple[Any, ...]]:
    return [(r.exercise, r.start_s, r.end_s, r.hold_s) for r in a.reps] + [
        (h.exercise, h.side, h.start_s, h.end_s, h.score) for h in a.holds
    ]


@pytest.mark.slow  # ~5-10 s (timed under load): in `make test`, not `make check`
def test_a_recorded_run_is_what_reanalysing_its_recording_gives(tmp_path: Path) -> None:
    src = SimulatedSource(21, speed=50, short=True, link_losses=1)
    out = tmp_path / "live.htrec"
    runner = SessionRunner(src.header, recording=out)
    result = asyncio.run(runner.run(src))
    assert result.recording == out and read_recording(out).complete
    again = analyze_path(out)
    assert events_of(result.analysis) == events_of(again) and len(result.analysis.reps) == len(src.truth["reps"]) > 0
    assert [(g.start_s, g.end_s) for g in result.analysis.gaps] == [(g.start_s, g.end_s) for g in again.gaps]
    assert result.analysis.duration_s == pytest.approx(again.duration_s, abs=1e-9)


@pytest.mark.slow  # ~5-10 s (timed under load): in `make test`, not `make check`
def test_the_recording_carries_its_settings_and_reanalysis_uses_them(tmp_path: Path) -> None:
    sim = SimulatedSource(22, speed=50, short=True)
    default = PipelineSettings()
    # A detector that never counts a bridge: recorded with it, re-analysed with it.
    strict = replace(default, detector=replace(default.detector, bridge_min_peak_deg=89.0))
    out = tmp_path / "strict.htrec"
    result = asyncio.run(SessionRunner(sim.header, strict, recording=out).run(sim))
    header = read_header(out)
    assert header.settings is not None and header.settings["detector"]["bridge_min_peak_deg"] == 89.0
    assert PipelineSettings.from_json(header.settings) == strict
    kept = analyze_path(out)
    assert events_of(kept) == events_of(result.analysis)
    assert not any(r.exercise == "bridge" for r in kept.reps)
    # The same samples with today's defaults do find bridges: the header made the difference.
    rec = read_recording(out)
    fresh = SessionRunner(Header(), PipelineSettings()).run_items([rec.samples])
    assert any(r.exercise == "bridge" for r in fresh.analysis.reps)
    # A user's --mount still wins over the recording's.
    assert settings_for(header, mount="front").mount == "front"
    assert settings_for(header).detector.bridge_min_peak_deg == 89.0


def test_settings_json_round_trips_and_names_a_bad_field() -> None:
    s = PipelineSettings(mount="left")
    assert PipelineSettings.from_json(json.loads(json.dumps(s.to_json()))) == s
    assert PipelineSettings.from_json({"detector": {"hold_min_s": 3}, "future_knob": 1}).detector.hold_min_s == 3.0
    with pytest.raises(ValueError, match=r"settings\.detector\.hold_min_s"):
        PipelineSettings.from_json({"detector": {"hold_min_s": "long"}})
    with pytest.raises(ValueError, match=r"settings\.calibration"):
        PipelineSettings.from_json({"calibration": [1]})


class Collect:
    def __init__(self) -> None:
        self.pieces: list[tuple[float, float]] = []
        self.events: list[Event] = []
        self.ended = False
        self.result: RunResult | None = None

    def opened(self, runner: SessionRunner) -> None:
        pass

    def update(self, item: SourceItem | None, events: Any, status: Any) -> None:
        self.events += list(events)
        if isinstance(item, Samples):
            self.pieces.append((float(item.time_s[0]), float(item.time_s[-1])))
        if item is None:
            self.ended = True

    def finished(self, result: RunResult) -> None:
        self.result = result


@pytest.mark.parametrize("chunk", [1, 7, 500])
def test_sinks_see_every_event_in_steps_whatever_the_chunking(tmp_path: Path, chunk: int) -> None:
    from conftest import sim as simulated  # cached: the same session for every chunking

    sim = simulated(5, short=True)
    samples = sim.samples[: int(60 * sim.header.sample_rate_hz)]
    sink = Collect()
    runner = SessionRunner(sim.header, sinks=[sink], step_s=0.1)
    result = runner.run_items(samples.chunks(chunk))
    reference = SessionRunner(sim.header).run_items([samples])
    assert events_of(result.analysis) == events_of(reference.analysis)
    assert sink.ended and sink.result is result
    assert [e for e in sink.events if not isinstance(e, Gap)] == [e for e in runner.events if not isinstance(e, Gap)]
    # Pieces tile the stream in order; none spans much more than a step (or one chunk).
    starts = np.array([a for a, _ in sink.pieces])
    assert np.all(np.diff(starts) > 0)
    span = max(b - a for a, b in sink.pieces)
    assert span <= max(0.1, chunk / sim.header.sample_rate_hz) + 2 / sim.header.sample_rate_hz


@pytest.mark.slow  # ~5-10 s (timed under load): in `make test`, not `make check`
def test_the_live_session_saves_the_events_it_found(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    got: list[Analysis | None] = []

    def on_finished(path: Path, analysis: Analysis | None) -> str:
        got.append(analysis)
        return importer.import_recording(store, path, analysis=analysis).message

    live = LiveSession(SimulatedSource(23, speed=50, short=True), recordings_dir=store.recordings_dir, on_finished=on_finished)
    live.start()
    assert live.wait(120)
    snap = live.snapshot()
    assert snap.error is None and got and got[0] is not None
    saved = got[0]
    assert [(r.exercise, r.start_s) for r in saved.reps] == [(r.exercise, r.start_s) for r in snap.reps]
    assert snap.recording is not None
    assert events_of(saved) == events_of(analyze_path(snap.recording))
    from sensor.store import queries

    [row] = queries.sessions(store)
    assert row.reps == len(snap.reps) > 0


def test_source_specs(tmp_path: Path) -> None:
    rec = sim_recording(tmp_path, 3)  # a recording to replay, written directly (not paced through a live run)
    assert isinstance(make_source("sim:4", speed=2), SimulatedSource)
    replay = make_source(f"replay:{rec}", speed=5)
    assert isinstance(replay, ReplaySource) and replay.header.extra["replay_of"] == str(rec)
    assert isinstance(make_source("ble:AA:BB:CC:DD:EE:FF"), BleSource)
    push = make_source("phone-push:127.0.0.1:0")
    assert isinstance(push, PhonePushSource)
    for bad in ("usb:1", "ble:", "sim:many", "replay:"):
        with pytest.raises(UsageError):
            make_source(bad)


@pytest.mark.slow
def test_record_takes_any_source_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim.htrec"
    assert main(["record", "--source", "sim:9", "--speed", "50", "--duration", "30", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "session:" in text and str(out) in text
    rec = read_recording(out)
    assert rec.complete and rec.samples.time_s[-1] - rec.samples.time_s[0] >= 30
    assert read_header(out).settings is not None
    assert main(["record", "--source", "sim:9", "--out", str(out)]) != 0  # never overwritten
    assert "exists" in capsys.readouterr().err
    assert main(["record", "--source", "usb:1", "--out", str(tmp_path / "x.htrec")]) != 0
    assert "unknown source" in capsys.readouterr().err
