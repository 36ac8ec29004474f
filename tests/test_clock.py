"""Sample clocks: BLE arrival jitter in, evenly spaced sample times out; losses as gaps."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.sources.clock import DeviceClock, RateLockedClock, Stamped


def _packets(n_samples: int, per_packet: int) -> list[int]:
    return [per_packet] * (n_samples // per_packet)


def _run_rate_locked(clock: RateLockedClock, arrivals: list[tuple[float, int, int]]) -> list[Stamped]:
    out: list[Stamped] = []
    for arrival, n, lost in arrivals:
        out += clock.push(arrival, np.zeros((n, 6), np.float32) + len(out), lost)
    return out + clock.flush()


def _ble_arrivals(
    rate: float, true_rate: float, n_packets: int, per: int, rng: np.random.Generator, jitter_s: float = 0.03
) -> list[tuple[float, int, int]]:
    """Packets of ``per`` samples taken at ``true_rate``, delivered late by 5 ms + up to
    ``jitter_s`` of connection-event delay (never out of order)."""
    out = []
    last = -np.inf
    for k in range(n_packets):
        taken = (k + 1) * per / true_rate
        arrival = max(last, taken + 0.005 + rng.uniform(0, jitter_s))
        out.append((arrival, per, 0))
        last = arrival
    return out


def _times(stamped: list[Stamped]) -> np.ndarray:
    return np.concatenate([s.times for s in stamped])


def test_jitter_is_absorbed_and_spacing_is_the_rate() -> None:
    rng = np.random.default_rng(1)
    clock = RateLockedClock(100.0)
    stamped = _run_rate_locked(clock, _ble_arrivals(100.0, 100.0, 600, 5, rng))
    t = _times(stamped)
    assert len(t) == 3000
    assert not any(s.gap for s in stamped)
    # Arrivals jitter by 30 ms; sample spacing stays the rate (learned to within 0.1%).
    np.testing.assert_allclose(np.diff(t), 0.01, rtol=1e-3)


def test_rate_is_learned_when_the_device_runs_off_nominal() -> None:
    rng = np.random.default_rng(2)
    clock = RateLockedClock(100.0)
    # A "100 Hz" module that really runs at 97 Hz, for five minutes.
    stamped = _run_rate_locked(clock, _ble_arrivals(100.0, 97.0, 6000, 5, rng))
    assert not any(s.gap for s in stamped), "a slow clock must not look like lost samples"
    assert clock.rate_hz == pytest.approx(97.0, rel=2e-3)
    t = _times(stamped)
    # Sample times stay near when the samples were taken (within the BLE delay).
    taken = np.arange(1, len(t) + 1) / 97.0
    assert np.max(np.abs(t - taken)) < 0.25


def test_stall_then_burst_is_not_a_loss() -> None:
    rng = np.random.default_rng(3)
    arrivals = _ble_arrivals(100.0, 100.0, 400, 5, rng)
    # Packets 200-259 (3 s) are held by the link and all delivered at once afterwards.
    release = arrivals[259][0] + 0.01
    arrivals = [(max(a, release) if 200 <= i < 260 else a, n, lost) for i, (a, n, lost) in enumerate(arrivals)]
    stamped = _run_rate_locked(RateLockedClock(100.0), arrivals)
    assert not any(s.gap for s in stamped)
    np.testing.assert_allclose(np.diff(_times(stamped)), 0.01, rtol=1e-3)


def test_samples_lost_without_sequence_numbers_become_a_gap_of_the_right_size() -> None:
    rng = np.random.default_rng(4)
    arrivals = _ble_arrivals(100.0, 100.0, 400, 5, rng)
    del arrivals[200:240]  # 40 packets = 200 samples = 2 s never arrive
    stamped = _run_rate_locked(RateLockedClock(100.0), arrivals)
    gaps = [s.gap for s in stamped if s.gap]
    assert len(gaps) == 1
    assert gaps[0].end_s - gaps[0].start_s == pytest.approx(2.01, abs=0.06)
    t = _times(stamped)
    assert np.all(np.diff(t) > 0)
    assert len(t) == 360 * 5


def test_sequence_losses_are_exact() -> None:
    clock = RateLockedClock(50.0, anchor_s=0.0)  # stamp from the first packet on
    out = clock.push(1.0, np.zeros((5, 6), np.float32))
    out += clock.push(1.1, np.zeros((5, 6), np.float32))
    out += clock.push(1.3, np.zeros((5, 6), np.float32), lost=10)
    assert out[2].gap is not None
    assert out[2].times[0] - out[1].times[-1] == pytest.approx(11 * 0.02)


def test_reconnect_starts_on_the_sample_grid_after_a_gap() -> None:
    clock = RateLockedClock(100.0, anchor_s=0.0)
    a = clock.push(1.0, np.zeros((10, 6), np.float32))
    clock.reconnected()
    b = clock.push(3.5, np.zeros((10, 6), np.float32))
    assert b[-1].gap is not None
    assert b[-1].gap.start_s == pytest.approx(a[0].times[-1])
    steps = (b[-1].times[0] - a[0].times[-1]) / 0.01
    assert steps == pytest.approx(round(steps), abs=1e-6)
    assert b[-1].times[-1] == pytest.approx(3.5, abs=0.02)


def test_host_stall_while_a_burst_is_held_is_not_a_loss() -> None:
    """The host (not the link) stops for 0.6 s while a late burst is being held: every
    arrival after it is late at once, and the packets queued behind the stall catch up.
    Patience counted in seconds read the first packet after the stall as settled lateness."""
    rng = np.random.default_rng(6)
    arrivals = _ble_arrivals(100.0, 100.0, 400, 5, rng)
    # The link holds packets 200-219 and delivers them together; while the client works
    # through them the host stalls: packets 205 on are stamped when it runs again.
    release = arrivals[219][0] + 0.01
    arrivals = [(max(a, release) if 200 <= i < 220 else a, n, lost) for i, (a, n, lost) in enumerate(arrivals)]
    resume = release + 0.6
    arrivals = [(max(a, resume + 1e-4 * i) if i >= 205 else a, n, lost) for i, (a, n, lost) in enumerate(arrivals)]
    stamped = _run_rate_locked(RateLockedClock(100.0), arrivals)
    assert not any(s.gap for s in stamped)
    np.testing.assert_allclose(np.diff(_times(stamped)), 0.01, rtol=1e-3)


def test_a_lost_link_takes_up_what_a_held_burst_may_miss() -> None:
    """Packets held as late when the link drops: one gap follows (the reconnect's), not a
    guessed loss before it and the reconnect's after it."""
    rng = np.random.default_rng(7)
    arrivals = _ble_arrivals(100.0, 100.0, 200, 5, rng)
    clock = RateLockedClock(100.0)
    out: list[Stamped] = []
    for a, n, lost in arrivals[:100]:
        out += clock.push(a, np.zeros((n, 6), np.float32), lost)
    out += clock.push(arrivals[100][0] + 0.5, np.zeros((5, 6), np.float32))  # held: late
    out += clock.flush()  # the link went down
    clock.reconnected()
    for a, n, lost in arrivals[150:]:
        out += clock.push(a + 0.5, np.zeros((n, 6), np.float32), lost)
    out += clock.flush()
    assert len(_times(out)) == 151 * 5
    assert len([s for s in out if s.gap]) == 1


def test_a_connection_is_anchored_on_its_least_delayed_packet_not_the_first() -> None:
    """After a reconnect the first packet waited 0.3 s behind the set-up: the new segment's
    grid and the gap before it come from the least-delayed of its first packets."""
    rng = np.random.default_rng(8)
    arrivals = _ble_arrivals(100.0, 100.0, 300, 5, rng, jitter_s=0.01)
    clock = RateLockedClock(100.0)
    out: list[Stamped] = []
    for a, n, lost in arrivals[:100]:
        out += clock.push(a, np.zeros((n, 6), np.float32), lost)
    out += clock.flush()
    clock.reconnected()
    late_until = arrivals[160][0] + 0.3  # packets 150-160 arrive together, 0.3 s late
    for a, n, lost in arrivals[150:]:
        out += clock.push(max(a, late_until), np.zeros((n, 6), np.float32), lost)
    out += clock.flush()
    gaps = [s.gap for s in out if s.gap]
    assert len(gaps) == 1
    # 250 samples missing: the gap spans 2.51 s (to within the 10-ms jitter), not 2.8.
    assert gaps[0].end_s - gaps[0].start_s == pytest.approx(2.51, abs=0.02)
    t = _times(out)
    assert np.all(np.diff(t) > 0)


def test_device_clock_keeps_device_spacing_and_absorbs_drift() -> None:
    rng = np.random.default_rng(5)
    clock = DeviceClock(100.0)
    out: list[Stamped] = []
    drift = 500e-6  # the device clock runs 500 ppm fast
    for k in range(3000):  # 5 samples a packet, 150 s
        dev = (k * 5 + np.arange(5)) / 100.0
        arrival = dev[-1] / (1 + drift) + 0.01 + rng.uniform(0, 0.03)
        out += clock.push(arrival, dev, np.zeros((5, 6), np.float32))
    t = _times(out)
    assert np.all(np.diff(t) > 0)
    assert not any(s.gap for s in out)
    # Times follow arrivals (within latency) even after 150 s of drift...
    true = (np.arange(len(t)) / 100.0) / (1 + drift)
    assert np.max(np.abs((t - true)[-500:])) < 0.05
    # ...and keep the device's spacing within the slew bound.
    assert np.allclose(np.diff(t), 0.01, rtol=0.01)


def test_device_clock_marks_missing_packets_and_reconnects() -> None:
    clock = DeviceClock(100.0, anchor_s=0.0)  # stamp from the first packet on
    first = clock.push(1.0, np.arange(5) / 100.0 + 10.0, np.zeros((5, 6), np.float32))
    skipped = clock.push(1.2, np.arange(5) / 100.0 + 10.15, np.zeros((5, 6), np.float32))
    assert first[0].gap is None
    assert skipped[0].gap is not None
    assert skipped[0].gap.start_s == pytest.approx(first[0].times[-1])
    clock.reconnected()
    again = clock.push(1.3, np.arange(5) / 100.0 + 10.20, np.zeros((5, 6), np.float32))
    assert again[0].gap is not None


def test_device_clock_reset_keeps_times_increasing() -> None:
    clock = DeviceClock(100.0, anchor_s=0.0)
    a = clock.push(5.0, np.arange(5) / 100.0 + 100.0, np.zeros((5, 6), np.float32))
    # The device rebooted: its clock starts again at 0.
    b = clock.push(6.0, np.arange(5) / 100.0, np.zeros((5, 6), np.float32))
    assert b[0].times[0] > a[0].times[-1]
    assert b[0].times[-1] == pytest.approx(6.0, abs=0.05)


def test_device_clock_anchors_on_the_least_delayed_packet_not_the_first() -> None:
    """A first packet that arrives late (a burst, a long connection interval) must not
    shift the whole stream: the first second is held and anchored on its best packet."""
    clock = DeviceClock(100.0)
    out: list[Stamped] = []
    for k in range(40):  # 5 samples a packet, 2 s
        dev = (k * 5 + np.arange(5)) / 100.0
        delay = 0.150 if k == 0 else 0.004 + 0.002 * (k % 3)
        got = clock.push(dev[-1] + delay, dev, np.zeros((5, 6), np.float32))
        if k < 19:
            assert got == []  # still inside the anchoring second
        out += got
    out += clock.flush()
    t = _times(out)
    assert len(t) == 200 and np.all(np.diff(t) > 0)
    assert np.max(np.abs(t - np.arange(200) / 100.0)) < 0.01  # not 150 ms late


def test_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLockedClock(0.0)
    with pytest.raises(ValueError):
        DeviceClock(-1.0)
