"""The corpus's tabular cases: the generic CSV, phone exports (folders and zips)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.malformed import Case, still_samples

CSV_HEAD = "time_s,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n"


def csv_rows(seconds: float = 20.0, edit: Callable[[np.ndarray], None] | None = None) -> list[str]:
    s = still_samples(seconds)
    a = np.column_stack([s.time_s, s.imu.astype(np.float64)])
    if edit is not None:
        edit(a)
    return [",".join(repr(float(v)) for v in row) + "\n" for row in a]


def _csv(edit: Callable[[np.ndarray], None] | None = None, head: str = CSV_HEAD) -> Callable[[Path], None]:
    return lambda p: p.write_text(head + "".join(csv_rows(edit=edit)))


def _csv_text(text: str | bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(text if isinstance(text, bytes) else text.encode())


def _csv_lines(change: Callable[[list[str]], None]) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        rows = csv_rows()
        change(rows)
        p.write_text(CSV_HEAD + "".join(rows))

    return build


def _set(i: int | slice, col: int, value: float) -> Callable[[np.ndarray], None]:
    def edit(a: np.ndarray) -> None:
        a[i, col] = value

    return edit


def _scale(cols: slice, k: float) -> Callable[[np.ndarray], None]:
    def edit(a: np.ndarray) -> None:
        a[:, cols] *= k

    return edit


def _shift_from(i: int, dt: float) -> Callable[[np.ndarray], None]:
    def edit(a: np.ndarray) -> None:
        a[i:, 0] += dt

    return edit


# -- phone exports -------------------------------------------------------------------------


def sensor_logger_files(seconds: float = 20.0, t_shift_gyro: float = 0.0) -> dict[str, str]:
    s = still_samples(seconds)
    t_ns = (1_700_000_000e9 + s.time_s * 1e9).astype(np.int64)

    def table(values: np.ndarray, shift: float = 0.0) -> str:
        rows = [
            f"{t + int(shift * 1e9)},{t / 1e9 - 1_700_000_000:.6f},{v[2]!r},{v[1]!r},{v[0]!r}\n"
            for t, v in zip(t_ns.tolist(), values.astype(float).tolist())
        ]
        return "time,seconds_elapsed,z,y,x\n" + "".join(rows)

    return {
        "TotalAcceleration.csv": table(s.acc),
        "Gyroscope.csv": table(s.gyro, t_shift_gyro),
        "Metadata.csv": "version,platform\n3,android\n",
    }


def _folder(files: dict[str, str | bytes]) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        p.mkdir()
        for name, text in files.items():
            (p / name).write_bytes(text if isinstance(text, bytes) else text.encode())

    return build


def _zip(files: dict[str, str | bytes]) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                z.writestr(name, text)

    return build


def _sl(**changes: str | bytes | None) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = dict(sensor_logger_files())
    for name, text in changes.items():
        name = name.replace("_", ".")
        if text is None:
            files.pop(name, None)
        else:
            files[name] = text
    return files


def _zip_bomb(p: Path) -> None:
    """A small zip whose Accelerometer.csv inflates to 400 MB of one repeated row."""
    row = b"1700000000000000000,0.0,9.8,0.0,0.0\n"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("TotalAcceleration.csv", "w", force_zip64=True) as f:
            f.write(b"time,seconds_elapsed,z,y,x\n")
            block = row * (1 << 16)
            for _ in range((400 << 20) // len(block)):
                f.write(block)
        z.writestr("Gyroscope.csv", sensor_logger_files()["Gyroscope.csv"])


def _truncated_zip(p: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in sensor_logger_files().items():
            z.writestr(name, text)
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _phyphox(
    acc_head: str = '"Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"', body_edit: Callable[[list[str]], None] | None = None
) -> dict[str, str]:
    s = still_samples(20)
    acc = [f"{t!r},{v[0]!r},{v[1]!r},{v[2]!r}\n" for t, v in zip(s.time_s.tolist(), s.acc.astype(float).tolist())]
    gyro = [f"{t!r},{v[0]!r},{v[1]!r},{v[2]!r}\n" for t, v in zip(s.time_s.tolist(), s.gyro.astype(float).tolist())]
    if body_edit is not None:
        body_edit(acc)
    return {
        "Accelerometer.csv": acc_head + "\n" + "".join(acc),
        "Gyroscope.csv": '"Time (s)","X (rad/s)","Y (rad/s)","Z (rad/s)"\n' + "".join(gyro),
    }


def _put(i: int, text: str) -> Callable[[list[str]], None]:
    def change(rows: list[str]) -> None:
        rows[i] = text

    return change


DAY = 86400.0
TABLE_CASES: list[Case] = [
    # the generic CSV
    Case("csv-unterminated-quote.csv", _csv_lines(_put(500, '1.0,"9.8,0,0,0,0,0\n')), "refuse"),
    Case("csv-field-over-128kb.csv", _csv_lines(_put(500, "5.0," + "9" * 200_000 + ",0,9.8,0,0,0\n")), "refuse"),
    Case("csv-empty.csv", _csv_text(""), "refuse"),
    Case("csv-header-only.csv", _csv_text(CSV_HEAD), "refuse"),
    Case("csv-missing-column.csv", _csv(head=CSV_HEAD.replace("gyro_z", "gyro_q")), "refuse"),
    Case("csv-non-numeric.csv", _csv_lines(_put(300, "3.0,abc,0,9.8,0,0,0\n")), "refuse"),
    Case("csv-nan-run.csv", _csv(_set(slice(400, 420), 1, np.nan)), "refuse"),
    Case("csv-inf-run.csv", _csv(_set(slice(400, 410), 3, np.inf)), "refuse"),
    Case("csv-huge-values.csv", _csv(_set(slice(None), 2, 1e300)), "refuse"),
    Case("csv-time-backwards.csv", _csv(_set(900, 0, 2.0)), "refuse"),
    Case("csv-in-g.csv", _csv(_scale(slice(1, 4), 1 / 9.80665)), "refuse"),
    Case("csv-gyro-deg.csv", _csv(_scale(slice(4, 7), 1145.9)), "refuse"),
    Case("csv-milliseconds.csv", _csv(_scale(slice(0, 1), 1000.0)), "refuse"),
    Case("csv-clock-jump-1e9.csv", _csv(_shift_from(1000, 1e9)), "refuse"),
    Case("csv-last-time-typo.csv", _csv(_set(-1, 0, 1e9)), "refuse"),
    Case("csv-116-day-gap.csv", _csv(_shift_from(1000, 116 * DAY)), "refuse"),
    Case("csv-binary-garbage.csv", _csv_text(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes()), "refuse"),
    Case("csv-utf16.csv", lambda p: p.write_bytes((CSV_HEAD + "".join(csv_rows())).encode("utf-16")), "refuse"),
    Case("csv-only-commas.csv", _csv_text(CSV_HEAD + ",,,,,,\n" * 100), "refuse"),
    Case("csv-bom-only.csv", _csv_text(b"\xef\xbb\xbf"), "refuse"),
    Case("csv-nul-bytes.csv", _csv_lines(_put(500, "\x00" * 40 + "\n")), "refuse"),
    Case("csv-one-sample.csv", _csv_text(CSV_HEAD + "0.0,0,0,9.8,0,0,0\n"), "refuse"),
    Case("csv-all-same-time.csv", _csv(_set(slice(None), 0, 5.0)), "refuse"),
    Case("csv-all-zero.csv", _csv(_scale(slice(1, 7), 0.0)), "refuse"),
    Case("csv-wrong-header-names.csv", _csv(head="t,ax,ay,az,gx,gy,gz\n"), "refuse"),
    Case("csv-negative-huge-time.csv", _csv(_set(0, 0, -1e12)), "refuse"),
    # Sensor Logger exports (folders and zips)
    Case("sl-no-gyro", _folder(_sl(Gyroscope_csv=None)), "refuse"),
    Case("sl-no-accel", _folder(_sl(TotalAcceleration_csv=None)), "refuse"),
    Case("sl-no-overlap", _folder(_sl(Gyroscope_csv=sensor_logger_files(t_shift_gyro=500.0)["Gyroscope.csv"])), "refuse"),
    Case("sl-header-only", _folder(_sl(TotalAcceleration_csv="time,seconds_elapsed,z,y,x\n")), "refuse"),
    Case("sl-garbage-accel", _folder(_sl(TotalAcceleration_csv=b"\x00\xff" * 5000)), "refuse"),
    Case("sl-text-in-accel", _folder(_sl(TotalAcceleration_csv="time,seconds_elapsed,z,y,x\n1,0,a,b,c\n")), "refuse"),
    Case("sl-missing-columns", _folder(_sl(Gyroscope_csv="time,seconds_elapsed,z\n1,0,1\n2,0,1\n")), "refuse"),
    Case("sl-unterminated-quote", _folder(_sl(Gyroscope_csv='time,seconds_elapsed,z,y,x\n1,0,"1,2,3\n')), "refuse"),
    Case("sl-empty-folder", lambda p: p.mkdir(), "refuse"),
    Case("sl-not-a-zip.zip", _csv_text(b"PK\x03\x04 this is not a zip" * 100), "refuse"),
    Case("sl-empty.zip", _zip({}), "refuse"),
    Case("sl-readme-only.zip", _zip({"README.txt": "hello"}), "refuse"),
    Case("sl-truncated.zip", _truncated_zip, "refuse"),
    Case("sl-no-gyro.zip", _zip(_sl(Gyroscope_csv=None)), "refuse"),
    Case("sl-garbage-member.zip", _zip(_sl(TotalAcceleration_csv=b"\x00\xff" * 5000)), "refuse"),
    Case("sl-path-traversal.zip", _zip({"../../evil/" + k: v for k, v in _sl(Gyroscope_csv=None).items()}), "refuse"),
    Case("sl-nested.zip", lambda p: _zip({"inner.zip": b"PK\x05\x06" + bytes(18)})(p), "refuse"),
    Case("sl-in-g.zip", _zip(_sl(TotalAcceleration_csv=sensor_logger_files()["TotalAcceleration.csv"].replace(",9.", ",0.9"))), "refuse"),
    # phyphox exports
    Case("phyphox-no-time", _folder(_phyphox(acc_head='"X (m/s^2)","Y (m/s^2)","Z (m/s^2)","W"')), "refuse"),
    Case("phyphox-text-cell", _folder(_phyphox(body_edit=_put(100, "1.0,abc,0,9.8\n"))), "refuse"),
    Case(
        "phyphox-linear-only",
        _folder(
            _phyphox(acc_head='"Time (s)","Linear Acceleration x (m/s^2)","Linear Acceleration y (m/s^2)","Linear Acceleration z (m/s^2)"')
        ),
        "refuse",
    ),
    Case("phyphox-ragged-row", _folder(_phyphox(body_edit=_put(100, "1.0,2.0\n"))), "refuse"),
    Case("phyphox-raw-data-garbage.csv", _csv_text('"Time (s)","Acceleration x (m/s^2)"\n' + "x;y;z\n" * 50), "refuse"),
]


def _fifo(p: Path) -> None:
    import os

    os.mkfifo(p)


def _dev_zero(p: Path) -> None:
    p.symlink_to("/dev/zero")


SPECIAL_CASES: list[Case] = [
    # run in a child process with a memory limit and a deadline: a reader that hangs or
    # reads without bound must not take the test run with it
    Case("sl-bomb.zip", _zip_bomb, "refuse"),
    Case("fifo.csv", _fifo, "refuse"),
    Case("fifo.htrec", _fifo, "refuse"),
    Case("dev-zero.csv", _dev_zero, "refuse"),
    Case("dev-zero.htrec", _dev_zero, "refuse"),
]
