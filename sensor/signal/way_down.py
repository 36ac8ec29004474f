"""Which way the body faced, from how the person got down to the floor.

Lying still, gravity cannot tell lying on the back with the sensor on the back of the
pelvis from lying on the front with it on the belt (nor either from lying on a side with
it on a hip): the device sees the same. The way down can, as it is told by heights
(``sensor.signal.height``), which no mounting changes:

- Sitting, then lying back: a still with the pelvis rolled 10-40° from upright, at least
  ``SIT_BELOW_STAND_M`` below the stand before it or at most ``SIT_ABOVE_LYING_M`` above
  the lying after it (the seat is on the floor), then lying within seconds. Nothing else
  rests that low with the pelvis that upright, and it rolled back: gravity, seen from the
  pelvis, leans towards the body's front.
- On all fours, then down to the stomach: a still with the trunk level, reached from
  upright (kneeling onto the hands) with nothing lower on the way, then a descent of
  at least ``FACE_DOWN_DROP_M`` while still facing as on all fours. Only a body facing the
  floor sinks that far while level, and from above all it lay on before: a bridge lowers
  8-20 cm and a side plank 10-35 cm, each to where it was lying. Up is then the body's back.

Both are over within ``WAY_DOWN_S``: over a set of reps a hobby IMU's heights drift a few
centimetres a movement, and a rest far on reads tenths of a metre below one before it.

Heights come from the movements between stills, each integrated alone; the stills are the
height tracker's, cut where a slow level descent hides in one (``_split_slow``) and dropped
where reached at speed (``WaysDown._at_rest``; the reading at a still may differ from the
one before only by the sensor's error along the turn, ``height.READING_ERROR``: a still
that is still slowing is not taken for gravity). A still of ``SHORT_S`` (a sit held so
briefly on the way to lying back that only 0.2-0.3 s of it is still) counts when judged
from one of ``RUN_S`` before it, and is chained from, never to: the slow start of a
movement is as short and as quiet, and would pass its own speed on as rest. Tuning
sessions (every class and mounting, fed as a live stream): it decides 52 of 100 routines
(seeds 105000-105099) and 54 of 150 days of stretching and daily life (105250-105399),
never for a mounting other than the one worn.
"""

from __future__ import annotations

import math

import numpy as np

from sensor.signal.height import HeightTracker, rise_and_speed

RUN_S = 0.3  # a still: this long (a pause kneeling or on all fours on the way down is brief) ...
SHORT_S = 0.2  # ... or this long, judged from a still of RUN_S before it: the sit on the way to lying
# back is held 0.3-1.5 s, and the height tracker calls only 0.2-0.3 s of it still
UPRIGHT_DEG = 10.0  # standing or kneeling: the long axis within this of the stand's
SIT_TILT_DEG = (10.0, 40.0)  # sitting on the floor rolls the pelvis back 10-30°
SIT_BELOW_STAND_M = 0.65  # ... 0.7-0.95 m below standing (a deep squat, its pelvis tipped forward
# as much, is 0.4-0.6 m below)
SIT_ABOVE_LYING_M = 0.25  # ... or at most this above lying, which follows within seconds (the seat
# is on the floor: 0.07-0.13 m above the sacrum lying; a squat's pelvis is 0.35-0.55 m above it, and
# all fours after a squat is level with it or higher, not lower). The stand may be out of reach: a
# chain that began kneeling reads a sit 0.4-0.5 m below its "stand"
LIE_AFTER_S = 6.0  # lying back follows the sit within this
LEVEL_DEG = 60.0  # the trunk level: the long axis this far or more from upright
FACE_DOWN_DROP_M = 0.28  # all fours (0.5-0.6 m) down to the stomach (0.2 m): 0.3-0.4 m
SAME_FACE_DEG = 30.0  # ... while gravity stays within this of where it was on all fours
MOVE_DV = 0.1  # a still gains less velocity than this (m/s) ...
MOVE_WINDOW_S = 1.0  # ... within any window this long ...
MOVE_REF_S = 4.0  # ... against the median |f| over this long around
JOIN_S = 0.12  # stills this close are one (a bin over a threshold is noise)
CHAIN_GAP_S = 4.0  # heights are chained over movements at most this long
WAY_DOWN_S = 10.0  # a way down (stand to sit, all fours to the stomach) is over within this
REST_SPEED = 0.2  # m/s: a still arrived at faster than this is the middle of a movement (0.25-0.5 m/s)
ANCHOR_MAX = 25  # bins averaged for a still reading next to a movement (1 s)
NEVER_LOWER_M = 0.1  # all fours: no still since upright was lower than this under it (a bridge's or
# a side plank's top is reached from lying, 8-35 cm lower; so is all fours after child's pose,
# which then tells nothing: the stand's long axis, which would tell child's pose from lying,
# is not always right, as a session begun without a stand shows)
# A mounting fits when gravity leans within 33° of the body axis it should (cos - sin of the
# angle at least this): the mounting's frame is known from the stand up to a turn about the
# vertical (a device worn a little round the belt).
FIT = 0.4


def _runs(still: np.ndarray, need: int) -> list[tuple[int, int]]:
    e = np.flatnonzero(np.diff(np.concatenate(([0], still.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(e[::2], e[1::2]) if b - a >= need]


def _split_slow(
    runs: list[tuple[int, int]], acc: np.ndarray, dt: float, need: int, cache: dict[tuple[int, int], list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    """Stills without the slow movements they may take in: a level lowering of 0.3 m in
    2-3 s (all fours to the stomach) turns nothing and moves |f| by 0.1-0.4 m/s², as much
    as a hobby IMU's noise, but gains 0.15-0.25 m/s within a second and loses it again,
    which noise does not (0.1 m/s² a bin: 0.02 m/s a second). |f| is compared with its
    median over ``MOVE_REF_S`` around (nothing turns within a still, so its level holds;
    a lowering's push and brake are the minority); what gains ``MOVE_DV`` within
    ``MOVE_WINDOW_S`` is a movement, and the stills are what is left."""
    w = max(2, round(MOVE_WINDOW_S / dt))
    half = max(w, round(MOVE_REF_S / dt)) // 2
    joined: list[tuple[int, int]] = []
    for a, b in runs:  # a bin of noise does not part two stills (nor hide a lowering between them)
        if joined and (a - joined[-1][1]) * dt <= JOIN_S:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    out: list[tuple[int, int]] = []
    ahead = 2 * half + w  # bins a piece's edge depends on after it
    for a, b in joined:
        key = (a, b)
        if b >= acc.shape[0] - 1:
            # Not over: its first stills are known once far enough behind its end (someone
            # who lies down and stays still to the end of the recording lay down).
            if b - a < 2 * ahead:
                continue
            key, b = (a, -1), a + 2 * ahead
        if key not in cache:
            got = _pieces(np.linalg.norm(acc[a:b], axis=1), dt, need, w, half)
            cache[key] = got if key[1] != -1 else [(p, min(q, ahead)) for p, q in got if p < ahead and min(q, ahead) - p >= need]
        out += [(a + p, a + q) for p, q in cache[key]]
    return out


def _pieces(f: np.ndarray, dt: float, need: int, w: int, half: int) -> list[tuple[int, int]]:
    """The stills within one (``_split_slow``), as offsets into it."""
    n = f.size
    if n <= w:
        return [(0, n)] if n >= need else []
    span = min(n, 2 * half + 1)
    med = np.median(np.lib.stride_tricks.sliding_window_view(f, span), axis=1)
    ref = med[np.clip(np.arange(n) - span // 2, 0, med.size - 1)]
    v = np.concatenate(([0.0], np.cumsum(f - ref))) * dt
    # A window that gained velocity holds a push or a brake; the middle half of each is
    # marked (overlapping windows cover a movement, and a still next to one is kept).
    gained = np.flatnonzero(np.abs(v[w:] - v[:-w]) > MOVE_DV)
    moving = np.zeros(n + 1)
    np.add.at(moving, gained + w // 4, 1.0)
    np.add.at(moving, gained + w - w // 4, -1.0)
    return _runs(np.cumsum(moving)[:-1] == 0, need)


def _best(frames: dict[str, np.ndarray], up: np.ndarray, axis: float) -> str | None:
    """The mounting whose body frame leans ``up`` (its part across the long axis) along
    ``axis`` × body z (+1: the back, -1: the front), not across the body."""
    score = {}
    for k, M in frames.items():
        x, _, z = M @ up
        n = math.hypot(x, z)
        score[k] = float((axis * z - abs(x)) / n) if n > 1e-6 else -1.0
    best = max(score, key=lambda k: score[k])
    return best if score[best] >= FIT else None


class WaysDown:
    """Finds ways down in bins (``t`` s, ``acc`` m/s², ``gyr`` rad/s, device frame) given
    the unit specific force ``u``, the still mask and the stand's up ``y``. Heights of
    movements between stills that are over are kept, so looking again as bins arrive
    costs little."""

    def __init__(self) -> None:
        self._moves: dict[tuple[int, int], tuple[float, float]] = {}  # (end of a still, start of the next): m, m/s on arrival
        self._pieces: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def find(
        self,
        t: np.ndarray,
        acc: np.ndarray,
        gyr: np.ndarray,
        u: np.ndarray,
        still: np.ndarray,
        y: np.ndarray,
        frames: dict[str, np.ndarray],
    ) -> list[tuple[str, str]]:
        """(mounting, which way down) for each way down found, in time order."""
        dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
        # Heights need the velocity zero at each still: the finder's stills (slow turns,
        # |f| near g) take in a slow sit-down or a lowering; the tracker's do not.
        need, full = max(2, round(SHORT_S / dt)), max(2, round(RUN_S / dt))
        strict = _runs(still & HeightTracker(1.0 / dt).still_mask(acc, gyr), 1)
        runs = self._at_rest(t, acc, gyr, _split_slow(strict, acc, dt, need, self._pieces), full)  # over: they stay as bins arrive
        tilt = np.degrees(np.arccos(np.clip(u @ y, -1.0, 1.0)))
        # Means over each still by cumulative sums (one pass, however many stills).
        ab = np.array(runs, dtype=np.int64).reshape(-1, 2)
        cnt = (ab[:, 1] - ab[:, 0]).astype(np.float64)
        ct = np.concatenate(([0.0], np.cumsum(tilt)))
        mean_tilt = ((ct[ab[:, 1]] - ct[ab[:, 0]]) / np.maximum(cnt, 1.0)).tolist()
        cu = np.vstack((np.zeros((1, 3)), np.cumsum(u, axis=0)))
        up = cu[ab[:, 1]] - cu[ab[:, 0]]
        ups = list(up / np.maximum(np.linalg.norm(up, axis=1), 1e-12)[:, None])
        h = self._heights(t, acc, gyr, runs, mean_tilt, full)
        same_face = math.cos(math.radians(SAME_FACE_DEG))
        out: list[tuple[str, str]] = []
        low = 0.0  # the lowest of the last upright still and those since, before this one
        bottoms: set[int] = set()
        for i, (_, b) in enumerate(runs):
            hi = h[i]
            if hi is None:
                continue
            if mean_tilt[i] < UPRIGHT_DEG:
                low = hi
                continue
            nxt = i + 1 if i + 1 < len(runs) else None
            # Below the stand it came down from: the highest upright still of the last
            # seconds (a chain drifts a few centimetres a movement on a hobby IMU).
            if (
                SIT_TILT_DEG[0] <= mean_tilt[i] <= SIT_TILT_DEG[1]
                and nxt is not None
                and t[runs[nxt][0]] - t[b - 1] <= LIE_AFTER_S
                and mean_tilt[nxt] >= LEVEL_DEG
                and (
                    ((stand := self._stand_before(t, runs, h, mean_tilt, i)) is not None and hi - stand <= -SIT_BELOW_STAND_M)
                    or ((lie := h[nxt]) is not None and 0.0 <= hi - lie <= SIT_ABOVE_LYING_M)
                )
                and (m := _best(frames, ups[i], -1.0)) is not None
            ):
                out.append((m, "sitting, then lying back"))
            if LEVEL_DEG <= mean_tilt[i] <= 180.0 - LEVEL_DEG and hi - low <= NEVER_LOWER_M:
                # Down from here, facing as here: the lowest still reached before turning.
                # Within one way down: over a set of reps the chain drifts, and a rest far on
                # may read tenths of a metre lower than one before it.
                sunk, j, bottom = 0.0, i, i
                while (
                    j < len(runs)
                    and t[runs[j][0]] - t[b - 1] <= WAY_DOWN_S
                    and (hj := h[j]) is not None
                    and float(ups[j] @ ups[i]) >= same_face
                ):
                    if hi - hj > sunk:
                        sunk, bottom = hi - hj, j
                    j += 1
                if sunk >= FACE_DOWN_DROP_M and bottom not in bottoms and (m := _best(frames, ups[i], 1.0)) is not None:
                    bottoms.add(bottom)  # one way down, however many stills on all fours before it
                    out.append((m, "on all fours, then down to the stomach"))
            low = min(low, hi)
        return out

    @staticmethod
    def _stand_before(t: np.ndarray, runs: list[tuple[int, int]], h: list[float | None], mean_tilt: list[float], i: int) -> float | None:
        """Height of the highest upright still ending within ``WAY_DOWN_S`` before still ``i``."""
        best: float | None = None
        k = i - 1
        while k >= 0 and t[runs[i][0]] - t[runs[k][1] - 1] <= WAY_DOWN_S:
            hk = h[k]
            if hk is not None and mean_tilt[k] < UPRIGHT_DEG and (best is None or hk > best):
                best = hk
            k -= 1
        return best

    def _at_rest(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, runs: list[tuple[int, int]], full: int) -> list[tuple[int, int]]:
        """The stills the pelvis came to rest in: the middle of a slow lowering also looks
        still for a moment (it accelerates at nothing and turns at nothing), but moves at
        0.2-0.4 m/s, which the speed integrated from the still before tells. The speed is
        integrated from a still of ``full`` bins: a shorter one may be the slow start of a
        movement, which would carry its speed on as rest; with nothing so long in reach,
        a short still is not judged and not kept."""
        kept: list[tuple[int, int]] = []
        anchor: tuple[int, int] | None = None
        for a, b in runs:
            if anchor is not None and t[a] - t[anchor[1] - 1] <= CHAIN_GAP_S:
                if abs(self._move(t, acc, gyr, anchor, (a, b))[1]) > REST_SPEED:
                    continue
            elif b - a < full:
                continue
            kept.append((a, b))
            if b - a >= full:
                anchor = (a, b)
        return kept

    def _move(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, frm: tuple[int, int], to: tuple[int, int]) -> tuple[float, float]:
        """Rise (m) and arrival speed (m/s) of the movement from still ``frm`` to still
        ``to``, each still's reading over at most ``ANCHOR_MAX`` bins next to it (kept: a
        movement between stills that are over stays as bins arrive)."""
        key = (frm[1], to[0])
        if key not in self._moves:
            n0, n1 = min(frm[1] - frm[0], ANCHOR_MAX), min(to[1] - to[0], ANCHOR_MAX)
            self._moves[key] = rise_and_speed(t, acc, gyr, frm[1] - 1, to[0], n0, n1, bounded=True)
        return self._moves[key]

    def _heights(
        self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, runs: list[tuple[int, int]], mean_tilt: list[float], full: int
    ) -> list[float | None]:
        """Each still's height (m) from the upright still its chain began at (a stand, as a
        rule), chained over the movements between stills of ``full`` bins or more
        (``CHAIN_GAP_S``; each integrated alone, as its error grows with the square of its
        length; a shorter still is read from the one before it, not chained from); None
        where it broke."""
        h: list[float | None] = []
        anchor: int | None = None  # the last still chained from
        for i, (a, b) in enumerate(runs):
            prev = h[anchor] if anchor is not None else None
            if prev is None or anchor is None or t[a] - t[runs[anchor][1] - 1] > CHAIN_GAP_S:
                h.append(0.0 if mean_tilt[i] < UPRIGHT_DEG else None)  # upright: a new origin
            else:
                h.append(prev + self._move(t, acc, gyr, runs[anchor], (a, b))[0])
            if b - a >= full:
                anchor = i
        return h
