"""A private ``dbus-daemon`` that plays the system bus, for tests and demos.

The daemon listens on a unix socket in a temporary directory, accepts EXTERNAL auth
(the caller's uid) and allows everything. Point bleak at it with
``DBUS_SYSTEM_BUS_ADDRESS=<address>``. Needs ``dbus-daemon`` (Debian package ``dbus``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from sensor.errors import DeviceError

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
</busconfig>
"""

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGKILL when the process that started it dies, so
    a crashed or killed test run leaves no daemon behind (Linux only; a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 2.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; always reaps the child."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


class PrivateBus:
    """A ``dbus-daemon`` of type system on a private socket; a context manager.

    ``address`` is the bus address (``unix:path=...``) once started.
    """

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.address = ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> str:
        exe = shutil.which("dbus-daemon")
        if exe is None:
            raise DeviceError("dbus-daemon not found: install the 'dbus' package (apt-get install dbus)")
        self._dir = Path(tempfile.mkdtemp(prefix="holdtrack-bus-"))
        socket_path = self._dir / "bus"
        config = self._dir / "bus.conf"
        config.write_text(_CONFIG.format(socket=socket_path))
        # --nofork keeps the daemon our direct child, so tear-down is kill + wait, and the
        # parent-death signal covers a test run that is itself killed.
        self._proc = subprocess.Popen(
            [exe, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line:
            err = self._proc.stderr.read().decode().strip() if self._proc.stderr else ""
            self.stop()
            raise DeviceError(f"dbus-daemon did not start: {err or 'no address printed'}")
        # Keep only the path: the guid suffix is optional for clients.
        self.address = line.split(",")[0]
        return self.address

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream:
                    stream.close()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def env(self) -> dict[str, str]:
        """A copy of ``os.environ`` with this bus as the system bus."""
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def __enter__(self) -> PrivateBus:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
