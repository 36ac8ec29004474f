"""Sample clocks for BLE streams: notification arrival times -> sample times on the
stream clock, with missing samples reported as gaps.

BLE delivers samples late and in batches (connection events every 7.5-50 ms, retransmits,
host scheduling), so arrival times are a noisy *upper bound* of when a sample was taken.
Two clocks turn them into sample times:

- ``RateLockedClock`` for devices without timestamps: sample times are *counted* at the
  device's rate, so batching jitter never reaches them. The rate is re-estimated from the
  lower envelope of arrivals (the least-delayed packets), because a "100 Hz" module may run
  at 98.7 Hz. A packet that arrives much later than its count predicts is held until it is
  clear whether the link only stalled (a burst then catches up: no loss) or samples were
  lost (arrivals stay late: a gap of that many samples). That patience is counted in
  arrivals, not seconds: a host that stalls (a loaded machine) delays every arrival at
  once; only the packets queued behind the stall can show nothing was lost. A connection's
  grid is anchored on its least-delayed packet of the first ``anchor_s``, not the first.
- ``DeviceClock`` for devices with timestamps: device times plus an offset anchored on the
  least-delayed packet of the first second, then following the lower envelope of
  ``arrival - device time`` with a bounded slew, so device-clock drift is absorbed without
  ever making times go backwards.

Both return ``Stamped`` packets in arrival order and never drop or duplicate a sample.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sensor.events import Gap
from sensor.settings import ClockSettings

if TYPE_CHECKING:
    from sensor.devices.base import Decoded


@dataclass(frozen=True, slots=True)
class Stamped:
    """One packet's samples with their stream times; ``gap`` marks samples missing just
    before them."""

    times: np.ndarray
    imu: np.ndarray
    gap: Gap | None = None


@dataclass(slots=True)
class _Held:
    arrival: float
    imu: np.ndarray
    lost: int


class _WindowMin:
    """Minimum of values over a sliding window of time (monotonic deque)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._q: deque[tuple[float, float]] = deque()

    def push(self, t: float, value: float) -> float:
        q = self._q
        while q and q[-1][1] >= value:
            q.pop()
        q.append((t, value))
        while q[0][0] < t - self.window_s:
            q.popleft()
        return q[0][1]

    def clear(self) -> None:
        self._q.clear()


# How long a packet that came late waits for the rest of a burst, and at most (seconds).
# The defaults are the settings' (``sensor.settings.ClockSettings``): one place for the numbers.
SETTLE_S = ClockSettings.settle_s
MAX_HOLD_S = ClockSettings.max_hold_s
ANCHOR_S = ClockSettings.anchor_s
DEVICE_WINDOW_S = ClockSettings.device_window_s
DEVICE_MAX_SLEW = ClockSettings.device_max_slew


class RateLockedClock:
    """Counted sample times for a stream without device timestamps.

    ``push(arrival_s, imu, lost)`` takes each packet in arrival order (``lost`` = samples
    known missing before it, from sequence numbers) and returns the packets whose times are
    settled; ``reconnected()`` says the next packet starts a new connection (a gap follows
    whatever was last stamped); ``flush()`` settles held packets (end of stream or link).
    ``settle_s`` is counted in arrivals, at most twice a packet's duration each (a host
    stall is no evidence of a loss); ``max_hold_s`` in samples held.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        gap_threshold_s: float | None = None,
        settle_s: float = SETTLE_S,
        max_hold_s: float = MAX_HOLD_S,
        anchor_s: float = ANCHOR_S,
        envelope_window_s: float = 1.0,
        envelope_windows: int = 30,
        max_rate_error: float = 0.1,
        floor_window_s: float = 20.0,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError("rate must be positive")
        self.nominal_period = 1.0 / rate_hz
        self.period = self.nominal_period
        # Below this much extra delay a packet is jitter; above it, a stall or a loss.
        self.gap_threshold_s = gap_threshold_s if gap_threshold_s is not None else max(0.25, 12 * self.period)
        self.settle_s = settle_s
        self.max_hold_s = max_hold_s
        self.anchor_s = anchor_s
        self.max_rate_error = max_rate_error
        self._env_window_s = envelope_window_s
        self._env_points: deque[tuple[int, float]] = deque(maxlen=envelope_windows)
        self._env_current: tuple[float, int, float] | None = None  # (window start, k, arrival)
        self.last_t: float | None = None
        self.floor = 0.0  # delay of the least-delayed recent packets (sliding minimum)
        self._floor = _WindowMin(floor_window_s)
        self._k = 0  # samples counted in this segment (incl. known losses)
        self._new_segment = True
        self._after_link_loss = False
        self._held: list[_Held] = []
        self._anchoring: list[_Held] = []  # a new connection's first packets
        self._best_lead = np.inf
        self._waited = 0.0  # seconds of arrivals since the held burst last caught up

    @property
    def rate_hz(self) -> float:
        return 1.0 / self.period

    def reconnected(self) -> None:
        """The link was lost and is back: the next packet starts a new segment."""
        self._new_segment = True
        self._after_link_loss = True

    def push(self, arrival_s: float, imu: np.ndarray, lost: int = 0) -> list[Stamped]:
        n = len(imu)
        if n == 0:
            return []
        if self._new_segment:
            out = self.flush()
            self._new_segment = False
            self._anchoring = [_Held(arrival_s, imu, 0)]
            return out + self._anchor_when_due(arrival_s)
        if self._anchoring:
            self._anchoring.append(_Held(arrival_s, imu, lost))
            return self._anchor_when_due(arrival_s)
        if self._held:
            self._held.append(_Held(arrival_s, imu, lost))
            return self._resolve(arrival_s, n)
        assert self.last_t is not None
        lead = arrival_s - (self.last_t + (lost + n) * self.period)
        if lead > self.floor + self.gap_threshold_s:
            self._held = [_Held(arrival_s, imu, lost)]
            self._best_lead, self._waited = lead, 0.0
            return []
        self.floor = self._floor.push(arrival_s, lead)
        return [self._emit(arrival_s, imu, lost, None)]

    def flush(self) -> list[Stamped]:
        """Settle what is held now (the link went down, or the stream ended). No later
        packet can show whether a late burst lost samples or the host stalled, so it is
        taken as complete: after a lost link the reconnect's gap takes up whatever is
        missing (one gap, not two), and at the end a guessed gap would mis-time the last
        samples as much as a missed one."""
        out = self._anchor() if self._anchoring else []
        return out + (self._release(0) if self._held else [])

    # -- internals ------------------------------------------------------------------------

    def _anchor_when_due(self, arrival_s: float) -> list[Stamped]:
        return self._anchor() if arrival_s - self._anchoring[0].arrival >= self.anchor_s else []

    def _anchor(self) -> list[Stamped]:
        """Start a segment: its grid from the least-delayed of its first packets (a packet
        whose last sample has index ``e`` arrived at least ``e`` periods after the first
        sample was taken, plus the link's least delay)."""
        held, self._anchoring = self._anchoring, []
        ends = np.cumsum([h.lost + len(h.imu) for h in held]) - 1
        first = min(h.arrival - e * self.period for h, e in zip(held, ends)) - self.floor
        self._k = 0
        self._env_points.clear()
        self._env_current = None
        gap = None
        if self.last_t is not None:
            # Keep the sample grid: the first new sample falls a whole number of periods
            # after the last one, at least one period.
            steps = max(1, round((first - self.last_t) / self.period))
            first = self.last_t + steps * self.period
            if steps > 1 or self._after_link_loss:
                gap = Gap(self.last_t, first)
        self._after_link_loss = False
        out: list[Stamped] = []
        for i, h in enumerate(held):
            if i == 0:
                times = first + np.arange(len(h.imu)) * self.period
                self.last_t = float(times[-1])
                self._k = len(h.imu)
                self._envelope(h.arrival)
                out.append(Stamped(times, h.imu, gap))
            else:
                out.append(self._emit(h.arrival, h.imu, h.lost, None))
            assert self.last_t is not None
            self.floor = self._floor.push(h.arrival, h.arrival - self.last_t)
        return out

    def _emit(self, arrival_s: float, imu: np.ndarray, lost: int, gap_samples: int | None, on_time: bool = True) -> Stamped:
        """Stamp a packet contiguously after the last one (plus known losses); only
        packets that came on time inform the rate (a released burst came late)."""
        assert self.last_t is not None
        n = len(imu)
        skip = lost + (gap_samples or 0)
        first = self.last_t + (skip + 1) * self.period
        gap = Gap(self.last_t, first) if skip > 0 else None
        times = first + np.arange(n) * self.period
        self.last_t = float(times[-1])
        self._k += skip + n
        if on_time:
            self._envelope(arrival_s)
        return Stamped(times, imu, gap)

    def _resolve(self, arrival_s: float, n: int) -> list[Stamped]:
        assert self.last_t is not None
        total = sum(h.lost + len(h.imu) for h in self._held)
        lead = arrival_s - (self.last_t + total * self.period)
        if lead <= self.floor + self.gap_threshold_s:
            return self._release(0)  # a stall, and the burst has caught up: nothing lost
        if lead < self._best_lead - 0.5 * self.period:
            self._best_lead, self._waited = lead, 0.0  # still catching up
        else:
            # Time waited counts at most twice the packet's own duration per packet: a host
            # stall delays the next arrival by seconds but is no evidence of a loss, and
            # the packets queued behind it, arriving at once, add nothing until they are
            # through and show whether the burst catches up.
            self._waited += min(arrival_s - self._held[-2].arrival, 2 * n * self.period)
        settled = self._waited >= self.settle_s
        if settled or total * self.period >= self.max_hold_s:
            excess = self._best_lead - self.floor
            return self._release(max(1, round(excess / self.period)))
        return []

    def _release(self, missing: int) -> list[Stamped]:
        held, self._held = self._held, []
        self._best_lead = np.inf
        return [self._emit(h.arrival, h.imu, h.lost, missing if i == 0 else None, False) for i, h in enumerate(held)]

    def _envelope(self, arrival_s: float) -> None:
        """Keep the least-delayed packet of each window and re-fit the rate on them."""
        k = self._k
        score = arrival_s - k * self.nominal_period
        cur = self._env_current
        if cur is None or arrival_s - cur[0] >= self._env_window_s:
            if cur is not None:
                self._env_points.append((cur[1], cur[2]))
                self._refit()
            self._env_current = (arrival_s, k, arrival_s)
        elif score < cur[2] - cur[1] * self.nominal_period:
            self._env_current = (cur[0], k, arrival_s)

    def _refit(self) -> None:
        if len(self._env_points) < 5:
            return
        ks = np.array([p[0] for p in self._env_points], float)
        ts = np.array([p[1] for p in self._env_points], float)
        if ks[-1] - ks[0] < 2:
            return
        slope = float(np.polyfit(ks - ks[0], ts - ts[0], 1)[0])
        lo, hi = self.nominal_period * (1 - self.max_rate_error), self.nominal_period * (1 + self.max_rate_error)
        self.period = min(max(slope, lo), hi)


class DeviceClock:
    """Stream times for a stream with device timestamps: ``device time + offset``.

    The first ``anchor_s`` of device time is held back and the offset anchored on its
    least-delayed packet (the first packet alone may arrive a connection interval or a
    whole burst late). After that the offset follows the sliding minimum of ``arrival -
    device time`` at no more than ``max_slew`` seconds per second, which absorbs
    device-clock drift while sample spacing stays the device's. A device clock that jumps
    backwards (device reset) re-anchors.
    """

    def __init__(
        self, rate_hz: float, *, window_s: float = DEVICE_WINDOW_S, max_slew: float = DEVICE_MAX_SLEW, anchor_s: float = 1.0
    ) -> None:
        if rate_hz <= 0:
            raise ValueError("rate must be positive")
        self.period = 1.0 / rate_hz
        self.max_slew = max_slew
        self.anchor_s = anchor_s
        self._min = _WindowMin(window_s)
        self.offset: float | None = None
        self.last_t: float | None = None
        self._last_dev: float | None = None
        self._after_link_loss = False
        self._held: list[tuple[float, np.ndarray, np.ndarray, int]] = []

    def reconnected(self) -> None:
        """The link was lost and is back: what is missing until the next sample is a gap."""
        self._after_link_loss = True

    def push(self, arrival_s: float, device_times: np.ndarray, imu: np.ndarray, lost: int = 0) -> list[Stamped]:
        if len(imu) == 0:
            return []
        dev = np.asarray(device_times, float)
        out: list[Stamped] = []
        if self._last_dev is not None and dev[0] < self._last_dev - 1.0:
            # The device clock restarted: stamp what is held, then anchor afresh.
            out = self._release()
            self.offset = None
        if self.offset is None:
            self._held.append((arrival_s, dev, imu, lost))
            self._last_dev = float(dev[-1])
            if float(dev[-1]) - float(self._held[0][1][0]) >= self.anchor_s:
                out += self._release()
            return out
        return [*out, self._stamp(arrival_s, dev, imu, lost)]

    def _release(self) -> list[Stamped]:
        """Anchor on the least-delayed held packet, then stamp every held packet."""
        held, self._held = self._held, []
        if not held:
            return []
        self._min.clear()
        for a, d, _, _ in held:
            self._min.push(a, a - float(d[-1]))
        self.offset = min(a - float(d[-1]) for a, d, _, _ in held)
        return [self._stamp(a, d, x, n, anchored=True) for a, d, x, n in held]

    def _stamp(self, arrival_s: float, dev: np.ndarray, imu: np.ndarray, lost: int, anchored: bool = False) -> Stamped:
        assert self.offset is not None
        if not anchored:
            target = self._min.push(arrival_s, arrival_s - float(dev[-1]))
            step = self.max_slew * max(0.0, float(dev[-1]) - (self._last_dev if self._last_dev is not None else float(dev[-1])))
            self.offset += min(max(target - self.offset, -step), step)
        times = dev + self.offset
        gap = None
        if self.last_t is not None:
            if times[0] <= self.last_t:
                # Overlap (a re-anchored clock or a device timestamp glitch): keep order by
                # moving this packet just after the last sample.
                times = times + (self.last_t + self.period - times[0])
            if lost > 0 or self._after_link_loss or times[0] - self.last_t > 1.75 * self.period:
                gap = Gap(self.last_t, float(times[0]))
        self._after_link_loss = False
        self.last_t = float(times[-1])
        self._last_dev = float(dev[-1])
        return Stamped(times, imu, gap)

    def flush(self) -> list[Stamped]:
        """End of stream or link: anything held back for anchoring is stamped now."""
        return self._release()


class PacketStamper:
    """Stream times for a connection's decoded packets: the device's own clock when its
    packets carry times (``DeviceClock``), else counted at the rate (``RateLockedClock``).

    How long a burst may take to catch up after a stall is a property of the host
    (scheduling), so that patience is in wall seconds: with ``time_scale`` > 1 (a sped-up
    simulated sensor) it is scaled, so a busy host is never read as lost samples.
    """

    def __init__(self, rate_hz: float, settings: ClockSettings, time_scale: float = 1.0) -> None:
        self.rate_hz = rate_hz
        self.settings = settings
        self.time_scale = time_scale
        self._rate: RateLockedClock | None = None
        self._device: DeviceClock | None = None

    def push(self, arrival_s: float, d: Decoded) -> list[Stamped]:
        """One notification's samples (``arrival_s`` on the stream clock); settled packets out."""
        s = self.settings
        if d.time_s is not None:
            if self._device is None:
                self._device = DeviceClock(self.rate_hz, window_s=s.device_window_s, max_slew=s.device_max_slew)
            return self._device.push(arrival_s, np.asarray(d.time_s), d.imu, d.lost)
        if self._rate is None:
            wall = max(1.0, self.time_scale)
            self._rate = RateLockedClock(
                self.rate_hz, settle_s=s.settle_s * wall, max_hold_s=s.max_hold_s * wall, anchor_s=s.anchor_s * wall
            )
        return self._rate.push(arrival_s, d.imu, d.lost)

    def reconnected(self) -> None:
        """The next packet starts a new connection."""
        for c in (self._rate, self._device):
            if c is not None:
                c.reconnected()

    def flush(self) -> list[Stamped]:
        """Settle held packets (a link went down, or the stream ended)."""
        return (self._rate.flush() if self._rate else []) + (self._device.flush() if self._device else [])
