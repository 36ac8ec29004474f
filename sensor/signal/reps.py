"""Reps (bridge, back extension): whether a finished excursion was one, and its timing
(the state machine that finds excursions is in ``sensor.signal.detectors``).

Timing comes from the shape of the movement: a rise's 10/50/90 % crossings give its
midpoint and length (a min-jerk movement spans 52 % of its length between 10 % and 90 %),
so start, top and end are placed where the movement really begins and ends, not where a
threshold was passed.
"""

from __future__ import annotations

import math

import numpy as np

from sensor.events import Rep
from sensor.signal.body import elevation_rate
from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.height import rise_m
from sensor.signal.movement import fall_times, last_true, median, rise_times
from sensor.signal.posture import PRONE, SUPINE

_LEFT_RIGHT = np.array([1.0, 0.0, 0.0])  # the body axis a bridge or back extension turns about


def classify_rep(
    t: np.ndarray,
    d: np.ndarray,
    up: np.ndarray,
    gyr: np.ndarray,
    acc: np.ndarray,
    span: np.ndarray,
    direction: float,
    posture: int,
    s: DetectorSettings,
    quiet: np.ndarray | None = None,
    depth_m: float = 0.0,
) -> Rep | None:
    """The rep an excursion that fell back below its end threshold was, or None.
    ``depth_m``: how far in front of the back of the pelvis the sensor is worn.
    ``d`` is the elevation away from rest (degrees, positive the way the exercise moves:
    ``direction`` times the elevation); ``gyr`` the body rates (rad/s); ``acc`` the specific
    force (m/s², body frame); ``span`` where the
    gyro was sampled (see ``turn_seen``); the last sample is where it fell back (the rep's
    detection time)."""
    peak = float(d.max())
    if posture == SUPINE:
        if peak < s.bridge_min_peak_deg:
            return None
        exercise = "bridge"
    elif posture == PRONE:
        if not (s.backext_min_peak_deg <= peak <= s.backext_max_peak_deg):
            return None
        exercise = "back_extension"
    else:
        return None
    level = median(d[d >= 0.8 * peak])
    rt = rise_times(t, d, level)
    ft = fall_times(t, d, level)
    if rt is None or ft is None:
        return None
    start, top_start = rt
    top_end, end = ft
    if not (0.5 <= end - start <= s.rep_timeout_s) or max(top_start - start, end - top_end) > s.backext_max_move_s:
        return None
    if exercise == "back_extension" and not (
        s.backext_min_s <= end - start <= s.backext_max_s and top_end - top_start <= s.backext_max_hold_s
    ):
        return None  # too quick to be a lift and a lowering, or a new pose held a while
    jolt = _jolt(_still_parts(t, acc, start, top_start, top_end, end))
    if jolt > s.rep_max_jolt_mps2:
        return None  # the sensor was carried (walking, a vehicle), not lifted
    turn = _turn_ratio(t, d, up, gyr, span, direction, np.searchsorted(t, [start, top_start, top_end, end]))
    if turn < s.rep_min_turn_frac:
        return None
    min_peak = s.bridge_min_peak_deg if exercise == "bridge" else s.backext_min_peak_deg
    # How clearly each test was passed (1: by a wide margin), for the rep's confidence.
    margins = [
        (peak - min_peak) / min_peak,
        (turn - s.rep_min_turn_frac) / max(1.0 - s.rep_min_turn_frac, 1e-9),
        1.0 - jolt / s.rep_max_jolt_mps2,
    ]
    # How far the rise carried the pelvis up (or down) from the floor.
    lift, gap, still_top = _rise_lift(t, d, acc, gyr, span, quiet, peak, start, top_start, top_end, s)
    guessed = gap > longest_step_s(span)  # a dropout: the lift is a guess
    if exercise == "bridge":
        # A bridge lifts the hips off the floor; a pelvic tilt or a knee hug turns the
        # pelvis as much but leaves it there. The lift is the back's: a sensor ``depth_m``
        # in front of it sits above it lying supine, and the turn lowers it against the back.
        lift += depth_m * (1.0 - math.cos(math.radians(peak)))
        # The second cue, which needs no still moment: what the pelvis turned about.
        pivot = pivot_m(t, d, up, gyr, acc, span, direction, start, end, depth_m)
        if pivot is not None:
            if pivot < s.bridge_min_pivot_m:
                return None
            margins.append((pivot - s.bridge_min_pivot_m) / max(s.bridge_min_pivot_m, 1e-9))
        if pivot is not None and pivot >= s.bridge_pivot_alone_m:
            # Turned about an axis as far off as the shoulders: a bridge, whatever the
            # double integral says (a belt slipping as the hips rise, an uncalibrated IMU:
            # true bridges read -0.5 to 0 m by it, 0.6-0.9 m of pivot).
            margins.append(0.0 if lift < s.bridge_min_lift_m else 1.0)
        elif guessed:
            # Across a dropout the lift is estimated (the acceleration interpolated over
            # the gap). Over a small part of the rise it still tells a bridge from a pelvic
            # tilt (7-26 cm read against -3 to +3 on tuning sessions): it is held to a
            # bridge's lift as a measured one is. Not so where the gap hides much of the
            # rise (half a second of a 1-s rise: -22 to +7 cm read), over a brisk rep, whose
            # top is no still moment (-0.3 to +0.34 m read), nor when the estimate sinks the
            # hips through the floor: only the turn is left then. A count to check.
            hidden = gap > min(s.bridge_gap_estimate_s, s.bridge_gap_estimate_frac * (top_start - start))
            if hidden or not still_top or lift <= -s.bridge_min_lift_m:
                if peak < s.bridge_guess_min_peak_deg:
                    return None
            elif lift < s.bridge_min_lift_m:
                return None
            margins.append(0.0)
        else:
            if lift < s.bridge_min_lift_m:
                return None
            margins.append((lift - s.bridge_min_lift_m) / max(s.bridge_min_lift_m, 1e-9))
    elif not guessed and abs(lift) > s.backext_max_lift_m:
        return None  # up onto all fours or into a push-up position (or back down): a change of pose
    # A real rep turns the pelvis about its left-right axis; a fidget rolls it too.
    i0 = int(np.searchsorted(t, start))
    off = np.degrees(np.max(np.abs((up[i0:] - up[min(i0, up.shape[0] - 1)]) @ _LEFT_RIGHT)))
    if off > max(1.5, s.off_axis_frac * peak):
        return None
    margins.append(1.0 - off / max(1.5, s.off_axis_frac * peak))
    return Rep(
        exercise=exercise,  # type: ignore[arg-type]
        start_s=round(start, 3),
        end_s=round(end, 3),
        hold_s=round(max(0.0, top_end - top_start), 3),
        detected_at_s=round(float(t[-1]), 3),
        peak_deg=round(peak, 2),
        confidence=confidence(margins),
    )


def longest_step_s(span: np.ndarray) -> float:
    """The longest sampling step (s) still taken as measured, not bridged by interpolation:
    2.5 times the trace's usual one (dropouts are rare), and never under 0.1 s."""
    return max(0.1, 2.5 * median(span))


PIVOT_PAD_S = 0.4  # the fit reaches this far either side of the rep: the rest around it anchors the trend


def pivot_m(
    t: np.ndarray,
    d: np.ndarray,
    up: np.ndarray,
    gyr: np.ndarray,
    acc: np.ndarray,
    span: np.ndarray,
    direction: float,
    start: float,
    end: float,
    depth_m: float = 0.0,
) -> float | None:
    """How far (m) from the axis it turned about the back of the pelvis was carried up: the
    vertical velocity fitted as ``r · d(sin e)/dt`` (``e`` the elevation). A bridge turns
    the pelvis about the shoulders (r ~ 0.2-0.5 m); a pelvic tilt or a knee hug about the
    sacrum on the floor (r ~ 0). The velocity is integrated once, from anywhere, and a
    constant and a trend are fitted with it: an unknown start velocity or an accelerometer
    bias does not reach r, so no still moment is needed (the lift's double integral needs
    two). None without a gyroscope or over too few samples (``span``: see ``turn_seen``)."""
    i0, i1 = np.searchsorted(t, [start - PIVOT_PAD_S, end + PIVOT_PAD_S]).tolist()
    i1 = min(i1, t.size - 1)
    if i1 - i0 < 10 or not gyr[i0 : i1 + 1].any():
        return None
    # Across a dropout the samples are interpolated: they are left out of the fit, and the
    # velocity after each dropout gets its own constant (the acceleration over it is a guess).
    trusted = span[i0 : i1 + 1] <= longest_step_s(span)
    if trusted.sum() < 10:
        return None
    tt = t[i0 : i1 + 1]
    u = up[i0 : i1 + 1]
    u = u / np.sqrt(np.einsum("ij,ij->i", u, u))[:, None]
    a = np.einsum("ij,ij->i", acc[i0 : i1 + 1], u)  # gravity and any bias: the fitted trend
    v = np.concatenate(([0.0], np.cumsum(0.5 * (a[1:] + a[:-1]) * np.diff(tt))))
    e = np.radians(d[i0 : i1 + 1])
    rate = direction * elevation_rate(u, gyr[i0 : i1 + 1])
    # A sensor worn ``depth_m`` in front of the back swings down against it as it turns.
    v += depth_m * np.sin(e) * rate
    # An accelerometer bias (body axes) is seen along up by how far up has turned: one
    # column per body axis, each that axis's turn integrated (0.45 m/s² along the long axis
    # read 0.09 m of pivot without them).
    dt = np.diff(tt)[:, None]
    seen = np.vstack([np.zeros((1, 3)), np.cumsum(0.5 * ((u[1:] - u[0]) + (u[:-1] - u[0])) * dt, axis=0)])
    after = np.flatnonzero(trusted[1:] & ~trusted[:-1]) + 1  # the first sample after each dropout
    steps = (np.arange(tt.size)[:, None] >= after[None, :]).astype(np.float64)
    x = np.column_stack([np.cos(e) * rate, np.ones_like(tt), tt - tt[0], seen, steps])
    coef, *_ = np.linalg.lstsq(x[trusted], v[trusted], rcond=None)
    return float(coef[0])


HELD_TOP_S = 0.4  # a top held longer has a still middle (its reading is gravity alone)
STILL_AVG_S = 0.5  # the longest still stretch averaged for a still reading (the pelvis is never still for long)


def _rise_lift(
    t: np.ndarray,
    d: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    span: np.ndarray,
    quiet: np.ndarray | None,
    peak: float,
    start: float,
    top_start: float,
    top_end: float,
    s: DetectorSettings,
) -> tuple[float, float, bool]:
    """The height (m) a rep's rise carried the pelvis, and the longest sampling gap over it
    (s): from a still moment before the rise (its velocity is zero) to the middle of the
    top, or its highest point (where the hips turn back down: zero velocity again); and
    whether that top is still (held, or reached slowly), its reading gravity alone."""
    i_start = int(np.searchsorted(t, start))
    margin = int(np.searchsorted(t, start - 0.1))  # the movement's model start is approximate
    # (At rest: in a brisk set the last quiet moment may be the previous rep's top.)
    low = d[:margin] < 0.25 * peak
    still = quiet[:margin] & low if quiet is not None and margin > 0 else np.zeros(0, bool)
    i0_rise = last_true(still)
    n_start = None
    if i0_rise < 0:
        # No quiet moment at rest between brisk reps: the stillest one in the 0.6 s
        # before (not the movement's model start: the hips are already rising there).
        w0 = int(np.searchsorted(t, start - 0.6))
        if margin - w0 >= 2 and low[w0:].any():
            rate = np.abs(np.gradient(d[w0:margin], t[w0:margin]))
            i0_rise = w0 + int(np.argmin(np.where(low[w0:], rate, np.inf)))
    else:
        # The still reading before the rise from the whole quiet run that ends there (up to
        # STILL_AVG_S): its noise is integrated twice over the movement.
        n_start = i0_rise - last_true(~still[: i0_rise + 1])
    i0_rise = i0_rise if i0_rise >= 0 else max(0, i_start - 1)
    # (Not later into a long top: the double integral's error grows with time squared.)
    top = min(0.5 * (top_start + top_end), top_start + 1.0)
    held = top_end - top_start > HELD_TOP_S
    i_top = int(np.searchsorted(t, top)) if held else i_start + int(np.argmax(d[i_start:]))
    # The middle of a held top is still, and so is, nearly, the turn of a slow rep; a
    # brisk one's reverses by metres per second squared (a 15-cm lift in 0.5 s: ~3).
    still_top = held or top_start - start > s.brisk_rise_s
    gap = span[i0_rise : i_top + 1].max(initial=0.0)
    most = max(1, int(np.searchsorted(t, t[i_top] + STILL_AVG_S)) - i_top)  # samples in STILL_AVG_S
    n_end = min(most, int(np.searchsorted(t, top_end)) - i_top) if held else None
    if n_start is not None:
        n_start = min(n_start, most)
    return rise_m(t, acc, gyr, i0_rise, i_top, end_still=still_top, n_start=n_start, n_end=n_end), float(gap), still_top


def confidence(margins: list[float]) -> float:
    """0.5 for an event that passed a test by a hair, 1 when every test was passed by a
    margin as wide as the threshold itself: where corrections are most likely needed."""
    return round(0.5 + 0.5 * min(1.0, max(0.0, float(min(margins, default=1.0)))), 2)


def _still_parts(t: np.ndarray, acc: np.ndarray, start: float, top_start: float, top_end: float, end: float) -> np.ndarray:
    """The specific force where a rep's pelvis is not moving: just before it, at its top, just after it.
    A rep's own lift accelerates the pelvis by metres per second squared when it is brisk
    (a fast bridge: 20 cm in 0.4 s), so the movements themselves say nothing about being
    carried; a vehicle or a walk shakes the sensor at rest too."""
    m = ((t >= start - 0.45) & (t <= start - 0.05)) | ((t >= end + 0.05) & (t <= end + 0.45))
    if top_end - top_start > 0.3:
        m |= (t >= top_start + 0.05) & (t <= top_end - 0.05)
    if m.sum() < 5:
        i0, i1 = np.searchsorted(t, [start, end]).tolist()
        return acc[i0 : i1 + 1]
    return acc[m]


def _jolt(acc: np.ndarray) -> float:
    """Median absolute deviation of |specific force| (m/s²): how much the sensor was shaken,
    not moved by one thump (a heel or the hips set down) which a median ignores."""
    if acc.shape[0] < 3:
        return 0.0
    n = np.sqrt(np.einsum("ij,ij->i", acc, acc))
    return median(np.abs(n - median(n)))


def _turn_ratio(
    t: np.ndarray, d: np.ndarray, up: np.ndarray, gyr: np.ndarray, span: np.ndarray, direction: float, idx: np.ndarray
) -> float:
    """Were the rise and the fall turns of the pelvis? The least fraction of either change of
    elevation the gyro saw (a rep needs ``rep_min_turn_frac``): a vehicle braking or a stride tilts the accelerometer (and the
    elevation fused from it) without turning anything. Both are summed over the same steps:
    those where the gyro was sampled at its own rate (``span``, the seconds between the
    samples a point was interpolated from, at most 2.5 times its usual value), since across
    a dropout the interpolated gyro is a guess. Not judged without a gyroscope (a stream of
    zeros, the Polar H10) or where dropouts hide most of a movement."""
    i_s, i_ts, i_te, i_e = np.minimum(idx, t.size - 1).tolist()
    g = gyr[i_s : i_e + 1]
    if i_e <= i_s or not g.any():
        return math.inf
    rate = elevation_rate(up[i_s : i_e + 1], g)
    turned = np.degrees(0.5 * (rate[1:] + rate[:-1]) * np.diff(t[i_s : i_e + 1]))
    change = np.diff(d[i_s : i_e + 1])
    sp = span[i_s : i_e + 1]
    if sp.max() > 0.1:  # a dropout somewhere (or a slow sensor): leave out the guessed steps
        trusted = sp <= longest_step_s(span)
        ok = trusted[1:] & trusted[:-1]
        turned, change = np.where(ok, turned, 0.0), np.where(ok, change, 0.0)
    ratio = math.inf
    for a, b in ((0, i_ts - i_s), (i_te - i_s, i_e - i_s)):
        seen, moved = float(np.sum(turned[a:b])), float(np.sum(change[a:b]))
        if abs(moved) >= 0.5 * abs(float(d[i_s + b] - d[i_s + a])) and moved != 0.0:
            ratio = min(ratio, direction * seen * float(np.sign(moved)) / abs(moved))
    return ratio
