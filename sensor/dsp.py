"""scipy.signal's filters, imported on first use: importing scipy.signal takes seconds,
which commands that never filter (help, scan, the dashboard's start) should not pay."""

from __future__ import annotations

from typing import Any

import numpy as np


def lfilter(b: Any, a: Any, x: np.ndarray, axis: int = -1, zi: Any = None) -> Any:
    """``scipy.signal.lfilter`` (returns (y, zf) when ``zi`` is given)."""
    from scipy.signal import lfilter as f

    return f(b, a, x, axis=axis) if zi is None else f(b, a, x, axis=axis, zi=zi)


def lfilter_zi(b: Any, a: Any) -> np.ndarray:
    """``scipy.signal.lfilter_zi``."""
    from scipy.signal import lfilter_zi as f

    return f(b, a)


def butter(*args: Any, **kwargs: Any) -> Any:
    """``scipy.signal.butter``."""
    from scipy.signal import butter as f

    return f(*args, **kwargs)
