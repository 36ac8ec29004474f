"""Timestamps as real loggers write them: what is jitter, what is an error (the bounds).

Loggers that stamp samples on arrival (BLE batches, phone sensor queues) write ties and small
backward steps; those are re-spaced silently (``sensor.files.validate``). Anything else that cannot
be a workout recording is refused in one line naming the row: a backward step of more than
``JITTER_PERIODS`` sample periods, a forward jump beyond ``MAX_PAUSE_S``, a span beyond
``MAX_SESSION_S``, a rate outside ``MIN_RATE_HZ``..``MAX_RATE_HZ``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.files.limits import MAX_PAUSE_S as MAX_PAUSE_S
from sensor.files.limits import MAX_RATE_HZ, MIN_RATE_HZ
from sensor.files.limits import MAX_SESSION_S as MAX_SESSION_S
from sensor.samples import median

JITTER_PERIODS = 1.5  # a backward step up to 1.5 sample periods is arrival jitter


def nominal_period(t: np.ndarray) -> float:
    """Median of the positive steps (ties and back-steps do not count)."""
    d = np.diff(t)
    d = d[d > 0]
    return median(d) if d.size else 0.0


def check_rate(rate: float, where: str | Path, csv_time: bool = True) -> None:
    """Refuse a rate HoldTrack cannot use, saying why (``csv_time``: a file whose time
    column may be in the wrong unit)."""
    if rate < MIN_RATE_HZ:
        if csv_time and rate < 0.5:  # time_s in ms reads as 0.1 Hz
            raise InputError(where, f"sample rate {rate:.3g} Hz read from time_s is not usable (is time_s in seconds?)")
        raise InputError(where, f"recorded at {rate:.2g} Hz: set the sampling rate to 25 Hz or more and record again")
    if rate > MAX_RATE_HZ:
        raise InputError(where, f"sample rate {rate:.3g} Hz read from time_s is not usable (is time_s in seconds?)")
