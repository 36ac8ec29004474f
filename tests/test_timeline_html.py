"""A session's timeline drawn by the server (dashboard/timeline.py): bands where the reps,
holds and gaps are, the angle line broken where there is no data, round ticks, and the line
as an image (the page's HTML may hold no <svg>)."""

from __future__ import annotations

import base64
import html
import re

import pytest

from dashboard import timeline

BANDS = [
    {"start": 30.0, "end": 36.0, "what": "Hip bridge", "detail": "Hip bridge rep 1 of set 1: held 5.5 s"},
    {"start": 400.0, "end": 440.0, "what": "Side plank", "detail": "Side plank (left): 40 s, score 80"},
]
GAPS = [{"start": 200.0, "end": 210.0, "detail": "no data for 10.0 s (link lost)"}]


def spans(page: str) -> list[tuple[float, float, str]]:
    found = re.findall(r'<div class="span" style="left:([\d.]+)%;width:([\d.]+)%;[^"]*" title="([^"]*)"', page)
    return [(float(left), float(width), html.unescape(title)) for left, width, title in found]


def line_svg(page: str) -> str:
    [data] = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    return base64.b64decode(data).decode()


def test_bands_and_gaps_sit_at_their_times_and_say_what_they_are() -> None:
    page = timeline.timeline_html(BANDS, GAPS, [0.0, 800.0], [0.0, 1.0], 800.0)
    got = spans(page)
    want = [(30 / 8, 6 / 8, BANDS[0]["detail"]), (400 / 8, 40 / 8, BANDS[1]["detail"]), (200 / 8, 10 / 8, GAPS[0]["detail"])]
    assert len(got) == len(want)
    for (left, width, title), (w_left, w_width, w_title) in zip(got, want, strict=True):
        assert left == pytest.approx(w_left, abs=0.01) and width == pytest.approx(w_width, abs=0.01)
        assert title == w_title
    key = re.findall(r'<span style="--c:[^"]+">([^<]+)</span>', page)
    assert key == ["Hip bridge", "Side plank", "no data (link lost)"]  # the key names what is drawn, once each


def test_a_missing_value_breaks_the_line() -> None:
    t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    deg = [0.0, 5.0, float("nan"), None, 5.0, 0.0]
    svg = line_svg(timeline.timeline_html([], [], t, deg, 5.0))
    assert "<svg" in svg and 'preserveAspectRatio="none"' in svg
    [d] = re.findall(r'<path d="([^"]+)"', svg)
    pieces = re.findall(r"([ML])([\d.]+) ([\d.]+)", d)
    assert [p[0] for p in pieces] == ["M", "L", "M", "L"]  # two stretches, nothing drawn across the gap
    xs = [float(p[1]) for p in pieces]
    assert xs == pytest.approx([0.0, 200.0, 800.0, 1000.0], abs=0.1)  # t / 5 s of the width (1000 units)


def test_ticks_are_round_and_labels_are_mm_ss() -> None:
    assert timeline.time_ticks(771.0) == [0, 120, 240, 360, 480, 600, 720]  # 12:51 long: every 2 minutes
    assert timeline.time_ticks(40.0) == [0, 10, 20, 30, 40]
    assert len(timeline.time_ticks(4 * 3600.0)) < timeline.X_TICKS
    assert [timeline.mmss(s) for s in (0, 65, 720, 3599.6)] == ["0:00", "1:05", "12:00", "60:00"]
    assert timeline.value_ticks(-12.3, 11.8) == pytest.approx([-15, -10, -5, 0, 5, 10, 15])
    assert timeline.value_ticks(0.2, 0.9) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_the_value_axis_spans_the_line_and_its_labels_sit_at_their_values() -> None:
    page = timeline.timeline_html([], [], [0.0, 10.0, 20.0], [-12.3, 3.0, 11.8], 20.0)
    labels = [(float(top), float(v)) for top, v in re.findall(r'<span style="top:([\d.]+)%">(-?[\d.]+)</span>', page)]
    assert [v for _, v in labels] == [-15, -10, -5, 0, 5, 10, 15]
    for top, v in labels:  # 15 at the top, -15 at the bottom, in between in proportion
        assert top == pytest.approx((15 - v) / 30 * 100, abs=0.01)
    x_labels = re.findall(r'<div class="x">(.*?)</div>', page)[0]
    assert re.findall(r">(\d+:\d\d)<", x_labels) == ["0:00", "0:05", "0:10", "0:15", "0:20"]
