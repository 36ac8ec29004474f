"""Checks shared by readers of untrusted input (recordings, phone pushes): bounded JSON,
and the time and value sanity of a stream of sample blocks.

Each check raises ``ValueError`` with a short reason; the reader adds the file and place
and turns it into its own ``InputError``.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np

from sensor.events import Gap
from sensor.files.limits import (
    GAP_SLACK_S,
    GAPS_PER_S,
    MAX_JSON_COST,
    MAX_JSON_DEPTH,
    MAX_PAUSE_S,
    MAX_RATE_HZ,
    MAX_SESSION_S,
    MIN_RATE_HZ,
)
from sensor.samples import Samples, median

# Bytes ``json.loads`` allocates per character of the text, measured with tracemalloc on the
# costliest shapes (``[{},{},…]`` 25 bytes a byte, ``{"k1":0,…}`` 14, ``[0.5,…]`` 9, one long
# string 2): each token's weight is set so the sum bounds what was measured, with margin.
_TOKEN_COST = ((b"{", 75), (b"[", 75), (b",", 40), (b":", 120), (b'"', 30))
_TEXT_COST = 3  # the text decoded to str, and a string's copy of it


def json_cost(data: bytes) -> int:
    """An upper bound of the bytes ``json.loads(data)`` allocates (a few C-speed counts,
    no copy): refusing by it bounds the memory any JSON from outside can take."""
    return _TEXT_COST * len(data) + sum(w * data.count(c) for c, w in _TOKEN_COST)


def json_depth_over(obj: Any, limit: int) -> bool:
    """True if containers nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(obj, 1)] if isinstance(obj, (dict, list)) else []
    while stack:
        o, d = stack.pop()
        if d > limit:
            return True
        for v in o.values() if isinstance(o, dict) else o:
            if isinstance(v, (dict, list)):
                stack.append((v, d + 1))
    return False


def parse_json(data: bytes, max_depth: int = MAX_JSON_DEPTH, max_cost: int = MAX_JSON_COST) -> Any:
    """``json.loads`` within bounds: memory (``json_cost`` checked first, so a body of
    hostile shape is refused before it is parsed) and nesting (the parser's own recursion
    limit stops deep text early; what is parsed is then checked against ``max_depth``)."""
    cost = json_cost(data)
    if cost > max_cost:
        raise ValueError(f"JSON too large to parse: would take about {cost >> 20} MB (at most {max_cost >> 20} MB)")
    try:
        obj = json.loads(data)
    except RecursionError:
        raise ValueError(f"JSON nested too deep (at most {max_depth} accepted)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not valid JSON ({e})") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"not valid JSON ({e})") from None
    if json_depth_over(obj, max_depth):
        raise ValueError(f"JSON nested more than {max_depth} deep (at most {max_depth} accepted)")
    return obj


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

    def copy(self) -> StreamCheck:
        """An independent copy (to try blocks out without committing them)."""
        new = copy.copy(self)
        new._window = list(self._window)
        return new

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
        # The mean rate over the steps of a second or less, not the median spacing: a phone
        # stamps a batch with its delivery time, and re-spaced (as every reader does) a
        # batch's samples are 1 ms apart; a pause (the wearer left) is no step. With no
        # such step the times are not in seconds (ms, µs).
        d = np.diff(w.time_s)
        steps = d[(d > 0) & (d <= 1.0)]
        rate = steps.size / float(steps.sum()) if steps.size else 1.0 / max(median(d), 1e-12)
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            raise ValueError(f"sample rate {rate:.3g} Hz read from the times is not usable (are times in seconds?)")
        from sensor.errors import InputError
        from sensor.files.validate import check_units  # the one unit check every reader shares

        try:
            check_units(w.time_s, w.imu.astype(np.float64), "<samples>")
        except InputError as e:
            raise ValueError(e.message) from None


class GapCheck:
    """Gap records against the samples around them, in stream order: a gap lies within the
    samples' span, ends after the sample before it and by the first after (``GAP_SLACK_S``
    either way), is no longer than the longest pause, and there are at most ``GAPS_PER_S`` of them a second (plus 100).
    Gaps with no sample between them are one hole: merged. Each check raises ``ValueError``."""

    def __init__(self) -> None:
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.pending: Gap | None = None
        self.count = 0

    def gap(self, g: Gap) -> None:
        """A gap record (finite, ``start_s <= end_s``), held until the samples after it. The
        sample just before it in the file may lie a little inside it (a dropout's end is
        jittered): what it may not do is end before that sample, or start before the first."""
        if self.first_t is not None and g.start_s < self.first_t - GAP_SLACK_S:
            raise ValueError(f"gap record starts at {g.start_s:.10g} s, before the first sample ({self.first_t:.10g} s)")
        if self.last_t is not None and g.end_s < self.last_t - GAP_SLACK_S:
            raise ValueError(f"gap record ends at {g.end_s:.10g} s, before the sample it follows ({self.last_t:.10g} s)")
        if g.end_s - g.start_s > MAX_PAUSE_S + GAP_SLACK_S:
            raise ValueError(f"gap record spans {g.end_s - g.start_s:.3g} s (a pause of at most {MAX_PAUSE_S:.0f} s is accepted)")
        p = self.pending
        self.pending = g if p is None else Gap(min(p.start_s, g.start_s), max(p.end_s, g.end_s))

    def before(self, s: Samples) -> Gap | None:
        """The gap to give before these samples (their times checked by ``StreamCheck``)."""
        g, self.pending = self.pending, None
        t0, t1 = float(s.time_s[0]), float(s.time_s[-1])
        if g is not None:
            if g.end_s > t0 + GAP_SLACK_S:
                raise ValueError(f"gap record ends at {g.end_s:.10g} s, after the sample that follows it ({t0:.10g} s)")
            if self.last_t is None and g.end_s < t0 - GAP_SLACK_S:
                raise ValueError(f"gap record ends at {g.end_s:.10g} s, before the first sample ({t0:.10g} s)")
            self.count += 1
            if self.count > 100 + GAPS_PER_S * (t1 - (self.first_t if self.first_t is not None else t0)):
                raise ValueError(f"{self.count} gap records by {t1:.10g} s: more than one every {1 / GAPS_PER_S:.0f} s of samples")
        self.first_t = t0 if self.first_t is None else self.first_t
        self.last_t = t1
        return g

    def finish(self) -> Gap | None:
        """A gap after the last sample: it must start there."""
        g, self.pending = self.pending, None
        if g is not None and self.last_t is not None and g.start_s > self.last_t + GAP_SLACK_S:
            raise ValueError(f"gap record starts at {g.start_s:.10g} s, after the last sample ({self.last_t:.10g} s)")
        return g
