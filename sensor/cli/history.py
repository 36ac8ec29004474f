"""``holdtrack history``: week-by-week adherence and the sessions, as the dashboard shows them."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from sensor.errors import ExitCode


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("history", help="week-by-week adherence and per-session summary (as the dashboard shows)")
    p.add_argument("--json", action="store_true", help="print JSON (weeks oldest first, sessions newest first)")
    p.add_argument("--data-dir", help="data folder (default: $HOLDTRACK_DATA_DIR or the per-user data folder)")
    demo = p.add_mutually_exclusive_group()
    demo.add_argument("--no-demo", dest="demo", action="store_false", help="leave the demo sessions out")
    demo.add_argument("--include-demo", dest="demo", action="store_true", help="count the demo sessions too")
    p.set_defaults(demo=None)  # as the dashboard: demo sessions only when there is nothing else
    span = p.add_mutually_exclusive_group()
    span.add_argument("--weeks", type=_positive, metavar="N", help="the last N weeks that have sessions (default 12)")
    span.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="every week from this date's week on")
    span.add_argument("--all", action="store_true", help="every week since the first session")
    p.set_defaults(func=cmd_history)


def _positive(text: str) -> int:
    n = int(text) if text.isdigit() else 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a number of weeks, 1 or more, not {text!r}")
    return n


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a date as YYYY-MM-DD, not {text!r}") from None


def cmd_history(args: argparse.Namespace) -> int:
    from sensor.routine import load_routine
    from sensor.store import Store
    from sensor.store.history import WEEKS_WITH_SESSIONS, format_history, history

    store = Store(args.data_dir)  # a StoreError reaches sensor.cli.run: exit code 4
    n = None if args.all or args.since else (args.weeks or WEEKS_WITH_SESSIONS)
    obj = history(store, load_routine(store.data_dir), include_demo=args.demo, weeks_with_sessions=n, since=args.since)
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
