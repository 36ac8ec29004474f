"""The Live page's source "Phone — phyphox": the QR code that loads HoldTrack's experiment
into phyphox, the address phyphox shows, and the phone's status while it streams
(``sensor.sources.phyphox``; set-up in firmware_notes/phyphox.md)."""

from __future__ import annotations

import io
import time
from typing import Any

import streamlit as st

from sensor.live import LiveSession
from sensor.sources import Source, make_source

KEY = "phyphox_address"
LABEL = "Phone — phyphox (Wi-Fi)"


@st.cache_data(show_spinner=False)
def qr_png() -> bytes:
    """The QR code that loads HoldTrack's experiment into phyphox (the experiment itself,
    not a link: ``sensor.sources.phyphox_experiment``)."""
    import segno

    from sensor.sources.phyphox_experiment import qr_payloads

    codes = qr_payloads()
    assert len(codes) == 1  # ≈ 800 bytes: one code
    buf = io.BytesIO()
    segno.make(codes[0], error="m", mode="byte").save(buf, kind="png", scale=5, border=4)
    return buf.getvalue()


def options_ui() -> dict[str, Any]:
    """The QR code, the steps on the phone, and the address field; returns the address."""
    c1, c2 = st.columns([1, 2])
    c1.image(qr_png(), caption="Scan in phyphox: + → scan QR code", width=220)
    c2.markdown(
        "1. Install **phyphox** (free, iOS and Android). Once: in phyphox tap **+**, then "
        "**scan QR code**, and scan this code. It loads the experiment *HoldTrack IMU*.\n"
        "2. Open *HoldTrack IMU*, then in its menu **Allow remote access** (iOS: Enable "
        "remote access). phyphox shows an address like `http://192.168.1.23:8080`.\n"
        "3. Type that address below and press **Start**. Phone and computer on the same Wi-Fi; "
        "keep phyphox in front with the screen on.\n"
        "4. Phone in a waist pouch on the back of the pelvis, screen facing away from you."
    )
    address = c2.text_input(
        "phyphox address", key=KEY, placeholder="http://192.168.1.23:8080", help="As phyphox shows it after Allow remote access"
    )
    return {"address": address.strip()}


def make(options: dict[str, Any]) -> Source:
    """The phyphox source for the address typed (a clear error when there is none)."""
    address = options.get("address", "")
    if not address:
        raise ValueError("type the address phyphox shows after Allow remote access")
    from dashboard import data

    src = make_source(f"phyphox:{address}")
    src.header.mount = data.routine().mount  # where the user says the phone is worn (Settings)
    return src


def is_phyphox(session: LiveSession) -> bool:
    return getattr(session.source.header, "source", "") == "phyphox"


def status(session: LiveSession) -> None:
    """Waiting for the phone → connected, the rate, seconds since the last sample."""

    @st.fragment(run_every=0.5)
    def line() -> None:
        src = session.source
        snap = session.snapshot()
        last = float(getattr(src, "last_sample", 0.0))
        if not snap.samples:
            words = f"Waiting for phyphox at {getattr(src, 'url', '')}…"
        else:
            ago = time.monotonic() - last if last else float("nan")
            words = f"phyphox connected · {snap.rate_hz:.0f} Hz · last sample {ago:.1f} s ago · {getattr(src, 'polls', 0)} polls"
        st.html(f'<div data-testid="ht-phyphox-status" style="font-size:0.9rem;color:#455a64">{words}</div>')

    if session.snapshot().active:
        line()
