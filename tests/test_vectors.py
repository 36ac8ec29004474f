"""Conformance with files and frames written by others (``../shared/vectors/``, beside the
clone; CI has it). Each vector either decodes to the values in the file (or the values its
source's own tests assert) within a stated tolerance, or is refused in one actionable line.

Expected values are read from the vector files with the standard ``csv`` module (a reader
independent of the one under test) or taken from the SDK's asserted values.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sensor.devices import polar as P
from sensor.devices import polar_pmd as PMD
from sensor.errors import InputError
from sensor.files.phone import read_export
from sensor.samples import STANDARD_GRAVITY
from sensor.signal.pipeline import nominal_rate_hz

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(os.environ.get("HOLDTRACK_VECTORS", ROOT.parent / "shared" / "vectors"))
F32 = dict(rtol=2e-7, atol=1e-6)  # values pass through float32 storage


@pytest.fixture(scope="module", autouse=True)
def vectors_present() -> None:
    # Not a skip: CI has the folder beside the clone, so its absence is a failure to see.
    assert (VECTORS / "README.md").is_file(), f"conformance vectors missing at {VECTORS} (set HOLDTRACK_VECTORS)"


def table(text: str) -> tuple[list[str], np.ndarray]:
    """A CSV text by the csv module: header names and float rows (semicolon/tab sniffed)."""
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ";" if ";" in first else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if r]
    return rows[0], np.array([[float(c.replace(",", ".")) for c in r] for r in rows[1:]])


def expect_merged(s_t: np.ndarray, s_imu: np.ndarray, acc: np.ndarray, gyro: np.ndarray, sign: float = 1.0) -> None:
    """Samples are the accelerometer rows (times and values) with the gyroscope linearly
    interpolated at those times, over the two streams' overlap."""
    lo, hi = max(acc[0, 0], gyro[0, 0]), min(acc[-1, 0], gyro[-1, 0])
    a = acc[(acc[:, 0] >= lo) & (acc[:, 0] <= hi)]
    assert len(s_t) == len(a)
    np.testing.assert_allclose(s_t, a[:, 0], rtol=0, atol=1e-6)  # epoch ns as float64 seconds: ~0.2 µs steps
    np.testing.assert_allclose(s_imu[:, :3], sign * a[:, 1:4], **F32)
    g = np.stack([np.interp(a[:, 0], gyro[:, 0], gyro[:, c]) for c in (1, 2, 3)], axis=1)
    np.testing.assert_allclose(s_imu[:, 3:], g, **F32)


# -- phyphox -----------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["simple_experiment_ios_1.1.16_semicolon", "simple_experiment_ios_1.1.16_tab"])
def test_phyphox_simple_experiment(folder: str) -> None:
    d = VECTORS / "phyphox" / folder
    _, acc = table((d / "Accelerometer.csv").read_text())
    _, gyro = table((d / "Gyroscope.csv").read_text())
    s = read_export(d)
    expect_merged(s.time_s, s.imu, acc, gyro)
    # The same export given as its files (the dashboard's multi-file upload).
    s2 = read_export([d / "Gyroscope.csv", d / "Accelerometer.csv"])
    np.testing.assert_array_equal(s2.imu, s.imu)


def test_phyphox_decimal_comma(tmp_path: Path) -> None:
    """phyphox's "semicolon, decimal comma" export: the same numbers."""
    src = VECTORS / "phyphox" / "simple_experiment_ios_1.1.16_semicolon"
    for name in ("Accelerometer.csv", "Gyroscope.csv"):
        lines = (src / name).read_text().splitlines()
        (tmp_path / name).write_text("\n".join([lines[0]] + [ln.replace(".", ",") for ln in lines[1:]]) + "\n")
    np.testing.assert_array_equal(read_export(tmp_path).imu, read_export(src).imu)


def test_phyphox_custom_experiment_zip_by_content() -> None:
    z = zipfile.ZipFile(VECTORS / "phyphox" / "custom_experiment_bus_to_home.zip")
    _, acc = table(z.read("Acceleration.csv").decode())
    _, gyro = table(z.read("Gyroscope.csv").decode())
    s = read_export(VECTORS / "phyphox" / "custom_experiment_bus_to_home.zip")
    expect_merged(s.time_s, s.imu, acc, gyro)


def test_phyphox_excel_export() -> None:
    s = read_export(VECTORS / "phyphox" / "excel_export_walking.xls")
    # First row of the "Acceleration" sheet as phyphox wrote it.
    np.testing.assert_allclose(s.time_s[0], 0.22191299999985858, rtol=1e-12)
    np.testing.assert_allclose(s.imu[0, :3], [-1.0289602661132813, 2.9273126220703127, 9.333091735839844], **F32)
    np.testing.assert_allclose(s.imu[0, 3:], [-0.21239358186721802, -0.658546507358551, 0.022825203835964203], **F32)


@pytest.mark.parametrize(
    "path, match",
    [
        ("phyphox/acceleration_without_g", "lacks gravity.*Accelerometer"),
        ("phyphox/gyroscope_experiment_semicolon.csv", "gyroscope only.*Accelerometer and Gyroscope"),
        ("sensor_logger/android_1.26_no_gyroscope.zip", "no Gyroscope.csv: enable the gyroscope"),
        ("sensor_logger/ios_1.11_2022-11-07_18-55-55", "recorded at 1 Hz: set the sampling rate to 25 Hz"),
    ],
)
def test_exports_that_cannot_serve_get_one_actionable_line(path: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as e:
        read_export(VECTORS / path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "member, beside",
    [
        ("phyphox/simple_experiment_ios_1.1.16_tab/Gyroscope.csv", "Accelerometer.csv"),
        ("phyphox/simple_experiment_ios_1.1.16_semicolon/Accelerometer.csv", "Gyroscope.csv"),
        ("sensor_logger/ios_1.11_2022-11-07_21-41-08_head/Accelerometer.csv", "Gyroscope.csv"),
        ("sensor_logger/android_1.60_bom/Gyroscope.csv", "Accelerometer.csv, TotalAcceleration.csv"),
    ],
)
def test_one_table_of_an_export_points_to_its_folder(member: str, beside: str, tmp_path: Path) -> None:
    """A table given on its own while the rest of its export sits beside it: the line says
    so and names the folder (not "enable the gyroscope and record again"), and the folder
    reads. Alone in a folder, the same table gets the advice about recording."""
    path = VECTORS / member
    with pytest.raises(InputError) as e:
        read_export(path)
    assert f"{beside} beside it: pass the folder {path.parent} " in e.value.message
    assert "record again" not in e.value.message and "\n" not in str(e.value)
    assert len(read_export(path.parent)) > 100
    alone = tmp_path / path.name
    alone.write_bytes(path.read_bytes())
    with pytest.raises(InputError) as e:
        read_export(alone)
    assert "beside it" not in e.value.message and ("Sensor Logger" in e.value.message or "phyphox" in e.value.message)


@pytest.mark.parametrize(
    "path",
    [
        "phyphox/simple_experiment_ios_1.1.16_semicolon",
        "phyphox/simple_experiment_ios_1.1.16_tab",
        "phyphox/custom_experiment_bus_to_home.zip",
        "sensor_logger/ios_1.10.4_2022-09-16_11-15-46.zip",
    ],
)
def test_analyze_exits_0_on_real_exports(path: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "sensor.cli", "analyze", "--json", str(VECTORS / path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["duration_s"] > 10 and "reps" in out and "holds" in out


# -- Sensor Logger --------------------------------------------------------------------------


def sensor_logger_table(text: str) -> np.ndarray:
    """(time s, x, y, z) from Sensor Logger's ``time,seconds_elapsed,z,y,x`` by name."""
    head, data = table(text)
    return np.column_stack([data[:, head.index("time")] / 1e9] + [data[:, head.index(c)] for c in "xyz"])


def read_member(path: Path, name: str) -> str:
    if path.suffix == ".zip":
        return zipfile.ZipFile(path).read(name).decode()
    return (path / name).read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("name", ["android_1.28_driving_head", "android_1.60_bom"])
def test_sensor_logger_android_total_acceleration(name: str) -> None:
    d = VECTORS / "sensor_logger" / name
    total = sensor_logger_table(read_member(d, "TotalAcceleration.csv"))
    gyro = sensor_logger_table(read_member(d, "Gyroscope.csv"))
    s = read_export(d)
    expect_merged(s.time_s, s.imu, total, gyro)


@pytest.mark.parametrize("name", ["ios_1.10.4_2022-09-16_11-15-46.zip", "ios_1.11_2022-11-07_21-41-08_head"])
def test_sensor_logger_ios_is_sign_flipped_unless_standardised(name: str, tmp_path: Path) -> None:
    d = VECTORS / "sensor_logger" / name
    acc = sensor_logger_table(read_member(d, "Accelerometer.csv"))
    grav = sensor_logger_table(read_member(d, "Gravity.csv"))
    gyro = sensor_logger_table(read_member(d, "Gyroscope.csv"))
    assert np.array_equal(acc[:, 0], grav[:, 0])
    specific = np.column_stack([acc[:, 0], acc[:, 1:] + grav[:, 1:]])
    s = read_export(d)
    expect_merged(s.time_s, s.imu, specific, gyro, sign=-1.0)
    assert float(np.median(np.linalg.norm(s.acc, axis=1))) == pytest.approx(STANDARD_GRAVITY, rel=0.05)
    # The same export made with "Standardise Units & Frames" on (Metadata says so): no flip.
    # (No real export of that kind was found; this one is the real file with the flag set.)
    std = tmp_path / "standardised"
    std.mkdir()
    for member in ("Accelerometer.csv", "Gravity.csv", "Gyroscope.csv"):
        (std / member).write_text(read_member(d, member))
    meta = list(csv.reader(io.StringIO(read_member(d, "Metadata.csv"))))
    (std / "Metadata.csv").write_text(",".join(meta[0] + ["standardisation"]) + "\n" + ",".join(meta[1] + ["true"]) + "\n")
    expect_merged(*(lambda x: (x.time_s, x.imu))(read_export(std)), specific, gyro, sign=1.0)


def test_sensor_logger_folder_and_zip_agree(tmp_path: Path) -> None:
    d = VECTORS / "sensor_logger" / "android_1.28_driving_head"
    z = shutil.make_archive(str(tmp_path / "export"), "zip", d)
    np.testing.assert_array_equal(read_export(Path(z)).imu, read_export(d).imu)


# -- Polar PMD ---------------------------------------------------------------------------------


def polar_cases() -> list[dict]:
    return json.loads((VECTORS / "polar" / "vectors.json").read_text())["cases"]


def decode_case(case: dict, factor: float | None) -> np.ndarray:
    meas = P.MEAS_ACC if case["meas"] == "ACC" else P.MEAS_GYRO
    frames = case["frames"] if isinstance(case["frames"], list) else json.loads(case["frames"])
    out = []
    for hexframe in frames:
        f = bytes.fromhex(hexframe)
        ftype = f[9]
        use = factor if factor is not None else P.DEFAULT_FACTORS[meas].get(ftype & 0x7F, 1.0)
        out.append(P.frame_values(meas, ftype, f[10:], use))
    v = np.concatenate(out)
    return v / (PMD.MG if meas == P.MEAS_ACC else PMD.DPS)  # back to the SDK's units: mG, °/s


@pytest.mark.parametrize("case", [c for c in polar_cases() if "frames" in c] if VECTORS.is_dir() else [], ids=lambda c: c["name"])
def test_polar_frames_decode_to_the_sdk_values(case: dict) -> None:
    v = decode_case(case, case["factor"])
    exp = case["expected"]
    if "count" in exp:
        assert len(v) == exp["count"]
    for i, want in exp["samples"].items():
        if case["int_truncated"]:  # the SDK asserts (factor * raw * 1000).toInt() mG
            np.testing.assert_array_equal(np.trunc(v[int(i)] + np.sign(v[int(i)]) * 1e-9), want)
        else:
            np.testing.assert_allclose(v[int(i)], want, rtol=1e-6, atol=1e-6)


def test_polar_truncated_frame_is_refused() -> None:
    case = next(c for c in polar_cases() if c["name"] == "acc_compressed_type0_short")
    with pytest.raises(P.PolarProtocolError):
        P.frame_values(P.MEAS_ACC, case["ftype"], bytes.fromhex(case["payload"]), case["factor"])


def test_polar_default_gyro_factor_is_the_real_devices() -> None:
    """Without a start response the real Verity Sense gyro recording decodes to what the SDK
    asserts (the device said 0.07 °/s per count; range / 32768 would read 12.8 % low)."""
    case = next(c for c in polar_cases() if c["name"] == "offline_gyro_real_device")
    assert case["settings"]["5"][0] == pytest.approx(P.DEFAULT_FACTORS[P.MEAS_GYRO][0], rel=1e-6)
    v = decode_case(case, None)
    for i, want in case["expected"]["samples"].items():
        np.testing.assert_allclose(v[int(i)], want, rtol=1e-6)


# -- WitMotion app export ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["app_export_coffee_table_head1200.txt", "app_export_moving_head4000.txt"])
def test_witmotion_app_export(name: str) -> None:
    import datetime as dt
    import math

    path = VECTORS / "witmotion" / name
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))
    head, body = [h.lower() for h in rows[0]], [r for r in rows[1:] if r]
    cols = [head.index(c) for c in ("accx(g)", "accy(g)", "accz(g)", "asx(°/s)", "asy(°/s)", "asz(°/s)")]
    want = np.array([[float(r[c]) for c in cols] for r in body])
    s = read_export(path)
    assert len(s) == len(body) and np.all(np.diff(s.time_s) > 0)  # arrival ties re-spaced, order kept
    np.testing.assert_allclose(s.imu[:, :3], want[:, :3] * STANDARD_GRAVITY, **F32)
    np.testing.assert_allclose(s.imu[:, 3:], np.radians(want[:, 3:]), **F32)
    date, clock = body[0][0].split(" ")
    hh, mm, ss = clock.split(":")
    sec, ms = ss.split(".")  # the app writes milliseconds unpadded: "38.90" is 38.090 s
    t0 = dt.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=dt.UTC).timestamp()
    assert s.time_s[0] == pytest.approx(t0 + int(hh) * 3600 + int(mm) * 60 + int(sec) + int(ms) / 1000, abs=1e-6)
    span = s.time_s[-1] - s.time_s[0]
    assert math.isclose(len(s) / span, 195, rel_tol=0.1)  # ~200 rows/s, as SOURCE.txt says
    # Stamped on arrival (8 rows a millisecond apart, then a wait): the rate the session
    # reports is the rows' rate, not the 340 Hz the median step would suggest.
    assert nominal_rate_hz(s.time_s) == pytest.approx(len(s) / span, rel=0.05)


# -- Thingy:52 raw motion ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["raw_standing_head3000.csv", "raw_moving_head6000.csv"])
def test_thingy_raw_stream_scales(name: str) -> None:
    """The third party logged int16/2**10 g and int16/2**5 °/s (no sign change): the words are
    recovered exactly, rebuilt into 18-byte notifications and decoded. Scales and layout must
    match; the accelerometer's sign is HoldTrack's reading of the firmware (unconfirmed)."""
    from sensor.devices.thingy import ACC_SIGN, ThingyDecoder

    rows = [r for r in csv.reader(io.StringIO((VECTORS / "thingy52" / name).read_text())) if r]
    vals = np.array([[float(c) for c in r[1:7]] for r in rows])
    words = np.column_stack([vals[:, :3] * 1024, vals[:, 3:] * 32])
    assert np.array_equal(words, np.round(words))  # exact multiples: the bytes are known
    dec = ThingyDecoder()
    for w, v in zip(words.astype("<i2")[:: max(1, len(words) // 500)], vals[:: max(1, len(words) // 500)]):
        got = dec.decode(w.tobytes() + bytes(6)).imu[0]
        np.testing.assert_allclose(got[:3], ACC_SIGN * v[:3] * STANDARD_GRAVITY, **F32)
        np.testing.assert_allclose(got[3:], np.radians(v[3:]), **F32)
    if name.startswith("raw_standing"):  # at rest: |acc| ≈ 1 g whatever the sign convention
        assert float(np.median(np.linalg.norm(vals[:, :3], axis=1))) == pytest.approx(1.0, abs=0.05)


# -- WitMotion 55 61 frames ----------------------------------------------------------------------


def test_witmotion_frames_decode_like_their_sources() -> None:
    """Expected values as the sources compute them: int16 / 32768 × 16 g and × 2000 °/s."""
    from sensor.devices.witmotion import WitMotionDecoder

    d = json.loads((VECTORS / "witmotion" / "frames.json").read_text())
    frames = [bytes.fromhex(h) for h in d["iobroker"]["frames"]]
    frames += [bytes.fromhex(h) + bytes(4) for h in d["obedier"]["prefixes16"]]  # angles Y/Z unknown: padded
    for f in frames:
        words = np.frombuffer(f[2:14], "<i2").astype(np.float64)
        got = WitMotionDecoder().decode(f).imu
        assert got.shape == (1, 6)
        np.testing.assert_allclose(got[0, :3], words[:3] / 32768 * 16 * STANDARD_GRAVITY, **F32)
        np.testing.assert_allclose(got[0, 3:], np.radians(words[3:] / 32768 * 2000), **F32)
    # The adapter's capture is a module at rest: |acc| within 1 % of 1 g.
    for f in frames[:4]:
        assert np.linalg.norm(WitMotionDecoder().decode(f).imu[0, :3]) == pytest.approx(STANDARD_GRAVITY, rel=0.01)
