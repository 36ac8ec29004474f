"""Device profiles by name, and recognising a sensor from its advertisement."""

from __future__ import annotations

from sensor.devices import holdtrack_gatt, polar, thingy, witmotion
from sensor.devices.base import DeviceProfile

PROFILES: dict[str, DeviceProfile] = {p.name: p for p in (witmotion.PROFILE, polar.PROFILE, thingy.PROFILE, holdtrack_gatt.PROFILE)}
"""Keyed by profile name: "witmotion", "polar", "thingy52", "holdtrack"."""

# Service UUIDs are unambiguous, names less so ("WT" is a short prefix): try the profiles
# with the most specific identification first.
_MATCH_ORDER = ("holdtrack", "polar", "thingy52", "witmotion")


def profile_for_advertisement(name: str | None, service_uuids: list[str]) -> DeviceProfile | None:
    """The profile whose service UUID is advertised, else whose name prefix matches, else None."""
    uuids = [u.lower() for u in service_uuids]
    for key in _MATCH_ORDER:
        if any(u.lower() in uuids for u in PROFILES[key].service_uuids):
            return PROFILES[key]
    for key in _MATCH_ORDER:
        if PROFILES[key].matches(name, []):
            return PROFILES[key]
    return None


__all__ = ["PROFILES", "DeviceProfile", "profile_for_advertisement"]
