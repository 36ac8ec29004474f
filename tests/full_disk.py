"""A real full disk for a test: a command runs with a small tmpfs mounted at a folder, in a
private user and mount namespace (``unshare``; the machine's disks are never filled), and
what the tmpfs holds afterwards is copied out for the test to look at.

Where namespaces are not allowed, the command runs instead under ``RLIMIT_FSIZE`` (no file
may grow past the size: the kernel's EFBIG, "file size limit reached"), so the same code
paths are still driven by the kernel refusing a write. ``KIND`` says which one ran.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

HOLDTRACK = [sys.executable, "-m", "sensor.cli"]
# Mount FREE + 64 kB, take 64 kB with a filler (so even FREE = 0 is a full disk), run, copy out.
_SCRIPT = (
    'mount -t tmpfs -o size="$(($2 + 64))k" none "$1" || exit 99; d=$1; a=$3; shift 3; '
    'dd if=/dev/zero of="$d/.filler" bs=1k count=64 2>/dev/null; "$@"; rc=$?; rm "$d/.filler"; cp -a "$d/." "$a/"; exit $rc'
)


@functools.cache
def namespaces() -> bool:
    """Whether a tmpfs can be mounted here (``HOLDTRACK_FULL_DISK=rlimit`` forces the fallback)."""
    if shutil.which("unshare") is None or os.environ.get("HOLDTRACK_FULL_DISK") == "rlimit":
        return False
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True, timeout=30)
    return r.returncode == 0


def kind() -> str:
    """What a full disk says in this environment."""
    return "disk full writing" if namespaces() else "file size limit reached writing"


def run_full(disk: Path, free_kb: int, args: list[str], timeout: float = 180.0) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``holdtrack ARGS`` with ``free_kb`` kB free on ``disk``; returns the process and a
    folder with what ``disk`` held when it ended."""
    disk.mkdir(parents=True, exist_ok=True)
    after = disk.with_name(disk.name + "-after")
    after.mkdir()
    if namespaces():
        cmd = [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            _SCRIPT,
            "sh",
            str(disk),
            str(free_kb),
            str(after),
            *HOLDTRACK,
            *args,
        ]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        assert r.returncode != 99, r.stderr  # the tmpfs could not be mounted
        return r, after

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (free_kb * 1024, free_kb * 1024))

    r = subprocess.run([*HOLDTRACK, *args], capture_output=True, text=True, timeout=timeout, preexec_fn=limit)
    shutil.copytree(disk, after, dirs_exist_ok=True)
    return r, after
