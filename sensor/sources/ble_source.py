"""One BLE sensor streamed as a ``Source`` (found with ``sensor.sources.ble``).

``BleSource`` keeps the radio side and the decoding side apart, after bleak's
"callback with a queue" example: the notification callback only stamps the arrival time
and queues the bytes; one consumer decodes them in order with the profile's ``Decoder``,
gives the samples stream times (``sensor.sources.clock.PacketStamper``) and yields ``Samples``,
``Gap`` and ``LinkStatus``. A link task connects through
``bleak_retry_connector.establish_connection`` and, when the link drops, reconnects by
itself with back-off. Every queued notification is decoded exactly once, in arrival order,
so received samples are never lost, duplicated or reordered; what the link lost becomes a
``Gap``. bleak is imported inside functions: importing this module costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from sensor.errors import DeviceError, DeviceNotFoundError
from sensor.samples import Samples
from sensor.settings import ClockSettings
from sensor.sources.ble import FoundSensor, bluetooth_errors, check_adapter, find, translate_error
from sensor.sources.ble_link import BleStats, LinkDown, LinkEnd, LinkFatal, LinkNews, LinkUp, QueueItem, SetupFailed
from sensor.sources.clock import PacketStamper, Stamped
from sensor.stream import Header, LinkStatus, SourceItem

if TYPE_CHECKING:
    from bleak import BleakClient
    from bleak.backends.device import BLEDevice

    from sensor.devices.base import Decoder, DeviceProfile, Started

log = logging.getLogger(__name__)

MAX_BATCH = 256  # queued notifications decoded into one Samples chunk at most


# -- streaming -----------------------------------------------------------------------------


class BleSource:
    """One BLE sensor as a ``Source``.

    ``device`` is an address, an advertised name or a ``FoundSensor`` from ``scan``.
    ``time_scale`` maps wall time to stream time (1 for real sensors; a sped-up simulated
    sensor uses its speed factor so rates and timeouts keep their meaning).
    ``open()`` connects (raising ``DeviceError`` when that cannot work) and fills
    ``header``; ``stream()`` opens if needed, then yields until ``stop()``.
    """

    def __init__(
        self,
        device: str | FoundSensor,
        *,
        rate_hz: float = 100.0,
        scan_timeout_s: float = 10.0,
        time_scale: float = 1.0,
        backoff_s: tuple[float, float] = (0.1, 5.0),
        stall_timeout_s: float = 5.0,
        connect_attempts: int = 3,
        clock: ClockSettings | None = None,
    ) -> None:
        self.identifier = device.address if isinstance(device, FoundSensor) else device
        self._found = device if isinstance(device, FoundSensor) else None
        self.rate_hz = rate_hz
        self.scan_timeout_s = scan_timeout_s
        self.time_scale = time_scale
        self.backoff_s = backoff_s
        self.stall_timeout_s = stall_timeout_s
        self.connect_attempts = connect_attempts
        self.clock = clock or ClockSettings()
        self.header = Header(device={"address": self.identifier}, sample_rate_hz=rate_hz, source="ble")
        self.stats = BleStats()
        self.profile: DeviceProfile | None = None
        self.started: Started | None = None  # what the latest connection's set-up negotiated
        self._queue: asyncio.Queue[QueueItem] = asyncio.Queue()
        self._t0 = 0.0
        self._client: BleakClient | None = None
        self._epoch = 0
        self._lost_link = asyncio.Event()
        self._stopping = asyncio.Event()
        self._link_task: asyncio.Task[None] | None = None
        self._opened = False
        self._last_arrival = 0.0
        self._reconnecting = False
        self._dropped = False

    # -- public ----------------------------------------------------------------------------

    def stream_time(self, monotonic_s: float) -> float:
        return (monotonic_s - self._t0) * self.time_scale

    async def open(self) -> None:
        """Find the sensor, connect and start streaming; ``header`` is complete after."""
        if self._opened:
            return
        from sensor.devices import PROFILES

        self._t0 = time.monotonic()
        self._last_arrival = self._t0
        found = self._found or await find(self.identifier, self.scan_timeout_s)
        if found.profile is None:
            raise DeviceError(f"{found.name or found.address} ({found.address}) is not a supported sensor")
        self._found = found
        self.profile = PROFILES[found.profile]
        self.header = Header(
            device={"profile": found.profile, "name": found.name or "", "address": found.address, "label": found.label},
            sample_rate_hz=self.rate_hz,
            source="ble",
        )
        try:
            started = await self._connect(found.device, self._epoch)
        except Exception as e:
            raise self._as_device_error(e) from None
        self.header.sample_rate_hz = started.rate_hz
        self._opened = True

    async def stream(self) -> AsyncIterator[SourceItem]:
        await self.open()
        self._link_task = asyncio.get_running_loop().create_task(self._run_link())
        try:
            async for item in self._consume():
                yield item
        finally:
            await self._shutdown()

    async def stop(self) -> None:
        """Ask the stream to end: the link is closed, queued data is still delivered."""
        self._stopping.set()
        self._lost_link.set()
        if self._link_task is None:
            await self._disconnect()
        elif self._reconnecting:
            # A reconnect may wait many seconds for an absent device: abandon it.
            self._link_task.cancel()

    # -- link side -------------------------------------------------------------------------

    def _as_device_error(self, e: BaseException) -> DeviceError:
        mapped = translate_error(e)
        if mapped is not None:
            return mapped
        name = (self._found.name if self._found else None) or self.identifier
        return DeviceError(f"cannot connect to {name}: {e or type(e).__name__}")

    def _callback(self, epoch: int) -> Callable[[bytearray], None]:
        put = self._queue.put_nowait
        now = time.monotonic

        def on_data(data: bytearray) -> None:
            # Only stamp and queue: decoding happens in the consumer, in order.
            put((epoch, now(), bytes(data)))

        return on_data

    async def _connect(self, device: BLEDevice, epoch: int) -> Started:
        """One connection: establish (with retries) and start the profile; what the set-up
        negotiated (the consumer builds this connection's decoder from it)."""
        from bleak import BleakClient
        from bleak_retry_connector import establish_connection

        assert self.profile is not None and self._found is not None
        await check_adapter()
        self._lost_link = asyncio.Event()
        self._dropped = False
        lost = self._lost_link

        def on_disconnect(_client: BleakClient) -> None:
            # bleak calls this for our own disconnect too: only a loss we did not ask for
            # is a dropped link.
            if not self._stopping.is_set():
                self._dropped = True
            lost.set()

        with bluetooth_errors():
            client = await establish_connection(
                BleakClient,
                device,
                self._found.name or self._found.address,
                disconnected_callback=on_disconnect,
                max_attempts=self.connect_attempts,
                use_services_cache=False,
            )
        self._client = client
        try:
            with bluetooth_errors():
                started = await self.profile.start(client, self.rate_hz, self._callback(epoch))
        except BaseException:
            self._queue.put_nowait(SetupFailed(epoch))
            await self._disconnect()
            raise
        self.stats.connects += 1
        self.started = started
        self._queue.put_nowait(LinkUp(epoch, time.monotonic(), started, f"connected to {self._found.name or self._found.address}"))
        return started

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 10.0)

    async def _resolve(self) -> BLEDevice:
        """The device to reconnect to: BlueZ's known object, else scan for it."""
        from bleak import BleakScanner
        from bleak_retry_connector import get_device

        assert self._found is not None
        with bluetooth_errors():
            device = await get_device(self._found.address)
            if device is None:
                device = await BleakScanner.find_device_by_address(self._found.address, timeout=self.scan_timeout_s)
        if device is None:
            raise DeviceNotFoundError(self._found.address)
        return device

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _watch(self) -> str:
        """Wait while connected; why the connection ended."""
        while True:
            try:
                await asyncio.wait_for(self._lost_link.wait(), 0.25)
            except TimeoutError:
                # Silence is judged in wall seconds at any speed-up: a host that stalls
                # for a moment must not read as a dead sensor.
                idle = time.monotonic() - self._last_arrival
                if self._queue.empty() and idle > self.stall_timeout_s:
                    return f"no data for {idle:.1f} s"
                continue
            return "link lost" if self._dropped else "stopped"

    async def _run_link(self) -> None:
        """Hold the connection; when it drops, reconnect with back-off until stopped."""
        backoff = self.backoff_s[0]
        try:
            while True:
                reason = await self._watch()
                lost_at = time.monotonic()
                await self._disconnect()
                if reason != "stopped":
                    self._queue.put_nowait(LinkDown(self._epoch, lost_at, reason))
                if self._stopping.is_set():
                    break
                self._reconnecting = True
                while not self._stopping.is_set():
                    self._epoch += 1
                    try:
                        device = await self._resolve()
                        await self._connect(device, self._epoch)
                        self._last_arrival = time.monotonic()
                        self.stats.reconnects += 1
                        backoff = self.backoff_s[0]
                        break
                    except asyncio.CancelledError:
                        raise
                    except Exception as e:
                        message = str(self._as_device_error(e))
                        log.info("reconnect failed: %s", message)
                        self._queue.put_nowait(LinkNews(time.monotonic(), f"reconnecting: {message}"))
                        await self._sleep_unless_stopping(backoff)
                        backoff = min(2 * backoff, self.backoff_s[1])
                self._reconnecting = False
        except asyncio.CancelledError:
            pass  # stop() during a reconnect attempt
        except Exception as e:  # a bug here must end the stream, not hang it
            self._queue.put_nowait(LinkFatal(e))
        finally:
            self._reconnecting = False
            self._queue.put_nowait(LinkEnd())

    async def _shutdown(self) -> None:
        self._stopping.set()
        self._lost_link.set()
        task, self._link_task = self._link_task, None
        if task is not None and self._reconnecting:
            task.cancel()
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 15.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        await self._disconnect()

    # -- decoding side ---------------------------------------------------------------------

    async def _consume(self) -> AsyncIterator[SourceItem]:
        assert self.profile is not None
        profile = self.profile
        decoder: Decoder | None = None
        epoch_ready = -1  # the epoch whose set-up finished and whose decoder runs
        waiting: list[tuple[int, float, bytes]] = []  # data of an epoch still setting up
        rate = self.header.sample_rate_hz
        stamper = PacketStamper(rate, self.clock, self.time_scale)
        connected_once = False

        def decode(item: tuple[int, float, bytes], dec: Decoder) -> list[Stamped]:
            _, arrival, data = item
            self._last_arrival = arrival
            self.stats.notifications += 1
            d = dec.decode(data)
            self.stats.bad += d.bad
            self.stats.lost += d.lost
            return stamper.push(self.stream_time(arrival), d) if len(d.imu) else []

        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stamped: list[Stamped] = []
            end = False
            for item in batch:
                if isinstance(item, tuple):
                    if item[0] == epoch_ready and decoder is not None:
                        stamped += decode(item, decoder)
                    elif item[0] > epoch_ready:
                        waiting.append(item)
                    # else: data of a finished epoch arriving late cannot happen (bleak
                    # drops the watcher on disconnect); nothing to decode it with.
                    continue
                # Link events end the current run of samples: emit it first.
                for out in self._emit(stamped):
                    yield out
                stamped = []
                if isinstance(item, LinkUp):
                    rate = stamper.rate_hz = item.started.rate_hz
                    decoder, epoch_ready = profile.decoder_for(item.started), item.epoch
                    if connected_once:
                        stamper.reconnected()
                    connected_once = True
                    yield LinkStatus(True, self.stream_time(item.at), item.message)
                    mine = [w for w in waiting if w[0] == item.epoch]
                    waiting = [w for w in waiting if w[0] > item.epoch]
                    for w in mine:
                        stamped += decode(w, decoder)
                elif isinstance(item, SetupFailed):
                    # Data from a set-up that failed half-way is still data: decode it
                    # with the last rate and no negotiated parameters (none came back).
                    mine = [w for w in waiting if w[0] == item.epoch]
                    waiting = [w for w in waiting if w[0] != item.epoch]
                    if mine and connected_once:
                        dec = profile.decoder(rate)
                        stamper.reconnected()
                        for w in mine:
                            stamped += decode(w, dec)
                elif isinstance(item, LinkDown):
                    stamped += stamper.flush()
                    for out in self._emit(stamped):
                        yield out
                    stamped = []
                    yield LinkStatus(False, self.stream_time(item.at), item.message)
                elif isinstance(item, LinkNews):
                    yield LinkStatus(False, self.stream_time(item.at), item.message)
                elif isinstance(item, LinkFatal):
                    raise self._as_device_error(item.error)
                elif isinstance(item, LinkEnd):
                    end = True
            if end:
                stamped += stamper.flush()
            for out in self._emit(stamped):
                yield out
            if end:
                return

    def _emit(self, stamped: list[Stamped]) -> Iterator[SourceItem]:
        """Stamped packets as Samples chunks, split where a gap comes first."""
        run: list[Stamped] = []
        for st in stamped:
            if st.gap is not None:
                if run:
                    yield self._samples(run)
                    run = []
                self.stats.gaps += 1
                yield st.gap
            run.append(st)
        if run:
            yield self._samples(run)

    def _samples(self, run: list[Stamped]) -> Samples:
        s = Samples(np.concatenate([r.times for r in run]), np.concatenate([r.imu for r in run]))
        self.stats.samples += len(s)
        return s
