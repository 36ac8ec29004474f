"""The Live page's source "Phone — Sensor Logger" (Streamlit AppTest and real HTTP): picking
it starts the push receiver on this computer's LAN address with a pairing kept in the data
folder; the phone can test before Start, its readings wait for Start; picking another
source stops listening."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sensor.sources.http_push import lan_address

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def live_page(folder: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("HOLDTRACK_DATA_DIR", str(folder))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/live.py").run()
    assert not at.exception, at.exception
    return at


def push(url: str, payload: list[dict[str, object]]) -> tuple[int, str]:
    req = urllib.request.Request(url, data=json.dumps({"messageId": 1, "sessionId": "s", "payload": payload}).encode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.slow
def test_sensor_logger_listens_on_the_lan_with_a_kept_pairing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = live_page(tmp_path, monkeypatch)
    at.selectbox(key="live_sensor").select("phone-push").run()
    assert not at.exception, at.exception
    url = at.code[0].value
    host = url.split("//")[1].split(":")[0]
    assert host == (lan_address() or "127.0.0.1") and host not in ("0.0.0.0", "localhost")
    pairing = json.loads((tmp_path / "phone-push.json").read_text())
    assert url.endswith(f":{pairing['port']}/{pairing['token']}") and len(pairing["token"]) >= 8
    assert any("Standardise Units & Frames" in m.value for m in at.markdown)

    with urllib.request.urlopen(url, timeout=10) as r:  # the QR code's link opened on the phone
        assert r.status == 200 and "Sensor Logger" in r.read().decode()
    assert push(url, [{"name": "test"}])[0] == 200  # "Tap to Test Pushing"
    reading = {"name": "gyroscope", "time": 1_790_000_000_000_000_000, "values": {"x": 0, "y": 0, "z": 0}}
    status, text = push(url, [reading])
    assert status == 499 and "press Start" in text  # shown on the phone: nothing is recorded before Start
    at.run()
    assert any("reached HoldTrack" in c.value for c in at.caption)
    # An iPhone with Sensor Logger's default frame: the URL says so (the data cannot), and is kept.
    at.radio(key="sl_phone").set_value("ios").run()
    assert at.code[0].value == url + "?platform=ios"
    assert json.loads((tmp_path / "phone-push.json").read_text())["phone"] == "ios"
    at.radio(key="sl_phone").set_value("android").run()

    # Start: the session waits for the phone; another tab cannot take the phone meanwhile.
    at.button(key="live_start").click().run()
    assert not at.exception, at.exception
    other = live_page(tmp_path, monkeypatch)
    other.selectbox(key="live_sensor").select("phone-push").run()
    assert any("session is running" in w.value for w in other.warning) and not other.code
    at.button(key="live_stop").click().run()
    assert not at.exception, at.exception

    # The same pairing on the next visit (the phone is set up once).
    again = live_page(tmp_path, monkeypatch)
    again.selectbox(key="live_sensor").select("phone-push").run()
    assert again.code[0].value == url

    # Another source picked: the receiver stops listening.
    again.selectbox(key="live_sensor").select("sim").run()
    assert not again.exception, again.exception
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
    # Picked again: a new receiver, with the pairing read back from the data folder.
    again.selectbox(key="live_sensor").select("phone-push").run()
    assert again.code[0].value == url
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
    again.selectbox(key="live_sensor").select("sim").run()


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_the_simulated_phone_pushes_what_sensor_logger_does(platform: str) -> None:
    """The phone of the browser test and the benchmarks, read back by the receiver: Android's
    total acceleration, or an iPhone's acceleration and gravity with the app's default sign
    (the URL's ?platform=ios), give the workout's samples."""
    import numpy as np

    from sensor.sim.sensor_logger import batch_body, push_items
    from sensor.sources.push_stream import PushStream
    from tests.conftest import sim

    s = sim(21, short=True, rate_hz=100.0, exercises=("bridge",), link_losses=0, dropouts=False).samples[:1000]
    t0_ns = 1_790_000_000_000_000_000
    now = [t0_ns / 1e9]
    push = PushStream(clock=lambda: now[0])
    out = []
    for k in range(10):
        part = s[k * 100 : (k + 1) * 100]
        now[0] = t0_ns / 1e9 + float(part.time_s[-1] - s.time_s[0]) + 0.05
        v = push.offer(batch_body(push_items(part, t0_ns + round(float(part.time_s[0] - s.time_s[0]) * 1e9), platform), k), platform)
        assert v.status == 200, v.message
        out += v.items
    out += push.flush()
    got = [i for i in out if hasattr(i, "imu")]
    imu = np.concatenate([g.imu for g in got])
    np.testing.assert_allclose(imu, s.imu, atol=2e-5)
