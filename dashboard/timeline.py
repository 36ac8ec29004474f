"""A session's timeline as HTML and one SVG image: reps and holds as shaded bands, gaps in
grey, the pelvis angle as a line. Drawn by the server, it needs none of the chart library a
Vega-Lite chart loads in the browser on every page (about 0.4 s of a session page's 1 s).

Only the line and its grid are in the SVG, stretched to the plot's width
(``preserveAspectRatio="none"``, strokes that do not stretch); bands and every label are HTML
placed by percentage, so text keeps its size at any width (a phone's too). Each band says
what it is on hover.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from typing import Any

from dashboard import bars, ui
from sensor.vocab import ANGLE_LABEL

W, H = 1000.0, 100.0  # the SVG's own units: x is 0.1 % of the plot's width, y 1 % of its height
TIME_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
X_TICKS = 8  # fewer than this many, so that "12:30" labels never touch at 390 px
Y_TICKS = 5

CSS = """<style>
.ht-tl { font-size: 0.8rem; color: #5f6b73; font-variant-numeric: tabular-nums; margin-bottom: 0.6rem; }
.ht-tl .body { display: grid; grid-template-columns: max-content minmax(0, 1fr); column-gap: 0.4rem; }
.ht-tl .y { position: relative; height: 16rem; min-width: 1.8rem; }
.ht-tl .y span { position: absolute; right: 0; transform: translateY(-50%); white-space: nowrap; }
.ht-tl .plot { position: relative; height: 16rem; border-bottom: 1px solid #cfd8dc; }
.ht-tl .plot .span { position: absolute; top: 0; bottom: 0; }
.ht-tl .plot img { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.ht-tl .x { position: relative; height: 1.3rem; }
.ht-tl .x span { position: absolute; top: 0.2rem; transform: translateX(-50%); white-space: nowrap; }
.ht-tl .x span.first { transform: none; }
.ht-tl .x span.last { transform: translateX(-100%); }
.ht-tl .title { text-align: center; }
</style>"""


def mmss(t: float) -> str:
    """Seconds as m:ss (the axis of a session's time)."""
    whole = int(round(t))
    return f"{whole // 60}:{whole % 60:02d}"


def time_ticks(end_s: float) -> list[float]:
    """Round times from 0 to ``end_s``, at most ``X_TICKS`` of them."""
    step = next((s for s in TIME_STEPS_S if end_s / s < X_TICKS), TIME_STEPS_S[-1])
    return [k * step for k in range(int(end_s // step) + 1)]


def value_ticks(lo: float, hi: float) -> list[float]:
    """Round values (1, 2 or 5 × 10^n apart) spanning ``lo``..``hi``, at most ``Y_TICKS`` + 1."""
    span = max(hi - lo, 1e-9)
    raw = span / Y_TICKS
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    return [first + k * step for k in range(int(math.ceil((hi - first) / step - 1e-9)) + 1)]


def _path(t: Sequence[float], deg: Sequence[float | None], x: Any, y: Any) -> str:
    """The angle as one SVG path; a missing value (no data) breaks the line there."""
    parts: list[str] = []
    pen_down = False
    for ti, vi in zip(t, deg, strict=True):
        if vi is None or vi != vi:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x(ti):.1f} {y(vi):.2f}")
        pen_down = True
    return "".join(parts)


def _span(start: float, end: float, end_s: float, color: str, opacity: float, detail: str) -> str:
    """A rep, hold or gap as a shaded stretch of the plot, saying what it is on hover."""
    left = min(max(start / end_s, 0.0), 1.0) * 100
    width = max(min(max(end / end_s, 0.0), 1.0) * 100 - left, 0.05)
    return (
        f'<div class="span" style="left:{left:.2f}%;width:{width:.2f}%;background:{color};opacity:{opacity:g}" '
        f'title="{html.escape(detail)}"></div>'
    )


def timeline_html(
    bands: list[dict[str, Any]], gaps: list[dict[str, Any]], t: Sequence[float], deg: Sequence[float | None], end_s: float
) -> str:
    """The timeline: ``bands`` and ``gaps`` (``start``, ``end``, ``detail``; bands also
    ``what``, an exercise's label) and the angle ``deg`` at times ``t``, all in seconds from
    the session's start; ``end_s`` is where the plot ends."""
    end_s = max(end_s, max((float(v) for v in t), default=0.0), 1.0)
    values = [float(v) for v in deg if v is not None and v == v]
    y_ticks = value_ticks(min(values, default=-1.0), max(values, default=1.0))
    lo, hi = y_ticks[0], y_ticks[-1]

    def x(s: float) -> float:
        return min(max(s / end_s, 0.0), 1.0) * W

    def y(v: float) -> float:
        return (hi - v) / (hi - lo) * H

    colors = {ui.label(e): c for e, c in ui.COLORS.items()}
    spans = [_span(b["start"], b["end"], end_s, colors.get(b["what"], "#607D8B"), 0.28, b["detail"]) for b in bands]
    spans += [_span(g["start"], g["end"], end_s, "#BDBDBD", 0.6, g["detail"]) for g in gaps]
    lines = [
        f'<line x1="0" x2="{W:g}" y1="{y(v):.2f}" y2="{y(v):.2f}" stroke="#eceff1" stroke-width="1" vector-effect="non-scaling-stroke"/>'
        for v in y_ticks
    ]
    if values:
        lines.append(
            f'<path d="{_path(t, deg, x, y)}" fill="none" stroke="{ui.TRACE_COLOR}" stroke-width="1.4" '
            'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>'
        )
    # The page's HTML may hold no <svg> (Streamlit sanitises it away): the line is an image.
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:g} {H:g}" preserveAspectRatio="none">{"".join(lines)}</svg>'
    image = (
        f'<img alt="{html.escape(ANGLE_LABEL)} over the session" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'
    )
    y_labels = "".join(f'<span style="top:{y(v):.2f}%">{v:g}</span>' for v in y_ticks)
    x_ticks = time_ticks(end_s)
    x_labels = "".join(
        f'<span class="{"first" if k == 0 else "last" if x(s) >= W * 0.9 else ""}" style="left:{x(s) / 10:.2f}%">{mmss(s)}</span>'
        for k, s in enumerate(x_ticks)
    )
    kinds = {w: colors.get(w, "#607D8B") for w in dict.fromkeys(b["what"] for b in bands)}
    if gaps:
        kinds["no data (link lost)"] = "#BDBDBD"
    return (
        f'{CSS}{bars.CSS}<div class="ht-tl" data-testid="ht-timeline">{bars.key(kinds)}'
        f"<div>{html.escape(ANGLE_LABEL)}</div>"
        f'<div class="body"><div class="y">{y_labels}</div><div class="plot">{"".join(spans)}{image}</div>'
        f'<div></div><div class="x">{x_labels}</div><div></div><div class="title">time in the recording (min:s)</div></div></div>'
    )
