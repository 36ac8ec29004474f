""".ci/setup waits for apt's lock instead of failing at once (another program, say an
unattended upgrade, may hold it when a fresh machine runs ``make test``). The real
``apt-get`` is run while this test holds dpkg's and the package lists' locks the way apt
does (fcntl write locks), then lets go."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock")
HOLD = """
import fcntl, os, sys, time
fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o640) for p in sys.argv[2:]]
for fd in fds:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.readline()  # until the test says so
"""

needs_apt = pytest.mark.skipif(
    shutil.which("apt-get") is None or os.geteuid() != 0, reason="holding apt's lock needs apt-get and root (CI's machine has both)"
)


def hold_locks() -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, "0", *LOCKS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def apt(command: str, wait_s: float = 120) -> subprocess.Popen[str]:
    """``apt_wait COMMAND`` as .ci/setup runs it (its own shell, the setup's function)."""
    script = f"source .ci/apt.sh && apt_wait {command}"
    env = {**os.environ, "HOLDTRACK_APT_WAIT_S": str(wait_s)}
    return subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@needs_apt
def test_apt_waits_for_a_lock_held_by_another_program_then_goes_on() -> None:
    holder = hold_locks()
    try:
        plain = subprocess.run(["apt-get", "check"], capture_output=True, text=True, timeout=120)
        assert plain.returncode != 0 and "lock" in plain.stderr  # what .ci/setup met before
        waiting = apt("check")
        assert waiting.stderr is not None
        said = waiting.stderr.readline()  # it says it waits (and does not end)
        assert said.startswith("waiting for another program to finish with apt"), said
        assert waiting.poll() is None
        t_release = time.monotonic()
    finally:
        holder.communicate("go\n", timeout=30)
    _out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    print(f"apt-get check ran {time.monotonic() - t_release:.1f} s after the lock was let go")


@pytest.mark.slow  # ~5-10 s (timed under load): in `make test`, not `make check`
@needs_apt
def test_apt_gives_up_after_its_wait_and_says_why() -> None:
    holder = hold_locks()
    try:
        t0 = time.monotonic()
        _out, err = apt("check", wait_s=3).communicate(timeout=120)
        assert time.monotonic() - t0 >= 3
    finally:
        holder.communicate("go\n", timeout=30)
    assert "waiting for another program" in err and "Could not get lock" in err


def test_an_error_that_is_not_a_lock_fails_at_once() -> None:
    t0 = time.monotonic()
    proc = apt("no-such-command", wait_s=60)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "waiting" not in err and time.monotonic() - t0 < 30
