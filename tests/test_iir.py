"""The signal core's IIR filters (``sensor.signal.iir``) against ``scipy.signal``: the same
designs within floating-point rounding, the same filter output bit for bit (it runs
scipy's own C routine), and no ``scipy.signal`` import on the way."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import numpy as np
import pytest

from sensor.signal import iir


@pytest.fixture(scope="module")
def ss() -> ModuleType:
    """scipy.signal, the reference: imported here (about 1 s) rather than when the suite is collected."""
    import scipy.signal

    return scipy.signal


DESIGN_TOL = 1e-12  # coefficients of order-2/4 designs are O(1): a few ulps apart at most


@pytest.mark.parametrize(("cutoff", "fs"), [(0.5, 50.0), (3.0, 50.0), (10.0, 25.0), (20.0, 400.0)])
def test_low_pass_design_matches_scipy(cutoff: float, fs: float, ss: ModuleType) -> None:
    b, a = iir.butter(2, cutoff, fs)
    sb, sa = ss.butter(2, cutoff, fs=fs)
    np.testing.assert_allclose(b, sb, rtol=0, atol=DESIGN_TOL * max(1.0, np.abs(sb).max()))
    np.testing.assert_allclose(a, sa, rtol=0, atol=DESIGN_TOL)


@pytest.mark.parametrize(("band", "fs"), [((4.0, 15.0), 50.0), ((4.0, 11.25), 25.0), ((4.0, 15.0), 400.0)])
def test_band_pass_design_matches_scipy(band: tuple[float, float], fs: float, ss: ModuleType) -> None:
    b, a = iir.butter(2, band, fs, "band")
    sb, sa = ss.butter(2, list(band), btype="band", fs=fs)
    np.testing.assert_allclose(b, sb, rtol=0, atol=DESIGN_TOL)
    np.testing.assert_allclose(a, sa, rtol=0, atol=DESIGN_TOL)


def test_filtering_is_scipy_s_bit_for_bit_in_any_chunking(ss: ModuleType) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3001, 3))
    b, a = ss.butter(2, 3.0, fs=50.0)
    zi0 = ss.lfilter_zi(b, a)
    np.testing.assert_allclose(iir.lfilter_zi(b, a), zi0, rtol=0, atol=1e-12)
    want, want_zf = ss.lfilter(b, a, x, axis=0, zi=zi0[:, None] * x[0][None, :])
    got, zf = [], zi0[:, None] * x[0][None, :]
    for lo, hi in [(0, 1), (1, 6), (6, 1000), (1000, 3001)]:
        y, zf = iir.lfilter(b, a, x[lo:hi], axis=0, zi=zf)
        got.append(y)
    assert np.array_equal(np.concatenate(got), want) and np.array_equal(zf, want_zf)
    # A first-order recursion with scalar state, and no state at all.
    y, z = iir.lfilter([0.1], [1.0, -0.9], x[:, 0], zi=[0.5])
    sy, sz = ss.lfilter([0.1], [1.0, -0.9], x[:, 0], zi=[0.5])
    assert np.array_equal(y, sy) and np.array_equal(z, sz)
    bb, ab = ss.butter(2, [4.0, 15.0], btype="band", fs=50.0)
    assert np.array_equal(iir.lfilter(bb, ab, x, axis=0), ss.lfilter(bb, ab, x, axis=0))


def test_bad_cutoffs_are_refused() -> None:
    with pytest.raises(ValueError):
        iir.butter(2, 30.0, 50.0)
    with pytest.raises(ValueError):
        iir.butter(2, 3.0, 50.0, "band")


def test_filtering_does_not_import_scipy_signal() -> None:
    code = (
        "import sys, numpy as np\n"
        "from sensor.signal import iir\n"
        "b, a = iir.butter(2, 3.0, 50.0)\n"
        "iir.lfilter(b, a, np.ones(10))\n"
        "print('scipy.signal' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_first_order_is_lfilter_bit_for_bit_with_its_state_carried(ss: ModuleType) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=1000)
    a = 0.93
    y, zf = ss.lfilter([1.0 - a], [1.0, -a], x, zi=[0.4])
    parts, z = [], 0.4
    for piece in np.split(x, [1, 2, 300, 301, 777]):  # state carried across cuts
        yp, z = iir.first_order(1.0 - a, -a, piece, z)
        parts.append(yp)
    np.testing.assert_array_equal(np.concatenate(parts), y)
    assert z == zf[0]
