"""The user's corrections as labels: score the detector against them (``holdtrack evaluate
--labels``) and export the labelled sessions as recordings + truth JSON (``recordings/``).

A session is labelled once the user corrected anything in it; its sets and holds the user
left alone are taken as confirmed (the user looked at the page and fixed what was wrong).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from sensor.routine import group_sets
from sensor.store import Store, edits, queries
from sensor.vocab import truth_path


def labelled_ids(store: Store, *, include_demo: bool = False) -> list[int]:
    """Sessions with at least one correction (kept, not duplicates), oldest first."""
    fixes = edits.corrections(store)
    rows = queries.sessions(store, include_demo=include_demo)
    return sorted(r.id for r in rows if r.id in fixes and r.duplicate_of is None)


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 3) if xs else None


def evaluate_labels(store: Store, *, include_demo: bool = False) -> dict[str, Any]:
    """Detected against the user's word: set counts (exact, and the rep-count error), hold
    start / end errors and side-plank sides, over the labelled sessions."""
    sets_total = sets_exact = reps_detected = reps_labelled = 0
    count_err: list[float] = []
    start_err: list[float] = []
    end_err: list[float] = []
    holds_total = sides_total = sides_ok = 0
    misses: list[str] = []
    ids = labelled_ids(store, include_demo=include_demo)
    for sid in ids:
        d = queries.session_detail(store, sid)
        assert d is not None  # listed just above
        for k, idx in enumerate(group_sets(d.detected.reps)):
            found, truth = len(idx), d.counts.get(k, len(idx))
            sets_total += 1
            sets_exact += found == truth
            reps_detected += found
            reps_labelled += truth
            count_err.append(abs(found - truth))
            if found != truth:
                misses.append(f"session {sid}: {d.detected.reps[idx[0]].exercise} set {k + 1} counted {found}, you said {truth}")
        for i, (h, t) in enumerate(zip(d.detected.holds, d.analysis.holds, strict=True)):
            holds_total += 1
            start_err.append(abs(h.start_s - t.start_s))
            end_err.append(abs(h.end_s - t.end_s))
            if h.exercise == "side_plank" and t.side is not None:
                sides_total += 1
                sides_ok += h.side == t.side
                if h.side != t.side:
                    misses.append(f"session {sid}: hold {i + 1} side {h.side or 'unknown'}, you said {t.side}")
    return {
        "sessions": len(ids),
        "sets": {
            "total": sets_total,
            "exact": sets_exact,
            "exact_fraction": round(sets_exact / sets_total, 4) if sets_total else None,
            "reps_detected": reps_detected,
            "reps_labelled": reps_labelled,
            "rep_count_error_mean": round(float(np.mean(count_err)), 3) if count_err else None,
        },
        "holds": {
            "total": holds_total,
            "start_error_s": {"median": _pct(start_err, 50), "p95": _pct(start_err, 95)},
            "end_error_s": {"median": _pct(end_err, 50), "p95": _pct(end_err, 95)},
            "sides": sides_total,
            "sides_right": sides_ok,
            "side_fraction": round(sides_ok / sides_total, 4) if sides_total else None,
        },
        "misses": misses,
    }


def format_labels(s: dict[str, Any]) -> str:
    if not s["sessions"]:
        return "no labelled sessions yet: correct a set's rep count or a hold on a session page (holdtrack dashboard), then run this again"
    st, h = s["sets"], s["holds"]
    frac = "–" if st["exact_fraction"] is None else f"{st['exact_fraction']:.0%}"
    out = [
        f"Against your corrections in {s['sessions']} session{'' if s['sessions'] == 1 else 's'}:",
        f"  sets counted exactly: {st['exact']} of {st['total']} ({frac}); reps {st['reps_detected']} counted, "
        f"{st['reps_labelled']} by your count",
        f"  holds: {h['total']}; start error median {h['start_error_s']['median']} s, p95 {h['start_error_s']['p95']} s; "
        f"end error median {h['end_error_s']['median']} s, p95 {h['end_error_s']['p95']} s",
        f"  side-plank sides right: {h['sides_right']} of {h['sides']}",
    ]
    out += [f"  {m}" for m in s["misses"][:20]]
    return "\n".join(out)


def _truth(d: queries.SessionDetail) -> dict[str, Any]:
    """The truth JSON (recordings/README.md) as the user labelled the session."""
    reps, holds = d.detected.reps, d.analysis.holds
    sets, truth_reps = [], []
    for k, idx in enumerate(group_sets(reps)):
        rs = [reps[i] for i in idx]
        sets.append(
            {"exercise": rs[0].exercise, "set": k + 1, "reps": d.counts.get(k, len(rs)), "start_s": rs[0].start_s, "end_s": rs[-1].end_s}
        )
        truth_reps += [
            {"exercise": r.exercise, "start_s": r.start_s, "end_s": r.end_s, "hold_s": r.hold_s, "peak_deg": r.peak_deg, "set": k + 1}
            for r in rs
        ]
    return {
        "labels": "user",
        "note": "reps are the detected reps the user confirmed; sets[].reps is the user's count; holds carry the "
        "user's start, end and side; stability values are the detector's (no truth for them)",
        "session_id": d.session["id"],
        "started_utc": d.session["started_utc"],
        "reps": truth_reps,
        "holds": [
            {
                "exercise": h.exercise,
                "side": h.side,
                "start_s": h.start_s,
                "end_s": h.end_s,
                "duration_s": h.duration_s,
                "knees": False,
                "sway_deg": h.sway_deg,
                "tremor_dps": h.tremor_dps,
                "sag_deg": h.sag_deg,
            }
            for h in holds
        ],
        "sets": sets,
        "partials": [],
        "fidgets": [],
        "gaps": [{"start_s": g.start_s, "end_s": g.end_s} for g in d.detected.gaps],
        "duration_s": d.detected.duration_s if math.isfinite(d.detected.duration_s) else 0.0,
    }


def export_labels(store: Store, out: Path, *, include_demo: bool = False) -> list[Path]:
    """Each labelled session as ``session-ID.htrec`` + ``session-ID.truth.json`` in ``out``
    (``holdtrack evaluate OUT`` reads them). Recordings are copied as they are; other
    inputs are written as recordings (the same samples)."""
    import shutil

    from sensor.files.inputs import read_samples
    from sensor.recording import write_recording

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sid in labelled_ids(store, include_demo=include_demo):
        d = queries.session_detail(store, sid)
        assert d is not None
        src = store.resolve(d.session["file_path"])
        rec = out / f"session-{sid}.htrec"
        if d.session["kind"] == "htrec":
            shutil.copyfile(src, rec)
        else:
            header, samples, gaps = read_samples(src)
            write_recording(rec, header, samples, gaps)
        truth = truth_path(rec)
        truth.write_text(json.dumps(_truth(d), indent=1))
        written += [rec, truth]
    return written
