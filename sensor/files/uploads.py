"""Files uploaded together (the dashboard's import) turned into paths to import.

Each upload gets its own folder and keeps its own name, so two files of the same name
(phyphox always writes ``Raw Data.csv``) never overwrite each other and each is reported
as the user knows it. The per-sensor tables of one phone export uploaded at once (Sensor
Logger's ``Accelerometer.csv``, ``Gyroscope.csv``…; phyphox's ``Accelerometer.csv``/
``Gyroscope.csv``) are zipped into one export, one session, named after its tables
(``Accelerometer.csv + Gyroscope.csv.zip``); a table uploaded alone stays as it is.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

_PHONE_TABLE = re.compile(rb"time \(s\)|acceleration x|gyroscope x|seconds_elapsed|^\"?time\"?[,;\t]|\"x \(", re.I)
_PHONE_META = {"metadata.csv", "annotation.csv", "device.csv", "time.csv"}


def _is_phone_table(name: str, data: bytes) -> bool:
    if not name.lower().endswith(".csv"):
        return False
    first = data[:4096].split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").lower()
    if b"time_s" in first and b"acc_x" in first:
        return False  # the generic CSV: a session of its own
    return name.lower() in _PHONE_META or bool(_PHONE_TABLE.search(first))


def stage_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write uploads under ``folder``; returns what to import, in upload order (a phone
    export's tables as one zip where its first table was)."""
    out: list[Path] = []
    groups: list[dict[str, bytes]] = []
    slots: list[int] = []  # index in ``out`` reserved for each group
    for i, (name, data) in enumerate(files):
        base = Path(name).name or f"upload{i}"
        if _is_phone_table(base, data):
            group = next((g for g in groups if base.lower() not in {k.lower() for k in g}), None)
            if group is None:  # a second file of the same name belongs to another export
                group = {}
                groups.append(group)
                slots.append(len(out))
                out.append(Path())
            group[base] = data
            continue
        target = folder / f"{i:03d}" / base
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        out.append(target)
    for k, (group, slot) in enumerate(zip(groups, slots)):
        names = list(group)
        if len(names) == 1:  # one table on its own: itself, under its own name
            target = folder / f"export{k:03d}" / names[0]
            target.parent.mkdir(parents=True)
            target.write_bytes(group[names[0]])
            out[slot] = target
            continue
        target = folder / f"export{k:03d}" / f"{export_name(names)}.zip"
        target.parent.mkdir(parents=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for member, data in group.items():
                z.writestr(member, data)
        out[slot] = target
    return out


def export_name(tables: list[str]) -> str:
    """What the tables of one export uploaded together are called in the import's report."""
    if len(tables) <= 3:
        return " + ".join(tables)
    return f"{tables[0]} + {tables[1]} + {len(tables) - 2} more"
