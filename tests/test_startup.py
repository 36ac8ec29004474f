"""What ``holdtrack analyze`` loads: nothing heavy it does not use (start-up is a user-visible
cost; the figure is in benchmarks/analyze_bench.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sensor.files.inputs import write_generic_csv
from sensor.samples import Samples, median, percentile


def test_median_and_percentile_are_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 10, 101, 1000):
        x = rng.normal(size=n)
        assert median(x) == float(np.median(x))
        for q in (0.0, 1.0, 25.0, 50.0, 99.5, 100.0):
            assert percentile(x, q) == float(np.percentile(x, q))
    nan = np.array([1.0, np.nan, 3.0])
    assert np.isnan(median(nan)) and np.isnan(percentile(nan, 50.0))


@pytest.mark.slow
def test_analyze_loads_no_heavy_module_it_does_not_use(tmp_path: Path) -> None:
    t = np.arange(3000) / 100.0
    imu = np.tile(np.array([0.0, 0.0, 9.81, 0.0, 0.0, 0.0], np.float32), (len(t), 1))
    csv = tmp_path / "still.csv"
    write_generic_csv(csv, Samples(t, imu))
    code = (
        "import sys, io, contextlib\n"
        "from sensor.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main(['analyze', {str(csv)!r}, '--json'])\n"
        "print(sorted(m for m in ('numpy.ma', 'scipy.signal', 'pandas', 'streamlit', 'bleak') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
