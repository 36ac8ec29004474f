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

DAY_COLORS = {
    "every goal to target": ui.OK,
    "some to target": "#A8D5B5",
    "done, short of target": "#F6D58E",
    "rest day": "#F1F3F1",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ROW_PX = 28  # one week a row, in the calendar and in the adherence table


def calendar(days: list[dict[str, Any]]) -> Spec:
    """A month-by-month calendar: one row a week (newest on top), Monday to Sunday, each day
    coloured by what was done (``DAY_COLORS``) with its date. ``days``: records with
    ``date`` (ISO), ``week`` (the row's label), ``order`` (sorts the rows), ``dow`` (Mon..),
    ``day`` (day of the month), ``status``, ``what`` (the tooltip)."""
    rows = {"field": "week", "type": "ordinal", "sort": {"field": "order", "order": "descending"}, "axis": _week_axis()}
    return _spec(
        data={"values": days},
        height={"step": ROW_PX},
        encoding={
            "x": {"field": "dow", "type": "ordinal", "sort": list(WEEKDAYS), "axis": {**_week_axis(), "orient": "top", "labelAngle": 0}},
            "y": rows,
        },
        layer=[
            {
                "mark": {"type": "rect", "cornerRadius": 4, "stroke": "white", "strokeWidth": 2, "cursor": "pointer"},
                "params": [{"name": "pick", "select": {"type": "point", "fields": ["date"]}}],
                "encoding": {
                    "color": {
                        "field": "status",
                        "type": "nominal",
                        "scale": {"domain": list(DAY_COLORS), "range": list(DAY_COLORS.values())},
                        "legend": {"orient": "bottom", "title": None, "columns": 2, "symbolType": "square"},
                    },
                    "tooltip": [{"field": "date", "type": "temporal", "format": "%a %d %b %Y", "title": "day"}, {"field": "what"}],
                },
            },
            {
                "mark": {"type": "text", "fontSize": FONT_PX},
                "encoding": {
                    "text": {"field": "day"},
                    "color": {"condition": {"test": "datum.status === 'every goal to target'", "value": "white"}, "value": "#37474F"},
                },
            },
        ],
    )


def adherence(cells: list[dict[str, Any]], parts: list[str]) -> Spec:
    """Weeks (rows, newest on top) by part of the routine (columns): days done to target
    against the weekly goal ("2/3"), shaded by how much of it was met."""
    return _spec(
        data={"values": cells},
        height={"step": ROW_PX},
        encoding={
            "x": {"field": "part", "type": "ordinal", "sort": parts, "axis": {**_week_axis(), "orient": "top", "labelAngle": 0}},
            "y": {"field": "week", "type": "ordinal", "sort": {"field": "order", "order": "descending"}, "axis": _week_axis()},
        },
        layer=[
            {
                "mark": {"type": "rect", "cornerRadius": 4, "stroke": "white", "strokeWidth": 2},
                "encoding": {
                    "color": {
                        "field": "share",
                        "type": "quantitative",
                        "scale": {"domain": [0, 1], "range": ["#F1F3F1", ui.OK], "interpolate": "rgb"},
                        "legend": None,
                    },
                    "tooltip": [
                        {"field": "iso", "title": "week"},
                        {"field": "part"},
                        {"field": "text", "title": "days to target / goal"},
                        {"field": "any", "title": "days done at all"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "fontSize": FONT_PX, "fontWeight": "bold"},
                "encoding": {
                    "text": {"field": "text"},
                    "color": {"condition": {"test": "datum.share > 0.6", "value": "white"}, "value": "#37474F"},
                },
            },
        ],
    )


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


def rep_holds(reps: list[dict[str, Any]], target_s: float, color: str) -> Spec:
    """Time held at the top of each rep, grouped by set (one chart: a faceted one has a
    fixed width, shrunk on a phone until its text is unreadable). ``reps``: ``set``
    ("Set 1"), ``rep``, ``hold_s``, ``ok`` ("reached the target" / "short")."""
    judged = target_s > 0
    bars: Spec = {
        "mark": {"type": "bar", "cornerRadiusTopLeft": 2, "cornerRadiusTopRight": 2},
        "encoding": {
            "x": {"field": "set", "type": "nominal", "title": None, "axis": {"labelAngle": 0, "ticks": False, "domain": False}},
            "xOffset": {"field": "rep", "type": "ordinal"},
            "y": {"field": "hold_s", "type": "quantitative", "title": "held (s)"},
            "color": (
                {
                    "field": "ok",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": ["reached the target", "short"], "range": [ui.OK, ui.SHORT]},
                    "legend": {"orient": "top"},
                }
                if judged
                else {"value": color}
            ),
            "tooltip": [
                {"field": "set"},
                {"field": "rep"},
                {"field": "hold_s", "type": "quantitative", "title": "held (s)", "format": ".1f"},
            ],
        },
    }
    layers = [bars]
    if judged:
        layers.append(
            {"mark": {"type": "rule", "strokeDash": [6, 4], "color": "#616161", "size": 2}, "encoding": {"y": {"datum": target_s}}}
        )
    return _spec(data={"values": reps}, height=200, layer=layers)


def holds(rows: list[dict[str, Any]], palette: dict[str, str]) -> Spec:
    """Each hold's duration as a bar, a black mark at its target (``rows``: ``hold``, ``kind``,
    ``duration_s``, ``target_s``)."""
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    y = {"field": "hold", "type": "nominal", "title": None, "sort": None, "axis": {"labelLimit": 180}}
    return _spec(
        data={"values": rows},
        height={"step": 34},
        encoding={"y": y},
        layer=[
            {
                "mark": {"type": "bar", "cornerRadiusEnd": 4},
                "encoding": {
                    "x": {"field": "duration_s", "type": "quantitative", "title": "held (s)"},
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": kinds, "range": [palette.get(k, "#607D8B") for k in kinds]},
                        "legend": {"orient": "top", "columns": 2},
                    },
                    "tooltip": [
                        {"field": "hold"},
                        {"field": "duration_s", "type": "quantitative", "title": "held (s)", "format": ".1f"},
                        {"field": "target_s", "type": "quantitative", "title": "target (s)"},
                    ],
                },
            },
            {
                "mark": {"type": "tick", "color": "#212121", "thickness": 3},
                "encoding": {"x": {"field": "target_s", "type": "quantitative"}},
            },
        ],
    )
