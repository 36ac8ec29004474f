"""``holdtrack history``: week-by-week adherence and the sessions, as the dashboard shows them."""

from __future__ import annotations

import argparse
import json
import sys

from sensor.errors import ExitCode


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("history", help="week-by-week adherence and per-session summary (as the dashboard shows)")
    p.add_argument("--json", action="store_true", help="print JSON (weeks oldest first, sessions newest first)")
    p.add_argument("--data-dir", help="data folder (default: $HOLDTRACK_DATA_DIR or the per-user data folder)")
    p.add_argument("--no-demo", action="store_true", help="leave the demo sessions out")
    p.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    from sensor.routine import load_routine
    from sensor.store import Store
    from sensor.store.history import format_history, history

    store = Store(args.data_dir)  # a StoreError reaches sensor.cli.run: exit code 4
    obj = history(store, load_routine(store.data_dir), include_demo=not args.no_demo)
    print(json.dumps(obj, indent=1) if args.json else format_history(obj))
    return ExitCode.OK


def cmd_evaluate_labels(args: argparse.Namespace) -> int:
    """``holdtrack evaluate --labels``: the detector against the user's own corrections."""
    from pathlib import Path

    from sensor.sim.labels import evaluate_labels, export_labels, format_labels
    from sensor.store import Store

    store = Store(args.data_dir)
    summary = evaluate_labels(store, include_demo=args.include_demo)
    if args.export_labels:
        written = export_labels(store, Path(args.export_labels), include_demo=args.include_demo)
        print(f"wrote {len(written) // 2} labelled session(s) to {args.export_labels}", file=sys.stderr)
    print(json.dumps(summary, indent=1) if args.json else format_labels(summary))
    return ExitCode.OK
