"""A simulated BLE sensor: a device profile's ``Peripheral`` fed by a sample feed at real
time (or a speed factor), with injectable link faults and counters of what it sent.

No D-Bus here: the fake BlueZ service owns one ``SimulatedSensor`` per device, calls
``tick`` from its timer and hands every notification to ``transmit``.

Accounting: every data notification is decoded once on the device side by a monitor
decoder (a fresh ``profile.decoder`` per connection, like the client's), which says how
many samples it carries; since a peripheral emits samples in the order it was fed them,
that names the exact sample indices of each notification. A notification's samples are
*delivered* when it was handed to the bus intact while the client was subscribed.
"""

from __future__ import annotations

import importlib
import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sensor.devices.base import Decoder, DeviceProfile, Peripheral
from sensor.fake_bluez.feeds import Feed, make_feed

BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"


@dataclass
class SensorSpec:
    """What a simulated sensor is. ``profile`` is a name in ``sensor.devices.PROFILES``,
    ``"module:attribute"`` for a profile defined elsewhere (tests), or ``""`` for a BLE
    device that is not a supported sensor."""

    address: str
    name: str
    profile: str = "holdtrack"
    rate_hz: float = 100.0
    speed: float = 1.0
    seed: int = 0
    duration_s: float | None = None  # None: endless
    feed: str = "synthetic"  # or "wearer" (the simulated wearer), or "samples" (``samples_path``)
    samples_path: str = ""  # for feed "samples": a file written by ``feeds.save_samples_feed``
    rssi: int = -60
    battery: int | None = None  # advertised as Battery Service data when set
    uuids: tuple[str, ...] = ()  # extra advertised service UUIDs
    mtu: int = 247
    connect_delay_s: float = 0.02  # link set-up time
    connect_timeout_s: float = 10.0  # a Connect to an absent device fails after this
    trace: bool = False  # keep (send time, samples) of every delivered data notification

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str | dict[str, Any]) -> SensorSpec:
        obj = json.loads(text) if isinstance(text, str) else dict(text)
        obj["uuids"] = tuple(obj.get("uuids") or ())
        return SensorSpec(**obj)


def resolve_profile(ref: str) -> DeviceProfile | None:
    """``""`` -> None; ``"module:attr"`` -> that object; else ``PROFILES[ref]``."""
    if not ref:
        return None
    if ":" in ref:
        module, attr = ref.split(":", 1)
        profile: DeviceProfile = getattr(importlib.import_module(module), attr)
        return profile
    from sensor.devices import PROFILES

    try:
        return PROFILES[ref]
    except KeyError:
        raise ValueError(f"unknown profile {ref!r}; known: {', '.join(sorted(PROFILES))}") from None


@dataclass
class SensorStats:
    """Counters of one simulated sensor (all since it was created)."""

    samples_generated: int = 0  # samples the device clock has produced
    samples_delivered: int = 0  # samples in notifications handed over intact
    notifications_sent: int = 0  # data notifications handed to the bus (incl. damaged)
    notifications_dropped: int = 0  # lost: stall overflow, back-pressure, nobody subscribed
    notifications_corrupted: int = 0
    notifications_truncated: int = 0
    control_sent: int = 0  # responses/indications to writes
    connects: int = 0
    disconnects: int = 0  # any link loss, client- or device-side
    link_drops: int = 0  # device-side drops (faults)
    finished: bool = False  # a finite feed has been sampled to its end
    delivered_runs: list[list[int]] = field(default_factory=list)  # [[first index, count], ...]

    def add_delivered(self, start: int, count: int) -> None:
        self.samples_delivered += count
        runs = self.delivered_runs
        if runs and runs[-1][0] + runs[-1][1] == start:
            runs[-1][1] += count
        else:
            runs.append([start, count])


Transmit = Callable[[str, bytes], bool]
"""Sends a notification on a characteristic; False when it could not be sent."""


@dataclass
class _Note:
    uuid: str
    data: bytes
    runs: list[tuple[int, int]]  # sample index runs it carries


class SimulatedSensor:
    """The device side of one sensor: link state, streaming clock, faults, counters."""

    def __init__(self, spec: SensorSpec, profile: DeviceProfile | None) -> None:
        self.spec = spec
        self.profile = profile
        self.stats = SensorStats()
        self.feed: Feed | None = None  # set when streaming first starts, at the device's rate
        # The simulated wearer takes seconds to compute, a samples file is read: do it now,
        # not in the stream (a bad file fails when the sensor is added).
        self._prepared: Feed | None = (
            make_feed(spec.feed, spec.rate_hz, spec.seed, spec.duration_s, spec.samples_path)
            if profile and spec.feed in ("wearer", "samples")
            else None
        )
        self.connected = False
        self.present = True  # advertising and reachable
        self.peripheral: Peripheral | None = None
        self.notifying: set[str] = set()
        self.transmit: Transmit = lambda uuid, data: False
        self._monitor: Decoder | None = None
        self._fed: deque[list[int]] = deque()  # [first, count] fed to the peripheral, not yet seen in output
        self._t0: float | None = None  # loop time at which the device clock started
        self._next = 0  # next sample index the device clock will produce
        self._stall_until: float | None = None
        self._stall_flush = True
        self._held: list[_Note] = []
        self._burst_left = 0
        self._corrupt: deque[str] = deque()  # damage to apply to the next data notifications
        self._rng = random.Random(spec.seed ^ 0x5EED)
        self.trace: list[tuple[float, int]] = []  # (time.monotonic() at send, samples) when spec.trace

    # -- link ---------------------------------------------------------------------------

    def link_up(self) -> None:
        """A connection began: the device's GATT session state starts afresh."""
        self.connected = True
        self.stats.connects += 1
        self._fed.clear()
        if self.profile is not None:  # a device we do not support has no GATT of ours
            self.peripheral = self.profile.peripheral(self.spec.rate_hz, mtu=self.spec.mtu)
            # The monitor only counts samples: the profile's decoder, with what the client
            # learns at set-up where that changes which samples are whole (Polar's gyro).
            self._monitor = self.profile.decoder(self.spec.rate_hz, **self.peripheral.decoder_params())

    def link_down(self) -> None:
        """The connection ended: whatever was queued on the device is lost."""
        if not self.connected:
            return
        self.connected = False
        self.stats.disconnects += 1
        self.stats.notifications_dropped += len(self._held)
        self._held.clear()
        self._stall_until = None
        self._burst_left = 0
        self.notifying.clear()
        self.peripheral = None
        self._monitor = None
        self._fed.clear()

    # -- GATT requests --------------------------------------------------------------------

    def read(self, uuid: str) -> bytes:
        assert self.peripheral is not None
        return self.peripheral.read(uuid)

    def write(self, uuid: str, data: bytes) -> None:
        assert self.peripheral is not None
        for char_uuid, payload in self.peripheral.write(uuid, data):
            if char_uuid in self.notifying and self.transmit(char_uuid, payload):
                self.stats.control_sent += 1

    # -- faults ---------------------------------------------------------------------------

    def stall(self, now: float, seconds: float, flush: bool = True) -> None:
        """Hold data notifications for ``seconds``; then send them at once (``flush``) or
        drop them (a device whose buffer overflowed)."""
        self._stall_until = now + seconds
        self._stall_flush = flush

    def burst(self, count: int) -> None:
        """Hold the next ``count`` data notifications and send them together."""
        self._burst_left = count

    def corrupt(self, count: int, mode: str = "flip") -> None:
        """Damage the next ``count`` data notifications: ``flip`` a random bit,
        flip bits of the ``header`` (first byte), or ``truncate``."""
        if mode not in ("flip", "header", "truncate"):
            raise ValueError(f"unknown corruption {mode!r}")
        self._corrupt.extend([mode] * count)

    # -- streaming ------------------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        return self.connected and self.peripheral is not None and self.peripheral.streaming

    def tick(self, now: float) -> None:
        """Produce the samples due by ``now`` and send what the peripheral makes of them."""
        if self._stall_until is not None and now >= self._stall_until:
            self._end_stall()
        if self.feed is None:
            if not self.streaming or not self.notifying:
                return
            # The device clock starts when streaming first starts with someone subscribed
            # (a Thingy or WitMotion streams while notifications are on; otherwise the samples
            # due before the client's StartNotify would be lost to a race a loaded host can
            # lose), at the rate the client configured (a Polar Verity runs 52 Hz whatever the
            # spec says).
            assert self.peripheral is not None
            rate = self.peripheral.rate_hz
            if self._prepared is not None and self._prepared.rate_hz == rate:
                self.feed = self._prepared
            else:
                self.feed = make_feed(self.spec.feed, rate, self.spec.seed, self.spec.duration_s, self.spec.samples_path)
            self._prepared = None
            self._t0 = now
        assert self._t0 is not None
        due = int((now - self._t0) * self.spec.speed * self.feed.rate_hz)
        if self.feed.length is not None:
            due = min(due, self.feed.length)
            if due >= self.feed.length:
                self.stats.finished = True
        if due <= self._next:
            return
        first, self._next = self._next, due
        self.stats.samples_generated += due - first
        if not self.streaming:
            return  # sampled with nobody to send to: lost
        assert self.peripheral is not None
        chunk = self.feed.samples(first, due)
        self._fed.append([first, len(chunk)])
        for uuid, data in self.peripheral.encode(chunk):
            self._handle(_Note(uuid, data, self._take_runs(data)))

    def _take_runs(self, data: bytes) -> list[tuple[int, int]]:
        assert self._monitor is not None
        n = len(self._monitor.decode(bytes(data)).imu)
        runs: list[tuple[int, int]] = []
        while n > 0 and self._fed:
            head = self._fed[0]
            k = min(n, head[1])
            runs.append((head[0], k))
            head[0] += k
            head[1] -= k
            n -= k
            if head[1] == 0:
                self._fed.popleft()
        return runs

    def _handle(self, note: _Note) -> None:
        if self._stall_until is not None:
            self._held.append(note)
            return
        if self._burst_left > 0:
            self._held.append(note)
            self._burst_left -= 1
            if self._burst_left == 0:
                self._release()
            return
        self._send(note)

    def _end_stall(self) -> None:
        self._stall_until = None
        if self._stall_flush:
            self._release()
        else:
            self.stats.notifications_dropped += len(self._held)
            self._held.clear()

    def _release(self) -> None:
        held, self._held = self._held, []
        for note in held:
            self._send(note)

    def _send(self, note: _Note) -> None:
        data, damaged = note.data, False
        if self._corrupt:
            data, damaged = self._damage(data, self._corrupt.popleft()), True
        if note.uuid not in self.notifying or not self.transmit(note.uuid, data):
            self.stats.notifications_dropped += 1
            return
        self.stats.notifications_sent += 1
        if damaged:
            return
        for start, count in note.runs:
            self.stats.add_delivered(start, count)
        if self.spec.trace:
            # CLOCK_MONOTONIC is system-wide: a client process can subtract it from its own.
            self.trace.append((time.monotonic(), sum(c for _, c in note.runs)))

    def _damage(self, data: bytes, mode: str) -> bytes:
        buf = bytearray(data)
        if mode == "truncate" and len(buf) > 1:
            self.stats.notifications_truncated += 1
            return bytes(buf[: self._rng.randrange(1, len(buf))])
        self.stats.notifications_corrupted += 1
        if mode == "header":
            buf[0] ^= 0xFF
        else:
            i = self._rng.randrange(len(buf) * 8)
            buf[i // 8] ^= 1 << (i % 8)
        return bytes(buf)
