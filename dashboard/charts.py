"""The History and Session charts as Vega-Lite specs (plain dicts: no Altair, whose schema
checks cost a tenth of a second a chart on every rerun).

Every chart is as wide as its column (``width: container``) and never scaled down to fit,
so its text keeps its size on a phone: ``FONT_PX`` is the smallest text any chart draws.
Charts are drawn as SVG (their text is then in the page, where tests can measure it).
"""

from __future__ import annotations

from typing import Any

from dashboard import ui
from sensor.vocab import ANGLE_LABEL

FONT_PX = 12  # axis labels, legends, cell text: readable at 390 px
TITLE_PX = 13
Spec = dict[str, Any]


def _spec(**parts: Any) -> Spec:
    """A chart with the dashboard's look: its column's width, readable text, SVG."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {
            "axis": {"labelFontSize": FONT_PX, "titleFontSize": FONT_PX, "titleFontWeight": "normal"},
            "legend": {"labelFontSize": FONT_PX, "titleFontSize": FONT_PX},
            "title": {"fontSize": TITLE_PX},
            "view": {"stroke": None},
        },
        "usermeta": {"embedOptions": {"renderer": "svg", "actions": False}},
        **parts,
    }


def _week_axis(title: str | None = None) -> dict[str, Any]:
    return {"title": title, "labelFontSize": FONT_PX, "domain": False, "ticks": False, "labelPadding": 6}


# -- History -----------------------------------------------------------------------------


def trend(points: list[dict[str, Any]], colors: dict[str, str], title: str, unit: str, target: float | None) -> Spec:
    """Weekly means as lines over time (``points``: ``start`` ISO Monday, ``what``, ``value``),
    one colour per series, the target as a dashed rule."""
    x = {"field": "start", "type": "temporal", "title": None, "axis": {"format": "%d %b", "labelFontSize": FONT_PX, "tickCount": 4}}
    line: Spec = {
        "data": {"values": points},
        "mark": {"type": "line", "point": {"size": 50}, "strokeWidth": 3},
        "encoding": {
            "x": x,
            "y": {"field": "value", "type": "quantitative", "title": unit, "scale": {"zero": True}},
            "color": {
                "field": "what",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom", "direction": "vertical"},
                "scale": {"domain": list(colors), "range": list(colors.values())},
            },
            "tooltip": [
                {"field": "start", "type": "temporal", "format": "week of %d %b %Y", "title": "week"},
                {"field": "what"},
                {"field": "value", "type": "quantitative", "format": ".1f"},
            ],
        },
    }
    layers = [line]
    if target is not None:
        layers.append(
            {
                "data": {"values": [{"y": target}]},
                "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#9E9E9E"},
                "encoding": {"y": {"field": "y", "type": "quantitative"}},
            }
        )
    return _spec(title=title, height=200, layer=layers)


# -- Session -----------------------------------------------------------------------------

MMSS = "floor(datum.value / 60) + ':' + (datum.value % 60 < 10 ? '0' : '') + floor(datum.value % 60)"


def _exercise_colors() -> dict[str, Any]:
    return {"domain": [ui.label(e) for e in ui.COLORS], "range": list(ui.COLORS.values())}


def timeline(bands: list[dict[str, Any]], gaps: list[dict[str, Any]], trace: list[dict[str, float | None]]) -> Spec:
    """The session over time: reps and holds as shaded bands (``start``, ``end``, ``what``,
    ``detail``), gaps in grey, the pelvis angle (``t``, ``deg``) as a line; drag to pan,
    scroll to zoom (in time only)."""
    x = {"field": "start", "type": "quantitative", "title": "time in the recording (min:s)", "axis": {"labelExpr": MMSS}}
    layers: list[Spec] = []
    if bands:
        layers.append(
            {
                "data": {"values": bands},
                "mark": {"type": "rect", "opacity": 0.28},
                "encoding": {
                    "x": x,
                    "x2": {"field": "end"},
                    "color": {
                        "field": "what",
                        "type": "nominal",
                        "title": None,
                        "scale": _exercise_colors(),
                        "legend": {"orient": "top", "columns": 2},
                    },
                    "tooltip": [{"field": "detail", "title": " "}],
                },
            }
        )
    if gaps:
        layers.append(
            {
                "data": {"values": gaps},
                "mark": {"type": "rect", "color": "#BDBDBD", "opacity": 0.6},
                "encoding": {"x": x, "x2": {"field": "end"}, "tooltip": [{"field": "detail", "title": " "}]},
            }
        )
    layers.append(
        {
            "data": {"values": trace},
            "mark": {"type": "line", "color": ui.TRACE_COLOR, "strokeWidth": 1.4},
            "params": [{"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}],
            "encoding": {"x": {**x, "field": "t"}, "y": {"field": "deg", "type": "quantitative", "title": ANGLE_LABEL}},
        }
    )
    return _spec(height=260, layer=layers)


def lanes(bands: list[dict[str, Any]]) -> Spec:
    """Reps and holds as lanes, one per exercise (a session without an angle trace)."""
    x = {"field": "start", "type": "quantitative", "title": "time in the recording (min:s)", "axis": {"labelExpr": MMSS}}
    return _spec(
        data={"values": bands},
        height={"step": 32},
        mark={"type": "bar", "height": 20, "cornerRadius": 3},
        params=[{"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}],
        encoding={
            "x": x,
            "x2": {"field": "end"},
            "y": {"field": "what", "type": "nominal", "title": None},
            "color": {"field": "what", "type": "nominal", "scale": _exercise_colors(), "legend": None},
            "tooltip": [{"field": "detail", "title": " "}],
        },
    )
