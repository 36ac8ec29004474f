"""The Live page's source "Phone — Sensor Logger": the push receiver on this computer's LAN
address (the dashboard itself stays on loopback; the receiver is its own token-paired
server, ``sensor.sources.phone_push``), its push URL as text and as a QR code, the Sensor
Logger settings to choose, and the phone's status (waiting → connected, rate, seconds since
the last sample). Set-up: firmware_notes/sensor_logger.md.

The receiver listens from the moment the source is picked, so the phone can be set up and
tested before Start; batches with readings are refused (with a line shown on the phone)
until Start. The pairing token and port are kept in the data folder: the phone is set up
once.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import threading
import time
from typing import Any

import streamlit as st

from dashboard import data
from sensor.errors import DeviceError
from sensor.live import LiveSession, event_loop
from sensor.sources.http_push import DEFAULT_PORT, lan_address
from sensor.sources.phone_push import PhonePushSource

KIND = "phone-push"  # the source's header.source
LABEL = "Phone — Sensor Logger (Wi-Fi)"
PAIRING_FILE = "phone-push.json"  # {"token", "port", "phone"} in the data folder
QUIET_S = 3.0  # no sample for this long: say what to do

SETTINGS = """In **Sensor Logger** (free, iOS and Android):
1. **Sensors**: turn on *Accelerometer*, *Gravity* and *Gyroscope* (others off).
2. **Settings → Sampling Frequencies**: *100 Hz* for those three.
3. **Settings → Data Streaming → HTTP Push**: on; **Push URL**: the address above (scan
   the code with the phone's camera and copy it, or type it); the shortest **batch
   period** it offers (each batch is up to that much later on screen). *Tap to Test
   Pushing* says `200` when the phone reaches this computer.
4. iPhone: say above whether **Settings → Standardise Units & Frames** is on (it is off by
   default); the push URL tells HoldTrack. Off, an iPhone sends every acceleration axis
   with the opposite sign, which the data alone cannot show.
5. Press **Start** here, then start recording in Sensor Logger. Keep it in front with the
   screen on, on the same Wi-Fi as this computer; phone in a waist pouch on the back of the
   pelvis, screen facing away from you."""


@st.cache_resource(show_spinner=False)
def _holder() -> dict[str, Any]:
    """The receiver waiting for the phone: one per dashboard (one phone, one port)."""
    return {"source": None, "taken": None, "lock": threading.Lock(), "moved": None}


def _pairing() -> dict[str, Any]:
    path = data.folder() / PAIRING_FILE
    try:
        saved = json.loads(path.read_text())
        if isinstance(saved.get("token"), str) and len(saved["token"]) >= 8 and isinstance(saved.get("port"), int):
            phone = saved.get("phone") if saved.get("phone") in PHONES else "android"
            return {"token": saved["token"], "port": saved["port"], "phone": phone}
    except (OSError, ValueError, AttributeError):
        pass
    pairing = {"token": secrets.token_urlsafe(6), "port": DEFAULT_PORT, "phone": "android"}
    _save(pairing)
    return pairing


def _save(pairing: dict[str, Any]) -> None:
    path = data.folder() / PAIRING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pairing))


def _run(coro: Any, timeout_s: float = 10.0) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, event_loop()).result(timeout_s)


def receiver() -> PhonePushSource:
    """The receiver waiting for the phone, listening on the LAN address (made anew once the
    session that took the last one has ended), with the saved token and port; a free port if
    that one is taken (then saved: the phone needs the new URL)."""
    h = _holder()
    with h["lock"]:
        src: PhonePushSource | None = h["source"]
        if src is not None and src.listening:
            if src is h["taken"]:  # a session (in another tab) has it: one phone, one port
                raise RuntimeError("a Sensor Logger session is running on this dashboard: stop it first")
            return src
        pairing = _pairing()
        host = lan_address() or "127.0.0.1"
        for port in (pairing["port"], 0):
            src = PhonePushSource(host, port, token=pairing["token"], wait_for_start=True)
            try:
                _run(src.open())
            except DeviceError:
                continue
            if src.port != pairing["port"]:
                h["moved"] = f"port {pairing['port']} was taken: the push URL changed, set the new one in Sensor Logger"
                _save({**pairing, "port": src.port})
            h["source"] = src
            return src
        raise RuntimeError(f"cannot listen on {host} for the phone")


def leave() -> None:
    """Another source was picked: stop listening (a receiver a session took stops with it)."""
    h = _holder()
    with h["lock"]:
        src: PhonePushSource | None = h["source"]
        if src is None or src is h["taken"]:
            return
        h["source"] = None
    _run(src.stop())


@st.cache_data(show_spinner=False)
def qr_png(url: str) -> bytes:
    """The push URL as a QR code (the phone's camera reads it as a link)."""
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m", mode="byte").save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


PHONES = {  # the phone and its setting -> the push URL's query
    "android": ("Android", ""),
    "ios": ("iPhone (Sensor Logger's default)", "?platform=ios"),
    "ios-standard": ("iPhone, Standardise Units & Frames on", ""),
}


def push_url(src: PhonePushSource, phone: str) -> str:
    return src.url + PHONES[phone][1]


def options_ui() -> dict[str, Any]:
    """Which phone, the push URL (text and QR code), the settings, and whether the phone
    got through."""
    try:
        src = receiver()
    except RuntimeError as e:
        st.warning(str(e), icon=":material/phonelink_off:")
        return {}
    moved = _holder()["moved"]
    if moved:
        st.warning(moved, icon=":material/swap_horiz:")
    if src.host.startswith("127."):
        st.warning(
            "This computer has no address on a network (only 127.0.0.1): connect it to the Wi-Fi the phone is on.",
            icon=":material/wifi_off:",
        )
    pairing = _pairing()
    saved = pairing.get("phone", "android")
    phone = st.radio(
        "Phone", list(PHONES), index=list(PHONES).index(saved), format_func=lambda k: PHONES[k][0], horizontal=True, key="sl_phone"
    )
    if phone != saved:
        _save({**pairing, "phone": phone})  # the phone keeps the URL it was given: so does HoldTrack
    url = push_url(src, phone)
    c1, c2 = st.columns([1, 2])
    c1.image(qr_png(url), caption="Push URL: scan with the phone's camera", width=240)
    with c2:
        st.markdown("**Push URL** (this computer, on your Wi-Fi)")
        st.code(url, language=None)
        st.markdown(SETTINGS)
    _reached(src)
    return {}


def _reached(src: PhonePushSource) -> None:
    """Whether the phone got through (as of this run: a fragment refreshing it would outlive
    the picker that Start clears)."""
    if src.last_contact is None:
        st.caption("Waiting for the phone: set the push URL in Sensor Logger and tap *Tap to Test Pushing*.")
    else:
        st.caption(
            f"Sensor Logger reached HoldTrack {time.time() - src.last_contact:.0f} s ago. Press **Start**, then start recording on the phone."
        )


def make(options: dict[str, Any]) -> PhonePushSource:
    """The receiver the phone was set up with, for the session Start begins."""
    src = receiver()
    src.header.mount = data.routine().mount  # where the user says the phone is worn (Settings)
    _holder()["taken"] = src  # the session's now: not stopped when another tab picks another source
    return src


def status(session: LiveSession) -> None:
    """Waiting for the phone → connected, the rate, seconds since the last sample; what to do
    when it goes quiet or a batch is refused."""
    src = session.source
    assert isinstance(src, PhonePushSource)

    @st.fragment(run_every=0.5)
    def line() -> None:
        snap = session.snapshot()
        if not snap.samples:
            words = f"Waiting for the phone: start recording in Sensor Logger (push URL {src.url})"
        else:
            ago = time.time() - (src.last_sample_wall or time.time())
            words = f"Sensor Logger connected · {snap.rate_hz:.0f} Hz · last sample {ago:.1f} s ago"
            if ago > QUIET_S:
                words += " · no data: keep Sensor Logger open in front with the screen on, on the same Wi-Fi as this computer"
        if src.last_refusal:
            words += f" · last batch refused: {src.last_refusal}"
        st.html(f'<div data-testid="ht-phone-status" style="font-size:0.9rem;color:#455a64">{_escape(words)}</div>')

    if session.snapshot().active:
        line()


def _escape(text: str) -> str:
    import html

    return html.escape(text)
