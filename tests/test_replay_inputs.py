"""``replay:`` plays anything ``analyze`` reads: a recording, the generic CSV or a phone
export, sample for sample."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from sensor.errors import InputError
from sensor.files.inputs import read_samples, write_generic_csv
from sensor.samples import Samples
from sensor.sources import make_source
from sensor.sources.paced import ReplaySource
from tests.conftest import sim
from tests.test_vectors import VECTORS


def played(path: Path) -> Samples:
    src = make_source(f"replay:{path}", speed=50)
    assert isinstance(src, ReplaySource)

    async def collect() -> list[object]:
        return [item async for item in src.stream()]

    return Samples.concat([i for i in asyncio.run(collect()) if isinstance(i, Samples)])


@pytest.mark.parametrize("path", ["phyphox/excel_export_walking.xls", "sensor_logger/android_1.60_bom", "csv"])
def test_a_csv_or_a_phone_export_replays_sample_for_sample(path: str, tmp_path: Path) -> None:
    if path == "csv":
        src = tmp_path / "short.csv"
        s = sim(4, short=True, rate_hz=25.0).samples
        write_generic_csv(src, s[: 25 * 20])
    else:
        src = VECTORS / path
    got, want = played(src), read_samples(src)[1]
    assert len(got) == len(want) > 0
    np.testing.assert_array_equal(got.time_s, want.time_s)
    np.testing.assert_array_equal(got.imu, want.imu)


def test_replaying_an_unknown_file_fails_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("shopping list\n")
    with pytest.raises(InputError, match="unknown format"):
        make_source(f"replay:{bad}")
