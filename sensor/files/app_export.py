"""Sensor makers' own app exports: the WitMotion app's ``.txt`` (tab separated).

Columns ``time`` (local ``Y-M-D H:M:S.fff``, stamped on arrival: up to ~24 rows share one
stamp), ``AccX(g)``…, ``AsX(°/s)``…; HoldTrack reads acceleration in g and angular rate in
°/s by those names and converts them to m/s² and rad/s. The axes are the sensor's own (as
the BLE profile reads them: +1 g on z lying flat, face up).
"""

from __future__ import annotations

import math

import numpy as np

from sensor.errors import InputError
from sensor.files.csvread import Source, line_of, read_head, read_numeric
from sensor.samples import STANDARD_GRAVITY, Samples

WITMOTION_COLUMNS = ("time", "accx(g)", "accy(g)", "accz(g)", "asx(°/s)", "asy(°/s)", "asz(°/s)")


def is_witmotion(names: list[str]) -> bool:
    return all(c in names for c in WITMOTION_COLUMNS)


def read_witmotion(src: Source) -> Samples:
    """A WitMotion app export, validated like every table (ties on arrival re-spaced)."""
    from sensor.files.validate import validate_samples

    head = read_head(src)
    names = [n.strip().lower() for n in head.names]
    if not is_witmotion(names):
        raise InputError(src.name, f"needs columns {', '.join(WITMOTION_COLUMNS)}", row=1)
    t, x = read_numeric(src, head, [names.index(c) for c in WITMOTION_COLUMNS], clock_time=True)
    if not len(t):
        raise InputError(src.name, "no samples after the header")
    x *= np.array([STANDARD_GRAVITY] * 3 + [math.pi / 180] * 3, np.float32)
    return validate_samples(t, x, src.name, line_of(src, head), csv_time=False)
