"""When a recording was made, from the recording itself (never from the upload time).

Sources, best first: a HoldTrack recording's header; a phone export's metadata (phyphox
``meta/time.csv``, Sensor Logger's epoch ``time`` column); a CSV whose first timestamp is
absolute (seconds, ms, µs or ns since 1970). Only when none says anything does the file's
modification time stand in, and the session says so (``date_source = "file time"``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sensor.errors import InputError
from sensor.files.limits import EARLIEST_UTC_S, FUTURE_SLACK_S, LATEST_UTC_S
from sensor.vocab import UTC_FORMAT

EPOCH_MIN_S = EARLIEST_UTC_S  # smaller "times" are seconds since the start
EPOCH_MAX_S = LATEST_UTC_S


def latest_start(now: datetime | None = None) -> datetime:
    """The latest start a session may have when stored now (``FUTURE_SLACK_S`` ahead)."""
    return min((now or datetime.now(UTC)) + timedelta(seconds=FUTURE_SLACK_S), datetime.fromtimestamp(LATEST_UTC_S, UTC))


def check_start(when: datetime, path: Path, said_by: str) -> datetime:
    """``when`` if a session may start then (2000 up to two days from now), else
    ``InputError`` naming who said so: such a date would break every weekly view."""
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if utc.timestamp() < EARLIEST_UTC_S:
        raise InputError(path, f"{said_by} says it started {utc:%Y-%m-%d %H:%M} UTC, before 2000: is its clock set?")
    if utc > latest_start():
        raise InputError(
            path, f"{said_by} says it started {utc:%Y-%m-%d %H:%M} UTC, in the future: is its clock set? (at most 2 days ahead accepted)"
        )
    return utc


def local_time(utc_text: str) -> datetime | None:
    """A stored UTC time (``UTC_FORMAT``) in this computer's time zone; None when it is not
    one, or lies beyond the calendar there (rows stored before dates were checked)."""
    try:
        return datetime.strptime(utc_text, UTC_FORMAT).replace(tzinfo=UTC).astimezone()
    except (ValueError, OverflowError):
        return None


def plausible_day(d: date, today: date) -> bool:
    """A stored local day a weekly view can span: what ``check_start`` accepts, a day wider
    either way for time zones. Rows stored before dates were checked may say 9999 or year
    1: they are listed, never spanned."""
    return date(1999, 12, 31) <= d <= today + timedelta(days=3)


def epoch_to_utc(value: float) -> datetime | None:
    """An absolute timestamp in s, ms, µs or ns since 1970, else None (a relative time)."""
    for scale in (1.0, 1e3, 1e6, 1e9):
        s = value / scale
        if EPOCH_MIN_S <= s <= EPOCH_MAX_S:
            return datetime.fromtimestamp(s, UTC)
    return None


def _first_cell_time(text: str) -> datetime | None:
    """The first data row's first time-like cell of a small CSV text (any delimiter)."""
    lines = [ln for ln in text.splitlines()[:3] if ln.strip()]
    if len(lines) < 2:
        return None
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    header = next(csv.reader([lines[0]], delimiter=delim))
    row = next(csv.reader([lines[1]], delimiter=delim))
    names = [h.strip().strip('"').lower() for h in header]
    for key in ("time_s", "time", "timestamp", "system time"):
        if key in names and names.index(key) < len(row):
            try:
                return epoch_to_utc(float(row[names.index(key)].strip().strip('"')))
            except ValueError:
                return None
    return None


def _head(data: bytes) -> str:
    return data[:4096].decode("utf-8-sig", errors="replace")


def _from_members(members: dict[str, bytes]) -> datetime | None:
    """phyphox's meta/time.csv (system time of START), else any CSV with epoch times."""
    for name, data in members.items():
        if name.lower().endswith("meta/time.csv"):
            rows = list(csv.reader(io.StringIO(_head(data)), delimiter=";" if ";" in _head(data) else ","))
            for r in rows[1:]:
                if len(r) >= 3 and r[0].strip().upper() == "START":
                    try:
                        return epoch_to_utc(float(r[2]))
                    except ValueError:
                        break
    for name in sorted(members):
        if name.lower().endswith(".csv") and "meta/" not in name.lower():
            t = _first_cell_time(_head(members[name]))
            if t is not None:
                return t
    return None


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(4096)


def recording_start(path: Path, kind: str) -> datetime | None:
    """When the recording in ``path`` started, if the file says (UTC), else None."""
    path = Path(path)
    try:
        if kind == "htrec":
            from sensor.recording import read_header

            created = read_header(path).created_utc
            return datetime.strptime(created, UTC_FORMAT).replace(tzinfo=UTC) if created else None
        if path.is_dir():
            return _from_members({str(f.relative_to(path)): _read_head(f) for f in path.rglob("*.csv")})
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                return _from_members({n: z.open(n).read(4096) for n in z.namelist() if n.lower().endswith(".csv")})
        return _first_cell_time(_head(_read_head(path)))
    except (OSError, ValueError, zipfile.BadZipFile, csv.Error, StopIteration):
        return None
