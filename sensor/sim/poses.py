"""Where the pelvis is on and above the floor, and how a person gets from one place to the
next: the floor model of sessions drawn from the class catalogue (``sensor.sim.classes``).

Heights are of the back of the pelvis (the sacrum, where the default mounting sits) above
the floor, for adults of 1.55-1.90 m, drawn once per person:

- standing: 0.85-1.05 m (the sacrum's second segment sits at ~0.55 of stature);
- kneeling upright: thigh length 0.40-0.48 m over a knee's few cm, plus the sacrum's
  height over the hip joint: 0.50-0.62 m;
- all fours (hands under the shoulders, knees under the hips): the thighs are vertical,
  so the same 0.48-0.60 m; the trunk is about level, the pelvis pitched -5..+5°;
- push-up position (on the hands and toes): the shoulders at arm's length (0.55-0.65 m),
  the ankles at ~0.08 m, 1.4-1.5 m apart: the body slopes 15-20° and the sacrum, 0.6 of
  the way up and 0.1 m above the line, is at 0.42-0.52 m, pitched 12-20° head-up;
- forearm plank: the shoulders at upper-arm length (0.30-0.38 m): a 8-12° slope, the sacrum
  at 0.30-0.40 m, pitched 4-15° (the hips piked or sagging a little either side);
- prone: the pelvis's depth with soft tissue, 0.18-0.24 m; supine: the sensor lies under
  the sacrum, 0.02-0.04 m; on a side: half the pelvis's width, 0.15-0.19 m;
- on a side propped on the forearm: the shoulder at ~0.3 m raises the trunk ~20°, of which
  the pelvis takes 3-10° (the lumbar spine bends the rest); it stays on the floor;
- sitting on the floor (legs out or crossed): the sacrum 0.10-0.15 m over the seat bones,
  the pelvis rolled back 10-30° (hamstrings pull it back with the legs out);
- child's pose (sitting back on the heels, trunk folded onto the thighs): the hips on the
  heels at ~0.2 m, the sacrum at 0.28-0.38 m facing up and back, pitched 20-45° head-down
  (the thighs slope ~18°, the flexed lumbar spine tips the pelvis further).

Transitions take the ways people take: down to the floor through kneeling, then onto all
fours and down to the stomach, or sitting and lying back; rolls through a side; up again
the same ways. Durations 1-3 s a step (times the person's tempo), brief pauses between.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

LYING = ("supine", "prone", "side_left", "side_right")


@dataclass(frozen=True)
class Pose:
    """A resting pose: the posture frame it is built on (``Body.base_for``), the sacrum's
    height, and its pitch: for lying frames the long axis, head end up (+); for upright
    frames the pelvis rolled back (+)."""

    frame: str
    height_m: float
    pitch_deg: float = 0.0

    @property
    def lying(self) -> bool:
        return self.frame in LYING


def draw_floor(rng: np.random.Generator) -> dict[str, Pose]:
    """One person's poses (heights and pitches drawn within the ranges above)."""
    u = rng.uniform
    prone = float(u(0.18, 0.24))
    side = float(u(0.15, 0.19))
    kneel = float(u(0.50, 0.62))
    poses = {
        "standing": Pose("standing", float(u(0.85, 1.05))),
        "kneeling": Pose("standing", kneel, float(u(-5, 5))),
        "all_fours": Pose("prone", kneel - float(u(0.0, 0.03)), float(u(-5, 5))),
        "pushup": Pose("prone", float(u(0.42, 0.52)), float(u(12, 20))),
        "plank": Pose("prone", float(u(0.30, 0.40)), float(u(4, 15))),
        "prone": Pose("prone", prone),
        "supine": Pose("supine", float(u(0.02, 0.04))),
        "side_left": Pose("side_left", side),
        "side_right": Pose("side_right", side),
        "floor_sitting": Pose("standing", float(u(0.10, 0.15)), float(u(10, 30))),
        "childs_pose": Pose("prone", float(u(0.28, 0.38)), -float(u(20, 45))),
    }
    propped = float(u(3, 10))
    poses["side_left_propped"] = Pose("side_left", side + 0.01, propped)
    poses["side_right_propped"] = Pose("side_right", side + 0.01, propped)
    return poses


# Ways between poses (both directions) and how long each takes, before the tempo factor.
EDGES: dict[tuple[str, str], tuple[float, float]] = {
    ("standing", "kneeling"): (1.5, 3.0),  # a lunge down onto one knee, then the other
    ("kneeling", "all_fours"): (1.0, 2.0),
    ("kneeling", "floor_sitting"): (1.5, 3.0),  # sitting to one side, legs swung out
    ("all_fours", "prone"): (1.5, 3.0),
    ("all_fours", "childs_pose"): (1.5, 3.0),
    ("all_fours", "pushup"): (1.5, 2.5),  # stepping back onto the toes
    ("floor_sitting", "supine"): (1.5, 3.0),  # down through the elbows
    ("supine", "prone"): (1.5, 3.0),  # a roll, through a side
    ("supine", "side_left"): (1.0, 2.0),
    ("supine", "side_right"): (1.0, 2.0),
    ("prone", "side_left"): (1.0, 2.0),
    ("prone", "side_right"): (1.0, 2.0),
    ("side_left", "side_left_propped"): (1.0, 2.0),
    ("side_right", "side_right_propped"): (1.0, 2.0),
}
# Horizontal travel of the pelvis along the body's long axis (head end +), metres.
SHIFT_M: dict[tuple[str, str], tuple[float, float]] = {
    ("all_fours", "childs_pose"): (-0.35, -0.2),  # back onto the heels
    ("all_fours", "pushup"): (-0.35, -0.2),  # the body lengthens behind the hands
    ("all_fours", "prone"): (-0.3, -0.1),
}


def _neighbours(a: str) -> list[str]:
    return [y if x == a else x for x, y in EDGES if a in (x, y)]


def path(a: str, b: str) -> list[str]:
    """The poses passed through from ``a`` to ``b`` (both included), fewest steps."""
    prev: dict[str, str | None] = {a: None}
    todo = deque([a])
    while todo:
        x = todo.popleft()
        if x == b:
            break
        for y in _neighbours(x):
            if y not in prev:
                prev[y] = x
                todo.append(y)
    if b not in prev:
        raise ValueError(f"no way from {a} to {b}")
    out = [b]
    while (p := prev[out[-1]]) is not None:
        out.append(p)
    return out[::-1]


def step_range(a: str, b: str) -> tuple[float, float]:
    return EDGES.get((a, b)) or EDGES[(b, a)]


def shift_range(a: str, b: str) -> tuple[float, float] | None:
    if (a, b) in SHIFT_M:
        return SHIFT_M[(a, b)]
    if (b, a) in SHIFT_M:
        lo, hi = SHIFT_M[(b, a)]
        return -hi, -lo
    return None
