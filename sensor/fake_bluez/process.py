"""Start a private bus and the fake BlueZ on it as a subprocess; stop both, always."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterable
from types import TracebackType

from sensor.errors import DeviceError
from sensor.fake_bluez.daemon import PrivateBus, die_with_parent, stop_process
from sensor.fake_bluez.sensor_sim import SensorSpec


class FakeBluezProcess:
    """``with FakeBluezProcess(specs) as fake:`` -> ``fake.address`` is a system bus on
    which ``org.bluez`` serves the simulated sensors. Tear-down kills both processes (and
    both die with this process if it is killed)."""

    def __init__(
        self,
        sensors: Iterable[SensorSpec] = (),
        *,
        adapter: bool = True,
        powered: bool = True,
        bluez: bool = True,
        verbose: bool = False,
        start_timeout_s: float = 15.0,
    ) -> None:
        self.sensors = list(sensors)
        self.adapter, self.powered, self.bluez, self.verbose = adapter, powered, bluez, verbose
        self.start_timeout_s = start_timeout_s
        self.bus = PrivateBus()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return self.bus.address

    def env(self) -> dict[str, str]:
        """``os.environ`` with the private bus as the system bus (for CLI subprocesses)."""
        return self.bus.env()

    def start(self) -> str:
        self.bus.start()
        if not self.bluez:
            return self.address  # a bus without bluetoothd
        cmd = [sys.executable, "-m", "sensor.fake_bluez", "--bus", self.address]
        for spec in self.sensors:
            cmd += ["--sensor", spec.to_json()]
        if not self.adapter:
            cmd.append("--no-adapter")
        if not self.powered:
            cmd.append("--powered-off")
        if self.verbose:
            cmd.append("--verbose")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=self.env(), preexec_fn=die_with_parent)
        ready = threading.Event()
        line: list[bytes] = []

        def wait_ready() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            line.append(self.proc.stdout.readline())
            ready.set()

        threading.Thread(target=wait_ready, daemon=True).start()
        if not ready.wait(self.start_timeout_s) or not line or line[0].strip() != b"READY":
            self.stop()
            raise DeviceError("the fake BlueZ did not start")
        return self.address

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
        self.bus.stop()

    def __enter__(self) -> FakeBluezProcess:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
