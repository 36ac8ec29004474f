"""The checks every tabular input passes, block by block, so memory stays bounded.

``SampleChecker`` takes blocks of (time, six channels) in file order and releases clean
``Samples``: isolated NaN rows dropped (longer runs refused), ties and jitter re-spaced
(``sensor.files.timecheck``), units checked on the first ``UNIT_CHECK_SAMPLES``. Every refusal is
an ``InputError`` naming the row. Rows that cannot be settled yet (a tie or NaN run at the
end of a block) are carried into the next block.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.files.limits import MAX_PAUSE_S, MAX_SESSION_S
from sensor.files.timecheck import JITTER_PERIODS, check_rate, nominal_period
from sensor.samples import STANDARD_GRAVITY, Samples, median, percentile

Block = tuple[np.ndarray, np.ndarray]  # times (n,), channels (n, k)
MAX_NAN_RUN = 2  # isolated blank rows are dropouts; longer runs mean broken data
UNIT_CHECK_SAMPLES = 30_000  # units are judged on the first 5 min at 100 Hz (or the whole file)


class SampleChecker:
    """Validates blocks in order; ``push`` and ``finish`` return the samples settled so far."""

    def __init__(
        self, where: str | Path, line: Callable[[int], int] = lambda i: i + 1, csv_time: bool = True, channels: int = 6, units: bool = True
    ) -> None:
        self.where, self.line, self.csv_time, self.units = where, line, csv_time, units
        self._t = np.empty(0)
        self._x = np.empty((0, channels), np.float32)
        self._base = 0  # data index of the first carried row
        self._period = 0.0
        self._top = -math.inf  # time of the last released sample
        self._first = math.nan
        self._held: list[Block] = []  # released but waiting for the unit check
        self._held_n = 0
        self._units_ok = False
        self.count = 0

    def push(self, t: np.ndarray, x: np.ndarray) -> list[Block]:
        return self._take(t, x, final=False)

    def finish(self) -> list[Block]:
        out = self._take(np.empty(0), self._x[:0], final=True)
        if self.count < 2:
            raise InputError(self.where, "fewer than 2 samples")
        return out

    def _take(self, t: np.ndarray, x: np.ndarray, final: bool) -> list[Block]:
        if len(self._t):
            t, x = np.concatenate([self._t, t]), np.concatenate([self._x, x])
        base, n = self._base, len(t)
        if n == 0:
            return self._release([], final)
        where, line = self.where, self.line
        if not np.isfinite(t).all():
            raise InputError(where, "time_s is missing or not a number", row=line(base + int(np.flatnonzero(~np.isfinite(t))[0])))
        clean = bool(np.isfinite(x).all())  # the common case: no scans, no copies below
        if not clean:
            inf = np.isinf(x).any(axis=1)
            if inf.any():
                raise InputError(where, "infinite value", row=line(base + int(np.flatnonzero(inf)[0])))
            nan_row = np.isnan(x).any(axis=1)
            edges = np.diff(np.concatenate(([0], nan_row.astype(np.int8), [0])))
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            long = np.flatnonzero(ends - starts > MAX_NAN_RUN)
            if long.size:
                a, b = starts[long[0]], ends[long[0]]
                raise InputError(where, f"run of {b - a} rows with missing or NaN values", row=line(base + int(a)))
            good = np.flatnonzero(~nan_row)
            tg = t[good]
        else:
            good = np.arange(n)
            tg = t
        if self._period == 0.0:
            if len(tg) < 2 and not final:
                return self._carry(t, x, 0, [])
            self._period = nominal_period(tg) if len(tg) >= 2 else 0.0
            if self._period <= 0:
                back = np.flatnonzero(np.diff(tg) < 0)
                if back.size:
                    i = int(back[0]) + 1
                    raise InputError(where, f"time goes backwards ({tg[i - 1]:.6f} then {tg[i]:.6f})", row=line(base + int(good[i])))
                raise InputError(where, "time never advances" if len(tg) >= 2 else "fewer than 2 samples")
            check_rate(1.0 / self._period, where, self.csv_time)
            self._first = float(tg[0])
        period = self._period
        # Running maximum including what was released before: a row behind it is jitter or an error.
        top = np.maximum.accumulate(np.concatenate(([self._top], tg)))
        behind = top[:-1] - tg
        bad = np.flatnonzero(behind > JITTER_PERIODS * period)
        if bad.size:
            i = int(bad[0])
            raise InputError(
                where, f"time goes backwards by {behind[i]:.3g} s ({top[i]:.6f} then {tg[i]:.6f})", row=line(base + int(good[i]))
            )
        step = np.diff(top)
        if not math.isfinite(self._top):
            step[0] = 0.0
        jump = np.flatnonzero(step > MAX_PAUSE_S)
        if jump.size:
            i = int(jump[0])
            raise InputError(
                where,
                f"time jumps forward by {tg[i] - top[i]:.3g} s, more than a {MAX_PAUSE_S / 3600:.0f}-h "
                "pause: a clock error, or two sessions in one file (split it)",
                row=line(base + int(good[i])),
            )
        if len(tg) and float(top[-1]) - self._first > MAX_SESSION_S:
            i = int(np.flatnonzero(top[1:] - self._first > MAX_SESSION_S)[0])
            raise InputError(
                where, f"spans more than {MAX_SESSION_S / 3600:.0f} h; one session is at most that long", row=line(base + int(good[i]))
            )
        advance = behind < 0
        anchors = np.flatnonzero(advance)
        if final:
            upto = len(tg)
        elif anchors.size == 0:
            return self._carry(t, x, 0, [])
        else:
            upto = int(anchors[-1]) + 1  # rows after the last anchor wait for the next one
        ts = tg[:upto]
        if not advance[:upto].all():
            # Rows that do not advance are spaced evenly between the anchors around them
            # (the previous block's last sample is an anchor at index -1).
            ai = np.concatenate(([-1], anchors[anchors < upto])) if math.isfinite(self._top) else anchors[anchors < upto]
            at = np.concatenate(([self._top], tg[anchors[anchors < upto]])) if math.isfinite(self._top) else tg[anchors[anchors < upto]]
            ts = np.interp(np.arange(upto, dtype=np.float64), ai, at)
            last = int(ai[-1])
            if last < upto - 1:  # a tie at the very end of the file: continue at the nominal rate
                ts[last + 1 :] = at[-1] + period * np.arange(1, upto - last)
        out = [(ts, x[:upto] if clean else x[good[:upto]])] if upto else []
        if upto:
            self._top = float(ts[-1])
        cut = int(good[upto - 1]) + 1 if upto else 0
        return self._carry(t, x, cut, out, final)

    def _carry(self, t: np.ndarray, x: np.ndarray, cut: int, out: list[Block], final: bool = False) -> list[Block]:
        self._t, self._x = (t[:0], x[:0]) if final else (t[cut:].copy(), x[cut:].copy())
        self._base += cut
        return self._release(out, final)

    def _release(self, out: list[Block], final: bool) -> list[Block]:
        self.count += sum(len(b[0]) for b in out)
        if self._units_ok or not self.units:
            return out
        self._held += out
        self._held_n += sum(len(b[0]) for b in out)
        if self._held_n < UNIT_CHECK_SAMPLES and not final:
            return []
        if not self._held:
            return []
        held = (np.concatenate([b[0] for b in self._held]), np.concatenate([b[1] for b in self._held]))
        self._held, self._held_n = [], 0
        if len(held[0]) >= 2:
            check_units(held[0], held[1], self.where)
        self._units_ok = True
        return [held]


def validate_samples(
    t: np.ndarray, x: np.ndarray, path: str | Path, lines: Callable[[int], int] | None = None, csv_time: bool = True
) -> Samples:
    """All checks on samples held in memory; returns them clean."""
    c = SampleChecker(path, lines or (lambda i: i + 1), csv_time)
    parts = c.push(np.asarray(t, np.float64), np.asarray(x, np.float32)) + c.finish()
    return Samples.concat([Samples(*b) for b in parts])


def regularize(t: np.ndarray, x: np.ndarray, path: str | Path, lines: Callable[[int], int], csv_time: bool = True) -> Block:
    """One sensor stream (any number of channels) with the time checks and re-spacing of
    ``SampleChecker`` but no unit check."""
    c = SampleChecker(path, lines, csv_time, channels=x.shape[1], units=False)
    parts = c.push(t, x) + c.finish()
    return (np.concatenate([b[0] for b in parts]), np.concatenate([b[1] for b in parts])) if len(parts) != 1 else parts[0]


def check_units(t: np.ndarray, x: np.ndarray, path: str | Path) -> None:
    """Catch the two common unit mistakes: acceleration in g, angular rate in deg/s."""
    med = median(np.linalg.norm(x[:, :3], axis=1))
    if 0.5 <= med <= 1.6:
        raise InputError(path, f"acceleration looks like g (median |acc| {med:.2f}); expected m/s² (×{STANDARD_GRAVITY})")
    if not 5.0 <= med <= 15.0:
        raise InputError(path, f"median |acc| is {med:.3g}; expected about 9.81 m/s² (specific force, gravity included)")
    if percentile(np.linalg.norm(x[:, 3:], axis=1), 99.5) > 25.0:
        raise InputError(path, "angular rate looks like deg/s (values above 25); expected rad/s")
    if _gyro_to_tilt_ratio(t, x) > 8.0:
        raise InputError(path, "angular rate looks like deg/s (≈57× the rotation the accelerometer shows); expected rad/s")


def _gyro_to_tilt_ratio(t: np.ndarray, x: np.ndarray) -> float:
    """Median of (integrated |gyro|) / (change of gravity direction) between consecutive
    1-s blocks in which the tilt clearly changed: about 1 for rad/s, about 57 for deg/s."""
    n = len(t)
    # The mean rate, not the median spacing: phones that stamp a batch of samples with its
    # delivery time give ties and 1-ms steps inside a batch (median spacing ~0: "blocks" of
    # minutes, whose turns undo each other, read as deg/s), and the same steady spacing for
    # the integral.
    span = float(t[-1] - t[0])
    if span <= 0:
        return 1.0
    rate = (n - 1) / span
    w = max(2, int(rate))
    if n < 3 * w:
        return 1.0
    nb = n // w
    sm = x[: nb * w, :3].reshape(nb, w, 3).mean(axis=1, dtype=np.float64)
    sm /= np.linalg.norm(sm, axis=1, keepdims=True)
    m = nb - 1  # window j covers samples [j*w + w//2, j*w + w + w//2), inside the data
    tilt = np.arccos(np.clip(np.sum(sm[:-1] * sm[1:], axis=1), -1, 1))
    lo = w // 2
    g = np.linalg.norm(x[lo : lo + m * w, 3:], axis=1) / rate
    integ = g.reshape(m, w).sum(axis=1)
    sel = tilt > math.radians(10)
    if sel.sum() < 3:
        return 1.0
    return median(integ[sel] / tilt[sel])
