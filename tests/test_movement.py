"""The detector's array helpers: the fast median and the growing trace give exactly what
the plain numpy they replace gives."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.signal.movement import Trace, first_true, last_true, median


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 50, 51, 1000])
def test_median_is_numpys_bit_for_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    for scale in (1e-6, 1.0, 1e6):
        x = rng.normal(size=n) * scale
        assert median(x) == float(np.median(x))
    x = rng.integers(-3, 3, size=n).astype(float)  # ties
    assert median(x) == float(np.median(x))


def test_median_of_nan_is_nan_as_numpy() -> None:
    assert np.isnan(median(np.array([1.0, np.nan, 2.0])))


def test_first_and_last_true() -> None:
    m = np.array([False, True, False, True, False])
    assert (first_true(m), last_true(m)) == (1, 3)
    assert first_true(np.zeros(4, bool)) == -1 and last_true(np.zeros(4, bool)) == -1
    assert first_true(np.zeros(0, bool)) == -1 and last_true(np.zeros(0, bool)) == -1
    assert (first_true(np.ones(3, bool)), last_true(np.ones(3, bool))) == (0, 2)


def test_trace_grows_and_drops_like_concatenation() -> None:
    rng = np.random.default_rng(3)
    tr = Trace()
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(60):  # past several doublings of the buffers
        m = int(rng.integers(0, 90))
        cols = (rng.normal(size=m), rng.normal(size=(m, 3)))
        tr.add(*cols)
        kept.append(cols)
        if rng.random() < 0.2:
            drop = int(rng.integers(0, 30))
            tr.drop_last(drop)
            whole = [np.concatenate([k[i] for k in kept]) for i in range(2)]
            whole = [w[: max(0, len(w) - drop)] for w in whole]
            kept = [(whole[0], whole[1])]
        t, up = tr.arrays()
        np.testing.assert_array_equal(t, np.concatenate([k[0] for k in kept]))
        np.testing.assert_array_equal(up, np.concatenate([k[1] for k in kept]))
