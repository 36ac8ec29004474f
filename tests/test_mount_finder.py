"""Where the sensor is worn, found from the data (issue 19, item 5): sitting decides the
mounting, walking alone tells a hip from the back or front; a finding that differs from the
mounting given is analysed as found (said in one line), or named when only half is known.
Simulated daily life (walking, sitting, lying down, getting up) worn at every mounting."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sensor.analyze import analyze_stream
from sensor.samples import Samples
from sensor.signal.mount import MountFinder, MountFinding
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session
from sensor.vocab import MOUNTS

SITS = 705  # a day with sitting down in it: every mounting is found
WALKS_ONLY = (701, 703)  # walking, no sitting: only hip or not
NOTHING = (700, 702, 704)  # neither long enough: nothing is said


@functools.lru_cache(maxsize=32)
def _day(seed: int, mount: str) -> SimulatedSession:
    return simulate_session(seed, SimOptions(mount=mount, daily_life=True))


def _find(samples: Samples, declared: str, chunk: int = 500) -> MountFinding | None:
    finder = MountFinder(declared)
    for piece in samples.chunks(chunk):
        finder.feed(piece)
    return finder.finding


@pytest.mark.parametrize("worn", MOUNTS)
@pytest.mark.parametrize("declared", ["back", "left"])
def test_sitting_finds_every_mounting_whatever_was_declared(worn: str, declared: str) -> None:
    found = _find(_day(SITS, worn).samples, declared)
    assert found is not None and found.mount == worn
    if worn == declared:
        assert found.kind == "confirmed"
    else:
        assert found.kind == "corrected" and f"worn on the {worn}, not the {declared}" in found.message


@pytest.mark.parametrize("seed", [WALKS_ONLY[0], *(pytest.param(s, marks=pytest.mark.slow) for s in WALKS_ONLY[1:])])
@pytest.mark.parametrize("worn", MOUNTS)
def test_walking_alone_names_the_wrong_half_and_keeps_the_declared_mounting(seed: int, worn: str) -> None:
    hip = worn in ("left", "right")
    for declared in ("back", "left"):
        found = _find(_day(seed, worn).samples, declared)
        if found is not None and "way down" in found.message:
            assert found.mount == worn  # lying down told the rest
        elif hip == (declared in ("left", "right")):
            assert found is None  # the half it can tell agrees: nothing to say
        else:
            assert found is not None and found.kind == "doubt" and found.mount == declared  # kept: the other half is unknown
            assert ("a hip" if hip else "the back or the front") in found.message


@pytest.mark.parametrize("seed", [NOTHING[0], *(pytest.param(s, marks=pytest.mark.slow) for s in NOTHING[1:])])
def test_without_sitting_or_enough_walking_nothing_wrong_is_claimed(seed: int) -> None:
    for worn in MOUNTS:
        found = _find(_day(seed, worn).samples, "back")
        assert found is None or (found.mount == worn and "way down" in found.message)


@pytest.mark.slow
def test_the_finding_does_not_depend_on_how_the_stream_was_cut() -> None:
    s = _day(SITS, "right").samples
    whole = _find(s, "back", chunk=len(s))
    assert whole is not None
    for chunk in (1, 37, 4096):
        assert _find(s, "back", chunk=chunk) == whole


@pytest.mark.slow
def test_a_session_analysed_with_the_wrong_mounting_is_counted_as_worn() -> None:
    """Sitting first (the day), then the routine, worn on the left hip and declared on the
    back: the runner re-analyses everything as worn on the left, says so in one line, and
    counts what the right declaration counts."""
    # One strap all day: the device sits the same way in it in both parts.
    strap = {"mount_rotation_deg": 12.0, "mount_tilt_deg": 6.0, "rate_hz": 50.0}
    day = simulate_session(SITS, SimOptions(mount="left", daily_life=True, **strap))  # type: ignore[arg-type]
    work = simulate_session(17, SimOptions(mount="left", short=True, **strap))  # type: ignore[arg-type]
    t0 = float(day.samples.time_s[-1]) + 1.0 / 50.0
    joined = Samples(
        np.concatenate([day.samples.time_s, work.samples.time_s - work.samples.time_s[0] + t0]),
        np.concatenate([day.samples.imu, work.samples.imu]),
    )
    notes: list[str] = []
    wrong = analyze_stream(joined.chunks(1000), mount="back", notes=notes)
    right = analyze_stream(joined.chunks(1000), mount="left")
    assert [n for n in notes if "worn on the left, not the back" in n] and len(notes) == 1
    assert [(r.exercise, round(r.start_s, 2)) for r in wrong.reps] == [(r.exercise, round(r.start_s, 2)) for r in right.reps]
    assert [(h.exercise, h.side) for h in wrong.holds] == [(h.exercise, h.side) for h in right.holds]
    assert len(right.reps) >= 0.8 * len(work.truth["reps"])


def _still(u: tuple[float, float, float], seconds: float, t0: float, seed: int) -> Samples:
    """Still for ``seconds`` with gravity along ``u`` (device frame), a little noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 100)
    g = np.asarray(u) / np.linalg.norm(u) * 9.81
    acc = g + rng.normal(0.0, 0.02, (n, 3))
    gyr = rng.normal(0.0, 0.002, (n, 3))
    return Samples(t0 + np.arange(n) / 100.0, np.hstack((acc, gyr)))


def test_lying_on_a_side_after_lying_down_is_no_stand() -> None:
    """A session that opens without a still stand (walked to the mat, straight down): on
    the back (a back mounting's face vertical), then on a side, where its face is horizontal
    as when standing, then two side planks 16 deg up from there. Taken as a stand and two
    sits, the side-lying made the back mounting 'corrected' to a hip and every rep of the
    session was lost (a tuning session, 2129)."""
    side = (1.0, 0.0, 0.0)
    plank = (float(np.cos(np.radians(16))), float(np.sin(np.radians(16))), 0.0)
    parts = [((0.0, 0.0, 1.0), 4.0), (side, 4.0), (plank, 4.0), (side, 4.0), (plank, 4.0), (side, 4.0)]
    t, pieces = 0.0, []
    for k, (u, secs) in enumerate(parts):
        pieces.append(_still(u, secs, t, k))
        t += secs
    stream = Samples.concat(pieces)
    assert _find(stream, "back") is None
