"""``holdtrack convert``: registered by ``sensor.cli`` like the other command groups."""

from __future__ import annotations

import argparse
import sys

from sensor.errors import ExitCode
from sensor.vocab import MOUNTS


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("convert", help="convert a CSV or phone export into a lossless .htrec recording")
    p.add_argument("input", help="generic CSV, phone export (file, folder or zip) or recording")
    p.add_argument("output", help="the .htrec recording to write")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--mount", choices=MOUNTS, help="where the sensor was worn (stored in the recording)")
    p.set_defaults(func=cmd_convert)


def cmd_convert(args: argparse.Namespace) -> int:
    from sensor.files.convert import convert

    n, span = convert(args.input, args.output, force=args.force, mount=args.mount)
    print(f"wrote {args.output} ({n} samples, {span / 60:.1f} min)", file=sys.stderr)
    return ExitCode.OK
