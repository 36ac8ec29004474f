"""The .htrec format: lossless, compact, append-only and crash-safe."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.errors import RecordingError
from sensor.recording import RecordingReader, RecordingWriter, read_recording, write_recording
from sensor.samples import Samples
from sensor.stream import Header
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


# -- reading untrusted recordings: validated, damage counted, bombs refused --------------

from tests.malformed import (  # noqa: E402
    _bomb_block,
    good_htrec,
    htrec,
    record,
    sample_records,
    still_samples,
)


def test_header_shape_and_mount_vocabulary_are_checked(tmp_path) -> None:
    cases = {
        "[]": "not an object",
        '{"mount": "sideways"}': "mount 'sideways' is not one of back, front, left, right",
        '{"device": "x"}': "device is not an object",
        '{"format_version": 2}': "newer than this HoldTrack reads",
    }
    for i, (body, message) in enumerate(cases.items()):
        p = tmp_path / f"h{i}.htrec"
        p.write_bytes(htrec(*sample_records(still_samples(12)), header=record(b"H", body.encode())))
        with pytest.raises(RecordingError, match=message):
            read_recording(p)


def test_a_flipped_bit_is_skipped_counted_and_the_rest_kept(tmp_path) -> None:
    s = still_samples(40)
    data = bytearray(htrec(*sample_records(s, block=500)))
    recs_start = len(data) // 2
    data[recs_start] ^= 0x01
    p = tmp_path / "flip.htrec"
    p.write_bytes(bytes(data))
    r = read_recording(p)
    assert r.damaged_blocks == 1 and r.complete and not r.torn_tail
    assert len(r.samples) == len(s) - 500  # exactly one block lost, nothing invented
    assert r.header.status is not None and "1 damaged block skipped" in r.header.status.warnings()[0]


def test_a_corrupt_length_resynchronizes_on_the_next_record(tmp_path) -> None:
    s = still_samples(40)
    recs = sample_records(s, block=500)
    bad = bytearray(recs[2])
    bad[1:5] = (50_000_000).to_bytes(4, "little")
    p = tmp_path / "len.htrec"
    p.write_bytes(htrec(*recs[:2], bytes(bad), *recs[3:]))
    r = read_recording(p)
    # Before the fix everything after the bad length was dropped as a "torn tail".
    assert r.complete and not r.torn_tail and r.damaged_blocks == 1
    assert len(r.samples) == len(s) - 500
    assert np.array_equal(r.samples.time_s[-10:], s.time_s[-10:])


def test_decompression_is_bounded_per_record_and_in_total(tmp_path) -> None:
    one = tmp_path / "one.htrec"
    one.write_bytes(htrec(record(b"S", b"\x00\x00\x00\x10\x00" + b"x" * 50)))  # claims 268 M samples
    with pytest.raises(RecordingError, match="at most"):
        read_recording(one)
    n = 1 << 18
    many = tmp_path / "many.htrec"
    many.write_bytes(htrec(*(record(b"S", _bomb_block(n, i * n * 10_000)) for i in range(12))))
    assert many.stat().st_size < 400_000
    with pytest.raises(RecordingError, match="compression bomb"):
        read_recording(many)


@pytest.mark.parametrize(
    ("scale", "message"),
    [((1 / 9.80665, 1.0, 1.0), "looks like g"), ((1.0, 1145.9, 1.0), "deg/s"), ((1.0, 1.0, 1000.0), "are times in seconds")],
)
def test_units_are_checked_on_read(tmp_path, scale, message) -> None:
    s = still_samples(20)
    x = s.imu.copy()
    x[:, :3] *= scale[0]
    x[:, 3:] *= scale[1]
    p = tmp_path / "u.htrec"
    p.write_bytes(htrec(*sample_records(Samples(s.time_s * scale[2], x))))
    with pytest.raises(RecordingError, match=message):
        read_recording(p)


def test_nan_blocks_and_backward_time_are_refused_naming_the_place(tmp_path) -> None:
    s = still_samples(20)
    x = s.imu.copy()
    x[1500, 0] = np.nan
    p = tmp_path / "nan.htrec"
    p.write_bytes(htrec(*sample_records(Samples(s.time_s, x))))
    with pytest.raises(RecordingError, match=r"NaN or infinite values at 15.000 s \(record at byte \d+\)"):
        read_recording(p)
    t = s.time_s.copy()
    t[800:] -= 5.0
    q = tmp_path / "back.htrec"
    q.write_bytes(htrec(*sample_records(Samples(t, s.imu))))
    with pytest.raises(RecordingError, match=r"time goes backwards at 3\.000 s"):
        read_recording(q)


def test_an_interrupted_recording_says_so(tmp_path) -> None:
    p = tmp_path / "cut.htrec"
    p.write_bytes(htrec(*sample_records(still_samples(30)), end=False))
    r = RecordingReader(p)
    items = list(r)
    assert items and not r.complete
    assert r.status.warnings() == ["the recording was interrupted (no end record): recovered 30.0 s"]


def test_special_files_are_refused_without_blocking(tmp_path) -> None:
    import os

    fifo = tmp_path / "pipe.htrec"
    os.mkfifo(fifo)
    with pytest.raises(RecordingError, match="not a regular file"):
        RecordingReader(fifo)
    with pytest.raises(RecordingError, match="not a regular file"):
        RecordingReader("/dev/zero")


def test_damage_reaches_analyze_text_and_json(tmp_path, capsys) -> None:
    import json

    from sensor.cli import main

    data = bytearray(good_htrec(40))
    data[len(data) // 2] ^= 0x40
    p = tmp_path / "d.htrec"
    p.write_bytes(bytes(data[:-5]))  # and the end record torn off
    assert main(["analyze", str(p)]) == 0
    text = capsys.readouterr().out
    assert "1 damaged block(s) in the recording were skipped" in text
    assert "recording was interrupted" in text
    assert main(["analyze", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["damaged_blocks"] == 1 and out["interrupted"] is True
    # a clean file reports no damage
    clean = tmp_path / "c.htrec"
    clean.write_bytes(good_htrec(40))
    assert main(["analyze", str(clean), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["damaged_blocks"] == 0 and out["interrupted"] is False
