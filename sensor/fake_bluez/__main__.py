"""``python -m sensor.fake_bluez --bus ADDRESS --sensor JSON ...``: run the fake BlueZ.

Prints ``READY`` on stdout once it owns ``org.bluez``; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from sensor.fake_bluez.bus import disconnected
from sensor.fake_bluez.sensor_sim import SensorSpec
from sensor.fake_bluez.service import FakeBlueZ


async def _run(args: argparse.Namespace) -> None:
    fake = FakeBlueZ([SensorSpec.from_json(s) for s in args.sensor], adapter=not args.no_adapter, powered=not args.powered_off)
    await fake.start(args.bus)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    bus = fake.bus
    assert bus is not None
    # Serve until told to stop, or until the bus goes away (the daemon was killed).
    ended = asyncio.ensure_future(disconnected(bus))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([ended, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    await fake.stop()
    await asyncio.gather(ended, return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sensor.fake_bluez", description=__doc__)
    parser.add_argument("--bus", required=True, help="D-Bus address to serve org.bluez on")
    parser.add_argument("--sensor", action="append", default=[], help="a SensorSpec as JSON (repeatable)")
    parser.add_argument("--no-adapter", action="store_true", help="serve org.bluez without any adapter")
    parser.add_argument("--powered-off", action="store_true", help="start with the adapter powered off")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
