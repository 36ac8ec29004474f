"""IIR filtering for the signal core without ``import scipy.signal``.

``import scipy.signal`` costs about 2 s of start-up with scipy 1.17 (it pulls in most of
scipy), far more than ``holdtrack analyze`` spends on a short file. The core needs only
Butterworth designs of low order and a linear filter with state, so the designs are
computed here in closed form (analog prototype, pre-warping, bilinear transform) and
filtering runs scipy's own C routine (``scipy.signal._sigtools._linear_filter``, what
``scipy.signal.lfilter`` calls for float data), loaded on its own. Where that private module
cannot be loaded (another scipy layout), ``scipy.signal.lfilter`` is used: same results,
slower start.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Coefficients = tuple[NDArray[np.float64], NDArray[np.float64]]


@cache
def _linear_filter() -> Callable[..., Any]:
    spec = importlib.util.find_spec("scipy")
    if spec is not None and spec.submodule_search_locations:
        for base in spec.submodule_search_locations:
            for path in sorted(Path(base, "signal").glob("_sigtools*.so")) + sorted(Path(base, "signal").glob("_sigtools*.pyd")):
                try:
                    # Loaded under a private package name: the extension's init symbol only
                    # depends on the last component, and scipy.signal stays unimported.
                    loader = importlib.machinery.ExtensionFileLoader("_holdtrack_scipy._sigtools", str(path))
                    mod_spec = importlib.util.spec_from_file_location("_holdtrack_scipy._sigtools", path, loader=loader)
                    if mod_spec is None:
                        continue
                    module = importlib.util.module_from_spec(mod_spec)
                    loader.exec_module(module)
                    fn: Callable[..., Any] = module._linear_filter
                    return fn
                except (ImportError, AttributeError, OSError):
                    continue
    from scipy.signal import lfilter  # the public route: same numbers

    def via_scipy(b: Any, a: Any, x: Any, axis: int = -1, zi: Any = None) -> Any:
        return lfilter(b, a, x, axis=axis) if zi is None else lfilter(b, a, x, axis=axis, zi=zi)

    return via_scipy


def lfilter(b: ArrayLike, a: ArrayLike, x: ArrayLike, axis: int = -1, zi: ArrayLike | None = None) -> Any:
    """``scipy.signal.lfilter`` for float data and a recursive filter (``len(a) > 1``):
    ``y`` alone, or ``(y, zf)`` when ``zi`` is given (``zi`` shaped like ``x`` with the
    filter axis of length ``max(len(a), len(b)) - 1``)."""
    b_ = np.atleast_1d(np.asarray(b, dtype=np.float64))
    a_ = np.atleast_1d(np.asarray(a, dtype=np.float64))
    if a_.size < 2:
        raise ValueError("lfilter here is for recursive filters (len(a) > 1)")
    x_ = np.asarray(x, dtype=np.float64)
    n = max(a_.size, b_.size)
    if a_.size < n:
        a_ = np.concatenate([a_, np.zeros(n - a_.size)])
    if b_.size < n:
        b_ = np.concatenate([b_, np.zeros(n - b_.size)])
    f = _linear_filter()
    if zi is None:
        return f(b_, a_, x_, axis)
    zi_ = np.asarray(zi, dtype=np.float64)
    shape = list(x_.shape)
    shape[axis] = n - 1
    zi_ = np.ascontiguousarray(np.broadcast_to(zi_, tuple(shape)))
    return f(b_, a_, x_, axis, zi_)


def first_order(b0: float, a1: float, x: NDArray[np.float64], zi: float) -> tuple[NDArray[np.float64], float]:
    """``lfilter([b0], [1, a1], x, zi=[zi])`` as ``(y, zf)`` with a float state: the same C
    routine and the same numbers, without the argument handling (several µs a call, which
    the detector would pay a few times per movement)."""
    y, zf = _linear_filter()(np.array([b0, 0.0]), np.array([1.0, a1]), x, -1, np.array([zi]))
    return y, float(zf[0])


def lfilter_zi(b: ArrayLike, a: ArrayLike) -> NDArray[np.float64]:
    """The filter state of a step response's steady state (``scipy.signal.lfilter_zi``):
    ``zi * x[0]`` starts a filter as if ``x[0]`` had always been its input."""
    b_ = np.atleast_1d(np.asarray(b, dtype=np.float64))
    a_ = np.atleast_1d(np.asarray(a, dtype=np.float64))
    b_, a_ = b_ / a_[0], a_ / a_[0]
    n = max(a_.size, b_.size)
    a_ = np.concatenate([a_, np.zeros(n - a_.size)])
    b_ = np.concatenate([b_, np.zeros(n - b_.size)])
    # Transposed direct form II in steady state: (I - A) zi = B, A the companion matrix.
    companion = np.zeros((n - 1, n - 1))
    companion[:, 0] = -a_[1:]
    companion[: n - 2, 1:] += np.eye(n - 2) if n > 2 else 0.0
    rhs = b_[1:] - a_[1:] * b_[0]
    return np.asarray(np.linalg.solve(np.eye(n - 1) - companion, rhs), dtype=np.float64)


def butter(
    order: int, cutoff_hz: float | tuple[float, float] | list[float], fs: float, btype: Literal["low", "band"] = "low"
) -> Coefficients:
    """Butterworth design as ``scipy.signal.butter(order, cutoff, btype, fs=fs)`` in
    transfer-function form ``(b, a)``: low-pass, or band-pass (order ``2 * order``)."""
    nyquist = fs / 2.0
    k = np.arange(order)
    poles = np.exp(1j * np.pi * (2 * k + order + 1) / (2 * order))  # analog prototype, left half plane
    fs2 = 4.0  # scipy designs on a normalised rate of 2, whose bilinear constant is 2 * 2

    def warp(hz: float) -> float:
        if not 0.0 < hz < nyquist:
            raise ValueError(f"cutoff {hz} Hz must lie between 0 and {nyquist} Hz")
        return float(fs2 * np.tan(np.pi * (hz / nyquist) / 2.0))

    if btype == "low":
        if not isinstance(cutoff_hz, (int, float)):
            raise ValueError("a low-pass takes one cutoff")
        wc = warp(float(cutoff_hz))
        p = wc * poles
        z = np.empty(0, dtype=complex)
        gain = wc**order
    else:
        if isinstance(cutoff_hz, (int, float)):
            raise ValueError("a band-pass takes two cutoffs")
        lo, hi = (float(c) for c in cutoff_hz)
        w1, w2 = warp(lo), warp(hi)
        bw, w0 = w2 - w1, np.sqrt(w1 * w2)
        half = poles * bw / 2.0
        root = np.sqrt(half**2 - w0**2 + 0j)
        p = np.concatenate([half + root, half - root])
        z = np.zeros(order, dtype=complex)
        gain = bw**order
    # Bilinear transform s -> fs2 (z - 1) / (z + 1); missing zeros go to z = -1.
    zd = (fs2 + z) / (fs2 - z)
    pd = (fs2 + p) / (fs2 - p)
    zd = np.concatenate([zd, -np.ones(p.size - z.size)])
    gain_d = gain * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    b = gain_d * np.real(np.poly(zd))
    a = np.real(np.poly(pd))
    return np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64)
