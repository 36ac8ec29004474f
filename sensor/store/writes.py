"""Writing sessions: one analysed session in one transaction (with its sets, reps, holds,
gaps and display trace), the recording file kept beside it, demo sessions removed."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensor.errors import StoreError
from sensor.events import Analysis, Hold, Rep
from sensor.routine import group_sets
from sensor.store.database import Database
from sensor.store.marks import repair_marks
from sensor.store.signature import Signature
from sensor.trace import Trace


@dataclass(slots=True)
class SessionInfo:
    """What is known about a recording besides its analysis."""

    started_utc: datetime
    source_path: str
    file_path: str
    content_hash: str
    kind: str = "htrec"
    source: str = ""
    demo: bool = False
    mount: str = "back"
    device: dict[str, Any] = field(default_factory=dict)
    app_version: str = ""
    signature: Signature | None = None  # the samples' signature (sensor.store.signature): duplicates by content
    date_source: str = "recording"  # recording, file time (nothing in the file said), edited


def _version(con: sqlite3.Connection, session_id: int) -> tuple[Any, ...]:
    row = con.execute("SELECT reanalysed_utc, deleted_utc FROM sessions WHERE id = ?", (session_id,)).fetchone()
    fixes = con.execute(
        "SELECT target, idx, field, value, created_utc FROM corrections WHERE session_id = ? ORDER BY target, idx, field", (session_id,)
    ).fetchall()
    return (tuple(row) if row else None, tuple(tuple(f) for f in fixes))


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class Store(Database):
    """The session store: the database plus the ways sessions are written to it."""

    # -- writing -----------------------------------------------------------------------

    def has_hash(self, content_hash: str) -> int | None:
        """The session id of a file already imported, else None."""
        with self.connect() as con:
            row = con.execute("SELECT id FROM sessions WHERE content_hash = ?", (content_hash,)).fetchone()
        return int(row[0]) if row else None

    def add_session(self, analysis: Analysis, info: SessionInfo, trace: Trace | None = None) -> int:
        """Insert one analysed session with its sets, reps, holds, gaps and trace."""
        with self.transaction() as con:
            return self._insert(con, analysis, info, trace)

    def add_session_unless(
        self, analysis: Analysis, info: SessionInfo, trace: Trace | None, clash: Callable[[sqlite3.Connection], bool]
    ) -> int | None:
        """``add_session``, unless ``clash`` (asked under the write lock, in the same
        transaction) says no: then nothing is stored and None returned. Another process's
        insert cannot come between the check and this one."""
        with self.transaction() as con:
            return None if clash(con) else self._insert(con, analysis, info, trace)

    def _insert(self, con: sqlite3.Connection, a: Analysis, info: SessionInfo, trace: Trace | None) -> int:
        device_id = None
        if info.device:
            d = (str(info.device.get("profile", "")), str(info.device.get("name", "")), str(info.device.get("address", "")))
            con.execute("INSERT OR IGNORE INTO devices (profile, name, address) VALUES (?, ?, ?)", d)
            device_id = con.execute("SELECT id FROM devices WHERE profile = ? AND name = ? AND address = ?", d).fetchone()[0]
        started = _as_utc(info.started_utc)
        cur = con.execute(
            """INSERT INTO sessions (started_utc, local_date, duration_s, source_path, file_path,
                   content_hash, kind, source, demo, calibrated, sample_rate_hz, mount, device_id,
                   app_version, imported_utc, fingerprint, samples_n, date_source, damaged_blocks, interrupted, start_s)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                started.astimezone().date().isoformat(),
                float(a.duration_s),
                info.source_path,
                info.file_path,
                info.content_hash,
                info.kind,
                info.source or a.source,
                int(info.demo),
                int(a.calibrated),
                float(a.sample_rate_hz),
                info.mount,
                device_id,
                info.app_version,
                _utc_now(),
                None if info.signature is None else info.signature.to_json(),
                None if info.signature is None else info.signature.n,
                info.date_source,
                int(a.damaged_blocks),
                int(a.interrupted),
                float(a.start_s),
            ),
        )
        sid = int(cur.lastrowid)  # type: ignore[arg-type]
        self._insert_events(con, sid, a, trace)
        return sid

    def session_version(self, session_id: int) -> tuple[Any, ...]:
        """What a re-analysis read its session as: when it was last re-analysed or deleted,
        and its corrections. ``replace_analysis(version=...)`` writes only if it is unchanged."""
        with self.connect() as con:
            return _version(con, session_id)

    def replace_analysis(
        self,
        session_id: int,
        a: Analysis,
        trace: Trace | None,
        moved: dict[tuple[str, int], int] | None = None,
        *,
        version: tuple[Any, ...] | None = None,
    ) -> bool:
        """A session's events found again (``holdtrack reanalyze``): its sets, reps, holds,
        gaps and trace replaced and the facts the analysis gives updated; its date, file,
        device and the user's corrections stay, those in ``moved`` ((target, old index) ->
        new index, ``edits.carry_corrections``) now pointing at the new sets and holds.
        ``version`` (``session_version``, read before the events and corrections ``moved``
        was worked out from): written only if the session is still so, checked inside the
        writing transaction; False (nothing written) if it changed meanwhile (a correction
        made, another re-analysis) and ``moved`` must be worked out again."""
        with self.transaction() as con:
            if version is not None and _version(con, session_id) != version:
                return False
            # Reps before the sets they point to. (One literal statement each: no SQL is built.)
            con.execute("DELETE FROM reps WHERE session_id = ?", (session_id,))
            con.execute("DELETE FROM sets WHERE session_id = ?", (session_id,))
            con.execute("DELETE FROM holds WHERE session_id = ?", (session_id,))
            con.execute("DELETE FROM gaps WHERE session_id = ?", (session_id,))
            con.execute("DELETE FROM traces WHERE session_id = ?", (session_id,))
            con.execute(
                """UPDATE sessions SET duration_s = ?, calibrated = ?, sample_rate_hz = ?, damaged_blocks = ?,
                       interrupted = ?, start_s = ?, reanalysed_utc = ? WHERE id = ?""",
                (
                    float(a.duration_s),
                    int(a.calibrated),
                    float(a.sample_rate_hz),
                    int(a.damaged_blocks),
                    int(a.interrupted),
                    float(a.start_s),
                    datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),  # to the µs: also the dashboard's cache key
                    session_id,
                ),
            )
            self._insert_events(con, session_id, a, trace)
            # In two steps (through negative indices) so that no move collides with a
            # correction not yet moved.
            for (target, old), new in (moved or {}).items():
                con.execute(
                    "UPDATE corrections SET idx = ? WHERE session_id = ? AND target = ? AND idx = ?", (-1 - new, session_id, target, old)
                )
            con.execute("UPDATE corrections SET idx = -1 - idx WHERE session_id = ? AND idx < 0", (session_id,))
        return True

    def replace_trace(self, session_id: int, trace: Trace | None) -> None:
        """A session's display trace drawn again (``holdtrack reanalyze`` of a session whose
        events are unchanged: a trace stored before the display angle turned lifts into rises)."""
        with self.transaction() as con:
            con.execute("DELETE FROM traces WHERE session_id = ?", (session_id,))
            if trace is not None and len(trace.deg):
                con.execute(
                    "INSERT INTO traces (session_id, t0_s, hz, deg) VALUES (?, ?, ?, ?)",
                    (session_id, float(trace.t0_s), float(trace.hz), np.asarray(trace.deg, "<f4").tobytes()),
                )
            # The dashboard's cache key: the new trace is drawn on the next rerun.
            con.execute(
                "UPDATE sessions SET reanalysed_utc = ? WHERE id = ?", (datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), session_id)
            )

    def _insert_events(self, con: sqlite3.Connection, sid: int, a: Analysis, trace: Trace | None) -> None:
        reps: list[Rep] = list(a.reps)
        rep_no = 0
        for set_idx, members in enumerate(group_sets(reps)):
            rs = [reps[i] for i in members]
            set_id = con.execute(
                "INSERT INTO sets (session_id, idx, exercise, start_s, end_s, rep_count) VALUES (?, ?, ?, ?, ?, ?)",
                (sid, set_idx, rs[0].exercise, rs[0].start_s, rs[-1].end_s, len(rs)),
            ).lastrowid
            for r in rs:
                con.execute(
                    """INSERT INTO reps (session_id, set_id, idx, exercise, start_s, end_s, hold_s,
                           detected_at_s, peak_deg, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (sid, set_id, rep_no, r.exercise, r.start_s, r.end_s, r.hold_s, r.detected_at_s, r.peak_deg, r.confidence),
                )
                rep_no += 1
        holds: list[Hold] = sorted(a.holds, key=lambda h: h.start_s)
        con.executemany(
            """INSERT INTO holds (session_id, idx, exercise, side, start_s, end_s, duration_s,
                   sway_deg, tremor_dps, sag_deg, detected_at_s, score, confidence)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    sid,
                    i,
                    h.exercise,
                    h.side,
                    h.start_s,
                    h.end_s,
                    h.duration_s,
                    h.sway_deg,
                    h.tremor_dps,
                    h.sag_deg,
                    h.detected_at_s,
                    h.score,
                    h.confidence,
                )
                for i, h in enumerate(holds)
            ],
        )
        con.executemany(
            "INSERT INTO gaps (session_id, start_s, end_s) VALUES (?, ?, ?)",
            [(sid, g.start_s, g.end_s) for g in a.gaps],
        )
        if trace is not None and len(trace.deg):
            con.execute(
                "INSERT INTO traces (session_id, t0_s, hz, deg) VALUES (?, ?, ?, ?)",
                (sid, float(trace.t0_s), float(trace.hz), np.asarray(trace.deg, "<f4").tobytes()),
            )

    def delete_demo(self) -> int:
        """Remove the demo sessions (and their copied files); returns how many."""
        with self.transaction() as con:
            rows = con.execute("SELECT id, file_path FROM sessions WHERE demo = 1").fetchall()
            con.execute("DELETE FROM sessions WHERE demo = 1")
            repair_marks(con)  # no mark points at a session that is gone
        for row in rows:
            self.resolve(row["file_path"]).unlink(missing_ok=True)
        return len(rows)

    def session_of_file(self, path: Path) -> int | None:
        """The session whose kept file ``path`` is (a file in the data folder), else None."""
        try:
            kept = str(path.resolve().relative_to(self.data_dir.resolve()))
        except ValueError:
            return None
        with self.connect() as con:
            row = con.execute("SELECT id FROM sessions WHERE file_path = ?", (kept,)).fetchone()
        return int(row[0]) if row else None

    def restore_from_bin(self, session_id: int) -> bool:
        """Take a session out of the bin; False if it was not in it."""
        with self.transaction() as con:
            n = con.execute("UPDATE sessions SET deleted_utc = NULL WHERE id = ? AND deleted_utc IS NOT NULL", (session_id,)).rowcount
            repair_marks(con)
        return bool(n)

    def keep_file(self, path: Path, info: SessionInfo) -> Path | None:
        """Copy the file into the data folder (unless it already lives there) so the
        session stays replayable when the original moves; sets ``info.file_path``.
        Returns the copy this call made (to remove if the import fails), else None. The
        copy's name is its own (``_name_copy``): no other import ever points at it."""
        try:
            path.resolve().relative_to(self.data_dir.resolve())
            inside = True
        except ValueError:
            inside = False
        if inside:
            info.file_path = str(path.resolve().relative_to(self.data_dir.resolve()))
            return None
        day = _as_utc(info.started_utc).astimezone().strftime("%Y-%m-%d")
        suffix = ".zip" if path.is_dir() else path.suffix.lower()
        stem = f"{day}_{info.content_hash[:12]}"
        # Write then rename: a crash never leaves half a file under the final name. The
        # temporary name is unique, so concurrent imports never share (or remove) one.
        fd, name = tempfile.mkstemp(prefix=f".{stem}{suffix}.", suffix=".part", dir=self.recordings_dir)
        os.close(fd)
        tmp = Path(name)
        try:
            if path.is_dir():  # an export folder is kept zipped (the phone reader takes zips)
                made = Path(shutil.make_archive(str(tmp), "zip", path))
                os.replace(made, tmp)
            else:
                shutil.copyfile(path, tmp)
            target = _name_copy(tmp, self.recordings_dir / f"{stem}{suffix}")
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # the store cannot take more: stop the import
                from sensor.files.output import write_error

                raise StoreError(f"{write_error(e, self.recordings_dir / f'{stem}{suffix}')}, then import {path.name} again") from None
            raise
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".zip").unlink(missing_ok=True)
        info.file_path = str(target.relative_to(self.data_dir))
        return target


def _name_copy(tmp: Path, target: Path) -> Path:
    """Give the finished copy ``tmp`` a final name no other file has: ``target``, else
    ``target`` with -2, -3, ... (another import of the same file running at once, or a copy
    a crash left). A name is never shared, so the import that made a copy is the only one
    that ever removes it: a losing import cannot take the file the winner's session points
    at (two imports of one file at once once left the store with no recording)."""
    name, n = target, 1
    while True:
        try:
            os.link(tmp, name)  # fails if the name is taken: never over another file
            return name
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: take the name first, then fill it
            try:
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except FileExistsError:
                pass
            else:
                try:
                    os.replace(tmp, name)
                except BaseException:
                    name.unlink(missing_ok=True)
                    raise
                return name
        n += 1
        name = target.with_name(f"{target.stem}-{n}{target.suffix}")
