"""Where the pelvis rests in a lying posture, and what a pose is: on the floor, raised on
all fours, held in a plank, folded back in child's pose.

Gravity alone cannot tell these apart (the back faces up in all of them); how the pelvis
moved between them can: how far it was carried up or down (``sensor.signal.height``,
integrated between two still moments) and how its pitch changed. A plank is entered by a
lift from the floor, or by a descent from all fours that tips the body head-up; it is left
by coming down to a flatter pose. The numbers, with their reasons, are
``DetectorSettings``'.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.height import comparable

NAN = float("nan")


@dataclass
class Pose:
    """A level the pelvis rested at: since when, its elevation (deg) and height (m)."""

    since_s: float
    e: float
    h: float = NAN  # NaN until the height tracker has seen it still


class PoseBook:
    """The current rest pose of a lying posture: since when, at what elevation and height."""

    def __init__(self) -> None:
        self.rest: Pose | None = None
        # The height of the last still level seen at rest: a new pose is a step from it in
        # one movement (levels chained over many movements drift: the error of each adds).
        self.level_h = NAN
        # The pose a re-levelled rest came from (``keep``): the same pose if the pelvis'
        # elevation stayed within ``start_rest``'s ``same_deg`` of it.
        self.carry: Pose | None = None
        # The elevation of the posture's first rest pose (on a side: lying on the floor, a
        # prop on the forearm is higher).
        self.floor_e = NAN

    def reset(self) -> None:
        self.rest = None
        self.level_h = NAN
        self.carry = None
        self.floor_e = NAN

    def keep(self, h_new: float, min_drop_m: float) -> None:
        """The rest level is about to be found again at height ``h_new``: if that is not
        ``min_drop_m`` lower than the rest pose, the pelvis may still be in it (a plank
        gone up into straight after lying down is a rest pose; a shift within it reads as
        a few centimetres up), and the pose keeps its start (``start_rest`` decides)."""
        r = self.rest
        ok = r is not None and math.isfinite(r.h) and math.isfinite(h_new) and comparable(r.h, h_new) and h_new > r.h - min_drop_m
        self.carry = r if ok else None

    def start_rest(self, since_s: float, e: float, h: float = NAN, same_deg: float = 0.0) -> None:
        """A rest pose from ``since_s`` at elevation ``e`` and height ``h``; the one kept
        (``keep``) if ``e`` is within ``same_deg`` of it, from that one's start."""
        c, self.carry = self.carry, None
        if c is not None and abs(e - c.e) < same_deg:
            since_s = min(since_s, c.since_s)
        self.rest = Pose(since_s, e, h)
        self.level_h = h
        if math.isnan(self.floor_e):
            self.floor_e = e

    def step_at(self, h: np.ndarray, step_m: float, sure: Callable[[int], bool], down_m: float | None = None) -> int:
        """Index of the first sample of ``h`` (levels known at rest, NaN while moving) that
        is ``step_m`` or more above the level before it (or ``down_m``, default ``step_m``,
        below it) and ``sure`` (the movement into it was short enough to integrate well),
        or -1; the levels are seen either way (up to and including that sample)."""
        known = np.flatnonzero(np.isfinite(h))
        if known.size == 0:
            return -1
        lv = h[known]
        before = np.concatenate(([self.level_h], lv[:-1]))
        diff = lv - before
        down = step_m if down_m is None else down_m
        # (NaN before: the first level known. A lost level starts EPOCH_M away: no step.)
        for j in np.flatnonzero(((diff >= step_m) | (diff <= -down)) & (np.abs(diff) < 1.0)).tolist():
            if sure(int(known[j])):
                self.level_h = float(lv[j])
                return int(known[j])
        self.level_h = float(lv[-1])
        return -1

    def see_rest(self, h: np.ndarray) -> None:
        """Rest samples of the current pose: its height, once the tracker knows it."""
        known = np.flatnonzero(np.isfinite(h))
        if self.rest is not None and known.size:
            last = float(h[int(known[-1])])
            if not math.isfinite(self.rest.h) or not comparable(self.rest.h, last):
                self.rest.h = last


def plank_pose(s: DetectorSettings, dh_rest: float, de_rest: float, e_abs: float = NAN) -> bool:
    """Is a pose reached from the rest pose by ``dh_rest`` metres and ``de_rest`` degrees
    (both measured over that one movement, between two still moments) a plank: the pelvis
    held off the floor, the body sloping head-up from the feet, neither on all fours nor
    folded back on the heels? ``e_abs``: the pose's elevation (standing is 90°; NaN when
    not known, without the opening stand)."""
    was = e_abs - de_rest if math.isfinite(e_abs) else NAN  # the elevation it came from
    if -s.plank_max_drop_m <= dh_rest <= -s.plank_min_lift_m:
        if off_floor_slope(s, was) and e_abs >= s.plank_min_elev_deg:
            return True  # from a push-up position down onto the forearms: still held, sloping head-up
        # Down from all fours (or a push-up position): a plank if the body now slopes up
        # from the feet; lying down or sitting back on the heels does not tip it head-up,
        # and lying down out of child's pose starts head-down (not level, as all fours is).
        # With the stand the slope itself is known: a pose that ends level is the floor.
        return s.plank_drop_pitch_deg <= de_rest <= s.plank_max_pitch_change_deg and not (
            was < -s.plank_max_head_down_deg or e_abs < _least_slope(s, dh_rest)
        )
    if not (s.plank_min_lift_m <= dh_rest <= s.plank_max_raise_m):
        return False
    if e_abs < _least_slope(s, dh_rest) and not (
        -s.childs_pose_min_deg <= was < -s.plank_max_head_down_deg and de_rest >= s.plank_drop_pitch_deg
    ):
        # With the stand the slope is known: a pose that does not slope head-up is no
        # plank (a lift well over the floor may read a few degrees less: the stand's zero
        # is as far off). Unless it was lifted, tipping head-up, from a floor reading more
        # head-down than a floor does (a belt slipped since the stand).
        return False
    if was < -s.childs_pose_min_deg:
        return False  # up out of child's pose: onto all fours (a slipped belt tilts the floor less)
    if not s.plank_lift_min_pitch_deg <= de_rest <= s.plank_max_pitch_change_deg:
        return False  # child's pose (tipped head-down), or coming up out of it (or a plank) onto all fours
    # As high as all fours: a plank only if the body slopes up from the feet as in a
    # push-up position (all fours is level). With the stand the slope itself is known; the
    # change of pitch from the floor misleads where the floor reads tilted (a prone pelvis
    # or a belt tipping it 5 deg head-up), so it decides only without the stand.
    level = e_abs < s.all_fours_max_elev_deg if math.isfinite(e_abs) else abs(de_rest) < s.all_fours_pitch_deg
    return not (dh_rest >= s.all_fours_min_m and level)


def _least_slope(s: DetectorSettings, dh: float) -> float:
    """The least elevation a plank reaches by a movement of ``dh`` metres reads with the
    stand: less by the stand's error where the movement was sure (``plank_sure_lift_m``)."""
    return s.plank_min_elev_deg - (s.stand_zero_error_deg if abs(dh) >= s.plank_sure_lift_m else 0.0)


def off_floor_slope(s: DetectorSettings, e_abs: float) -> bool:
    """Does a pose of elevation ``e_abs`` slope head-up as no floor pose does (a plank, a
    push-up position)? False when the elevation is not known (no opening stand)."""
    return e_abs >= s.all_fours_max_elev_deg + s.plank_drop_pitch_deg


def came_down_from_plank(s: DetectorSettings, dh: float, de: float, e_abs: float = NAN) -> bool:
    """Did a movement of ``dh`` metres and ``de`` degrees (between two still moments) bring
    the pelvis out of a plank: down onto the floor, lowered by a plank's height, and from a
    head-up slope to a flatter pose (``e_abs``, its elevation when known, not head-down as
    child's pose is), or up onto all fours? From all fours to the floor: lower, not flatter."""
    if not s.plank_drop_pitch_deg <= -de <= s.plank_max_pitch_change_deg:
        return False
    if math.isfinite(e_abs) and e_abs < -s.plank_max_head_down_deg:
        return False  # down into child's pose
    if -s.plank_max_raise_m <= dh <= -s.plank_min_lift_m:
        if math.isfinite(e_abs) and e_abs - de < _least_slope(s, dh):
            return False  # with the stand: what it came down from did not slope head-up (all fours onto the forearms)
        return not (-dh >= s.all_fours_min_m and abs(de) < s.all_fours_pitch_deg)
    # Or back up onto all fours out of a plank entered from there: the hips rise and the
    # pelvis levels, from a head-up slope no floor pose has (known only with the stand).
    return (
        s.plank_min_lift_m <= dh <= s.plank_max_drop_m
        and math.isfinite(e_abs)
        and abs(e_abs) < s.all_fours_max_elev_deg
        and off_floor_slope(s, e_abs - de)
    )


def lower_pose_ends_plank(s: DetectorSettings, book: PoseBook, h_new: float, e_new: float, calibrated: bool = False) -> bool:
    """The pelvis came down to a new level: was the rest pose it left a plank held up over
    it (a plank the posture began in, or one reached without a turn of the pelvis)?
    ``e_new`` is an elevation over level when ``calibrated`` (from the stand)."""
    if calibrated and e_new < -s.plank_max_head_down_deg:
        return False  # down into child's pose
    rest = book.rest
    if rest is None or not (math.isfinite(rest.h) and math.isfinite(h_new)) or not comparable(rest.h, h_new):
        return False
    drop = rest.h - h_new
    if not (s.plank_min_lift_m <= drop <= s.plank_max_raise_m):
        return False
    # A plank slopes head-up from the feet; the floor pose under it is flatter. (Heights
    # alone mislead when a hobby IMU's bias is large: the pitch must agree.)
    de = rest.e - e_new
    return s.plank_drop_pitch_deg <= de <= s.plank_max_pitch_change_deg and not (
        drop >= s.all_fours_min_m and abs(de) < s.all_fours_pitch_deg
    )
