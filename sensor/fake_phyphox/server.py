"""``FakePhyphox``: an HTTP server that answers ``/config``, ``/get``, ``/control``,
``/time`` and ``/meta`` as phyphox does, for an experiment's accelerometer and gyroscope
buffers filled from simulated samples as the wall clock goes.

The wearer's time runs from the first ``start`` at ``speed`` × the wall clock. Samples are
recorded only while measuring, stamped with experiment time (which pauses with the
measurement and restarts at 0 on ``clear``), the gyroscope on its own clock half a sample
after the accelerometer, as two phone sensors are. ``drop_for`` loses the Wi-Fi (every
request is closed unanswered, measuring goes on); ``lock_screen_for`` stops the
measurement and the server, as a phone whose screen locks (the app leaves the foreground).
Numbers are written as Android does (``0.#######E0``: 8 significant digits).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from sensor.samples import Samples
from sensor.sources.phyphox_experiment import experiment_bytes


def android_number(v: float) -> str:
    """A value as phyphox-android writes it: ``DecimalFormat("0.#######E0")``; NaN -> null."""
    if not math.isfinite(v):
        return "null"
    mantissa, exp = f"{v:.7E}".split("E")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{int(exp)}"


class _Interval:
    """One stretch of measuring: wearer time [w0, w1) recorded from experiment time e0."""

    def __init__(self, w0: float, e0: float) -> None:
        self.w0, self.w1, self.e0 = w0, math.inf, e0


class FakePhyphox:
    """phyphox's remote access serving ``samples`` (stream time from 0) through
    ``experiment`` (default HoldTrack's). ``platform``: "android" (port 8080 numbering, a
    session id kept across server restarts, full answers after a clear) or "ios"."""

    def __init__(
        self,
        samples: Samples,
        *,
        experiment: bytes | None = None,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        platform: str = "android",
    ) -> None:
        self.speed = speed
        self.platform = platform
        self._parse_experiment(experiment or experiment_bytes())
        t = samples.time_s - float(samples.time_s[0])
        dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.01
        self._t = {"acc": t, "gyr": t + dt / 2}
        self._v = {"acc": samples.imu[:, :3].astype(np.float64), "gyr": samples.imu[:, 3:].astype(np.float64)}
        self._lock = threading.RLock()  # one request at a time, atomic with the phone's own changes
        self._wall0: float | None = None  # wall time at wearer time 0 (the first start)
        self._epoch0 = 0.0
        self._intervals: list[_Interval] = []
        self._events: list[dict[str, Any]] = []
        self._cleared_w = -math.inf
        self._force_full = False
        self._down_until = 0.0
        self.session = secrets.token_hex(3)
        self.requests = 0
        self.refused = 0  # requests closed unanswered (Wi-Fi lost, screen locked)
        self.commands: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.host, self.port = host, int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-phyphox", daemon=True)

    # -- life ------------------------------------------------------------------------------

    def start(self) -> FakePhyphox:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakePhyphox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        """What phyphox shows on the phone: ``http://HOST:PORT``."""
        return f"http://{self.host}:{self.port}"

    # -- the phone -------------------------------------------------------------------------

    def wearer_time(self) -> float:
        return 0.0 if self._wall0 is None else (time.monotonic() - self._wall0) * self.speed

    def phone_clock(self) -> float:
        """The phone's clock (Unix s), running at ``speed`` like the wearer."""
        return self._epoch0 + self.wearer_time()

    def measuring(self) -> bool:
        return bool(self._intervals) and self._intervals[-1].w1 == math.inf

    def experiment_time(self) -> float:
        if not self._intervals:
            return 0.0
        iv = self._intervals[-1]
        return iv.e0 + max(0.0, min(iv.w1, self.wearer_time()) - iv.w0)

    def command(self, cmd: str) -> bool:
        """What ``/control?cmd=`` does (also the phone's own buttons)."""
        with self._lock:
            self.commands.append(cmd)
            if cmd == "start":
                if self._wall0 is None:
                    self._wall0, self._epoch0 = time.monotonic(), time.time()
                if not self.measuring():
                    e = self.experiment_time()
                    self._intervals.append(_Interval(self.wearer_time(), e))
                    self._events.append({"event": "START", "experimentTime": e, "systemTime": self.phone_clock()})
                return True
            if cmd == "stop":
                if self.measuring():
                    self._intervals[-1].w1 = self.wearer_time()
                    self._events.append({"event": "PAUSE", "experimentTime": self.experiment_time(), "systemTime": self.phone_clock()})
                return True
            if cmd == "clear":
                if self.measuring():
                    self._intervals[-1].w1 = self.wearer_time()
                self._cleared_w = self.wearer_time()
                self._intervals = []
                self._events = []
                self._force_full = True
                return True
            return False

    def drop_for(self, seconds: float) -> None:
        """The Wi-Fi is lost for ``seconds`` of wall time; the phone goes on measuring."""
        self._down_until = time.monotonic() + seconds

    def lock_screen_for(self, seconds: float) -> None:
        """The screen locks: the measurement stops and the server goes away for ``seconds``;
        then it serves again (a new session id on iOS), not measuring."""
        with self._lock:  # no request may see it stopped and still reachable
            self._down_until = time.monotonic() + seconds
            self.command("stop")
        if self.platform == "ios":
            self.session = secrets.token_hex(3)

    # -- buffers ---------------------------------------------------------------------------

    def _recorded(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(experiment times, values) of one sensor so far."""
        now_w = self.wearer_time()
        t, v = self._t[kind], self._v[kind]
        ts, vs = [], []
        for iv in self._intervals:
            lo, hi = max(iv.w0, self._cleared_w), min(iv.w1, now_w)
            a, b = int(np.searchsorted(t, lo, "left")), int(np.searchsorted(t, hi, "left"))
            ts.append(t[a:b] - iv.w0 + iv.e0)
            vs.append(v[a:b])
        if not ts:
            return np.empty(0), np.empty((0, 3))
        return np.concatenate(ts), np.concatenate(vs)

    def _buffers(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for kind, names in (("acc", self._acc), ("gyr", self._gyr)):
            if names is None:
                continue
            t, v = self._recorded(kind)
            x, y, z, tn = names
            out.update({x: v[:, 0], y: v[:, 1], z: v[:, 2], tn: t})
        return out

    def _parse_experiment(self, xml: bytes) -> None:
        root = ET.fromstring(xml)
        self.title = (root.findtext("title") or "").strip()
        self.containers = [(c.text or "").strip() for c in root.iter("container")]
        self._acc: tuple[str, str, str, str] | None = None
        self._gyr: tuple[str, str, str, str] | None = None
        self.inputs: list[dict[str, Any]] = []
        for s in root.iter("sensor"):
            outs = {o.get("component", ""): (o.text or "").strip() for o in s.iter("output")}
            self.inputs.append({"source": s.get("type"), "outputs": [{k: v} for k, v in outs.items()]})
            names = (outs.get("x", ""), outs.get("y", ""), outs.get("z", ""), outs.get("t", ""))
            if all(names) and s.get("type") == "accelerometer":
                self._acc = names
            elif all(names) and s.get("type") == "gyroscope":
                self._gyr = names

    # -- HTTP ------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._answer(h)

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        if time.monotonic() < self._down_until:
            self.refused += 1
            h.close_connection = True
            return  # closed without an answer: the phone is out of reach
        url = urlsplit(h.path)
        query = parse_qsl(url.query, keep_blank_values=True)
        if url.path == "/config":
            body = self._config()
        elif url.path == "/get":
            if not query and self.platform == "ios":
                h.send_error(400)
                return
            body = self._get(query)
        elif url.path == "/control":
            cmd = dict(query).get("cmd", "")
            body = json.dumps({"result": self.command(cmd)})
        elif url.path == "/time":
            body = json.dumps(self._events)
        elif url.path == "/meta":
            body = json.dumps({"version": "1.2.0", "build": "0", "fileFormat": "1.19", "deviceModel": "Fake", "deviceBrand": "HoldTrack"})
        else:
            body = json.dumps({"error": "Unknown file."})
        data = body.encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _config(self) -> str:
        return json.dumps(
            {
                "crc32": "00000000",
                "title": self.title,
                "localTitle": self.title,
                "category": "HoldTrack",
                "localCategory": "HoldTrack",
                "buffers": [{"name": n, "size": 0} for n in self.containers],
                "inputs": self.inputs,
                "export": [],
            }
        )

    def _get(self, query: list[tuple[str, str]]) -> str:
        bufs = self._buffers()
        parts = []
        for name, arg in query:
            if name not in bufs:
                continue  # unknown buffers are left out, as phyphox does
            values = bufs[name]
            if arg == "":
                mode, vals = "single", values[-1:]
            elif arg == "full" or (self._force_full and self.platform == "android"):
                mode, vals = "full", values
            else:
                threshold_s, _, ref = arg.partition("|")
                try:
                    threshold = float(threshold_s)
                except ValueError:
                    continue
                if threshold > 0:  # phyphox's margin for its limited output precision
                    threshold += 10 ** math.floor(math.log10(threshold / 1e7))
                refv = bufs.get(ref or name)
                if refv is None:
                    continue
                mode, vals = "partial", values[: len(refv)][refv[: len(values)] > threshold]
            text = ",".join(android_number(float(v)) for v in vals) if len(vals) else ("null" if mode != "partial" else "")
            parts.append(f'"{name}":{{"size":0,"updateMode":"{mode}","buffer":[{text}]}}')
        self._force_full = False
        status = {"session": self.session, "measuring": self.measuring(), "timedRun": False, "countDown": 0}
        return '{"buffer":{' + ",".join(parts) + '},"status":' + json.dumps(status) + "}"
