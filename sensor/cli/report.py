"""The human-readable session summaries that ``holdtrack analyze`` and ``holdtrack record`` print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sensor.events import Analysis, Gap, Hold, Rep
from sensor.routine import Routine
from sensor.vocab import LABELS, counted, damage_warning, stability_label


def format_summary(a: Analysis, name: str = "", routine: Routine | None = None) -> str:
    """``routine``: the user's targets (the store's settings); the defaults when None."""
    from sensor.routine import compare, group_sets, held_words, reaches

    routine = routine or Routine()
    out: list[str] = []
    title = f"Session {name}" if name else "Session"
    out.append(
        f"{title}: {a.duration_s / 60:.1f} min at {a.sample_rate_hz:.0f} Hz"
        + ("" if a.calibrated else " (no standing calibration: sides unknown)")
    )
    if warning := damage_warning(a.damaged_blocks, a.interrupted, a.duration_s):
        out.append(f"  warning: {warning}")
    if a.mount_check != "confirmed" and a.mount_note:
        out.append(f"  {'note' if a.mount_check == 'corrected' else 'mounting'}: {a.mount_note}")
    t0 = a.start_s  # times shown are into the session, also for files on Unix time
    if a.gaps:
        out.append(f"  {len(a.gaps)} gap(s) in the data: " + ", ".join(f"{g.start_s - t0:.1f}-{g.end_s - t0:.1f}s" for g in a.gaps[:5]))
    sets = group_sets(a.reps)
    for idx in sets:
        reps = [a.reps[i] for i in idx]
        ex = reps[0].exercise
        target = routine.rep_target(ex)
        line = f"  {LABELS[ex]}, set at {(reps[0].start_s - t0) / 60:.1f} min: {counted(len(reps), 'rep')} (target {target.reps_per_set})"
        out.append(line)
        if target.hold_s > 0:
            holds = " ".join(f"{r.hold_s:.1f}" for r in reps)
            met = sum(reaches(r.hold_s, target.hold_s) for r in reps)
            out.append(f"    held at the top (s): {holds}  — {held_words(met, len(reps), target.hold_s)}")
    for h in a.holds:
        side = f" ({h.side})" if h.exercise == "side_plank" else ""
        target_s = routine.hold_target(h.exercise).hold_s
        out.append(
            f"  {LABELS[h.exercise]}{side} at {(h.start_s - t0) / 60:.1f} min: held {h.duration_s:.1f} s of {target_s:.0f} s; "
            f"stability {h.score:.0f}/100 ({stability_label(h.score)}: sway {h.sway_deg:.1f}°, "
            f"tremor {h.tremor_dps:.1f}°/s, sag {h.sag_deg:.1f}°)"
        )
    if not a.reps and not a.holds:
        out.append("  no exercises found")
    out.append("Against the routine:")
    for row in compare(a, routine):
        mark = "✓" if row.met else "·"
        out.append(f"  {mark} {row.label}: {row.done} (target: {row.target})")
    return "\n".join(out)


def print_record_summary(
    out: Path, samples: int, duration_s: float, reps: list[Rep], holds: list[Hold], gaps: list[Gap], links: list[Any]
) -> None:
    """What ``holdtrack record`` says when a run ends: the stream, then what was found."""
    rate = (samples - 1) / duration_s if samples > 1 and duration_s > 0 else 0.0
    missing = sum(g.end_s - g.start_s for g in gaps)
    drops = sum(1 for link in links if not link.connected)
    print(f"session: {duration_s:.1f} s, {samples} samples ({rate:.1f} Hz), recording {out}")
    print(f"link: {drops} interruption(s), {len(gaps)} gap(s), {missing:.1f} s missing")
    by_exercise: dict[str, list[Rep]] = {}
    for r in reps:
        by_exercise.setdefault(r.exercise, []).append(r)
    for exercise, rs in by_exercise.items():
        mean_hold = sum(r.hold_s for r in rs) / len(rs)
        print(f"{LABELS.get(exercise, exercise)}: {counted(len(rs), 'rep')}, mean hold {mean_hold:.1f} s")
    for h in holds:
        side = f" ({h.side})" if h.side else ""
        print(f"{LABELS.get(h.exercise, h.exercise)}{side}: {h.duration_s:.1f} s, stability {h.score:.0f} ({stability_label(h.score)})")
    if not reps and not holds:
        print("no exercise detected")
