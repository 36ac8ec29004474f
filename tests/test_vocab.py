"""The shared vocabulary (``sensor.vocab``) agrees with the code that gives it meaning, and
the helpers kept once (gap cutting, the CSV writer, file-name rules) behave."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from sensor import events, vocab
from sensor.analyze import analyze_samples, analyze_stream
from sensor.events import Gap
from sensor.files.inputs import read_samples, write_generic_csv
from sensor.samples import Samples, interleave
from sensor.signal import body, posture


def test_postures_literal_and_codes_agree() -> None:
    assert get_args(events.Posture) == vocab.POSTURES
    # The pipeline indexes POSTURES with posture.py's codes.
    codes = (posture.UNKNOWN, posture.STANDING, posture.SITTING, posture.SUPINE, posture.PRONE, posture.SIDE_LEFT, posture.SIDE_RIGHT)
    assert [vocab.POSTURES[c] for c in codes] == ["unknown", "standing", "sitting", "supine", "prone", "side_left", "side_right"]


def test_exercises_mounts_and_labels_agree() -> None:
    assert set(vocab.LABELS) == set(vocab.EXERCISES) == set(get_args(events.RepExercise)) | set(get_args(events.HoldExercise))
    assert len(set(vocab.LABELS.values())) == len(vocab.LABELS)
    assert tuple(body.MOUNT_FACE) == vocab.MOUNTS and vocab.DEFAULT_MOUNT in vocab.MOUNTS


def test_the_cli_offers_every_mount(capsys: pytest.CaptureFixture[str]) -> None:
    from sensor.cli import main

    with pytest.raises(SystemExit):
        main(["analyze", "x.csv", "--mount", "elbow"])
    err = capsys.readouterr().err
    assert all(f"'{m}'" in err for m in vocab.MOUNTS)


@pytest.mark.parametrize(
    ("score", "words"),
    [
        (100.0, "rock steady"),
        (80.0, "rock steady"),
        (79.9, "steady, a little sway"),
        (40.0, "wobbly: brace the abdominals and breathe"),
        (0.0, "shaky: try a shorter hold, or knees down"),
        (-3.0, "shaky: try a shorter hold, or knees down"),
        (float("nan"), "shaky: try a shorter hold, or knees down"),
    ],
)
def test_stability_words_bands(score: float, words: str) -> None:
    assert vocab.stability_label(score) == words


def test_stability_sentence_mentions_sag_only_past_the_note() -> None:
    assert vocab.stability_words(85.0, sag_deg=vocab.SAG_NOTE_DEG - 0.1) == "Rock steady"
    assert vocab.stability_words(85.0, sag_deg=6.2).startswith("Rock steady; hips sank 6°")


@pytest.mark.parametrize(
    ("rec", "truth"),
    [("a/s.htrec", "a/s.truth.json"), ("s.csv", "s.truth.json"), ("x.y.htrec", "x.y.truth.json"), ("noext", "noext.truth.json")],
)
def test_truth_path(rec: str, truth: str) -> None:
    assert vocab.truth_path(rec) == Path(truth)


def test_recording_names_match_their_globs() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    live = [vocab.live_recording_name(when, "ble"), vocab.live_recording_name(when, "replay", 2)]
    assert live == ["2026-03-04T05-06-07Z_ble.htrec", "2026-03-04T05-06-07Z_replay-2.htrec"]
    assert all(fnmatch.fnmatch(n, vocab.LIVE_RECORDING_GLOB) for n in live)
    cli = vocab.cli_recording_name(datetime(2026, 3, 4, 5, 6, 7))
    assert cli == "holdtrack-20260304-050607.htrec" and fnmatch.fnmatch(cli, vocab.CLI_RECORDING_GLOB)
    assert not fnmatch.fnmatch(cli, vocab.LIVE_RECORDING_GLOB)


def test_the_cli_starts_without_numpy() -> None:
    code = "import sys; from sensor.cli import build_parser; build_parser(); import sensor.vocab; print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'streamlit', 'bleak') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def _samples(t: np.ndarray) -> Samples:
    imu = np.column_stack([np.arange(t.size)] * 6).astype(np.float32)
    return Samples(t, imu)


def test_interleave_keeps_every_sample_once_with_overlapping_and_unsorted_gaps() -> None:
    s = _samples(np.arange(0.0, 10.0, 0.1))
    gaps = [Gap(6.5, 7.0), Gap(-1.0, -0.5), Gap(2.2, 3.0), Gap(2.5, 2.8)]  # one before the start, one inside another
    items = list(interleave(s, gaps))
    got = Samples.concat([i for i in items if isinstance(i, Samples)])
    assert np.array_equal(got.time_s, s.time_s)
    assert [i for i in items if isinstance(i, Gap)] == sorted(gaps, key=lambda g: g.start_s)
    # Each gap comes right before the first sample at or after its end.
    for k, item in enumerate(items):
        if isinstance(item, Gap) and k + 1 < len(items) and isinstance(items[k + 1], Samples):
            nxt = items[k + 1]
            assert isinstance(nxt, Samples) and nxt.time_s[0] >= item.end_s - 1e-9


def test_analyze_samples_is_the_stream_of_interleave(short_session: object) -> None:
    from sensor.sim.simulate import SimulatedSession

    assert isinstance(short_session, SimulatedSession)
    s = short_session
    a = analyze_samples(s.samples, s.gaps, s.header)
    b = analyze_stream(interleave(s.samples, s.gaps), header=s.header)
    assert a.to_json() == b.to_json() and len(a.reps) > 0


def test_generic_csv_round_trips_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    t = 1.7e9 + np.cumsum(rng.uniform(0.004, 0.006, 3000))  # absolute Unix time, jittered
    imu = rng.normal(0.0, 0.5, (t.size, 6)).astype(np.float32)
    imu[:, 2] += 9.81  # lying still-ish: passes the units check, values of every magnitude
    path = tmp_path / "x.csv"
    write_generic_csv(path, Samples(t, imu), block=1000)  # several blocks, and a last partial one
    head = path.read_text().splitlines()
    assert head[0] == ",".join(vocab.CSV_COLUMNS) and len(head) == t.size + 1
    _, back, _ = read_samples(path)
    assert np.array_equal(back.time_s, t) and np.array_equal(back.imu, imu)


def test_export_writes_the_same_csv_as_the_writer(tmp_path: Path, short_session: object, capsys: pytest.CaptureFixture[str]) -> None:
    from sensor.cli import main
    from sensor.recording import read_recording, write_recording
    from sensor.sim.simulate import SimulatedSession

    assert isinstance(short_session, SimulatedSession)
    rec = tmp_path / "s.htrec"
    write_recording(rec, short_session.header, short_session.samples, short_session.gaps)
    assert main(["export", str(rec), "--csv", str(tmp_path / "e.csv")]) == 0
    write_generic_csv(tmp_path / "w.csv", read_recording(rec).samples)
    assert (tmp_path / "e.csv").read_bytes() == (tmp_path / "w.csv").read_bytes()
