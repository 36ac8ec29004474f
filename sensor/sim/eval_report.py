"""The text ``holdtrack evaluate`` prints: overall figures, one line per variant and one
per class of the catalogue (with the held-out and the rest groups)."""

from __future__ import annotations

from typing import Any


def format_evaluation(s: dict[str, Any], bad: list[str], misses: list[str]) -> str:
    lines = [f"{s['sessions']} sessions, {s['hours']:.2f} h"]
    lines.append(f"{'exercise':16} {'true':>6} {'found':>6} {'precision':>10} {'recall':>8}")
    for ex, v in s["per_exercise"].items():
        if v["true"] or v["detected"]:
            lines.append(
                f"{ex:16} {v['true']:>6} {v['detected']:>6} {v['precision'] if v['precision'] is not None else '-':>10} {v['recall'] if v['recall'] is not None else '-':>8}"
            )
    st = s["sets"]
    lines.append(f"sets: {st['total']}, exact count {st['exact_fraction']}, within ±1 {st['within_1_fraction']}")
    h, r = s["hold_duration_error_s"], s["rep_hold_time_error_s"]
    lines.append(f"hold duration error: median {h['median']} s, p95 {h['p95']} s (n={h['n']})")
    lines.append(f"rep hold-time error: median {r['median']} s, p95 {r['p95']} s (n={r['n']})")
    lines.append(f"side accuracy: {s['side_accuracy']}")
    lines.append(f"rep latency: median {s['rep_latency_s']['median']} s, p95 {s['rep_latency_s']['p95']} s")
    lines.append(f"hold-start latency: median {s['hold_start_latency_s']['median']} s, p95 {s['hold_start_latency_s']['p95']} s")
    lines.append(f"false events: {s['false_events']} ({s['false_events_per_hour']} per hour)")
    sp = s["spearman"]
    lines.append(f"Spearman rho vs truth: sway {sp['sway']}, sag {sp['sag']}, tremor {sp['tremor']}")
    if s.get("variants"):
        lines.append("")
        lines.append(format_variants(s["variants"]))
    if s.get("classes"):
        lines.append("")
        lines.append(format_classes(s["classes"], s.get("class_groups", {})))
    lines.append("targets: all met" if not bad else "targets missed: " + "; ".join(bad))
    if misses:
        lines.append("misses:")
        lines.extend(f"  {m}" for m in misses[:30])
        if len(misses) > 30:
            lines.append(f"  ... {len(misses) - 30} more")
    return "\n".join(lines)


def format_variants(variants: dict[str, dict[str, Any]]) -> str:
    """One line per group: counts, precision/recall, sets, timing and false events."""

    def f(x: Any, nd: int = 2) -> str:
        return "-" if x is None else f"{x:.{nd}f}"

    head = f"{'group':28} {'sess':>4} {'true':>5} {'found':>5} {'prec':>5} {'rec':>5} {'sets=':>5} {'±1':>5} {'dur50':>5} {'dur95':>5} {'lat50':>6} {'lat95':>6} {'hlat50':>6} {'FP':>3} {'FP/h':>5}"
    lines = ["per variant (dur: hold duration error s; lat: rep latency s; hlat: hold-start latency s)", head]
    for g, s in variants.items():
        true = sum(v["true"] for v in s["per_exercise"].values())
        found = sum(v["detected"] for v in s["per_exercise"].values())
        ex = [v for v in s["per_exercise"].values() if v["true"] or v["detected"]]
        prec = min((v["precision"] for v in ex if v["precision"] is not None), default=None)
        rec = min((v["recall"] for v in ex if v["recall"] is not None), default=None)
        st, h = s["sets"], s["hold_duration_error_s"]
        lines.append(
            f"{g:28} {s['sessions']:>4} {true:>5} {found:>5} {f(prec):>5} {f(rec):>5} {f(st['exact_fraction']):>5} {f(st['within_1_fraction']):>5} "
            f"{f(h['median']):>5} {f(h['p95']):>5} {f(s['rep_latency_s']['median']):>6} {f(s['rep_latency_s']['p95']):>6} "
            f"{f(s['hold_start_latency_s']['median']):>6} {s['false_events']:>3} {f(s['false_events_per_hour'], 1):>5}"
        )
    return "\n".join(lines)


def format_classes(classes: dict[str, dict[str, Any]], groups: dict[str, dict[str, Any]]) -> str:
    """One line a class (then the held-out and the rest groups): per exercise precision /
    recall, sets exact and within ±1, hold duration error, side, false events per hour."""

    def f(x: Any, nd: int = 2) -> str:
        return "-" if x is None else f"{x:.{nd}f}"

    def pr(s: dict[str, Any], ex: str) -> str:
        v = s["per_exercise"][ex]
        return "-" if not (v["true"] or v["detected"]) else f"{f(v['precision'])}/{f(v['recall'])}"

    head = (
        f"{'class':29} {'cat':9} {'sess':>4} {'hours':>5} {'bridge P/R':>10} {'backext P/R':>11} {'plank P/R':>10} {'side P/R':>10}"
        f" {'sets=':>5} {'±1':>5} {'dur50':>5} {'dur95':>5} {'side':>5} {'FP':>3} {'FP/h':>5}  targets"
    )
    lines = ["per class (P/R: precision/recall; dur: hold duration error s; FP/h per hour of the class's time)", head]
    rows = [(n, s) for n, s in classes.items()] + [(n, s) for n, s in groups.items()]
    for name, s in rows:
        st, h = s["sets"], s["hold_duration_error_s"]
        missed = s.get("targets_missed", [])
        mark = " (held out)" if s.get("held_out") else ""
        lines.append(
            f"{name + mark:29} {s.get('category', '-'):9} {s['sessions']:>4} {s['hours']:>5.2f} {pr(s, 'bridge'):>10} {pr(s, 'back_extension'):>11}"
            f" {pr(s, 'plank'):>10} {pr(s, 'side_plank'):>10} {f(st['exact_fraction']):>5} {f(st['within_1_fraction']):>5}"
            f" {f(h['median']):>5} {f(h['p95']):>5} {f(s['side_accuracy']):>5} {s['false_events']:>3} {f(s['false_events_per_hour'], 1):>5}"
            f"  {'met' if not missed else f'{len(missed)} missed'}"
        )
    return "\n".join(lines)
