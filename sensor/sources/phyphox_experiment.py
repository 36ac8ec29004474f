"""HoldTrack's phyphox experiment (``holdtrack.phyphox``, shipped beside this module) and
the QR code a phone loads it from.

The experiment records the accelerometer (with g, m/s²) and the gyroscope (rad/s) into
unlimited buffers with their own time buffers (experiment time, s), at 100 Hz averaged:
twice the pipeline's 50 Hz grid, what every phone's IMU gives, and light on Wi-Fi
(≈ 12 kB/s of JSON). ``PhyphoxSource`` polls these buffers.

phyphox loads an experiment from a QR code that holds the experiment itself: the bytes
``"phyphox"``, the CRC32 of the data (big-endian), the code's index and the number of
codes, then the data, here a zip with the ``.phyphox`` file (phyphox-android
``ExperimentListActivity.onActivityResult`` and ``Helper.inflatePartialZip``; the wiki's
"Transferring phyphox experiments"). No server is needed: the phone reads it offline.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from importlib import resources

FILE_NAME = "holdtrack.phyphox"
ACC = ("accX", "accY", "accZ", "acc_time")  # x, y, z, t
GYRO = ("gyrX", "gyrY", "gyrZ", "gyr_time")
BUFFERS = ACC + GYRO
QR_MAGIC = b"phyphox"
QR_MAX_DATA = 2900  # bytes a code carries besides its 13-byte head (2,953 in byte mode, version 40-L)


def experiment_bytes() -> bytes:
    """The experiment file as shipped."""
    return resources.files("sensor.sources").joinpath(FILE_NAME).read_bytes()


def qr_payloads(experiment: bytes | None = None) -> list[bytes]:
    """The QR code contents that load ``experiment`` (default: HoldTrack's) into phyphox,
    in scanning order (one code unless the experiment is large)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo(FILE_NAME, date_time=(2024, 1, 1, 0, 0, 0))  # fixed: the same code every time
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, experiment or experiment_bytes())
    data = buf.getvalue()
    crc = struct.pack(">I", zlib.crc32(data))
    parts = [data[i : i + QR_MAX_DATA] for i in range(0, len(data), QR_MAX_DATA)]
    if len(parts) > 127:
        raise ValueError("experiment too large for QR codes")
    return [QR_MAGIC + crc + bytes([i, len(parts)]) + p for i, p in enumerate(parts)]


def experiment_from_qr(payloads: list[bytes]) -> bytes:
    """The experiment file a set of QR code contents carries (what phyphox does on a scan);
    ValueError when they are not a complete, intact set."""
    if not payloads or any(not p.startswith(QR_MAGIC) or len(p) < 13 for p in payloads):
        raise ValueError("not phyphox experiment codes")
    crcs = {p[7:11] for p in payloads}
    counts = {p[12] for p in payloads}
    if len(crcs) != 1 or len(counts) != 1 or counts.pop() != len(payloads):
        raise ValueError("codes of different experiments, or some missing")
    data = b"".join(p[13:] for p in sorted(payloads, key=lambda p: p[11]))
    if struct.pack(">I", zlib.crc32(data)) != crcs.pop():
        raise ValueError("CRC32 mismatch")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = [n for n in z.namelist() if n.endswith(".phyphox")]
        if not names:
            raise ValueError("no .phyphox file in the codes")
        return z.read(names[0])
