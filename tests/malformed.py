"""A corpus of malformed inputs for every format HoldTrack reads, generated (never stored).

Each case builds one file (or folder, or push body) and says what a reader must do with it:
``refuse`` (one line, non-zero exit, nothing written) or ``damaged`` (readable: analysed,
with the damage reported). Run as a script to write the files for a manual probe::

    python -m tests.malformed OUTDIR
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sensor.recording import MAGIC
from sensor.recording.format import _REC, encode_samples
from sensor.samples import Samples
from sensor.stream import Header

G = 9.80665


@dataclass(frozen=True)
class Case:
    name: str  # also the file name (with its suffix)
    build: Callable[[Path], None]  # writes the file at the given path
    expect: str  # "refuse" or "damaged"
    pending_reader_fix: bool = False  # a CSV/phone case fixed on the readers branch


# -- samples -------------------------------------------------------------------------------


def still_samples(seconds: float = 30.0, rate: float = 100.0, seed: int = 0, t0: float = 0.0) -> Samples:
    """A sensor lying still on its back with a slow sway: plausible SI data."""
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(int(seconds * rate)) / rate
    tilt = 0.05 * np.sin(2 * np.pi * 0.2 * t)
    acc = np.stack([G * np.sin(tilt), np.zeros_like(t), G * np.cos(tilt)], axis=1) + rng.normal(0, 0.05, (len(t), 3))
    gyro = np.stack([np.zeros_like(t), 0.05 * 2 * np.pi * 0.2 * np.cos(2 * np.pi * 0.2 * t), np.zeros_like(t)], axis=1)
    gyro += rng.normal(0, 0.01, (len(t), 3))
    return Samples(t, np.concatenate([acc, gyro], axis=1).astype(np.float32))


# -- .htrec building blocks ----------------------------------------------------------------


def record(kind: bytes, payload: bytes, crc: int | None = None, length: int | None = None) -> bytes:
    c = zlib.crc32(payload) if crc is None else crc
    return _REC.pack(kind, len(payload) if length is None else length, c) + payload


def header_record(obj: Any = None) -> bytes:
    body = Header(source="test").to_json() if obj is None else obj
    return record(b"H", body if isinstance(body, bytes) else json.dumps(body).encode())


def sample_records(s: Samples, block: int = 500) -> list[bytes]:
    return [record(b"S", encode_samples(c)) for c in s.chunks(block)]


def htrec(*records: bytes, header: bytes | None = None, end: bool = True) -> bytes:
    out = MAGIC + (header_record() if header is None else header)
    out += b"".join(records)
    return out + (record(b"E", b'{"samples": 0}') if end else b"")


def good_htrec(seconds: float = 30.0) -> bytes:
    return htrec(*sample_records(still_samples(seconds)))


def _with_header(obj: Any) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(htrec(*sample_records(still_samples(20)), header=header_record(obj)))


def _header_with(**fields: Any) -> Callable[[Path], None]:
    return _with_header({**Header(source="test").to_json(), **fields})


def _samples_file(s: Samples, block: int = 500) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(htrec(*sample_records(s, block)))


def _with_record(kind: bytes, payload: bytes) -> Callable[[Path], None]:
    s = still_samples(20)
    return lambda p: p.write_bytes(htrec(*sample_records(s[:1000]), record(kind, payload), *sample_records(s[1000:])))


def _scaled(acc: float = 1.0, gyro: float = 1.0, time: float = 1.0) -> Samples:
    s = still_samples(30)
    x = s.imu.copy()
    x[:, :3] *= acc
    x[:, 3:] *= gyro
    return Samples(s.time_s * time, x)


def _edit_times(edit: Callable[[np.ndarray], None], seconds: float = 30.0) -> Samples:
    s = still_samples(seconds)
    t = s.time_s.copy()
    edit(t)
    return Samples(t, s.imu)


def _nan_block(value: float) -> Callable[[Path], None]:
    s = still_samples(20)
    x = s.imu.copy()
    x[1200:1300, 2] = value
    return _samples_file(Samples(s.time_s, x))


def _bomb_block(n: int, start_tick: int = 0) -> bytes:
    """A quantized block of ``n`` constant samples: tiny compressed, huge inflated."""
    lsb = [0.01] * 6
    dt = np.full(n, 10_000, np.int64)  # 100 Hz in µs ticks
    dt[0] += start_tick
    dc = np.zeros((6, n), np.int32)
    dc[2, 0] = 981
    shuffle = lambda a: np.ascontiguousarray(a.reshape(-1).view(np.uint8).reshape(-1, a.dtype.itemsize).T).tobytes()  # noqa: E731
    body = struct.pack("<d6d", 1e-6, *lsb) + shuffle(dt) + shuffle(dc)
    return struct.pack("<IB", n, 1) + zlib.compress(body, 9)


def _flip_bit(at: float) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        d = bytearray(good_htrec(40))
        d[int(len(d) * at)] ^= 0x04
        p.write_bytes(bytes(d))

    return build


def _corrupt_length(value: int, truncate: int = 0) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        recs = sample_records(still_samples(40))
        bad = bytearray(recs[3])
        struct.pack_into("<I", bad, 1, value)
        data = htrec(*recs[:3], bytes(bad), *recs[4:])
        p.write_bytes(data[: len(data) - truncate] if truncate else data)

    return build


def _insert_garbage(p: Path) -> None:
    recs = sample_records(still_samples(40))
    junk = np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    p.write_bytes(htrec(*recs[:4], junk, *recs[4:]))


def _truncated(cut: int) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(good_htrec(40)[:-cut])


def _many_bombs(p: Path) -> None:
    # Each block is 262,144 constant samples (2,621 s at 100 Hz): about 15 MB inflated
    # from a few kB; together far beyond what the file size allows.
    n = 1 << 18
    blocks = []
    for i in range(12):
        blocks.append(record(b"S", _bomb_block(n, i * n * 10_000)))
    p.write_bytes(htrec(*blocks))


def _too_long_session(p: Path) -> None:
    head = still_samples(20)
    t = head.time_s[-1] + 3000.0 * np.arange(1, 40)
    tail = Samples(t, np.repeat(head.imu[-1:], len(t), axis=0))
    p.write_bytes(htrec(*sample_records(head), *sample_records(tail)))


def _backwards_across_blocks(p: Path) -> None:
    s = still_samples(30)
    p.write_bytes(htrec(*sample_records(s[:1500]), *sample_records(s[1000:])))


HTREC_CASES: list[Case] = [
    # header shape
    Case("header-list.htrec", _with_header([]), "refuse"),
    Case("header-string.htrec", _with_header("hello"), "refuse"),
    Case("header-null.htrec", lambda p: p.write_bytes(htrec(header=record(b"H", b"null"))), "refuse"),
    Case("header-number.htrec", _with_header(0), "refuse"),
    Case("header-not-json.htrec", lambda p: p.write_bytes(htrec(header=record(b"H", b"{not json"))), "refuse"),
    Case("header-deep.htrec", lambda p: p.write_bytes(htrec(header=record(b"H", b"[" * 100_000))), "refuse"),
    Case("header-mount-sideways.htrec", _header_with(mount="sideways"), "refuse"),
    Case("header-mount-number.htrec", _header_with(mount=5), "refuse"),
    Case("header-device-string.htrec", _header_with(device="polar"), "refuse"),
    Case("header-rate-text.htrec", _header_with(sample_rate_hz="fast"), "refuse"),
    Case("header-future-version.htrec", _header_with(format_version=99), "refuse"),
    Case("header-version-text.htrec", _header_with(format_version="one"), "refuse"),
    Case("header-calibration-list.htrec", _header_with(calibration=[1, 2]), "refuse"),
    Case("header-lsb-short.htrec", _header_with(extra={"lsb": [1, 2]}), "refuse"),
    Case("header-not-utf8.htrec", lambda p: p.write_bytes(htrec(header=record(b"H", b"\xff\xfe{}"))), "refuse"),
    Case("no-header.htrec", lambda p: p.write_bytes(MAGIC + b"".join(sample_records(still_samples(5)))), "refuse"),
    Case("magic-only.htrec", lambda p: p.write_bytes(MAGIC), "refuse"),
    Case("empty.htrec", lambda p: p.write_bytes(b""), "refuse"),
    Case("bad-magic.htrec", lambda p: p.write_bytes(b"HTREC\x00\x02\n" + good_htrec()[8:]), "refuse"),
    Case("torn-header.htrec", lambda p: p.write_bytes(good_htrec()[:20]), "refuse"),
    # gap, note and end records
    Case("gap-empty.htrec", _with_record(b"G", b"{}"), "refuse"),
    Case("gap-not-json.htrec", _with_record(b"G", b"{gap"), "refuse"),
    Case("gap-list.htrec", _with_record(b"G", b"[1, 2]"), "refuse"),
    Case("gap-text-times.htrec", _with_record(b"G", b'{"start_s": "a", "end_s": "b"}'), "refuse"),
    Case("gap-nan.htrec", _with_record(b"G", b'{"start_s": NaN, "end_s": 3}'), "refuse"),
    Case("gap-reversed.htrec", _with_record(b"G", b'{"start_s": 9, "end_s": 3}'), "refuse"),
    Case("gap-bool.htrec", _with_record(b"G", b'{"start_s": true, "end_s": 3}'), "refuse"),
    Case("gap-1e300.htrec", _with_record(b"G", b'{"start_s": -1e300, "end_s": 1e300}'), "refuse"),
    Case(
        "gap-after-the-end.htrec",
        lambda p: p.write_bytes(htrec(*sample_records(still_samples(20)), record(b"G", b'{"start_s": 1e300, "end_s": 1e300}'))),
        "refuse",
    ),
    Case("note-not-json.htrec", _with_record(b"M", b"calibrated!"), "refuse"),
    Case("note-list.htrec", _with_record(b"M", b"[]"), "refuse"),
    Case("note-deep.htrec", _with_record(b"M", b"[" * 100_000 + b"]" * 100_000), "refuse"),
    Case(
        "end-not-json.htrec", lambda p: p.write_bytes(htrec(*sample_records(still_samples(20)), record(b"E", b"end"), end=False)), "refuse"
    ),
    # sample contents
    Case("samples-nan.htrec", _nan_block(np.nan), "refuse"),
    Case("samples-inf.htrec", _nan_block(np.inf), "refuse"),
    Case("samples-in-g.htrec", _samples_file(_scaled(acc=1 / G)), "refuse"),
    Case("samples-gyro-deg.htrec", _samples_file(_scaled(gyro=57.29578 * 20)), "refuse"),
    Case("samples-milliseconds.htrec", _samples_file(_scaled(time=1000.0)), "refuse"),
    Case("samples-microseconds.htrec", _samples_file(_scaled(time=1e6)), "refuse"),
    Case("samples-all-zero.htrec", _samples_file(_scaled(acc=0.0)), "refuse"),
    Case(
        "samples-backwards-in-block.htrec",
        _samples_file(_edit_times(lambda t: t.__setitem__(slice(1200, 1210), t[1200:1210] - 1.0))),
        "refuse",
    ),
    Case("samples-repeated-time.htrec", _samples_file(_edit_times(lambda t: t.__setitem__(1201, t[1200]))), "refuse"),
    Case("samples-backwards-across-blocks.htrec", _backwards_across_blocks, "refuse"),
    Case("samples-clock-jump.htrec", _samples_file(_edit_times(lambda t: t.__setitem__(slice(1500, None), t[1500:] + 1e9))), "refuse"),
    Case("samples-last-time-typo.htrec", _samples_file(_edit_times(lambda t: t.__setitem__(-1, 1e9))), "refuse"),
    Case("samples-session-too-long.htrec", _too_long_session, "refuse"),
    Case("samples-nan-time.htrec", _samples_file(_edit_times(lambda t: t.__setitem__(700, np.nan))), "refuse"),
    Case("samples-none.htrec", lambda p: p.write_bytes(htrec()), "refuse"),
    Case("samples-undecodable.htrec", lambda p: p.write_bytes(htrec(record(b"S", struct.pack("<IB", 100, 0) + b"xyz"))), "refuse"),
    Case(
        "samples-unknown-encoding.htrec",
        lambda p: p.write_bytes(htrec(record(b"S", struct.pack("<IB", 1, 7) + zlib.compress(b"0" * 56)))),
        "refuse",
    ),
    Case("samples-short-payload.htrec", lambda p: p.write_bytes(htrec(record(b"S", b"ab"))), "refuse"),
    Case(
        "bomb-one-block.htrec",
        lambda p: p.write_bytes(htrec(record(b"S", struct.pack("<IB", 50_000_000, 0) + zlib.compress(bytes(1 << 20))))),
        "refuse",
    ),
    Case(
        "bomb-inflates-beyond-size.htrec",
        lambda p: p.write_bytes(htrec(record(b"S", struct.pack("<IB", 10, 0) + zlib.compress(bytes(20 << 20), 9)))),
        "refuse",
    ),
    Case("bomb-many-blocks.htrec", _many_bombs, "refuse"),
    # damaged but readable: analysed, with the damage said
    Case("damaged-bit-flip-early.htrec", _flip_bit(0.3), "damaged"),
    Case("damaged-bit-flip-late.htrec", _flip_bit(0.7), "damaged"),
    Case("damaged-length-50mb.htrec", _corrupt_length(50_000_000), "damaged"),
    Case("damaged-length-max.htrec", _corrupt_length(0xFFFFFFFF), "damaged"),
    Case("damaged-length-small.htrec", _corrupt_length(7), "damaged"),
    Case("damaged-garbage-inserted.htrec", _insert_garbage, "damaged"),
    Case("damaged-unknown-kind.htrec", _with_record(b"Z", b'{"what": 1}'), "damaged"),
    Case("interrupted-torn-tail.htrec", _truncated(300), "damaged"),
    Case("interrupted-no-end.htrec", lambda p: p.write_bytes(htrec(*sample_records(still_samples(30)), end=False)), "damaged"),
    Case("interrupted-length-and-torn.htrec", _corrupt_length(50_000_000, truncate=30), "damaged"),
]


def _push_items(n: int = 10, t0_ns: int = 1_700_000_000_000_000_000, **change: Any) -> bytes:
    items = []
    for i in range(n):
        t = t0_ns + i * 10_000_000
        items.append({"name": "totalacceleration", "time": t, "values": {"x": 0.1, "y": 0.2, "z": 9.8}})
        items.append({"name": "gyroscope", "time": t, "values": {"x": 0.0, "y": 0.01, "z": 0.0}})
    for k, v in change.items():
        items[0][k] = v
    return json.dumps({"messageId": 1, "payload": items}).encode()


PUSH_CASES: list[tuple[str, bytes, str]] = [
    # (name, body, what the one-line answer says) -- each answered 4xx, nothing released
    ("deep-list", b"[" * 100_000, "nested"),
    ("deep-object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested"),
    ("deep-in-payload", b'{"payload": [' + b"[" * 1000 + b"]" * 1000 + b"]}", "nested"),
    ("not-json", b"hello", "not valid JSON"),
    ("truncated-json", _push_items()[:-10], "not valid JSON"),
    ("not-utf8", b'{"payload": "\xff"}', "not valid JSON"),
    ("empty-body", b"", "not valid JSON"),
    ("json-list", b"[1, 2, 3]", "payload"),
    ("json-number", b"42", "payload"),
    ("payload-string", b'{"payload": "nope"}', "payload"),
    ("payload-missing", b'{"messageId": 1}', "payload"),
    ("item-not-object", b'{"payload": [1]}', "not an object"),
    ("time-missing", _push_items(time=None), "needs 'time'"),
    ("time-text", _push_items(time="soon"), "needs 'time'"),
    ("values-text", _push_items(values={"x": "a", "y": 1, "z": 1}), "x, y, z"),
    ("values-nan", b'{"payload": [{"name": "gyroscope", "time": 1, "values": {"x": NaN, "y": 0, "z": 0}}]}', "non-finite"),
    ("values-infinity", b'{"payload": [{"name": "gyroscope", "time": 1, "values": {"x": Infinity, "y": 0, "z": 0}}]}', "non-finite"),
    ("span-of-years", _push_items(2, time=1_700_000_000_000_000_000 + 10**18), "spans"),
]


def write_corpus(folder: Path, cases: list[Case]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for c in cases:
        p = folder / c.name
        c.build(p)
        out.append(p)
    return out


def all_file_cases() -> list[Case]:
    """Every file case (CSV, zips and phone exports included) but the special files."""
    from tests.malformed_tables import TABLE_CASES

    return HTREC_CASES + TABLE_CASES


if __name__ == "__main__":
    paths = write_corpus(Path(sys.argv[1]), all_file_cases())
    print(f"wrote {len(paths)} files to {sys.argv[1]}")
