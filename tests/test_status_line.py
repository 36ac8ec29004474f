"""The live status line of ``holdtrack record`` shows what the pipeline knows."""

from __future__ import annotations

from sensor.cli.record import _status_text
from sensor.events import Hold
from sensor.signal.pipeline import Pipeline
from tests.conftest import sim


def test_status_line_follows_a_hold_and_then_reports_it() -> None:
    s = sim(7, short=True, rate_hz=100.0, exercises=("side_plank",))
    hold = s.truth["holds"][0]
    p = Pipeline()
    holds: list[Hold] = []
    during = after = ""
    for chunk in s.samples.chunks(10):
        holds += [e for e in p.feed(chunk) if isinstance(e, Hold)]
        t = float(chunk.time_s[-1])
        if not during and t > hold["start_s"] + 5:
            during = _status_text(p.status, holds, t, True)
        if holds and not after:
            after = _status_text(p.status, holds, t, False)
    assert "side_plank right" in during and "/30 s" in during and "stability" in during and "sway" in during
    assert "posture side_right" in during
    assert "last hold: stability" in after and "LINK LOST" in after
