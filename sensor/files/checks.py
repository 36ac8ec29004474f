"""Checks shared by readers of untrusted input (recordings, phone pushes): bounded JSON,
and the time and value sanity of a stream of sample blocks.

Each check raises ``ValueError`` with a short reason; the reader adds the file and place
and turns it into its own ``InputError``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from sensor.files.limits import MAX_JSON_DEPTH, MAX_PAUSE_S, MAX_RATE_HZ, MAX_SESSION_S, MIN_RATE_HZ
from sensor.samples import Samples, median

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def json_depth(data: bytes) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings (without recursing)."""
    bare = _JSON_STRING.sub(b'""', data)
    if not bare:
        return 0
    steps = _OPEN[np.frombuffer(bare, np.uint8)]
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def parse_json(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` with a nesting limit checked first (deep nesting would recurse)."""
    depth = json_depth(data)
    if depth > max_depth:
        raise ValueError(f"JSON nested {depth} deep (at most {max_depth} accepted)")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"not valid JSON ({e})") from None


def finite_number(obj: dict[str, Any], key: str) -> float:
    """``obj[key]`` as a finite float, or ValueError naming the key."""
    v = obj.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{key} is {v!r}, not a finite number")
    return float(v)


class StreamCheck:
    """Time and value sanity of consecutive sample blocks of one session.

    Times must be finite and strictly increasing, never jump forward by more than
    ``MAX_PAUSE_S`` and span at most ``MAX_SESSION_S``; values must be finite. The first
    ``window_s`` of samples also fixes the rate and the units (m/s², rad/s).
    """

    def __init__(self, window_s: float = 10.0) -> None:
        self.first_t: float | None = None
        self.last_t = -math.inf
        self.window_s = window_s
        self._window: list[Samples] = []
        self.checked_units = False

    def block(self, s: Samples) -> None:
        """Check one block (raises ValueError with the reason and the time it happens)."""
        if len(s) == 0:
            return
        t = s.time_s
        if not np.all(np.isfinite(t)):
            raise ValueError("a sample time is NaN or infinite")
        if not np.all(np.isfinite(s.imu)):
            i = int(np.flatnonzero(~np.all(np.isfinite(s.imu), axis=1))[0])
            raise ValueError(f"NaN or infinite values at {t[i]:.3f} s")
        first = self.first_t is None
        prev = np.concatenate(([t[0] if first else self.last_t], t[:-1]))
        dt = (t - prev)[1 if first else 0 :]
        prev, t_at = prev[1 if first else 0 :], t[1 if first else 0 :]
        back = np.flatnonzero(dt <= 0)
        if back.size:
            i = int(back[0])
            what = "goes backwards" if dt[i] < 0 else "repeats"
            raise ValueError(f"time {what} at {t_at[i]:.3f} s (after {prev[i]:.3f} s)")
        jump = np.flatnonzero(dt > MAX_PAUSE_S)
        if jump.size:
            i = int(jump[0])
            raise ValueError(f"time jumps forward by {dt[i]:.0f} s at {prev[i]:.3f} s (a pause of at most {MAX_PAUSE_S:.0f} s is accepted)")
        if self.first_t is None:
            self.first_t = float(t[0])
        if float(t[-1]) - self.first_t > MAX_SESSION_S:
            raise ValueError(f"session spans more than {MAX_SESSION_S / 3600:.0f} h (up to {t[-1]:.0f} s)")
        self.last_t = float(t[-1])
        if not self.checked_units:
            self._window.append(s)
            if self.last_t - float(self._window[0].time_s[0]) >= self.window_s:
                self.finish()

    def finish(self) -> None:
        """Check rate and units on what the window holds (call at the end of the stream)."""
        if self.checked_units or not self._window:
            return
        self.checked_units = True
        w = Samples.concat(self._window)
        self._window = []
        if len(w) < 2:
            return
        rate = 1.0 / median(np.diff(w.time_s))
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            raise ValueError(f"sample rate {rate:.3g} Hz read from the times is not usable (are times in seconds?)")
        from sensor.errors import InputError
        from sensor.files.validate import check_units  # the one unit check every reader shares

        try:
            check_units(w.time_s, w.imu.astype(np.float64), "<samples>")
        except InputError as e:
            raise ValueError(e.message) from None
