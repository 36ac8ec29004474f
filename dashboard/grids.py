"""History's calendar and weekly adherence as HTML grids: a row a week (newest on top), a
cell a day or a part of the routine, with its text. Plain HTML draws in a fraction of the
time of a chart, fits any width (cells share the row), and its text is real text.
"""

from __future__ import annotations

import html
from typing import Any

from dashboard import ui

DAY_COLORS = {
    "every goal to target": ui.OK,
    "some to target": "#A8D5B5",
    "done, short of target": "#F6D58E",
    "rest day": "#F1F3F1",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EMPTY, FULL = (0xF1, 0xF3, 0xF1), (0x3B, 0x8B, 0x5A)  # adherence shading, none to all of the goal

CSS = """<style>
.ht-grid { display: grid; gap: 3px; align-items: stretch; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
.ht-grid .h { color: #5f6b73; text-align: center; padding-bottom: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ht-grid .w { color: #5f6b73; padding-right: 6px; white-space: nowrap; align-self: center; }
.ht-grid .c { min-height: 1.75rem; border-radius: 4px; display: flex; align-items: center; justify-content: center;
              color: #37474F; text-decoration: none; min-width: 0; }
.ht-grid a.c:hover { outline: 2px solid #2E86AB; }
.ht-grid .c.dark { color: white; }
.ht-grid .c.b { font-weight: 700; }
.ht-legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin-top: 0.5rem; font-size: 0.8rem; color: #5f6b73; }
.ht-legend span::before { content: ""; display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px;
                          margin-right: 0.35rem; vertical-align: -0.1rem; background: var(--c); }
.ht-legend span.n::before { display: none; }
</style>"""


def _grid(testid: str, label: str, heads: list[str], rows: list[str]) -> str:
    cols = f"grid-template-columns: max-content repeat({len(heads)}, minmax(0, 1fr))"
    head = '<div class="h"></div>' + "".join(f'<div class="h">{html.escape(h)}</div>' for h in heads)
    return f'<div class="ht-grid" data-testid="{testid}" role="table" aria-label="{label}" style="{cols}">{head}{"".join(rows)}</div>'


def calendar_html(days: list[dict[str, Any]]) -> str:
    """The calendar: ``days`` as ``history_parts.calendar_days`` gives them (oldest first);
    a day with a session links to its first session."""
    weeks: dict[int, list[dict[str, Any]]] = {}
    for d in days:
        weeks.setdefault(d["order"], []).append(d)
    rows = []
    for order in sorted(weeks, reverse=True):
        cells = [f'<div class="w">{html.escape(weeks[order][0]["week"])}</div>']
        for d in weeks[order]:
            tip = html.escape(f"{ui.day(d['date'])}: {d['what']}")
            style = f'style="background:{DAY_COLORS[d["status"]]}"'
            cls = "c dark" if d["status"] == "every goal to target" else "c"
            if d.get("session") is not None:
                cells.append(f'<a class="{cls}" {style} href="session?id={d["session"]}" target="_self" title="{tip}">{d["day"]}</a>')
            else:
                cells.append(f'<div class="{cls}" {style} title="{tip}">{d["day"]}</div>')
        cells += ["<div></div>"] * (7 - len(weeks[order]))  # this week's days to come
        rows.append("".join(cells))
    legend = (
        "".join(f'<span style="--c:{c}">{html.escape(s)}</span>' for s, c in DAY_COLORS.items())
        + '<span class="n">tap a day to open it</span>'
    )
    return f'{CSS}{_grid("ht-calendar", "Calendar", list(WEEKDAYS), rows)}<div class="ht-legend">{legend}</div>'


def _shade(share: float) -> str:
    r, g, b = (round(e + (f - e) * min(1.0, max(0.0, share))) for e, f in zip(EMPTY, FULL, strict=True))
    return f"#{r:02X}{g:02X}{b:02X}"


def adherence_html(cells: list[dict[str, Any]], parts: list[str]) -> str:
    """Weekly adherence: ``cells`` as ``history_parts.adherence_cells`` gives them; each
    cell says days to target against the goal ("2/3"), shaded by how much of it was met."""
    by_week: dict[int, dict[str, dict[str, Any]]] = {}
    for c in cells:
        by_week.setdefault(c["order"], {})[c["part"]] = c
    rows = []
    for order in sorted(by_week, reverse=True):
        week = by_week[order]
        first = next(iter(week.values()))
        out = [f'<div class="w">{html.escape(first["week"])}</div>']
        for p in parts:
            cell = week.get(p)
            if cell is None:
                out.append("<div></div>")
                continue
            tip = html.escape(f"{cell['iso']} · {cell['name']}: {cell['text']} days to target, done at all on {cell['any']}")
            cls = "c b dark" if cell["share"] > 0.6 else "c b"
            out.append(f'<div class="{cls}" style="background:{_shade(cell["share"])}" title="{tip}">{html.escape(cell["text"])}</div>')
        rows.append("".join(out))
    return f"{CSS}{_grid('ht-adherence', 'Adherence per week', parts, rows)}"
