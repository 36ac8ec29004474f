"""The excursion detector's state, shared by its rule sets (``sensor.signal.rest_rules``,
``rep_endings``, ``hold_rules``): every attribute is set by ``ExcursionDetector.__init__``;
here are their types and the small helpers every rule uses."""

from __future__ import annotations

import numpy as np

from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.height import HeightTracker
from sensor.signal.holds import ActiveHold, HoldWatch, SettleSearch
from sensor.signal.iir import Coefficients
from sensor.signal.movement import RecentSamples, Run, Trace
from sensor.signal.poses import PoseBook
from sensor.signal.posture import PRONE, SIDE_LEFT, SIDE_RIGHT, SUPINE

STATES = ("rest", "excursion", "hold")  # detector states, as traces name them
STATE_REST, STATE_EXCURSION, STATE_HOLD = range(3)


class DetectorState:
    """Attributes of the excursion detector (see ``ExcursionDetector.__init__``)."""

    s: DetectorSettings
    rate_hz: float
    calibrated: bool
    depth_m: float  # the sensor's place in front of the back of the pelvis (``body.LEVER_M``)
    posture: int
    base: float | None
    poses: PoseBook
    recorder: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None
    _beta: float
    _tremor_ba: Coefficients
    _quiet_a: float
    _quiet_zi: float | None
    _e_prev: float | None
    _dir: float
    _settle: SettleSearch | None
    _hist: list[tuple[np.ndarray, ...]]
    _hist_n: int
    _keep: int
    _trace: Trace | None
    _recent: RecentSamples
    _frozen: float
    _peak: float
    _hold: ActiveHold | None
    _watch: HoldWatch | None
    _tail_t: float | None
    _qrun: Run
    _first_run: Run
    _prun: Run
    _plateau: float | None
    _swing_levels: list[float | None]
    _steady_until: float | None
    _tail_min: float
    _tail_prev: np.ndarray
    _fall_speed: float
    _left_plank: tuple[float, float] | None
    _new_rest: bool
    _last_move_s: float
    _plank_left_s: float
    _lift_conf: float
    _t0: float
    _height: HeightTracker

    @property
    def sign(self) -> float:
        """Direction an exercise moves in this posture (prone: either; see ``_dir``)."""
        return -1.0 if self.posture == SUPINE else 1.0

    def _record(self, t: np.ndarray, rest: np.ndarray | float | None, state: int) -> None:
        if self.recorder is not None and t.size:
            r = np.nan if rest is None else rest
            self.recorder.append((t, np.broadcast_to(np.asarray(r, float), t.shape).copy(), np.full(t.size, state, np.int8)))

    def _off_prop(self) -> bool:
        """Is the hold in progress a side plank lifted off a forearm prop (a stage above rest)?"""
        return self._hold is not None and self._hold.base >= self.s.side_start_deg

    def _holdable(self) -> bool:
        return self.posture in (PRONE, SIDE_LEFT, SIDE_RIGHT)

    def _start_thr(self) -> float:
        if self.posture == SUPINE:
            return self.s.bridge_start_deg
        if self.posture == PRONE:
            return self.s.backext_start_deg
        return self.s.side_start_deg

    def _shortest_hold(self) -> float:
        """The shortest hold reported: no one planks for under ``plank_min_s``."""
        return max(self.s.hold_min_s, self.s.plank_min_s) if self.posture == PRONE else self.s.hold_min_s

    def _end_thresholds(self, run_peak: np.ndarray) -> np.ndarray:
        s = self.s
        if self._hold is not None:
            # Relative to the level the hold started at, not its peak: sway peaks and a
            # fatigue sag must not end a hold that is still going.
            if self.posture == PRONE:
                return np.full(run_peak.shape, max(s.plank_end_min_deg, s.plank_end_frac * self._hold.level))
            lo = max(s.hold_end_min_deg, s.hold_end_frac * self._hold.level)
            if self._off_prop():
                # Lifted off the forearm (propped 3-10° up): over once most of the way back down to it.
                lo = max(lo, self._hold.base + s.side_prop_end_frac * (self._hold.level - self._hold.base))
            elif self.sign * (self._frozen - self.poses.floor_e) >= s.side_start_deg:
                # Lifted off a prop held long enough to be the rest: a side plank 4-5° above
                # it sags by as much; over once most of the way back down to it.
                lo = s.side_prop_end_frac * self._hold.level
            return np.full(run_peak.shape, lo)
        if self.posture in (SIDE_LEFT, SIDE_RIGHT):
            return np.maximum(s.hold_end_min_deg, s.hold_end_frac * run_peak)
        if self.posture == SUPINE:
            return np.maximum(s.bridge_start_deg * 0.5, s.bridge_end_frac * run_peak)
        return np.maximum(s.backext_end_deg, s.backext_end_frac * run_peak)
