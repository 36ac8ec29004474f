"""A session's rep and hold bars as HTML: the time held at the top of each rep, set by set,
and each hold against its target. Bars of plain HTML draw in a fraction of the time of a
chart, take any width (a phone's too) and keep their text at its size.
"""

from __future__ import annotations

import html
from typing import Any

from dashboard import ui
from sensor.vocab import UNSURE_MARK, UNSURE_TIP

CSS = """<style>
.ht-reps { display: flex; gap: 0.9rem; align-items: flex-end; font-size: 0.8rem; color: #5f6b73; }
.ht-reps .set { flex: 1 1 0; min-width: 0; display: flex; flex-direction: column; }
.ht-reps .plot { position: relative; height: 9rem; display: flex; align-items: flex-end; justify-content: center; gap: 2px;
                  border-bottom: 1px solid #cfd8dc; }
.ht-reps .bar { flex: 1 1 0; min-width: 2px; max-width: 3rem; border-radius: 2px 2px 0 0; position: relative; }
.ht-reps .bar .unsure { position: absolute; bottom: 100%; left: 50%; transform: translateX(-50%); }
.unsure { font-weight: 700; color: #B26A00; cursor: help; padding: 0 0.2rem; }
.ht-reps .goal { position: absolute; left: 0; right: 0; border-top: 2px dashed #616161; pointer-events: none; }
.ht-reps .name { text-align: center; padding-top: 0.25rem; white-space: nowrap; }
.ht-scale { display: flex; justify-content: space-between; font-size: 0.8rem; color: #5f6b73; margin-bottom: 0.2rem; }
.ht-key { display: flex; flex-wrap: wrap; gap: 0.2rem 1rem; font-size: 0.8rem; color: #5f6b73; margin-bottom: 0.3rem; }
.ht-key span::before { content: ""; display: inline-block; width: 0.75rem; height: 0.75rem; border-radius: 2px;
                       margin-right: 0.35rem; vertical-align: -0.1rem; background: var(--c); }
.ht-holds { display: grid; grid-template-columns: minmax(0, max-content) minmax(0, 1fr); gap: 0.35rem 0.6rem;
            align-items: center; font-size: 0.8rem; color: #37474F; }
.ht-holds .name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: #5f6b73; }
.ht-holds .track { position: relative; height: 1.45rem; }
.ht-holds .bar { height: 100%; border-radius: 0 4px 4px 0; }
.ht-holds .v { position: absolute; top: 0; bottom: 0; display: flex; align-items: center; font-weight: 600; white-space: nowrap; }
.ht-holds .v.in { color: white; transform: translateX(calc(-100% - 0.35rem)); }
.ht-holds .v.out { padding-left: 0.35rem; }
.ht-holds .goal { position: absolute; top: -2px; bottom: -2px; width: 3px; background: #212121; border-radius: 1px; }
</style>"""


def key(items: dict[str, str]) -> str:
    """A colour key: a swatch and a name for each item (``.ht-key`` in ``CSS``)."""
    return '<div class="ht-key">' + "".join(f'<span style="--c:{c}">{html.escape(k)}</span>' for k, c in items.items()) + "</div>"


def rep_bars(reps: list[dict[str, Any]], target_s: float, color: str) -> str:
    """The time held at the top of each rep (``reps``: ``set``, ``rep``, ``hold_s``, ``ok``, and
    ``unsure``: marked "?" for the user to check),
    grouped by set, the target as a dashed line; green or red by whether a rep reached it
    (one colour when there is no target)."""
    judged = target_s > 0
    top = max([r["hold_s"] for r in reps] + [target_s, 0.5]) * 1.1
    sets: dict[str, list[dict[str, Any]]] = {}
    for r in reps:
        sets.setdefault(r["set"], []).append(r)
    groups = []
    for name, rs in sets.items():
        bars = "".join(_rep_bar(name, r, top, (ui.OK if r["ok"] == "reached the target" else ui.SHORT) if judged else color) for r in rs)
        goal = f'<div class="goal" style="bottom:{100 * target_s / top:.1f}%"></div>' if judged else ""
        groups.append(f'<div class="set"><div class="plot">{bars}{goal}</div><div class="name">{html.escape(name)}</div></div>')
    legend = key({"reached the target": ui.OK, "short": ui.SHORT}) if judged else ""
    scale = f'<div class="ht-scale"><span>held at the top, up to {top / 1.1:.1f} s</span>'
    scale += f"<span>dashed: target {target_s:.0f} s</span></div>" if judged else "</div>"
    return f'{CSS}<div data-testid="ht-rep-bars">{legend}{scale}<div class="ht-reps">{"".join(groups)}</div></div>'


def _unsure_mark() -> str:
    return f'<span class="unsure" title="{html.escape(UNSURE_TIP)}">{UNSURE_MARK}</span>'


def _rep_bar(set_name: str, r: dict[str, Any], top: float, color: str) -> str:
    tip = html.escape(f"{set_name}, rep {r['rep']}: held {r['hold_s']:.1f} s" + (f" ({UNSURE_TIP})" if r.get("unsure") else ""))
    mark = _unsure_mark() if r.get("unsure") else ""
    return f'<div class="bar" title="{tip}" style="height:{100 * r["hold_s"] / top:.1f}%;background:{color}">{mark}</div>'


def hold_bars(holds: list[dict[str, Any]], palette: dict[str, str]) -> str:
    """Each hold's duration as a bar (``holds``: ``hold``, ``kind``, ``duration_s``,
    ``target_s``, ``unsure``), a black mark at its target, the time written on the bar; an
    unsure hold's name marked "?"."""
    top = max([h["duration_s"] for h in holds] + [h["target_s"] for h in holds] + [1.0]) * 1.05
    rows = []
    for h in holds:
        share = 100 * h["duration_s"] / top
        where = "in" if share >= 30 else "out"  # the time on a long bar, beside a short one
        tip = html.escape(f"{h['hold']}: held {h['duration_s']:.1f} s, target {h['target_s']:.0f} s")
        rows.append(
            f'<div class="name" title="{tip}">{html.escape(h["hold"])}{_unsure_mark() if h.get("unsure") else ""}</div>'
            f'<div class="track" title="{tip}">'
            f'<div class="bar" style="width:{share:.1f}%;background:{palette.get(h["kind"], "#607D8B")}"></div>'
            f'<div class="goal" style="left:calc({100 * h["target_s"] / top:.1f}% - 1px)"></div>'
            f'<div class="v {where}" style="left:{share:.1f}%">{h["duration_s"]:.0f} s</div></div>'
        )
    kinds = {h["kind"]: palette.get(h["kind"], "#607D8B") for h in holds} | {"black mark: the target": "#212121"}
    return f'{CSS}<div data-testid="ht-hold-bars">{key(kinds)}<div class="ht-holds">{"".join(rows)}</div></div>'
