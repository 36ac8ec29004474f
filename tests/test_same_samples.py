""" "The same samples" means the same samples (issue 20): two quiet recordings of one length
(another posture, another time of day) are both kept, while true copies in other formats (a
recording's CSV export, a CSV written with few decimals in other units, a phone export and
its converted recording) are found, with one line naming the stored session. The signature
only finds candidates; the files are compared sample by sample, streamed."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sensor import importer
from sensor.files.convert import convert
from sensor.files.inputs import write_generic_csv
from sensor.recording import write_recording
from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.store import Store, edits, queries, signature
from sensor.stream import Header

VECTORS = Path(os.environ.get("HOLDTRACK_VECTORS", Path(__file__).resolve().parents[2] / "shared" / "vectors"))
PHONE_EXPORTS = ["sensor_logger/ios_1.10.4_2022-09-16_11-15-46.zip", "phyphox/simple_experiment_ios_1.1.16_semicolon"]
RATE_HZ = 100.0


def quiet_plank(seed: int, lean_deg: float, seconds: float = 30.0) -> Samples:
    """A still 30 s hold as a hip IMU sees it: gravity at the body's lean, a slow sway of a
    few tenths of a degree, and the sensor's noise (accelerometer 0.015 m/s², gyroscope
    0.002 rad/s), on a regular 100 Hz clock from 0."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    sway = np.radians(0.3) * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 2 * np.pi))
    pitch = np.radians(lean_deg) + sway
    acc = STANDARD_GRAVITY * np.column_stack([np.sin(pitch), np.zeros_like(t), np.cos(pitch)])
    gyro = np.column_stack([np.zeros_like(t), np.gradient(pitch, t), np.zeros_like(t)])
    imu = np.column_stack([acc + rng.normal(0, 0.015, acc.shape), gyro + rng.normal(0, 0.002, gyro.shape)])
    return Samples(t, imu)


def recording(path: Path, samples: Samples, created_utc: str) -> Path:
    write_recording(path, Header(device={"profile": "test"}, sample_rate_hz=RATE_HZ, source="ble", created_utc=created_utc), samples)
    return path


def few_decimals_csv(path: Path, s: Samples) -> Path:
    """The samples as another tool writes them: ms times, g with 3 decimals, °/s with 1."""
    acc_g = s.imu[:, :3].astype(np.float64) / STANDARD_GRAVITY
    gyro_dps = np.degrees(s.imu[:, 3:].astype(np.float64))
    lines = ["time_s,acc_x (g),acc_y (g),acc_z (g),gyro_x (dps),gyro_y (dps),gyro_z (dps)"]
    for t, a, g in zip(s.time_s, acc_g, gyro_dps, strict=True):
        lines.append(f"{t:.3f},{a[0]:.3f},{a[1]:.3f},{a[2]:.3f},{g[0]:.1f},{g[1]:.1f},{g[2]:.1f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_quiet_recordings_of_one_length_are_both_kept(tmp_path: Path) -> None:
    """Three still 30 s planks: two leaning differently, one as the first but an hour later.
    The old signature (count, span, 32 means of |acc|) made them one; every one is kept now."""
    st = Store(tmp_path / "data")
    recs = [
        recording(tmp_path / "monday.htrec", quiet_plank(1, 12.0), "2025-03-03T07:00:00Z"),
        recording(tmp_path / "monday-leaning.htrec", quiet_plank(2, 15.0), "2025-03-03T07:30:00Z"),
        recording(tmp_path / "monday-later.htrec", quiet_plank(3, 12.0), "2025-03-03T08:30:00Z"),
    ]
    results = importer.import_paths(st, recs).results
    assert [r.status for r in results] == ["added"] * 3, [r.message for r in results]
    assert st.session_count() == 3
    assert edits.find_duplicates(st) == []
    assert all(r.duplicate_of is None for r in queries.sessions(st))


def test_true_copies_in_other_formats_are_found_with_one_line_naming_the_session(tmp_path: Path) -> None:
    st = Store(tmp_path / "data")
    plank = quiet_plank(1, 12.0)
    rec = recording(tmp_path / "plank.htrec", plank, "2025-03-03T07:00:00Z")
    sid = importer.import_paths(st, [rec]).results[0].session_id
    export = tmp_path / "plank-export.csv"
    write_generic_csv(export, Samples(plank.time_s + 1.7412e9, plank.imu))  # on Unix time, as phones write
    rounded = few_decimals_csv(tmp_path / "plank-rounded.csv", plank)
    for copy in (export, rounded):
        r = importer.import_paths(st, [copy]).results[0]
        assert (r.status, r.session_id) == ("already", sid), r.message
        assert r.message == f"{copy}: already in the store (session {sid}: the same samples in another file)"
    assert st.session_count() == 1


@pytest.mark.parametrize("phone_first", [True, False])
@pytest.mark.parametrize("name", PHONE_EXPORTS)
def test_a_phone_export_and_its_converted_recording_are_one_session(tmp_path: Path, name: str, phone_first: bool) -> None:
    export = VECTORS / name
    assert export.exists(), f"conformance vectors missing at {VECTORS} (set HOLDTRACK_VECTORS)"
    st = Store(tmp_path / "data")
    htrec = tmp_path / "converted.htrec"
    convert(export, htrec)
    first, second = (export, htrec) if phone_first else (htrec, export)
    a = importer.import_paths(st, [first]).results[0]
    b = importer.import_paths(st, [second]).results[0]
    assert a.status == "added", a.message
    assert (b.status, b.session_id) == ("already", a.session_id), b.message
    assert st.session_count() == 1


def test_one_changed_sample_or_one_sample_less_is_not_the_same(tmp_path: Path) -> None:
    """The ends and the count agree, so only the comparison of every sample can tell."""
    st = Store(tmp_path / "data")
    plank = quiet_plank(1, 12.0)
    rec = recording(tmp_path / "plank.htrec", plank, "2025-03-03T07:00:00Z")
    imu = plank.imu.copy()
    imu[1500, 2] += 0.05  # 0.05 m/s² on one sample, mid-way: five times the tolerance
    changed = tmp_path / "changed.csv"
    write_generic_csv(changed, Samples(plank.time_s, imu))
    shorter = tmp_path / "shorter.csv"
    write_generic_csv(shorter, plank[:-1])
    a, b = signature.sign_file(rec), signature.sign_file(changed)
    assert a is not None and b is not None and a.may_match(b)
    assert not signature.same_files(rec, changed)
    results = importer.import_paths(st, [rec, changed, shorter]).results
    assert [r.status for r in results] == ["added"] * 3, [r.message for r in results]


def test_the_comparison_is_blind_to_block_sizes_and_exact_within_the_tolerances() -> None:
    s = quiet_plank(4, 10.0, seconds=5.0)
    same = Samples(s.time_s + 100.0, s.imu + np.float32(0.9 * signature.ACC_TOL_MPS2) * np.array([1, -1, 1, 0, 0, 0], np.float32))
    assert signature.same_streams(iter(s.chunks(7)), iter(same.chunks(333)))
    off = s.imu.copy()
    off[-1, 4] += 1.5 * signature.GYRO_TOL_RADS  # the very last value
    assert not signature.same_streams(iter(s.chunks(64)), iter(Samples(s.time_s, off).chunks(50)))
    late = s.time_s.copy()
    late[250:] += 2 * signature.TIME_TOL_S  # a step in time: not time-aligned
    assert not signature.same_streams(iter(s.chunks(100)), iter(Samples(late, s.imu).chunks(100)))
    assert not signature.same_streams(iter(s.chunks(100)), iter(s[:-3].chunks(100)))


@pytest.mark.slow  # 1-1.3 s: out of make check, still in make test
def test_signing_and_comparing_stream_the_files(tmp_path: Path) -> None:
    """Memory stays that of a block or two, not of the file's 400,000 samples (12.8 MB)."""
    s = quiet_plank(5, 12.0, seconds=4000.0)
    a = recording(tmp_path / "a.htrec", s, "2025-03-03T07:00:00Z")
    b = recording(tmp_path / "b.htrec", s, "2025-03-03T07:00:00Z")
    del s
    tracemalloc.start()
    try:
        sig = signature.sign_file(a)
        same = signature.same_files(a, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sig is not None and sig.n == 400_000 and same
    assert peak < 4_000_000, f"peak {peak / 1e6:.1f} MB"
