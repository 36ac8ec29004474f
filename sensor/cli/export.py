"""The ``export`` and ``fake-sensors`` commands: a recording out as CSV and/or FIT, and
simulated BLE sensors on a private bus for demos. Each ``func(args) -> int``; failures
raise ``HoldTrackError`` (one line, see ``sensor.errors``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sensor.cli.record import quiet
from sensor.errors import DeviceError, ExitCode, HoldTrackError

# Sample rates the fake sensors run at: what each family actually offers.
FAKE_RATES = {"holdtrack": 100.0, "witmotion": 100.0, "thingy52": 100.0, "polar": 52.0}
FAKE_NAMES = {"holdtrack": "HoldTrack-A1", "witmotion": "WT901BLE68", "thingy52": "Thingy", "polar": "Polar Sense B5A1"}


def register(subparsers: Any) -> None:
    """Add ``export`` and ``fake-sensors`` to a subparsers object."""
    p = subparsers.add_parser("export", help="export a recording as generic CSV and/or a FIT activity")
    p.add_argument("recording", type=Path)
    p.add_argument("--csv", metavar="OUT.csv", type=Path, help="the samples as the generic CSV")
    p.add_argument("--fit", metavar="OUT.fit", type=Path, help="the session as a FIT strength-training activity")
    p.add_argument("--data-dir", help="session store whose corrections a stored recording's FIT carries (default: as the dashboard)")
    p.add_argument("--force", action="store_true", help="replace output files that exist")
    p.set_defaults(func=quiet(cmd_export))

    p = subparsers.add_parser("fake-sensors", help="simulated BLE sensors on a private bus (demos)")
    p.add_argument("--speed", type=float, default=1.0, help="stream speed factor (default 1)")
    p.add_argument("--feed", choices=("wearer", "synthetic"), default="wearer", help="what the sensors measure")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, default=None, help="seconds of data per sensor (default endless)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=quiet(cmd_fake_sensors))


# -- export ----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    """Write a recording's samples as CSV (time_s, acc_x..z m/s², gyro_x..z rad/s) and/or
    its sets and holds as a FIT activity."""
    if args.csv is None and args.fit is None:
        raise HoldTrackError("export: say what to write: --csv OUT.csv and/or --fit OUT.fit")
    _check_outputs(args)
    if args.fit is not None:
        _export_fit(args)
    if args.csv is None:
        return ExitCode.OK
    from sensor.files.inputs import write_generic_csv
    from sensor.recording import RecordingReader
    from sensor.samples import Samples

    # A faithful copy (structure checked, values as they are), block by block: memory is a
    # block whatever the length; whole or not at all, a full disk is one line.
    reader = RecordingReader(args.recording, validate=False)
    write_generic_csv(args.csv, (item for item in reader if isinstance(item, Samples)))
    note = " (recording ends in a torn tail: the readable part was exported)" if reader.torn_tail else ""
    print(f"wrote {reader.status.samples} samples to {args.csv}{note}")
    return ExitCode.OK


def _check_outputs(args: argparse.Namespace) -> None:
    """Before anything is written: no output is the recording itself, or the other output,
    or an existing file unless ``--force`` (outputs are then replaced whole, never cut)."""
    from sensor.errors import RecordingError, UsageError
    from sensor.files.output import check_output

    # The input first: a missing recording is the error to hear, not an existing output.
    if not Path(args.recording).exists():  # a phone export may be a folder
        raise RecordingError(Path(args.recording), "cannot open: no such file")
    if args.csv is not None and args.fit is not None and Path(args.csv).resolve() == Path(args.fit).resolve():
        raise UsageError(f"--csv and --fit are the same file ({args.csv}): give each its own")
    for option, out in (("--csv", args.csv), ("--fit", args.fit)):
        if out is not None:
            check_output(out, option, [args.recording], force=args.force)


def _export_fit(args: argparse.Namespace) -> None:
    """The FIT file: a recording in the session store as the user corrected it there (as
    the dashboard's download), any other file as ``analyze`` finds it."""
    from sensor.export_fit import export_fit, fit_sets, write_fit

    found = _stored(args.recording, args.data_dir)
    if found is None:
        sets = export_fit(args.recording, args.fit)
        note = ""
    else:
        from sensor.store import exports, queries

        store, sid = found
        d = queries.session_detail(store, sid)
        assert d is not None  # found among the kept sessions a moment ago
        write_fit(args.fit, exports.session_fit(store, d))
        sets = fit_sets(d.analysis, d.counts)
        note = f" (stored session {sid}" + (", with your corrections)" if d.corrections else ")")
    n_reps = sum(s.reps or 0 for s in sets)
    print(f"wrote {len(sets)} sets ({n_reps} reps, {sum(s.reps is None for s in sets)} holds) to {args.fit}{note}")


def _stored(path: Path, folder: str | None) -> tuple[Any, int] | None:
    """(store, session id) when the data folder's store holds this recording, else None. A
    folder without a store is not made one; a store that cannot be read is said, not fatal."""
    from sensor.errors import StoreError
    from sensor.importer import content_hash
    from sensor.store import DB_FILE, Store, data_dir
    from sensor.store.exports import stored_session

    where = data_dir(folder)
    if not (where / DB_FILE).is_file() or not Path(path).exists():
        return None
    try:
        store = Store(where)
        sid = stored_session(store, Path(path), content_hash(Path(path)))
    except StoreError as e:
        print(f"holdtrack: note: {e}: the FIT is the recording as analysed, without your corrections", file=sys.stderr)
        return None
    return None if sid is None else (store, sid)


# -- fake-sensors ----------------------------------------------------------------------------


def fake_specs(speed: float = 1.0, feed: str = "wearer", seed: int = 1, duration_s: float | None = None) -> list[Any]:
    """One simulated sensor of every profile."""
    from sensor.devices import PROFILES
    from sensor.fake_bluez.sensor_sim import SensorSpec

    specs = []
    for i, name in enumerate(sorted(PROFILES), start=1):
        specs.append(
            SensorSpec(
                address=f"C0:FF:EE:00:00:{i:02X}",
                name=FAKE_NAMES.get(name, name),
                profile=name,
                rate_hz=FAKE_RATES.get(name, 100.0),
                speed=speed,
                seed=seed + i,
                duration_s=duration_s,
                feed=feed,
                rssi=-50 - 6 * i,
                battery=90 - 7 * i,
            )
        )
    return specs


def cmd_fake_sensors(args: argparse.Namespace) -> int:
    """Run a private bus with the fake BlueZ and one simulated sensor per profile."""
    from sensor.fake_bluez.process import FakeBluezProcess

    specs = fake_specs(args.speed, args.feed, args.seed, args.duration)
    stop = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with FakeBluezProcess(specs, verbose=args.verbose, start_timeout_s=60.0) as fake:
        print(f"export DBUS_SYSTEM_BUS_ADDRESS={fake.address}", flush=True)
        for s in specs:
            print(f"# {s.name}  {s.address}  {s.profile}  {s.rate_hz:g} Hz", flush=True)
        print("# Ctrl-C stops the fake sensors", flush=True)
        while not stop["now"]:
            if fake.proc is not None and fake.proc.poll() is not None:
                raise DeviceError("the fake BlueZ exited")
            time.sleep(0.2)
    return ExitCode.OK
