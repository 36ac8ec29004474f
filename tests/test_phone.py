"""Phone inputs: Sensor Logger push batches and exports, phyphox exports, in their real layouts."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sensor.errors import InputError
from sensor.files.phone import read_export, read_phyphox, read_sensor_logger
from sensor.sources.phone_streams import PushMerger, parse_push

T0_NS = 1_698_501_144_401_773_000  # an epoch-ns time as Sensor Logger writes it


def item(name: str, t_ns: int, xyz: tuple[float, float, float], nested: bool = True) -> dict[str, object]:
    x, y, z = xyz
    values = {"x": x, "y": y, "z": z}
    return {"name": name, "time": t_ns, "values": values} if nested else {"name": name, "time": t_ns, **values}


def batch(items: list[dict[str, object]], message_id: int = 0) -> bytes:
    return json.dumps({"messageId": message_id, "sessionId": "s", "deviceId": "d", "payload": items}).encode()


def ms(k: int) -> int:
    return T0_NS + k * 10_000_000  # 100 Hz


# -- push ----------------------------------------------------------------------------------


def test_parse_push_accepts_nested_and_top_level_values() -> None:
    got = parse_push(
        batch(
            [
                item("accelerometer", ms(1), (1, 2, 3)),
                item("gyroscope", ms(0), (4, 5, 6), nested=False),
                {"name": "location", "time": ms(0), "latitude": 1.0},
            ]
        )
    )
    assert set(got) == {"accelerometer", "gyroscope"}
    t, v = got["gyroscope"]
    np.testing.assert_allclose(t, [T0_NS / 1e9])
    np.testing.assert_array_equal(v, [[4, 5, 6]])


def test_push_merger_pairs_total_acceleration_with_gyro_across_batches() -> None:
    m = PushMerger()
    first = m.feed(
        batch(
            [item("totalacceleration", ms(k), (0, 0, 9.8 + k)) for k in range(5)]
            + [item("gyroscope", ms(k), (k * 0.1, 0, 0)) for k in range(3)]
        )
    )
    assert len(first) == 3  # samples past the last gyro time wait for the next batch
    second = m.feed(
        batch(
            [item("totalacceleration", ms(k), (0, 0, 9.8 + k)) for k in range(5, 8)]
            + [item("gyroscope", ms(k), (k * 0.1, 0, 0)) for k in range(3, 8)],
            1,
        )
    )
    assert len(second) == 5
    both = np.concatenate([first.imu, second.imu])
    np.testing.assert_allclose(both[:, 2], 9.8 + np.arange(8), rtol=1e-6)
    np.testing.assert_allclose(both[:, 3], np.arange(8) * 0.1, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.diff(np.concatenate([first.time_s, second.time_s])), 0.01, atol=1e-6)


def test_push_accelerometer_plus_gravity_and_ios_sign() -> None:
    items = (
        [item("accelerometer", ms(k), (0.5, 0, 0)) for k in range(4)]
        + [item("gravity", ms(k), (0, 0, 9.80665)) for k in range(4)]
        + [item("gyroscope", ms(k), (0, 0, 1.0)) for k in range(4)]
    )
    android = PushMerger("android").feed(batch(items))
    np.testing.assert_allclose(android.acc[-1], [0.5, 0, 9.80665], rtol=1e-6)
    # Sensor Logger's default iOS convention: gravity points -z lying flat, acceleration flipped.
    ios_items = (
        [item("accelerometer", ms(k), (-0.5, 0, 0)) for k in range(4)]
        + [item("gravity", ms(k), (0, 0, -9.80665)) for k in range(4)]
        + [item("gyroscope", ms(k), (0, 0, 1.0)) for k in range(4)]
    )
    ios = PushMerger("ios").feed(batch(ios_items))
    np.testing.assert_allclose(ios.acc, android.acc, rtol=1e-6)
    np.testing.assert_allclose(ios.gyro[:, 2], 1.0)


def test_push_without_gyro_is_an_input_error_once_the_wait_is_over() -> None:
    m = PushMerger(max_wait_s=0.05)
    assert len(m.feed(batch([item("totalacceleration", ms(k), (0, 0, 9.8)) for k in range(3)]))) == 0
    with pytest.raises(InputError, match="gyroscope"):
        m.feed(batch([item("totalacceleration", ms(k), (0, 0, 9.8)) for k in range(3, 20)], 1))


@pytest.mark.parametrize(
    "body, row",
    [
        (b"not json", None),
        (json.dumps({"messageId": 3}).encode(), None),
        (batch([item("gyroscope", ms(0), (1, 2, 3)), {"name": "gyroscope", "time": ms(1), "values": {"x": 1}}]), 2),
        (batch([item("gyroscope", ms(0), (1, 2, 3)), item("gyroscope", ms(1), (float("nan"), 0, 0))]), 2),
        (batch(["oops"]), 1),
    ],
)
def test_bad_push_batches(body: bytes, row: int | None) -> None:
    with pytest.raises(InputError) as e:
        parse_push(body, source="push 10.0.0.2")
    assert e.value.row == row and "push 10.0.0.2" in str(e.value)


# -- Sensor Logger export ---------------------------------------------------------------------


def logger_csv(values: np.ndarray, t_ns: np.ndarray) -> str:
    lines = ["time,seconds_elapsed,z,y,x"]  # Sensor Logger's own column order
    for t, (x, y, z) in zip(t_ns, values):
        lines.append(f"{t},{(t - t_ns[0]) / 1e9},{z},{y},{x}")
    return "\n".join(lines) + "\n"


def write_logger(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_sensor_logger_android_folder_with_total_acceleration(tmp_path: Path) -> None:
    t = T0_NS + np.arange(50) * 10_000_000
    gyro_t = t + 3_000_000  # the gyro samples at other instants
    acc = np.column_stack([np.zeros(50), np.linspace(-1, 1, 50), np.full(50, 9.81)])
    gyro = np.column_stack([np.linspace(0, 1, 50), np.zeros(50), np.zeros(50)])
    folder = write_logger(
        tmp_path / "rec",
        {
            "TotalAcceleration.csv": logger_csv(acc, t),
            "Gyroscope.csv": logger_csv(gyro, gyro_t),
            "Metadata.csv": "version,device name,recording time,platform\n3,Pixel,x,android\n",
        },
    )
    s = read_export(folder)
    assert isinstance(s.imu, np.ndarray) and s.imu.shape[1] == 6
    assert len(s) == 49  # the first acc sample precedes the first gyro sample
    np.testing.assert_allclose(s.acc, acc[1:], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s.gyro[:, 0], np.interp(t[1:], gyro_t, gyro[:, 0]), atol=1e-6)
    np.testing.assert_allclose(s.time_s, t[1:] / 1e9)


def test_sensor_logger_ios_zip_accelerometer_plus_gravity(tmp_path: Path) -> None:
    t = T0_NS + np.arange(20) * 10_000_000
    files = {
        "Accelerometer.csv": logger_csv(np.tile([0.0, 0.0, -0.2], (20, 1)), t),
        "Gravity.csv": logger_csv(np.tile([0.0, 0.0, -9.80665], (20, 1)), t),
        "Gyroscope.csv": logger_csv(np.tile([0.0, 0.1, 0.0], (20, 1)), t),
        "Metadata.csv": "version,device name,recording time,platform\n3,iPhone,x,ios\n",
    }
    zpath = tmp_path / "rec.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for name, text in files.items():
            z.writestr(f"2024-01-01_10-00-00/{name}", text)
    s = read_sensor_logger(zpath)
    np.testing.assert_allclose(s.acc[:, 2], 10.00665, rtol=1e-6)  # flipped to Android's convention
    np.testing.assert_allclose(read_sensor_logger(zpath, ios_standardised=True).acc[:, 2], -10.00665, rtol=1e-6)


def test_sensor_logger_bad_cell_names_file_and_row(tmp_path: Path) -> None:
    t = T0_NS + np.arange(5) * 10_000_000
    gyro = logger_csv(np.zeros((5, 3)), t).splitlines()
    gyro[3] = gyro[3].replace(",0.0,0.0,0.0", ",0.0,abc,0.0")
    folder = write_logger(
        tmp_path / "rec", {"TotalAcceleration.csv": logger_csv(np.zeros((5, 3)), t), "Gyroscope.csv": "\n".join(gyro) + "\n"}
    )
    with pytest.raises(InputError) as e:
        read_export(folder)
    assert e.value.path.endswith("Gyroscope.csv") and e.value.row == 4


def test_sensor_logger_missing_files(tmp_path: Path) -> None:
    t = T0_NS + np.arange(5) * 10_000_000
    folder = write_logger(
        tmp_path / "rec", {"Accelerometer.csv": logger_csv(np.zeros((5, 3)), t), "Gyroscope.csv": logger_csv(np.zeros((5, 3)), t)}
    )
    with pytest.raises(InputError, match="Gravity"):
        read_export(folder)
    with pytest.raises(InputError):
        read_export(tmp_path / "nothing-here")


# -- phyphox -----------------------------------------------------------------------------------


def test_phyphox_single_file_with_both_sensors(tmp_path: Path) -> None:
    header = (
        '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)",'
        '"Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"'
    )
    rows = [f"{k * 0.01:.3f},0.1,0.2,9.8,{k * 0.01 + 0.002:.3f},{k * 0.01},0,0" for k in range(30)]
    rows.append("0.300,0.1,0.2,9.8,,,,")  # sets of unequal length leave empty cells
    path = tmp_path / "Raw Data.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    s = read_export(path)
    assert len(s) == 29  # acc samples inside the gyro's time span
    np.testing.assert_allclose(s.acc[0], [0.1, 0.2, 9.8], rtol=1e-6)
    np.testing.assert_allclose(s.gyro[:, 0], s.time_s - 0.002, atol=1e-6)


def test_phyphox_zip_of_sets_semicolon_decimal_comma(tmp_path: Path) -> None:
    acc = '"Time (s)";"Acceleration x (m/s^2)";"Acceleration y (m/s^2)";"Acceleration z (m/s^2)"\n' + "".join(
        f"{k / 100:.2f};0,5;0;9,81\n".replace(".", ",") for k in range(20)
    )
    gyro = '"Time (s)";"Gyroscope x (rad/s)";"Gyroscope y (rad/s)";"Gyroscope z (rad/s)"\n' + "".join(
        f"{k / 100:.2f};0;0;1,5\n".replace(".", ",") for k in range(20)
    )
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("Accelerometer.csv", acc)
        z.writestr("Gyroscope.csv", gyro)
        z.writestr("meta/device.csv", '"property";"value"\n"deviceModel";"Pixel"\n')
    s = read_phyphox(zpath)
    assert len(s) == 20
    np.testing.assert_allclose(s.imu[0], [0.5, 0, 9.81, 0, 0, 1.5], rtol=1e-6)


def test_phyphox_linear_acceleration_and_bad_rows(tmp_path: Path) -> None:
    lin = tmp_path / "lin.csv"
    lin.write_text('"Time (s)","Linear Acceleration x (m/s^2)","Linear Acceleration y (m/s^2)","Linear Acceleration z (m/s^2)"\n0,0,0,0\n')
    with pytest.raises(InputError, match="with g"):
        read_phyphox(lin)
    short = tmp_path / "short.csv"
    short.write_text(
        '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)",'
        '"Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"\n0,0,0,9.8,0,0,0\n0.01,0,0\n'
    )
    with pytest.raises(InputError) as e:
        read_phyphox(short)
    assert e.value.row == 3 and e.value.path == str(short)


def test_flush_releases_the_rest_with_gyro_held() -> None:
    m = PushMerger()
    first = m.feed(batch([item("totalacceleration", ms(k), (0, 0, 9.8)) for k in range(5)] + [item("gyroscope", ms(0), (1.0, 0, 0))]))
    rest = m.flush()
    assert len(first) == 1 and len(rest) == 4
    np.testing.assert_allclose(rest.gyro[:, 0], 1.0)
    assert len(m.flush()) == 0
