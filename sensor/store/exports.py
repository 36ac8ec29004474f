"""A stored session, and the whole history, as files people take elsewhere: CSV, JSON and
FIT, each as the user corrected it (a set's count as they said, a hold's start, end and
side as they fixed them). The dashboard's download buttons and ``holdtrack export`` both
write these; nothing here knows about Streamlit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sensor.store import queries
from sensor.store.writes import Store

if TYPE_CHECKING:
    import pandas as pd

# Integer columns of the CSV: written as integers (``set 1``, not ``set 1.000``), blank
# where they do not apply (a hold has no set).
INT_COLUMNS = ("session", "set", "rep_in_set", "set_reps_detected", "set_reps_counted")
CSV_COLUMNS = (
    "kind", "exercise", "side", "set", "rep_in_set", "set_reps_detected", "set_reps_counted", "start_s", "end_s", "hold_s",
    "duration_s", "sway_deg", "tremor_dps", "sag_deg", "score", "peak_deg", "detected_at_s", "corrected",
)  # fmt: skip
FLOAT_FORMAT = "%.3f"  # ms: what the events are good to
_INTERNAL = ("id", "session_id", "set_id", "idx", "set_idx", "rep_in_set")


def counted(d: queries.SessionDetail) -> dict[int, int]:
    """Each set's rep count as the user says it was (their correction, else the detector's)."""
    return {int(s["idx"]): int(d.counts.get(int(s["idx"]), s["rep_count"])) for s in d.sets}


def session_frame(d: queries.SessionDetail) -> pd.DataFrame:
    """Reps and holds, one row each (``kind`` tells which). Sets are numbered per exercise
    (back extension set 1, 2, 3); every rep carries its set's count as detected and as
    counted (the user's correction when there is one: what totals must add up);
    a corrected hold carries the user's start, end and side; ``corrected`` says which."""
    import pandas as pd

    count = counted(d)
    fixed_holds = {c.idx for c in d.corrections if c.target == "hold"}
    rows: list[dict[str, Any]] = [
        {
            "kind": "rep",
            "set": _set_no(d, r),
            "rep_in_set": r["rep_in_set"],
            "set_reps_detected": _detected(d, r["set_idx"]),
            "set_reps_counted": count.get(r["set_idx"]),
            "corrected": r["set_idx"] in d.counts,
            **_plain(r),
        }
        for r in d.reps
    ]
    for i, h in enumerate(d.holds):
        eff = d.analysis.holds[i]
        rows.append(
            {
                "kind": "hold",
                **_plain(h),
                "side": eff.side,
                "start_s": eff.start_s,
                "end_s": eff.end_s,
                "duration_s": eff.duration_s,
                "corrected": i in fixed_holds,
            }
        )
    df = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    for c in INT_COLUMNS:
        if c in df:
            df[c] = df[c].astype("Int64")  # integers stay integers (blank where they do not apply)
    return df


def session_csv(d: queries.SessionDetail) -> str:
    """The session's CSV (``session_frame``)."""
    return str(session_frame(d).to_csv(index=False, float_format=FLOAT_FORMAT))


def session_json(d: queries.SessionDetail) -> dict[str, Any]:
    """The session as the user corrected it: session facts; ``reps`` and ``holds`` in the
    contract's shape (holds with the user's start, end and side); ``sets`` with the count
    detected (``rep_count``) and counted (``reps_counted``); the pipeline's own holds where
    the user changed them (``detected_holds``, by index) and the corrections themselves."""
    facts = {k: v for k, v in d.session.items() if not k.startswith("_")}
    count = counted(d)
    effective = d.analysis.to_json()
    detected = d.detected.to_json()
    changed = sorted({c.idx for c in d.corrections if c.target == "hold"})
    return {
        "session": facts,
        **effective,
        "sets": [{**s, "reps_counted": count[int(s["idx"])], "corrected": int(s["idx"]) in d.counts} for s in d.sets],
        "detected_holds": {str(i): detected["holds"][i] for i in changed if 0 <= i < len(detected["holds"])},
        "corrections": [{"target": c.target, "index": c.idx, "field": c.field, "value": c.value} for c in d.corrections],
    }


def session_fit(store: Store, d: queries.SessionDetail) -> bytes:
    """The session as a FIT strength-training activity, with the user's counts and holds
    (the same file as ``holdtrack export REC --fit`` for a stored recording)."""
    from sensor.export_fit import first_sample_time, fit_bytes

    started = datetime.strptime(str(d.session["started_utc"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    # The session started at the recording's first sample; without the file, the trace's start is close.
    path = kept_file(store, d)
    t0 = first_sample_time(path) if path is not None else None
    if t0 is None:
        t0 = float(d.trace.t0_s) if d.trace is not None else float(d.session.get("start_s") or 0.0)
    # Set indices (the keys of ``counts``) are the store's: group_sets over the detected reps.
    return fit_bytes(d.analysis, t0, started, counts=d.counts)


def kept_file(store: Store, d: queries.SessionDetail) -> Path | None:
    """The session's file in the data folder, if it is there."""
    name = d.session.get("file_path")
    path = store.resolve(str(name)) if name else None
    return Path(path) if path is not None and Path(path).is_file() else None


def stored_session(store: Store, path: Path, digest: str) -> int | None:
    """The kept (not deleted) session of this file: imported from the same content
    (``digest``, the importer's ``content_hash``) or kept at this path, else None."""
    kept = {Path(p).resolve(): sid for sid, _, p, _ in queries.recording_paths(store)}
    sid = store.has_hash(digest)
    if sid is not None and sid in kept.values():
        return sid
    return kept.get(Path(path).resolve())


def _details(store: Store, include_demo: bool) -> list[tuple[queries.SessionRow, queries.SessionDetail]]:
    out = []
    for row in sorted(queries.sessions(store, include_demo=include_demo), key=lambda r: r.started_utc):
        d = queries.session_detail(store, row.id)
        if d is not None:
            out.append((row, d))
    return out


def history_json(store: Store, include_demo: bool = False) -> str:
    """Every session (oldest first) as its session export, in one list."""
    sessions = [session_json(d) for _, d in _details(store, include_demo)]
    return json.dumps({"sessions": sessions}, indent=2, default=str)


def history_csv(store: Store, include_demo: bool = False) -> str:
    """Every rep and hold of every session, one row each: the session CSV with the
    session's id, date and start time in front, the user's note last."""
    import pandas as pd

    parts = []
    for row, d in _details(store, include_demo):
        df = session_frame(d)
        df.insert(0, "started_utc", row.started_utc)
        df.insert(0, "date", row.local_date.isoformat())
        df.insert(0, "session", row.id)
        df["note"] = row.note  # last: scripts reading the columns by position keep working
        parts.append(df)
    if not parts:
        return "session,date,started_utc,note\n"
    out = pd.concat(parts, ignore_index=True)
    for c in INT_COLUMNS:
        out[c] = out[c].astype("Int64")
    return str(out.to_csv(index=False, float_format=FLOAT_FORMAT))


def _detected(d: queries.SessionDetail, set_idx: int) -> int | None:
    return next((int(s["rep_count"]) for s in d.sets if s["idx"] == set_idx), None)


def _set_no(d: queries.SessionDetail, r: dict[str, Any]) -> int:
    """The rep's set number among its exercise's sets (1, 2, 3...)."""
    return sum(1 for x in d.sets if x["exercise"] == r["exercise"] and x["idx"] <= r["set_idx"])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _INTERNAL}
