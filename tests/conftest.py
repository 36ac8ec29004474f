"""Shared fixtures: seeded simulated sessions (the project's synthetic board)."""

from __future__ import annotations

import functools

import pytest

from sensor.simulate import SimulatedSession, SimOptions, simulate_session


@functools.lru_cache(maxsize=32)
def _sim(seed: int, **kw: object) -> SimulatedSession:
    return simulate_session(seed, SimOptions(**kw))  # type: ignore[arg-type]


def sim(seed: int, **kw: object) -> SimulatedSession:
    """A cached simulated session (tests must not mutate it)."""
    return _sim(seed, **kw)


@pytest.fixture(scope="session")
def short_session() -> SimulatedSession:
    return sim(7, short=True, rate_hz=100.0)
