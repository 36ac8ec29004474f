"""Sensor choices for the Live page and starting a ``LiveSession`` that saves to the store.

The simulated wearer is always offered; Bluetooth sensors appear after a scan when the BLE
client (``sensor.sources.ble``) is installed and an adapter is present.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import data
from sensor.coach import Coach
from sensor.events import Analysis
from sensor.live import LiveSession, event_loop
from sensor.saving import save_run
from sensor.sources import Source, make_source

SCAN_S = 5.0


@dataclass
class Choice:
    label: str
    kind: str  # "sim", "ble", or a phone app's source kind (dashboard.phone_live)
    make: Callable[[dict[str, Any]], Source]
    options_ui: Callable[[], dict[str, Any]] = field(default=lambda: {})


def _sim_options() -> dict[str, Any]:
    c1, c2 = st.columns(2)
    # Widgets hidden during a run lose their state: keep the last choice beside them.
    last = st.session_state.setdefault("sim_last", {"seed": 7, "speed": 1})
    seed = c1.number_input(
        "Wearer", 1, 9999, int(last["seed"]), key="sim_seed", help="Each number is a different simulated person and session"
    )
    speed = c2.select_slider(
        "Speed",
        [1, 2, 5, 10, 20, 50],
        value=int(last["speed"]),
        format_func=lambda v: f"{v}×",
        key="sim_speed",
        help="1× is real time; faster to see a whole session quickly",
    )
    last.update(seed=int(seed), speed=int(speed))
    return {"seed": int(seed), "speed": float(speed)}


def choices() -> dict[str, Choice]:
    out = {
        "sim": Choice(
            "Simulated wearer (no hardware needed)",
            "sim",
            lambda o: make_source(f"sim:{o['seed']}", speed=o["speed"]),
            _sim_options,
        )
    }
    from dashboard import phone_live

    for kind, app in phone_live.APPS.items():
        out[kind] = Choice(app.LABEL, kind, app.make, app.options_ui)
    for dev in st.session_state.get("ble_found", []):
        battery = f" · battery {dev['battery']}%" if dev.get("battery") is not None else ""
        out[f"ble:{dev['address']}"] = Choice(
            f"{dev['name'] or dev['label'] or 'Sensor'} ({dev['label']}) · {dev['address']} · {dev['rssi']} dBm{battery}",
            "ble",
            _ble_maker(dev),
        )
    return out


def _ble_module() -> tuple[Any | None, str]:
    """The BLE client if it can be used here, else None and why not."""
    try:
        from sensor.sources import ble
    except ImportError as e:
        return None, f"the Bluetooth client is not installed ({e.name})"
    return ble, ""


def _ble_maker(dev: dict[str, Any]) -> Callable[[dict[str, Any]], Source]:
    return lambda _options: _ble_source(dev)


def _ble_source(dev: dict[str, Any]) -> Source:
    ble, why = _ble_module()
    if ble is None:
        raise RuntimeError(why)
    src = make_source(f"ble:{dev['address']}")
    src.header.mount = data.routine().mount  # where the user says the sensor is worn (Settings)
    return src


def scan_ui() -> None:
    """A scan button for Bluetooth sensors (results go into the sensor list)."""
    ble, why = _ble_module()
    if ble is None:
        st.caption(f":material/bluetooth_disabled: Bluetooth sensors: unavailable, {why}.")
        return
    if st.button("Scan for Bluetooth sensors", icon=":material/bluetooth_searching:", key="ble_scan"):
        import asyncio

        with st.spinner(f"Scanning for {SCAN_S:.0f} s…"):
            try:
                found = asyncio.run_coroutine_threadsafe(ble.scan(SCAN_S), event_loop()).result(SCAN_S + 10)
            except Exception as e:
                st.error(f"Scan failed: {e}")
                return
        # Only sensors HoldTrack can read are offered (a scan also sees phones, headphones...).
        st.session_state["ble_found"] = [_device_dict(d) for d in found if d.profile is not None]
        st.rerun()
    if "ble_found" in st.session_state and not st.session_state["ble_found"]:
        st.caption("No supported sensor found. Is it on, charged and close by?")


def _device_dict(d: Any) -> dict[str, Any]:
    """What the page keeps of a ``sensor.sources.ble.FoundSensor`` (plain data survives reruns)."""
    return {"address": d.address, "name": d.name or "", "rssi": d.rssi, "profile": d.profile, "label": d.label, "battery": d.battery}


SWITCH_INTERVAL_S = 0.001  # the GIL's hand-over interval in the dashboard (Python's default: 5 ms)


def share_the_gil() -> None:
    """The live loop shares the dashboard's process with Streamlit's render threads (charts
    5 times a second): hand the GIL over every 1 ms, not 5, so a source's I/O is not held up
    at each turn (a phyphox poll loop: 6.5 -> 13 polls/s beside two busy threads)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import the analysis and the simulator in the background while the user picks a
    sensor, so Start shows data at once (scipy's import alone takes a second or more)."""

    def load() -> None:
        import sensor.signal.pipeline
        import sensor.sim.simulate  # noqa: F401 - imported for its side effect: loaded before Start is pressed

    share_the_gil()
    th = threading.Thread(target=load, name="holdtrack-warm-up", daemon=True)
    th.start()
    return th


def start(source: Source, *, record: bool, key: str = "live_session") -> LiveSession:
    """Start a live session; when ``record``, its recording is saved into the store at the end."""
    store = data.store()  # taken here: the finish callback runs outside any page run
    saved = st.session_state.setdefault(f"{key}_saved", {})
    saved.clear()

    def on_finished(path: Path, analysis: Analysis | None) -> str:
        # The events found live are saved as they are (a recording left by a crash: analysed);
        # a run not saved (nothing detected, or the samples of a stored session) leaves no file.
        done = save_run(store, path, analysis, discard=True)
        if done.session_id is not None:
            saved["session_id"] = done.session_id
        return done.message[0].upper() + done.message[1:] + "."

    session = LiveSession(
        source,
        recordings_dir=store.recordings_dir if record else None,
        on_finished=on_finished if record else None,
        coach=Coach(data.routine()),
    )
    session.start()
    return session
