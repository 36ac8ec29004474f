"""The .htrec format: lossless, compact, append-only and crash-safe."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.errors import RecordingError
from sensor.recording import Header, RecordingReader, RecordingWriter, read_recording, write_recording
from sensor.samples import Samples
from tests.conftest import sim


def random_samples(n: int, seed: int = 0) -> Samples:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.005, 0.015, n))
    return Samples(t, rng.normal(0, 5, (n, 6)).astype(np.float32))


def test_round_trip_is_bit_for_bit_for_quantized_and_float_data(tmp_path) -> None:
    s = sim(3, short=True, rate_hz=100.0)
    p = tmp_path / "a.htrec"
    write_recording(p, s.header, s.samples, s.gaps)
    r = read_recording(p)
    assert np.array_equal(r.samples.time_s, s.samples.time_s)
    assert np.array_equal(r.samples.imu, s.samples.imu)
    assert r.gaps == s.gaps and r.complete and not r.torn_tail
    assert r.header.device == s.header.device
    # Quantized blocks are several times smaller than the raw floats.
    assert p.stat().st_size < len(s.samples) * (8 + 24) / 3
    # Unquantized floats (no hints) still round-trip exactly.
    f = random_samples(5000)
    q = tmp_path / "b.htrec"
    write_recording(q, Header(source="test"), f)
    back = read_recording(q).samples
    assert np.array_equal(back.time_s, f.time_s) and np.array_equal(back.imu, f.imu)


def test_a_torn_tail_keeps_every_complete_block(tmp_path) -> None:
    f = random_samples(3000, seed=1)
    p = tmp_path / "c.htrec"
    with RecordingWriter(p, Header(), block_s=1.0) as w:
        for chunk in f.chunks(50):
            w.write(chunk)
    data = p.read_bytes()
    whole = read_recording(p)
    assert len(whole.samples) == 3000
    rng = np.random.default_rng(2)
    for cut in rng.integers(200, len(data) - 1, 20):
        p2 = tmp_path / f"cut{cut}.htrec"
        p2.write_bytes(data[:cut])
        r = read_recording(p2)
        n = len(r.samples)
        assert np.array_equal(r.samples.time_s, f.time_s[:n])  # a clean prefix, nothing invented
        assert not r.complete
        # At most one block (1 s of samples here, ~100 samples) is lost.
        lost_s = f.time_s[-1] - (r.samples.time_s[-1] if n else f.time_s[0])
        assert lost_s <= (f.time_s[-1] - f.time_s[0]) * (len(data) - cut) / len(data) + 1.5


def test_a_damaged_block_in_the_middle_is_skipped_and_counted(tmp_path) -> None:
    f = random_samples(2000, seed=3)
    p = tmp_path / "d.htrec"
    with RecordingWriter(p, Header(), block_s=1.0) as w:
        for chunk in f.chunks(100):
            w.write(chunk)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    r = read_recording(p)
    assert r.damaged_blocks == 1 and r.complete
    assert 1500 < len(r.samples) < 2000


def test_gaps_and_notes_keep_their_place(tmp_path) -> None:
    f = random_samples(1000, seed=4)
    p = tmp_path / "e.htrec"
    with RecordingWriter(p, Header()) as w:
        w.write(f[:500])
        w.mark_gap(float(f.time_s[499]), float(f.time_s[500]))
        w.note(calibration={"at_s": 1.0})
        w.write(f[500:])
    items = list(RecordingReader(p))
    kinds = [type(i).__name__ for i in items]
    assert "Gap" in kinds
    gi = kinds.index("Gap")
    before = sum(len(i) for i in items[:gi] if isinstance(i, Samples))
    assert before == 500
    assert read_recording(p).notes == [{"calibration": {"at_s": 1.0}}]


def test_refuses_to_overwrite_and_rejects_non_recordings(tmp_path) -> None:
    p = tmp_path / "f.htrec"
    with RecordingWriter(p, Header()) as w:
        w.write(random_samples(10))
    with pytest.raises(FileExistsError):
        RecordingWriter(p, Header())
    bad = tmp_path / "g.htrec"
    bad.write_bytes(b"not a recording at all")
    with pytest.raises(RecordingError, match="not a HoldTrack recording"):
        read_recording(bad)


def test_times_must_increase(tmp_path) -> None:
    with RecordingWriter(tmp_path / "h.htrec", Header()) as w:
        w.write(random_samples(10))
        with pytest.raises(ValueError):
            w.write(random_samples(10))  # starts back at the beginning
