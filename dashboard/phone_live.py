"""The Live page's phone sources, one row per app: the source kind its sessions carry
(``header.source``), its label in the sensor list, and its module's ``options_ui`` (what
to do on the phone), ``make`` (the source for Start) and ``status`` (waiting → connected
while it streams); ``leave`` (optional) when another source is picked. A phone app slots
in with a row."""

from __future__ import annotations

from types import ModuleType

from dashboard import phyphox_live, sensor_logger_live
from sensor.live import LiveSession

APPS: dict[str, ModuleType] = {  # source kind -> the module of its Live-page part
    sensor_logger_live.KIND: sensor_logger_live,
    "phyphox": phyphox_live,
}


def status(session: LiveSession) -> None:
    """The phone's status line, for a session from a phone app."""
    app = APPS.get(getattr(session.source.header, "source", ""))
    if app is not None:
        app.status(session)


def leave_others(kind: str) -> None:
    """The user picked ``kind``: phone apps that listen while picked stop listening."""
    for k, app in APPS.items():
        if k != kind and hasattr(app, "leave"):
            app.leave()
