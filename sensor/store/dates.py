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
from datetime import UTC, datetime
from pathlib import Path

EPOCH_MIN_S = 946_684_800.0  # 2000-01-01: smaller "times" are seconds since the start
EPOCH_MAX_S = 4_102_444_800.0  # 2100-01-01


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
            return datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if created else None
        if path.is_dir():
            return _from_members({str(f.relative_to(path)): _read_head(f) for f in path.rglob("*.csv")})
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                return _from_members({n: z.open(n).read(4096) for n in z.namelist() if n.lower().endswith(".csv")})
        return _first_cell_time(_head(_read_head(path)))
    except (OSError, ValueError, zipfile.BadZipFile, csv.Error, StopIteration):
        return None
