"""Timestamps as real loggers write them: what is jitter, what is an error.

Loggers that stamp samples on arrival (BLE batches, phone sensor queues) write ties and small
backward steps; those are re-spaced silently. Anything else that cannot be a workout recording
is refused in one line naming the row: a backward step of more than ``JITTER_PERIODS`` sample
periods, a forward jump beyond ``MAX_PAUSE_S``, a span beyond ``MAX_SPAN_S``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensor.errors import InputError

JITTER_PERIODS = 1.5  # a backward step up to 1.5 sample periods is arrival jitter
MAX_PAUSE_S = 6 * 3600.0  # a longer hole is a clock error or two sessions in one file
MAX_SPAN_S = 24 * 3600.0  # one session is at most a day
MIN_RATE_HZ, MAX_RATE_HZ = 4.0, 2000.0  # phyphox custom experiments can log at 5 Hz

Lines = Callable[[int], int]  # sample index -> file line (for messages)


def nominal_period(t: np.ndarray) -> float:
    """Median of the positive steps (ties and back-steps do not count)."""
    d = np.diff(t)
    d = d[d > 0]
    return float(np.median(d)) if d.size else 0.0


def regularize(t: np.ndarray, where: str | Path, line: Lines, csv_time: bool = True) -> np.ndarray:
    """``t`` strictly increasing, row order kept: samples that do not advance past the
    latest time so far (ties, jitter back-steps) are spaced evenly between the samples
    around them. Raises ``InputError`` for a large back-step, pause, span or bad rate."""
    n = len(t)
    if n < 2:
        raise InputError(where, "fewer than 2 samples")
    period = nominal_period(t)
    if period <= 0:
        back = np.flatnonzero(np.diff(t) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise InputError(where, f"time goes backwards ({t[i - 1]:.6f} then {t[i]:.6f})", row=line(i))
        raise InputError(where, "time never advances")
    rate = 1.0 / period
    if rate < MIN_RATE_HZ:
        if csv_time and rate < 0.5:  # time_s in ms reads as 0.1 Hz
            raise InputError(where, f"sample rate {rate:.3g} Hz read from time_s is not usable (is time_s in seconds?)")
        raise InputError(where, f"recorded at {rate:.2g} Hz: set the sampling rate to 25 Hz or more and record again")
    if rate > MAX_RATE_HZ:
        raise InputError(where, f"sample rate {rate:.3g} Hz read from time_s is not usable (is time_s in seconds?)")
    top = np.maximum.accumulate(t)
    back = top[:-1] - t[1:]  # > 0: behind the latest time so far
    bad = np.flatnonzero(back > JITTER_PERIODS * period)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(where, f"time goes backwards by {back[i - 1]:.3g} s ({top[i - 1]:.6f} then {t[i]:.6f})", row=line(i))
    jump = np.flatnonzero(np.diff(top) > MAX_PAUSE_S)
    if jump.size:
        i = int(jump[0]) + 1
        raise InputError(
            where, f"time jumps forward by {t[i] - top[i - 1]:.3g} s, more than a {MAX_PAUSE_S / 3600:.0f}-h pause: "
            "a clock error, or two sessions in one file (split it)", row=line(i))
    if float(top[-1] - t[0]) > MAX_SPAN_S:
        raise InputError(where, f"spans {(top[-1] - t[0]) / 3600:.1f} h; one session is at most {MAX_SPAN_S / 3600:.0f} h")
    del top, back
    advance = np.empty(n, bool)
    advance[0] = True
    np.greater(t[1:], np.maximum.accumulate(t)[:-1], out=advance[1:])
    if advance.all():
        return t
    anchors = np.flatnonzero(advance)
    out = np.interp(np.arange(n, dtype=np.float64), anchors, t[anchors])
    last = int(anchors[-1])
    if last < n - 1:  # a trailing tie: continue at the nominal rate
        out[last + 1 :] = t[last] + period * np.arange(1, n - last)
    return out
