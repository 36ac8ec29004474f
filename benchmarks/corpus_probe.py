"""The malformed-input corpus through ``holdtrack analyze``, one child process per file:
exit code, lines on stderr, tracebacks, hangs and peak memory (RSS) per file; then one
batch ``holdtrack import`` of the whole corpus (special files too) and the store's
integrity check.

    uv run python -m benchmarks.corpus_probe [--timeout 60] [--include-pending]

Children run under a 2 GiB address-space limit so a reader that still reads without
bound fails instead of taking the machine with it.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import conftest  # noqa: F401  # makes ``tests`` this project's folder, not an installed package
from tests.malformed import all_file_cases, write_corpus
from tests.malformed_tables import SPECIAL_CASES

LIMIT = 2 << 30


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run(cmd: list[str], timeout: float) -> tuple[int | None, str, str, int]:
    """(exit code or None on timeout, stdout, stderr, peak RSS in kB) of one child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, preexec_fn=_limit)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                return None, "", "", usage.ru_maxrss
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(errors="replace"), err.read().decode(errors="replace"), usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--include-pending", action="store_true", help="also the cases awaiting the readers branch")
    args = ap.parse_args()
    cases = [c for c in all_file_cases() + SPECIAL_CASES if args.include_pending or not c.pending_reader_fix]
    tmp = Path(tempfile.mkdtemp(prefix="corpus-"))
    paths = write_corpus(tmp / "corpus", cases)
    cli = [sys.executable, "-m", "sensor.cli"]
    bad = tracebacks = hangs = 0
    peak = (0, "")
    t0 = time.monotonic()
    for c, p in zip(cases, paths):
        rc, out, err, rss = run(cli + ["analyze", str(p)], args.timeout)
        lines = err.strip().splitlines()
        if rss > peak[0]:
            peak = (rss, c.name)
        hangs += rc is None
        tracebacks += "Traceback" in err
        ok = (rc == 2 and len(lines) == 1 and p.name in lines[0]) if c.expect == "refuse" else (rc == 0 and "warning:" in out)
        if not ok:
            bad += 1
            print(f"  NOT OK {c.name}: exit {rc}, {len(lines)} stderr lines: {lines[-1][:120] if lines else ''}")
    # "not as expected" covers silently wrong: a refused case that exits 0, or a damaged
    # one analysed without its warning line.
    print(
        f"analyze: {len(cases)} files in {time.monotonic() - t0:.0f} s, {bad} not as expected (silently wrong or "
        f"not one line), {tracebacks} tracebacks, {hangs} hangs; peak RSS {peak[0] / 1024:.0f} MB ({peak[1]})"
    )
    files = paths  # the whole corpus, pipes, devices and bombs included
    t0 = time.monotonic()
    rc, out, err, rss = run(cli + ["import", "--data-dir", str(tmp / "data"), *map(str, files)], args.timeout * 10)
    took = time.monotonic() - t0
    empty = sum(1 for p in files if p.is_dir() and not any(p.iterdir()))  # holds no file to report on
    report = err.strip().splitlines()[-1] if err.strip() else ""
    with sqlite3.connect(tmp / "data" / "holdtrack.sqlite3") as con:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    print(
        f"import of {len(files)} paths ({empty} an empty folder) in {took:.0f} s: exit {rc}, '{report}', "
        f"{len(out.splitlines())} added/already lines, {sum(1 for ln in err.splitlines() if ln.startswith('error: '))} error lines, "
        f"{'a traceback' if 'Traceback' in err else 'no traceback'}, peak RSS {rss / 1024:.0f} MB (with its workers), "
        f"integrity {integrity}"
    )


if __name__ == "__main__":
    main()
