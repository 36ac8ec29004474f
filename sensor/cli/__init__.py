"""``holdtrack``: the command line.

Only argparse is imported up front; each command imports what it needs, so ``analyze``
never pays for Streamlit or bleak.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sensor.errors import ExitCode, HoldTrackError, UsageError, exit_code
from sensor.vocab import MOUNTS, truth_path


def cmd_simulate(args: argparse.Namespace) -> int:
    from sensor.files.inputs import write_generic_csv
    from sensor.files.output import atomic_output, check_output
    from sensor.recording import write_recording
    from sensor.sim.simulate import SimOptions, simulate_session

    opt = SimOptions(rate_hz=args.rate, standing_start=not args.no_stand, short=args.short, mount=args.mount_given or "back")
    if args.exercises:
        opt.exercises = tuple(args.exercises.split(","))
    if args.classes is not None:
        opt.classes = _class_names(args.classes, "--classes") or None  # "all": drawn from the whole catalogue
        opt.draw_more = args.draw_more
        opt.daily_life = True if args.daily_life else None  # None: as the classes and the seed say
        if args.mount_given is None:
            opt.mount = None  # drawn, or named by a mount_* class
    out = Path(args.out)
    truth = truth_path(out)
    check_output(out, "--out", force=args.force)
    try:
        sim = simulate_session(args.seed, opt)
    except ValueError as e:  # classes that cannot be in one session
        raise UsageError(str(e)) from None
    # Each file whole or not at all (a full disk is one line): the samples, then their truth.
    if out.suffix == ".csv":
        write_generic_csv(out, sim.samples)
    else:
        write_recording(out, sim.header, sim.samples_as_read(), sim.gaps, replace=True)  # a recording's times increase
    with atomic_output(truth, "w", encoding="utf-8") as f:
        f.write(json.dumps(sim.truth, indent=1))
    t = sim.truth
    print(
        f"wrote {out} ({len(sim.samples)} samples at {t['sensor']['rate_hz']:.0f} Hz, {t['duration_s'] / 60:.1f} min: "
        f"{len(t['reps'])} reps, {len(t['holds'])} holds) and {truth}"
    )
    return ExitCode.OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from sensor.analyze import analyze_path
    from sensor.files.output import check_output
    from sensor.settings_ranges import DEFAULTS_NOTE

    if args.trace:  # replaced whole if it exists, but never the input
        check_output(args.trace, "--trace", [args.path], force=True)
    notes: list[str] = []
    a = analyze_path(
        args.path,
        mount=args.mount,
        signals_out=Path(args.trace) if args.trace else None,
        default_settings=args.default_settings,
        notes=notes,
    )
    for note in notes:  # what the frame check corrected: one line each, beside the output
        print(f"holdtrack: note: {args.path}: {note}", file=sys.stderr)
    if args.json:
        if args.default_settings:  # beside the JSON of contract.md, not in it
            print(DEFAULTS_NOTE, file=sys.stderr)
        print(json.dumps(a.to_json()))
    else:
        from sensor.cli.report import format_summary
        from sensor.routine import load_routine
        from sensor.store import data_dir

        # The targets saved in the dashboard's Settings (defaults when none were saved).
        print(format_summary(a, Path(args.path).name, load_routine(data_dir(args.data_dir))))
        if args.default_settings:
            print(DEFAULTS_NOTE)
    return ExitCode.OK


def _class_names(text: str, option: str) -> tuple[str, ...]:
    """Class names of the catalogue from a comma-separated list (category names stand for
    their classes; "all" for none named: drawn from the whole catalogue)."""
    from sensor.sim.classes import expand

    if text.strip() == "all":
        return ()
    try:
        return expand(text)
    except ValueError as e:
        raise UsageError(f"{option}: {e}") from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.labels:
        from sensor.cli.history import cmd_evaluate_labels

        return cmd_evaluate_labels(args)
    from sensor.sim.classes import CLASSES
    from sensor.sim.evaluate import run_evaluation

    classes = _class_names(args.classes, "--classes") if args.classes else ()
    hold_out = _class_names(args.hold_out, "--hold-out") if args.hold_out else ()
    exclude = _class_names(args.exclude, "--exclude") if args.exclude else ()
    if both := sorted(set(classes) & set(exclude)):
        raise UsageError(f"--classes and --exclude both name {', '.join(both)}")
    if args.daily_life and (counted := [c for c in classes if CLASSES[c].scope == "event"]):
        raise UsageError(f"--daily-life sessions have no exercises for {', '.join(counted)}")
    if (classes or exclude or args.daily_life) and not args.simulate:
        raise UsageError("--classes, --exclude and --daily-life choose the sessions of --simulate N")
    summary, bad, misses = run_evaluation(
        Path(args.dir) if args.dir else None,
        simulate=args.simulate,
        seed_start=args.seed_start,
        jobs=args.jobs,
        classes=classes,
        hold_out=hold_out,
        daily_life=True if args.daily_life else None,
        exclude=exclude,
    )
    if args.json:
        print(json.dumps({"summary": summary, "targets_missed": bad, "misses": misses}, indent=1))
    else:
        from sensor.sim.eval_report import format_evaluation

        print(format_evaluation(summary, bad, misses))
    return ExitCode.OK if not bad or not args.strict else ExitCode.OTHER


def build_parser() -> argparse.ArgumentParser:
    from sensor.settings_ranges import DEFAULTS_HELP

    p = argparse.ArgumentParser(prog="holdtrack", description="Track back-strengthening workouts from a hip-worn IMU.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("simulate", help="simulate a workout (the synthetic sensor) into a recording")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--out", required=True, help="output .htrec recording (or .csv for the generic CSV)")
    s.add_argument("--rate", type=float, help="sample rate in Hz (default: drawn from the seed, 25-400)")
    s.add_argument("--no-stand", action="store_true", help="skip the opening calibration stand")
    s.add_argument("--short", action="store_true", help="fewer reps and holds (small files)")
    s.add_argument("--exercises", help="comma-separated subset of bridge,back_extension,plank,side_plank")
    s.add_argument("--force", action="store_true", help="replace an existing output file")
    s.add_argument("--mount", choices=MOUNTS, dest="mount_given", help="where the sensor is worn (default: back; drawn with --classes)")
    s.add_argument(
        "--classes",
        metavar="A,B",
        help="a session of the class catalogue with these classes (or categories: technique, entry, sensor, slip, stretch, mount); "
        "'all': drawn from the whole catalogue (default: the first catalogue)",
    )
    s.add_argument("--draw-more", action="store_true", help="with --classes: draw other classes around the ones named")
    s.add_argument("--daily-life", action="store_true", help="with --classes: a session of stretches and daily life, nothing to count")
    s.set_defaults(func=cmd_simulate)

    a = sub.add_parser("analyze", help="find reps and holds in a recording, generic CSV or phone export")
    a.add_argument("path")
    a.add_argument("--json", action="store_true", help="print the JSON of contract.md")
    a.add_argument("--mount", choices=MOUNTS, help="where the sensor was worn (default: from the recording, else back)")
    a.add_argument("--data-dir", help="data folder whose settings hold your targets (default: as the dashboard)")
    a.add_argument("--default-settings", action="store_true", help=DEFAULTS_HELP)
    a.add_argument(
        "--trace",
        metavar="OUT.csv",
        help="also write the pipeline's signals at the 50 Hz grid rate (time, elevation, excursion, rest level, posture, state)",
    )
    a.set_defaults(func=cmd_analyze)

    e = sub.add_parser("evaluate", help="score analysis against truth files (or fresh simulated sessions)")
    e.add_argument("dir", nargs="?", help="folder of recordings with .truth.json files beside them")
    e.add_argument("--simulate", type=int, default=0, metavar="N", help="also score N fresh simulated sessions (the whole class catalogue)")
    e.add_argument("--seed-start", type=int, default=10_000, help="first seed for --simulate")
    e.add_argument("--classes", metavar="A,B", help="simulate sessions each featuring one of these classes (or categories, e.g. stretch)")
    e.add_argument("--hold-out", metavar="A,B", help="classes left out of tuning: reported together, and the rest together")
    e.add_argument("--daily-life", action="store_true", help="simulate only sessions of stretches and daily life (nothing to count)")
    e.add_argument("--exclude", metavar="A,B", help="classes never drawn into the simulated sessions (tuning without the held-out ones)")
    e.add_argument("--jobs", type=int, default=2)
    e.add_argument("--json", action="store_true")
    e.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    e.add_argument("--labels", action="store_true", help="score against your own corrections in the session store")
    e.add_argument("--export-labels", metavar="DIR", help="with --labels: write the labelled sessions as recordings + truth JSON")
    e.add_argument("--include-demo", action="store_true", help="with --labels: count demo sessions too")
    e.add_argument("--data-dir", help="with --labels: data folder (default: $HOLDTRACK_DATA_DIR or the per-user one)")
    e.set_defaults(func=cmd_evaluate)

    # Imported plainly: a broken command module must fail loudly, not vanish from the CLI
    # (each imports its heavy dependencies inside its commands).
    from sensor.cli import convert, export, history, record, store

    for module in (record, export, store, history, convert):
        module.register(sub)
    return p


def run(args: argparse.Namespace, prog: str = "holdtrack") -> int:
    """Run a parsed command: an error is one line on stderr and its code from
    ``sensor.errors.exit_code`` (HOLDTRACK_DEBUG=1 shows a bug's traceback)."""
    try:
        return int(args.func(args) or ExitCode.OK)
    except (HoldTrackError, KeyboardInterrupt, BrokenPipeError) as e:
        if isinstance(e, HoldTrackError):
            print(f"{prog}: error: {e}", file=sys.stderr)
        return exit_code(e)
    except Exception as e:  # a bug: still one line for the user
        import os

        if os.environ.get("HOLDTRACK_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {e} (please report it)", file=sys.stderr)
        return exit_code(e)


def _name_bytes(e: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: the undecodable bytes of a file name (surrogate escapes) as
    ``\\xff``, as error lines show them (``sensor.errors.shown``)."""
    if not isinstance(e, UnicodeEncodeError):
        raise e
    bad = e.object[e.start : e.end]
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else f"\\u{ord(c):04x}" for c in bad), e.end


def main(argv: list[str] | None = None) -> int:
    import codecs

    codecs.register_error("holdtrack-names", _name_bytes)
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed, never a crash
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="holdtrack-names")
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
