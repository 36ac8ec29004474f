"""Wi-Fi as it is (issue 22, item 5): 10 s of Wi-Fi lost in the middle of a set of bridges
pushed from a simulated Sensor Logger phone in real time, through the session the Live
page runs. Whether the app drops the batches of that time or sends them when the Wi-Fi is
back (Sensor Logger documents neither), the session goes on, the user gets one line saying
what to do, and every sample that reached the computer is kept once; dropped ones are one
gap, shown."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from sensor.live import LiveSession, event_loop
from sensor.recording import read_recording
from sensor.sim.sensor_logger import PhoneLog, SensorLoggerPhone
from sensor.sources.phone_push import SILENT_HINT, PhonePushSource
from tests.conftest import sim

pytestmark = pytest.mark.slow  # a minute of pushes in real time
OFFLINE = (36.0, 46.0)  # seconds into the workout: between the 2nd and the 4th bridge


def test_ten_seconds_of_wifi_lost_mid_set(tmp_path: Path) -> None:
    workout = sim(21, short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0, dropouts=False)
    s = workout.samples[: int(np.searchsorted(workout.samples.time_s, workout.samples.time_s[0] + 60.0))]
    runs = {}
    for resend in (False, True):  # both at once: one minute of real time
        src = PhonePushSource("127.0.0.1", 0)
        asyncio.run_coroutine_threadsafe(src.open(), event_loop()).result(10)
        live = LiveSession(src, recordings_dir=tmp_path / f"resend-{resend}")
        live.start()
        phone = SensorLoggerPhone(src.url, s)
        logs: list[PhoneLog] = []
        th = threading.Thread(target=lambda p=phone, r=resend, out=logs: out.append(asyncio.run(p.run(offline=[OFFLINE], resend=r))))
        th.start()
        runs[resend] = (src, live, th, logs)
    for resend, (_, live, th, logs) in runs.items():
        th.join(180)
        assert logs and all(status == 200 for _, _, status in logs[0].sent), logs
        snap = live.stop(timeout_s=30)
        assert snap.phase == "stopped" and snap.error is None, snap.error
        rec = read_recording(snap.recording)  # type: ignore[arg-type]
        t = s.time_s - s.time_s[0]
        lost = (t >= OFFLINE[0]) & (t < OFFLINE[1]) if not resend else np.zeros(len(t), bool)
        kept = s[~lost]
        assert len(rec.samples) == len(kept), (resend, len(rec.samples), len(kept))  # each once
        np.testing.assert_array_equal(rec.samples.imu, kept.imu)
        np.testing.assert_allclose(rec.samples.time_s - rec.samples.time_s[0], kept.time_s - kept.time_s[0], atol=2e-6)
        reps_after = [r for r in snap.reps if r.end_s > OFFLINE[1] + 1]
        assert reps_after, "the session went on counting after the Wi-Fi came back"
        if resend:
            assert not snap.gaps
        else:  # the gap is shown, and one line said what to do
            assert [(round(g.start_s), round(g.end_s)) for g in snap.gaps] == [(36, 46)], snap.gaps
            down = [link for link in snap.link_log if not link.connected]
            assert down and SILENT_HINT in down[0].message
            assert any(link.connected and "again" in link.message for link in snap.link_log)
