"""The live-capture commands: ``scan``, ``record``, ``export`` and ``fake-sensors``.

``register(subparsers)`` adds them to the main ``holdtrack`` parser; each sets
``func(args) -> int`` (the exit code).
Failures print one line to stderr and exit non-zero. bleak, dbus-fast and the pipeline are
imported inside the commands, so the rest of the CLI does not pay for them.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sensor.errors import DeviceError, ExitCode, HoldTrackError, OutputError
from sensor.vocab import CLI_RECORDING_GLOB, MOUNTS, cli_recording_name

if TYPE_CHECKING:
    import asyncio

PROG = "holdtrack"


def quiet(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command with the BLE libraries' log chatter off (``-v`` turns it on).
    Errors propagate as ``HoldTrackError``: the caller prints them as one line."""

    def run(args: argparse.Namespace) -> int:
        _quiet_libraries(getattr(args, "verbose", False))
        return fn(args)

    run.__doc__ = fn.__doc__
    return run


def _quiet_libraries(verbose: bool) -> None:
    """bleak warns on stderr about things that are fine here (no ``bluetoothctl``)."""
    level = logging.DEBUG if verbose else logging.CRITICAL
    for name in ("bleak", "bleak_retry_connector", "dbus_fast", "bluetooth_adapters"):
        logging.getLogger(name).setLevel(level)
    if verbose:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


def register(subparsers: Any) -> None:
    """Add ``scan`` and ``record`` to a subparsers object."""
    p = subparsers.add_parser("scan", help="list Bluetooth LE sensors in range")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to listen (default 5)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=quiet(cmd_scan))

    p = subparsers.add_parser("record", help="record a session live from a sensor (or a phone)")
    p.add_argument("--device", metavar="ADDRESS_OR_NAME", help="sensor to use (default: the only one in range)")
    p.add_argument("--out", metavar="PATH", type=Path, help="recording to write (default: holdtrack-<time>.htrec)")
    p.add_argument("--data-dir", help="the session store the run is saved in (default: $HOLDTRACK_DATA_DIR or the per-user data folder)")
    p.add_argument("--duration", metavar="SECONDS", type=float, help="stop after this much stream time")
    p.add_argument(
        "--phone-push",
        metavar="HOST:PORT",
        nargs="?",
        const="",
        help="take Sensor Logger HTTP pushes instead of BLE (default: this computer's LAN address, port 8000)",
    )
    p.add_argument(
        "--source",
        metavar="SPEC",
        help="any source: ble:ADDRESS_OR_NAME, phone-push[:HOST:PORT], phyphox:HOST[:PORT], replay:PATH or sim:SEED",
    )
    p.add_argument("--speed", type=float, help="replay: and sim: sources: times real time (1-50)")
    p.add_argument("--rate", type=float, default=100.0, help="sample rate to ask the sensor for, Hz (default 100)")
    p.add_argument("--mount", choices=MOUNTS, default="back", help="where the sensor is worn (default: back)")
    p.add_argument("--scan-timeout", type=float, default=8.0, help=argparse.SUPPRESS)
    p.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # sped-up fake sensors
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=quiet(cmd_record))


# -- scan ------------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace) -> int:
    """List devices in range: supported sensors first, with their profile."""
    import asyncio  # here, not at module level: every CLI start would pay for it

    from sensor.sources.ble import scan

    found = asyncio.run(scan(args.timeout))
    supported = [s for s in found if s.supported]
    others = [s for s in found if not s.supported]
    if not supported:
        print(f"no supported sensor in range ({len(others)} other Bluetooth device(s) seen)")
        return ExitCode.OK
    for s in supported:
        print(s.describe())
    if others:
        print(f"({len(others)} other Bluetooth device(s) in range: not supported sensors)")
    return ExitCode.OK


# -- record ----------------------------------------------------------------------------------


def cmd_record(args: argparse.Namespace) -> int:
    """Stream a sensor into the pipeline and a recording until Ctrl-C or --duration."""
    import asyncio  # here, not at module level: every CLI start would pay for it

    return asyncio.run(_record(args))


async def _open_source(args: argparse.Namespace, clock: Any) -> Any:
    """The source ``record`` was asked for (``--source``, ``--phone-push``, ``--device`` or the
    only supported sensor in range), opened, with what the user must know printed."""
    from sensor.sources import make_source

    if args.source:
        options: dict[str, Any] = {"speed": args.speed} if args.speed is not None else {}
        if args.source.strip().lower().startswith("ble:"):
            options = {"rate_hz": args.rate, "clock": clock}  # a sensor is stamped with the session's clock settings
        source = make_source(args.source, **options)
    elif args.phone_push is not None:
        source = make_source(f"phone-push:{args.phone_push}")
    else:
        from sensor.sources.ble import scan
        from sensor.sources.ble_source import BleSource

        options = {"rate_hz": args.rate, "scan_timeout_s": args.scan_timeout, "time_scale": args.time_scale, "clock": clock}
        if args.device:
            source = make_source(f"ble:{args.device}", **options)
        else:
            found = await scan(min(args.scan_timeout, 4.0))
            supported = [s for s in found if s.supported]
            if not supported:
                raise DeviceError("no supported sensor in range: switch it on, or name it with --device")
            if len(supported) > 1:
                names = ", ".join(f"{s.name or '?'} ({s.address})" for s in supported)
                raise DeviceError(f"{len(supported)} sensors in range: {names}; choose one with --device")
            source = BleSource(supported[0], **options)
    await source.open()
    url = getattr(source, "url", None)
    if source.header.source == "phyphox":
        print(f"polling phyphox at {url}: keep phyphox in front with the screen on", flush=True)
    elif url is not None:  # the phone push receiver
        print(f"waiting for Sensor Logger pushes on {url}", flush=True)
        print("  (set this as Sensor Logger's push URL; its last part pairs the phone with this session)", flush=True)
        print(f"  an iPhone with Standardise Units & Frames off (the app's default): {url}?platform=ios", flush=True)
    elif source.header.source == "ble":
        dev = source.header.device
        print(f"connected to {dev.get('name') or dev.get('address')} ({dev.get('label')}), {source.header.sample_rate_hz:g} Hz", flush=True)
    return source


def _default_out() -> Path:
    from datetime import datetime

    return Path(cli_recording_name(datetime.now()))


class _StatusLine:
    """The one-line live status, rewritten in place on a terminal (every 2 s as plain
    lines otherwise, so logs stay readable)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stdout  # at call time: stdout may be replaced
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0
        self._shown = False

    def show(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.2 if self.tty else 2.0):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self._shown = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own (link events), without losing the status line."""
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = False

    def done(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _status_text(status: Any, holds: list[Any], elapsed_s: float, link_ok: bool) -> str:
    from sensor.routine import Routine
    from sensor.vocab import stability_label

    routine = Routine()
    parts = [f"{elapsed_s:6.1f} s"]
    if status is None:
        parts.append("waiting for data")
    else:
        parts.append(f"posture {status.posture}")
        if not status.calibrated:
            parts.append("stand still to calibrate")
        parts.append(f"reps {status.rep_count}")
        if status.hold is not None:
            target = routine.hold_target(status.hold.exercise).hold_s
            side = f" {status.hold.side}" if status.hold.side else ""
            parts.append(f"{status.hold.exercise}{side} {status.hold.elapsed_s:4.1f}/{target:g} s")
            if status.hold.score is not None:  # the hold in progress, so far
                parts.append(f"sway {status.hold.sway_deg:.1f}°, stability {status.hold.score:.0f} ({stability_label(status.hold.score)})")
        elif holds:
            last = holds[-1]
            parts.append(f"last hold: stability {last.score:.0f} ({stability_label(last.score)})")
    if not link_ok:
        parts.append("LINK LOST")
    return " | ".join(parts)


class _StatusSink:
    """The session runner's news as the CLI's status line (a ``sensor.runner.Sink``)."""

    def __init__(self, line: _StatusLine) -> None:
        self.line = line
        self.holds: list[Any] = []
        self.link_ok = True
        self.first_t: float | None = None

    def opened(self, runner: Any) -> None:
        pass

    def update(self, item: Any, events: Any, status: Any) -> None:
        from sensor.events import Hold
        from sensor.samples import Samples
        from sensor.stream import LinkStatus

        self.holds += [e for e in events if isinstance(e, Hold)]
        if isinstance(item, Samples):
            self.first_t = float(item.time_s[0]) if self.first_t is None else self.first_t
            self.line.show(_status_text(status, self.holds, float(item.time_s[-1]) - self.first_t, self.link_ok))
        elif isinstance(item, LinkStatus):
            self.link_ok = item.connected
            self.line.message(f"[{item.at_s:7.1f} s] {'link up' if item.connected else 'link down'}: {item.message}")

    def finished(self, result: Any) -> None:
        self.line.done()


async def _record(args: argparse.Namespace) -> int:
    import asyncio  # here, not at module level: every CLI start would pay for it

    from sensor.cli.report import print_record_summary
    from sensor.saving import save_recorded

    out = Path(args.out) if args.out else _default_out()
    if out.exists():
        raise HoldTrackError(f"{out} exists: recordings are never overwritten")
    loop = asyncio.get_running_loop()
    # Ctrl-C is ours from here on: before the stream runs it cancels (nothing is recorded
    # yet), once it runs it stops the source and the session ends as it should.
    stop = _Stop(loop, asyncio.current_task())
    loop.add_signal_handler(signal.SIGINT, stop.request, signal.SIGINT)
    loop.add_signal_handler(signal.SIGTERM, stop.request, signal.SIGTERM)
    result, saved = None, ExitCode.OK
    try:
        result = await _stream(args, out, stop)
    except asyncio.CancelledError:
        if stop.signal is None:
            raise
        print("stopped before any sample came: nothing recorded", file=sys.stderr)
    finally:
        _remove_signal_handlers(loop)
    if result is not None and result.recording is None:
        print("session: no sample came: nothing recorded")
    elif result is not None:  # a run that ended or was stopped: its summary
        a = result.analysis
        print_record_summary(out, result.samples, a.duration_s, a.reps, a.holds, a.gaps, result.links)
        saved = save_recorded(args.data_dir, out, a)  # into the history, as the Live page saves a run
    if result is not None:
        for message in [*result.errors, *stop.problems]:
            print(f"warning: {message}", file=sys.stderr)
    return ExitCode.INTERRUPTED if stop.signal == signal.SIGINT else saved


async def _stream(args: argparse.Namespace, out: Path, stop: _Stop) -> Any:
    """Open the source and run the session until it ends or ``stop`` ends it; its ``RunResult``."""
    import asyncio

    from sensor.recording.recovery import recover_interrupted
    from sensor.runner import SessionRunner
    from sensor.settings import PipelineSettings
    from sensor.trace import TRACE_HZ

    for path, secs in recover_interrupted(out.parent, CLI_RECORDING_GLOB):
        print(f"recovered {secs:.1f} s from an interrupted recording: {path}", flush=True)
    # One settings object for the whole session: the clock stamps samples with it, the
    # pipeline analyses with it, and the recording keeps it for exact re-analysis.
    settings = PipelineSettings(mount=args.mount, trace_hz=TRACE_HZ)  # the trace: the session page's timeline
    source = await _open_source(args, settings.clock)
    source.header.mount = args.mount
    print("calibration: stand upright and still for 3 s with the sensor on your back", flush=True)

    line = _StatusLine()
    runner = SessionRunner(source.header, settings, recording=out, sinks=[_StatusSink(line)])
    run = asyncio.get_running_loop().create_task(runner.run(source, stop_after_s=args.duration))
    stop.follow(source, run)
    try:
        try:
            return await run
        except asyncio.CancelledError:
            if not run.cancelled():  # this coroutine itself was cancelled: not by a stop
                raise
            return runner.finish()  # cut by a stop: the pipeline's last events; the recording is closed
    except BaseException as e:
        if stop.signal is None:  # the source is still running: end it (the recording is closed)
            await source.stop()
        if isinstance(e, FileExistsError):
            raise HoldTrackError(f"{out} exists: recordings are never overwritten") from None
        if isinstance(e, OSError) and runner.recording_path is None:
            raise HoldTrackError(f"cannot write {out}: {e.strerror}") from None
        if isinstance(e, OutputError) and out.exists():  # disk full: the recording stops, what it holds stays
            raise OutputError(f"{e}; recording stopped, what was recorded before is kept in {out}") from None
        raise
    finally:
        line.done()


STOP_GRACE_S = 15.0  # after Ctrl-C, the source's own stop may take this long before the run is cut


class _Stop:
    """Ctrl-C (or SIGTERM) ends ``record`` whatever the source does. Before the stream runs,
    the command is cancelled. Once it runs, the source is asked to stop (its last samples
    still come in and are analysed); if it cannot (its stop fails, hangs, or the stream
    goes on) within ``STOP_GRACE_S``, or on a second Ctrl-C, the run is cancelled. Either
    way the recording is closed and the summary printed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, main: asyncio.Task[Any] | None) -> None:
        self.loop, self.main = loop, main
        self.source: Any = None
        self.run: asyncio.Task[Any] | None = None
        self.signal: int | None = None
        self.problems: list[str] = []
        self._task: asyncio.Task[None] | None = None  # kept referenced until it is done

    def follow(self, source: Any, run: asyncio.Task[Any]) -> None:
        """The stream now runs: a stop asked for meanwhile (none can be) or later stops it."""
        self.source, self.run = source, run

    def request(self, signum: int) -> None:
        first = self.signal is None
        self.signal = self.signal or signum
        if self.run is None:  # still opening: nothing to save
            if self.main is not None:
                self.main.cancel()
        elif not first:  # the second time: now
            self.run.cancel()
        else:
            self._task = self.loop.create_task(self._stop(self.run))

    async def _stop(self, run: asyncio.Task[Any]) -> None:
        import asyncio

        try:
            await asyncio.wait_for(self.source.stop(), STOP_GRACE_S)
            await asyncio.wait_for(asyncio.shield(run), STOP_GRACE_S)  # the stream's end, then the summary
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # the run ended with an error (reported by its await), or stopping did not end it
            if not run.done():
                what = "did not stop in time" if isinstance(e, TimeoutError) else f"failed to stop ({type(e).__name__}: {e})"
                self.problems.append(f"the source {what}: the recording was closed where it was")
                run.cancel()


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
