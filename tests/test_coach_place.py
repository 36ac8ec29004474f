"""Where the coach says the user is ("now", "next", "routine done"): it follows the routine
as done so far. A set or hold in progress short of its target is "now", never a step done;
checked on scripted streams and on a recording replayed live at 4× and 50×, at every
update the live view can show (the place is judged on stream time: the speed changes only
how many updates there are, at 4× one per 0.8 s of stream at most)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from store_builders import hold, reps

from sensor.coach import Coach, Place, routine_place, set_progress
from sensor.events import Hold, HoldStarted, Rep
from sensor.live import LiveSession
from sensor.routine import Routine, group_sets
from sensor.signal.pipeline import HoldStatus, LiveStatus
from sensor.sources.paced import ReplaySource

SIDES_ONLY = replace(
    Routine(),
    bridge=replace(Routine().bridge, sessions_per_week=0),
    back_extension=replace(Routine().back_extension, sessions_per_week=0),
)


def test_a_bridge_set_at_rep_1_of_12_is_now_not_a_reason_to_name_the_next_exercise() -> None:
    r = Routine()
    one = reps("bridge", 1)
    p = routine_place(one, [], r, one[0].end_s + 1.0)
    assert p.words == "now: hip bridge, set 1, 11 reps to go" and not p.done
    # Over once the set pause passed without a rep (a short set is still a set done) ...
    assert routine_place(one, [], r, one[0].end_s + 16.0).words == "next: back extension, set 1 of 3"
    # ... or once it reaches its target.
    twelve = reps("bridge", 12)
    assert routine_place(twelve, [], r, twelve[-1].end_s).words == "next: back extension, set 1 of 3"


def test_the_last_side_plank_at_12_of_30_s_is_not_routine_done() -> None:
    r = Routine()
    done = reps("bridge", 12) + [x for k in range(3) for x in reps("back_extension", 10, start=200 + 100 * k, every=4)]
    three = [hold("side_plank", "right", 600, 30), hold("side_plank", "left", 700, 30), hold("side_plank", "right", 800, 30)]
    at_12 = HoldStatus("side_plank", "left", 900.0, 12.0)
    p = routine_place(done, three, r, 912.0, at_12)
    assert p.words == "now: side plank, left, 18 s to go" and not p.done
    # At its target the hold counts; once it ends (the Hold comes) it is among the holds.
    assert routine_place(done, three, r, 930.0, replace(at_12, elapsed_s=30.0)).done
    assert routine_place(done, [*three, hold("side_plank", "left", 900, 31)], r, 932.0).words == "routine done ✓"
    # A hold ended short of the target is still a hold done: the user moved on.
    assert routine_place(done, [*three, hold("side_plank", "left", 900, 12)], r, 913.0).done


def test_the_last_bridge_set_on_replay_at_4_of_12_is_not_routine_done() -> None:
    """Back extensions and side planks first, bridges last (as a replayed session had it)."""
    r = Routine()
    ext = [x for k in range(3) for x in reps("back_extension", 10, start=10 + 100 * k, every=4)]
    sides = [hold("side_plank", s, 400 + 60 * i, 31) for i, s in enumerate(("right", "left", "right", "left"))]
    four = reps("bridge", 4, start=700)
    p = routine_place(ext + four, sides, r, four[-1].end_s + 1)
    assert p.words == "now: hip bridge, set 1, 8 reps to go"
    assert routine_place(ext + four, sides, r, four[-1].end_s + 16).done


def test_a_side_plank_of_unknown_side_counts_for_a_side() -> None:
    """Without the opening stand the side is not known: such holds still move the routine on."""
    unknown = [hold("side_plank", None, 10 + 60 * i, 31) for i in range(3)]
    assert routine_place([], unknown, SIDES_ONLY, 200).words == "next: side plank, left"
    assert routine_place([], [*unknown, hold("side_plank", "left", 200, 31)], SIDES_ONLY, 240).done


def test_the_coach_keeps_its_place_through_a_gap_in_a_hold() -> None:
    c = Coach(SIDES_ONLY)
    c.update(None, [HoldStarted("side_plank", "right", 5.0, 5.2)], 5.2)
    c.update(LiveStatus(time_s=10.0, posture="side_right", hold=HoldStatus("side_plank", "right", 5.0, 5.0)), [], 10.0)
    assert c.place.now == "side plank, right, 25 s to go"
    c.update(None, [], 11.0)  # a gap item: no status, the hold goes on
    assert c.place.now == "side plank, right, 25 s to go"
    c.update(LiveStatus(time_s=20.0, posture="side_right"), [hold("side_plank", "right", 5.0, 14.0)], 20.0)
    assert c.place == Place("", "side plank, left")


# -- on a replayed recording, at every update ------------------------------------------------

SEED = 4  # side planks right then left (16 s and 15 s: short of 30 s), then 5 bridges; 155 s
START_S = 25.0  # the replay starts here (what comes before is analysed unpaced): before the first side plank
ROUTINE = replace(SIDES_ONLY, bridge=Routine().bridge, side_plank=replace(Routine().side_plank, holds=1))


@dataclass(slots=True)
class _Watched(Coach):
    """The coach, with what the live view could show after each of its updates."""

    seen: list[tuple[float, Place, list[Rep], list[Hold], Any]] = field(default_factory=list)

    def update(self, status: Any, events: Any, now_s: float) -> Any:
        out = Coach.update(self, status, events, now_s)  # (a slots dataclass: no bare super())
        self.seen.append((now_s, self.place, list(self._reps), list(self._holds), self._hold_now))
        return out


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sensor.recording import write_recording
    from sensor.sim.simulate import SimOptions, simulate_session

    s = simulate_session(SEED, SimOptions(short=True, exercises=("side_plank", "bridge"), shuffle=False, rate_hz=50.0, link_losses=0))
    path = tmp_path_factory.mktemp("place") / "sides-then-bridges.htrec"
    write_recording(path, s.header, s.samples, s.gaps)
    return path


def _replay(path: Path, speed: float) -> _Watched:
    coach = _Watched(ROUTINE)
    live = LiveSession(ReplaySource(path, speed=speed, start_s=START_S), coach=coach)
    live.start()
    assert live.wait(120 + (155 - START_S) / speed), "the replay did not end"
    snap = live.snapshot()
    assert snap.error is None and snap.place == coach.place  # the view reads the coach's place
    return coach


def _check(coach: _Watched) -> None:
    """Every place the coach held: a hold in progress short of 30 s, or a set in progress
    short of 12 reps, is "now"; done means every step finished."""
    kinds: set[str] = set()
    for now_s, place, rs, hs, h in coach.seen:
        sets = group_sets(rs)
        p = set_progress(rs, now_s, ROUTINE, sets)
        in_set = p is not None and p.resting_s is None
        if h is not None and h.elapsed_s < 30.0 - 0.25:
            assert place.now.startswith(f"side plank, {h.side}, "), (now_s, place)
            kinds.add(f"hold {h.side}")
        elif in_set:
            assert place.words.startswith("now: hip bridge, set 1, "), (now_s, place)
            kinds.add("bridge")
        if place.done:
            finished = {x.side for x in hs}
            assert not in_set and h is None and finished == {"left", "right"} and sets, (now_s, place)
            kinds.add("done")
        # The same moment judged against a routine of side planks only: the left one is its last step.
        only = routine_place(rs, hs, SIDES_ONLY, now_s, h)
        if h is not None and h.side == "left" and h.elapsed_s < 30.0 - 0.25:
            assert not only.done and only.now.startswith("side plank, left"), (now_s, only)
            kinds.add("last step")
    assert kinds == {"hold right", "hold left", "bridge", "done", "last step"}, kinds
    assert coach.seen[-1][1].words == "routine done ✓"


@pytest.mark.slow  # 1.5-3.6 s: out of make check, still in make test
def test_the_place_follows_a_replay_at_50x(recording: Path) -> None:
    coach = _replay(recording, 50.0)
    _check(coach)


@pytest.mark.slow
def test_the_place_follows_a_replay_at_4x(recording: Path) -> None:
    t0 = time.monotonic()
    coach = _replay(recording, 4.0)
    assert time.monotonic() - t0 >= (150 - START_S) / 4.0 * 0.9  # paced: a quarter of real time
    _check(coach)
