"""Where the sensor is worn, found from the data: on the back of the pelvis, the front of
the belt, or either hip.

Standing still, gravity tells the body's long axis in the device frame but not which way
the device faces: every mounting has its face horizontal then. Three things a person does
around a session tell the rest:

- Sitting down (a chair, the floor) rolls the pelvis back: the long axis tips 10-40° with
  the top of the pelvis going backwards, so gravity, seen from the pelvis, leans towards
  its front. The device direction it leans towards is the body's front: opposite the
  face on the back, along it on the front of the belt, across it on a hip.
- Walking, the pelvis rocks about its front-back axis once a stride (the hip drops on the
  swing side) and about its left-right axis once a step: the axis the device's face lies
  along is told by which rhythm its rotation follows (a hip mounting faces across the
  body, the others along it).
- Getting down to the floor: lying still cannot tell lying on the back with the sensor
  there from lying on the front with it on the belt, or on a side with it on a hip; but
  sitting on the floor before lying back, or a descent from all fours to the stomach,
  tells which way the body faced (``sensor.signal.way_down``).

Sitting and the way down decide; walking alone can only tell a hip from the back or
front. ``MountFinder`` is fed the stream's samples (device frame) and gives its finding
once it is sure, or never.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensor.samples import STANDARD_GRAVITY, Samples
from sensor.signal.body import mounting_from_standing
from sensor.signal.way_down import WaysDown
from sensor.vocab import MOUNTS

BIN_S = 0.04  # averaging bin: 25 per second, enough for a 2 Hz step rhythm
STILL_DPS = 8.0  # a still bin turns slower than this ...
STILL_ACC = 0.6  # ... and |specific force| is within this of g (m/s²)
STAND_S = 2.0  # a stand: still this long, the device's face horizontal (as every mounting has it)
LYING_FACE = 0.8  # |gravity along the face| over this: lying with the face up or down (cos 37°)
SIT_S = 2.5  # a sit: still this long (a stoop to pick something up is shorter, and tips the pelvis the other way)
SIT_TILT_DEG = (15.0, 50.0)  # ... with the long axis tipped this far from standing (sitting rolls the pelvis back 15-40°)
SIT_NEED = 2  # sits that agree before deciding
WALK_S = 6.0  # walking windows: this long, upright, |f| varying with a step rhythm
WALK_NEED = 3  # windows that agree before the axis is known
WALK_MARGIN = 0.3  # the autocorrelation difference that counts (of 2)
EXAMINE_BINS = 50  # the evidence is looked at every 2 s of stream ...
MAX_BINS = int(600 / BIN_S)  # ... in its first 10 minutes (the runner keeps that long)


@dataclass(frozen=True, slots=True)
class MountFinding:
    mount: str  # the mounting to analyse with
    message: str
    kind: str  # "confirmed" (as declared), "corrected" (found elsewhere), "doubt" (half known: named)


class MountFinder:
    """Fed samples in order; ``finding`` is set once sitting or the way down (or walking,
    for the hip / back-front question) has decided, and stays; a doubt from walking alone
    may be followed by a finding."""

    def __init__(self, declared: str = "back") -> None:
        self.declared = declared
        self.finding: MountFinding | None = None
        self._t0: float | None = None
        self._bins = np.zeros((MAX_BINS, 6))  # bin means (acc, gyr), device frame
        self._nb = 0  # bins taken
        self._pending = np.zeros((0, 7))  # samples of the bin in progress: t, acc, gyr
        self._done = 0  # examinations so far
        self._last_k: int | None = None  # the last bin taken
        self._sits: list[str] = []
        self._ways = WaysDown()
        self._downs: list[tuple[str, str]] = []  # (mounting, which way down)
        self._walks: list[bool] = []  # True: a hip mounting (face across the body)

    @property
    def decided(self) -> bool:
        """A mounting is found (a doubt is not: the search goes on, a later sit or way down
        may still tell where the sensor is)."""
        return self.finding is not None and self.finding.kind != "doubt"

    def feed(self, samples: Samples) -> MountFinding | None:
        """Take samples; returns the finding when these decide it."""
        if self.decided or len(samples) == 0:
            return None
        x = np.column_stack((samples.time_s, samples.imu.astype(np.float64)))
        if self._t0 is None:
            self._t0 = float(x[0, 0])
        x = np.vstack((self._pending, x))
        k = np.floor((x[:, 0] - self._t0) / BIN_S).astype(np.int64)
        last = k[-1]
        done = k < last
        if done.any():
            kk, xx = k[done], x[done]
            starts = np.flatnonzero(np.concatenate(([True], kk[1:] != kk[:-1])))
            counts = np.diff(np.append(starts, kk.size))
            sums = np.add.reduceat(xx[:, 1:], starts, axis=0)
            means = sums / counts[:, None]
            # Empty bins (a dropout) repeat the last value: the rhythm tests want a grid.
            first = self._last_k if self._last_k is not None else int(kk[starts[0]]) - 1
            gaps = np.diff(np.concatenate(([first], kk[starts])))
            self._last_k = int(kk[starts[-1]])
            prev = np.vstack((self._bins[max(self._nb - 1, 0)], means[:-1]))
            fills = np.minimum(gaps - 1, 25)
            if self._nb == 0:
                fills[0] = 0  # nothing to repeat before the first bin
            rows = np.repeat(np.stack((prev, means), axis=1).reshape(-1, 6), np.stack((fills, np.ones_like(fills)), axis=1).ravel(), axis=0)
            take = min(rows.shape[0], MAX_BINS - self._nb)  # bins past MAX_BINS are never looked at
            self._bins[self._nb : self._nb + take] = rows[:take]
            self._nb += take
        self._pending = x[~done]
        return self._examine()

    # -- evidence --------------------------------------------------------------------------
    def _examine(self) -> MountFinding | None:
        """Look at the bins so far, every ``EXAMINE_BINS`` of them (so the answer does not
        depend on how the stream was cut), up to ``MAX_BINS``."""
        n = self._nb
        if n // EXAMINE_BINS <= self._done:
            return None
        self._done = n // EXAMINE_BINS
        n = self._done * EXAMINE_BINS
        acc = self._bins[:n, :3]
        gyr = self._bins[:n, 3:]
        norm = np.linalg.norm(acc, axis=1)
        still = (np.degrees(np.linalg.norm(gyr, axis=1)) < STILL_DPS) & (np.abs(norm - STANDARD_GRAVITY) < STILL_ACC)
        u = acc / np.maximum(norm, 1e-9)[:, None]
        y = _stand(u, still)
        if y is None:
            return None
        frames = {m: mounting_from_standing(y, m) for m in MOUNTS}
        self._sits = _sits(u, still, y, frames)
        self._walks = _walks(u, norm, gyr, y)
        self._downs = self._ways.find(np.arange(n) * BIN_S, acc, gyr, u, still, y, frames)
        return self._decide()

    def _decide(self) -> MountFinding | None:
        hip: bool | None = None
        if len(self._walks) >= WALK_NEED:
            share = sum(self._walks) / len(self._walks)
            hip = True if share >= 0.8 else False if share <= 0.2 else None
        found, why = None, ""
        votes = self._sits + [m for m, _ in self._downs]
        if votes:
            # Sits decide: two that agree, or one that agrees with the walking. A way down
            # to the floor is surer than a sit (its height rules out a stoop): one decides.
            top = max(set(votes), key=votes.count)
            agree = votes.count(top) >= 0.8 * len(votes)
            downs = [how for m, how in self._downs if m == top]
            enough = len(self._sits) >= SIT_NEED or bool(downs) or hip is not None
            if agree and enough and (hip is None or hip == (top in ("left", "right"))):
                found = top
                why = f"the way down to the floor ({downs[0]})" if downs else "sitting"
        if found is None and hip is not None and (self.declared in ("left", "right")) != hip and not votes:
            # Walking alone: the declared side of the question it answers is wrong, the
            # other side is not known (say so once, keep the declared mounting).
            if self.finding is not None:
                return None
            what = "a hip (left or right)" if hip else "the back or the front of the belt"
            self.finding = MountFinding(
                self.declared, f"the sensor seems worn on {what}, not {self.declared}: set the mounting to where it is", "doubt"
            )
            return self.finding
        if found is None:
            return None
        if found == self.declared:
            self.finding = MountFinding(found, f"mounting {found} confirmed from the data ({why})", "confirmed")
        else:
            self.finding = MountFinding(
                found,
                f"the sensor is worn on the {found}, not the {self.declared} (from {why}): analysed as worn on the {found}",
                "corrected",
            )
        return self.finding


def _stand(u: np.ndarray, still: np.ndarray) -> np.ndarray | None:
    """The long axis from the first still stretch with the face horizontal (a stand), if
    no still stretch with the face vertical came first: lying on a side also holds the
    face of a back or front mounting horizontal, and once the wearer has lain down (on the
    back, say) a later "stand" may be that; a side plank from it then reads as a sit.
    (Lying first with a hip mounting only leaves the mounting unfound.)"""
    ok = still & (np.abs(u[:, 2]) < 0.6)
    lying = still & (np.abs(u[:, 2]) > LYING_FACE)
    need = int(STAND_S / BIN_S)
    run = flat = 0
    for i, (v, w) in enumerate(zip(ok.tolist(), lying.tolist())):
        run = run + 1 if v else 0
        flat = flat + 1 if w else 0
        if flat >= need:
            return None
        if run >= need:
            m = u[i - need + 1 : i + 1].mean(axis=0)
            return np.asarray(m / np.linalg.norm(m))
    return None


def _sits(u: np.ndarray, still: np.ndarray, y: np.ndarray, frames: dict[str, np.ndarray]) -> list[str]:
    """The mounting each long still stretch tipped back from standing points to (``frames``:
    each mounting's device-to-body rotation, from the stand)."""
    out: list[str] = []
    tilt = np.degrees(np.arccos(np.clip(u @ y, -1.0, 1.0)))
    ok = still & (tilt >= SIT_TILT_DEG[0]) & (tilt <= SIT_TILT_DEG[1])
    need = int(SIT_S / BIN_S)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a < need or b == u.shape[0]:
            continue  # too short, or maybe not over yet (seen again with the next batch)
        m = u[a:b].mean(axis=0)
        m /= np.linalg.norm(m)
        # Gravity leans towards the body's front (-z) when the pelvis rolls back; across the
        # body (x) it should hardly lean at all.
        score = {k: float(-(M @ m)[2] - abs((M @ m)[0])) for k, M in frames.items()}
        best = max(score, key=lambda k: score[k])
        if score[best] > 0.5 * math.sin(math.radians(SIT_TILT_DEG[0])):
            out.append(best)
    return out


def _walks(u: np.ndarray, norm: np.ndarray, gyr: np.ndarray, y: np.ndarray) -> list[bool]:
    """Per window of walking: is the device's face across the body (a hip mounting)?"""
    w = int(WALK_S / BIN_S)
    face = np.array([0.0, 0.0, 1.0]) - y[2] * y
    if np.linalg.norm(face) < 0.3:
        return []
    face /= np.linalg.norm(face)
    side = np.cross(y, face)
    upright = (u @ y) > math.cos(math.radians(35.0))
    out: list[bool] = []
    for a in range(0, u.shape[0] - w + 1, w):
        if upright[a : a + w].mean() < 0.9:
            continue
        f = norm[a : a + w] - norm[a : a + w].mean()
        if f.std() < 0.8:  # not walking: |f| barely moves
            continue
        lags = np.arange(int(0.35 / BIN_S), int(0.75 / BIN_S) + 1)
        ac = np.array([_corr(f, lag) for lag in lags])
        step = int(lags[int(np.argmax(ac))])
        if ac.max() < 0.3:
            continue  # no step rhythm
        r_face = _corr(gyr[a : a + w] @ face, int(step))
        r_side = _corr(gyr[a : a + w] @ side, step)
        # Rocking once a step (positive at the step lag) is about the left-right axis,
        # once a stride (negative) about the front-back axis.
        if r_face - r_side > WALK_MARGIN:
            out.append(True)
        elif r_side - r_face > WALK_MARGIN:
            out.append(False)
    return out


def _corr(x: np.ndarray, lag: int | np.integer) -> float:
    a, b = x[:-lag] - x[:-lag].mean(), x[lag:] - x[lag:].mean()
    den = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / den if den > 0 else 0.0
