"""``holdtrack import``, ``reanalyze`` and ``dashboard``.

Imports stay light at module level (no streamlit, pandas or the pipeline) so that
``holdtrack --help`` and the other commands start fast.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sensor.errors import ExitCode, UsageError

if TYPE_CHECKING:  # for annotations only: the store is imported when a command runs
    from sensor.events import Analysis
    from sensor.importer import ImportResult
    from sensor.store import Store
    from sensor.trace import Trace


def app_path() -> Path:
    """The dashboard's entry script, wherever the ``dashboard`` package is installed (found
    without importing it: the package is Streamlit's to import)."""
    spec = util.find_spec("dashboard")
    if spec is None or spec.origin is None:
        raise UsageError("the dashboard package is not installed")
    return Path(spec.origin).with_name("app.py")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``import``, ``reanalyze`` and ``dashboard`` commands; each sets ``func`` (args -> exit code)."""
    from sensor.settings_ranges import DEFAULTS_HELP

    p = subparsers.add_parser("import", help="add recordings and CSV/phone exports to the session store")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders to search for .htrec and .csv files")
    p.add_argument("--data-dir", help="data folder (default: $HOLDTRACK_DATA_DIR or the per-user data folder)")
    p.add_argument("--demo", action="store_true", help="label the sessions as demo data")
    p.add_argument("--quiet", action="store_true", help="print only errors and the summary")
    p.add_argument("--jobs", type=int, help="files analysed at once (default: one per core)")
    p.add_argument("--default-settings", action="store_true", help=DEFAULTS_HELP)
    p.set_defaults(func=cmd_import)

    r = subparsers.add_parser("reanalyze", help="find the events of stored sessions again with today's detector")
    r.add_argument("ids", nargs="*", type=int, metavar="SESSION", help="session ids (default: every session)")
    r.add_argument("--data-dir", help="data folder (default: $HOLDTRACK_DATA_DIR or the per-user data folder)")
    r.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    r.add_argument("--quiet", action="store_true", help="print only changes, errors and the summary")
    r.add_argument("--default-settings", action="store_true", help=DEFAULTS_HELP)
    r.set_defaults(func=cmd_reanalyze)

    d = subparsers.add_parser("dashboard", help="open the dashboard (Streamlit) in the browser")
    d.add_argument("--data-dir", help="data folder (default: $HOLDTRACK_DATA_DIR or the per-user data folder)")
    d.add_argument("--port", type=int, default=8501)
    d.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this computer only)")
    d.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other computers can reach, and any name for it (the dashboard has no login)",
    )
    d.add_argument("--no-demo", action="store_true", help="do not import the demo recordings into an empty store")
    d.set_defaults(func=cmd_dashboard)


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal and there are
    enough files for it to help)."""

    def __init__(self, stream: TextIO | None = None, *, min_files: int = 5) -> None:
        self.stream: TextIO = stream or sys.stderr
        self.min_files = min_files
        self.active = False

    def __call__(self, done: int, total: int, result: ImportResult) -> None:
        if total < self.min_files or not self.stream.isatty():
            return
        width = 30
        filled = int(width * done / total)
        name = result.path.name[:40]
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:<40}")
        self.active = done < total
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def cmd_import(args: argparse.Namespace) -> int:
    """Exit 0 when every file was added or already there, 1 if any failed, 4 if the
    store cannot be used (a ``StoreError``, see ``sensor.errors``). Files are analysed in
    parallel (one process per core); the store is written from this process, in the order
    the files were given."""
    from sensor import importer
    from sensor.importer import ImportReport, expand_paths
    from sensor.store import Store

    store = Store(args.data_dir)
    files = expand_paths(args.paths)
    bar = ProgressBar()
    report = ImportReport()
    jobs = max(1, args.jobs or os.cpu_count() or 1)
    for n, (path, outcome) in enumerate(analyses(store, files, jobs, args.default_settings), 1):
        result = importer.import_file(store, path, demo=args.demo, analyzer=outcome.analyzer)
        report.results.append(result)
        bar(n, len(files), result)
        if result.status == "failed":
            print(f"error: {result.message}", file=sys.stderr)
        elif not args.quiet:
            print(
                result.message + ("; analysed with today's default settings" if args.default_settings and result.status == "added" else "")
            )
    if not report.results:
        print("holdtrack import: no .htrec or .csv files found", file=sys.stderr)
        return ExitCode.OTHER
    print(report.summary(), file=sys.stderr)
    return ExitCode.OTHER if report.failed else ExitCode.OK


def cmd_reanalyze(args: argparse.Namespace) -> int:
    """Exit 0 when every session was analysed again, 1 if any failed, 4 if the store cannot
    be used."""
    from sensor.importer import reanalyze
    from sensor.store import Store

    results = reanalyze(Store(args.data_dir), args.ids or None, dry_run=args.dry_run, default_settings=args.default_settings)
    if args.default_settings:
        from sensor.settings_ranges import DEFAULTS_NOTE

        print(DEFAULTS_NOTE, file=sys.stderr)
    for r in results:
        if r.status == "failed":
            print(f"error: {r.message}", file=sys.stderr)
        elif r.status != "unchanged" or not args.quiet:
            print(r.message)
    counts = {k: sum(1 for r in results if r.status == k) for k in ("changed", "unchanged", "kept", "failed")}
    print(", ".join(f"{n} {k}" for k, n in counts.items()), file=sys.stderr)
    return ExitCode.OTHER if counts["failed"] else ExitCode.OK


class Outcome:
    """One file's analysis from a worker, or the one-line reason it failed."""

    def __init__(
        self, value: tuple[Analysis, Trace | None] | None = None, error: str | None = None, default_settings: bool = False
    ) -> None:
        self.value, self.error, self.default_settings = value, error, default_settings

    def analyzer(self, path: Path) -> tuple[Analysis, Trace | None]:
        from sensor.errors import HoldTrackError

        if self.error is not None:
            raise HoldTrackError(self.error)
        if self.value is None:  # not analysed in advance (already in the store): do it now
            from sensor.importer import analyze_file

            return analyze_file(path, default_settings=self.default_settings)
        return self.value


def analyze_job(path: Path, default_settings: bool = False) -> Outcome:
    """Run in a worker: never raises, so one bad file cannot stop the batch."""
    from sensor.errors import HoldTrackError

    try:
        from sensor.importer import analyze_file

        return Outcome(analyze_file(path, default_settings=default_settings))
    except HoldTrackError as e:
        return Outcome(error=str(e))
    except MemoryError:
        return Outcome(error=f"{path}: too large to analyse in memory")
    except Exception as e:  # a reader that tripped: still this file's problem only
        return Outcome(error=f"{path}: cannot be read ({type(e).__name__}: {e})")


def analyses(store: Store, files: list[Path], jobs: int, default_settings: bool = False) -> Iterator[tuple[Path, Outcome]]:
    """(path, outcome) in the order of ``files``, analysed ``jobs`` at a time ahead of the
    store writes. Files already in the store are not analysed. A worker that dies (killed,
    out of memory) fails its file only: the pool is started again for the rest."""
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from sensor.errors import InputError
    from sensor.importer import content_hash

    def known(p: Path) -> bool:
        try:
            return store.has_hash(content_hash(p)) is not None
        except (OSError, InputError):  # not hashable (a FIFO, a device): the analysis says why
            return False

    if jobs <= 1 or len(files) <= 1:
        for p in files:
            yield p, (Outcome(default_settings=default_settings) if known(p) else analyze_job(p, default_settings))
        return
    pool = ProcessPoolExecutor(max_workers=jobs)
    pending: dict[int, Future[Outcome] | None] = {}
    nxt = 0
    try:
        for i, p in enumerate(files):
            while nxt < len(files) and nxt < i + 2 * jobs:  # a bounded window ahead
                pending[nxt] = None if known(files[nxt]) else pool.submit(analyze_job, files[nxt], default_settings)
                nxt += 1
            fut = pending.pop(i)
            if fut is None:
                yield p, Outcome(default_settings=default_settings)
                continue
            try:
                yield p, fut.result()
            except BrokenProcessPool:
                yield p, Outcome(error=f"{p}: the analysis process died (out of memory?)")
                pool.shutdown(cancel_futures=True)
                pool = ProcessPoolExecutor(max_workers=jobs)
                for k, f in list(pending.items()):
                    if f is not None:
                        pending[k] = pool.submit(analyze_job, files[k], default_settings)
    finally:
        pool.shutdown(cancel_futures=True)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_demo(store: Store, demo_dir: Path | None = None) -> str | None:
    """On a first start (empty store), add demo data: a simulated person following the
    routine for eight weeks (``sensor.sim.demo``), or the recordings in ``demo_dir`` if given."""
    if store.session_count() > 0:
        return None
    if demo_dir is None:
        from sensor.sim.demo import generate_demo

        print("first start: simulating eight weeks of demo sessions (labelled as demo)…", file=sys.stderr)
        results = generate_demo(store, progress=ProgressBar())
        for r in results:
            if r.status == "failed":
                print(f"demo data: {r.message}", file=sys.stderr)
        added = sum(r.status == "added" for r in results)
        return f"added {added} demo sessions: a simulated person following the routine (labelled as demo)"
    files = sorted(demo_dir.glob("*.htrec")) if demo_dir.is_dir() else []
    if not files:
        return None
    from sensor import importer

    report = importer.import_paths(store, files, ProgressBar(), demo=True)
    for r in report.failed:
        print(f"demo data: {r.message}", file=sys.stderr)
    return f"imported {report.count('added')} demo sessions from {demo_dir} (labelled as demo)"


def streamlit_command(data_dir: Path, host: str, port: int, *, allow_remote: bool = False) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and its environment: the app behind its Host
    check (``dashboard/server.py``), which serves this computer's own names only, unless
    ``allow_remote``."""
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path().with_name("server.py")),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",  # no "Deploy" button: this is an app, not a notebook
        "--theme.base", "light",
        "--theme.primaryColor", "#2E86AB",
    ]  # fmt: skip
    hosts = "*" if allow_remote else ",".join(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", _host_name(host)]))
    env = {**os.environ, "HOLDTRACK_DATA_DIR": str(data_dir), "HOLDTRACK_ALLOWED_HOSTS": hosts}
    return cmd, env


def _host_name(host: str) -> str:
    """``host`` as a Host header names it (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host.lower()


def cmd_dashboard(args: argparse.Namespace) -> int:
    from sensor.store import Store

    if not is_loopback(args.host) and not args.allow_remote:
        raise UsageError(
            f"--host {args.host} would let other computers open your sessions "
            "(there is no login); add --allow-remote if that is what you want"
        )
    store = Store(args.data_dir)
    if not args.no_demo:
        msg = ensure_demo(store)
        if msg:
            print(msg, file=sys.stderr)
    cmd, env = streamlit_command(store.data_dir, args.host, args.port, allow_remote=args.allow_remote)
    print(f"HoldTrack dashboard: http://{args.host}:{args.port}  (data: {store.data_dir})", file=sys.stderr)
    proc = subprocess.Popen(cmd, env=env)
    # Stopping `holdtrack dashboard` stops the server too (no orphaned Streamlit).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: proc.send_signal(signum))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return ExitCode.INTERRUPTED
