"""The pelvis angle as HoldTrack shows it — the session timeline's stored trace, the Live
page's chart and its words — reads a lift as a rise: a bridge (hips up) goes to about
+35°, not -35°. The analysis itself (events, the JSON contract) is unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.importer import analyze_file
from sensor.signal.pipeline import Pipeline, display_angle
from sensor.signal.posture import PRONE, STANDING, SUPINE
from sensor.vocab import angle_words
from tests.conftest import sim


@pytest.fixture(scope="module")
def bridges(tmp_path_factory: pytest.TempPathFactory) -> object:
    from sensor.recording import write_recording

    s = sim(31, short=True, rate_hz=100.0, exercises=("bridge",))
    path = tmp_path_factory.mktemp("angle") / "bridges.htrec"
    write_recording(path, s.header, s.samples, s.gaps)
    return path


def test_a_bridge_is_drawn_as_a_rise(bridges: object) -> None:
    a, trace = analyze_file(bridges)  # type: ignore[arg-type]
    assert trace is not None and len(a.reps) >= 3
    t, deg = trace.time_s, trace.deg
    for r in a.reps:
        during = deg[(t >= r.start_s) & (t <= r.end_s)]
        top = float(np.nanmax(during))
        # The top of the rep is its lift above the rest before it (the pipeline's peak), upward.
        assert top >= 0.8 * r.peak_deg > 10.0, (r, top)
        assert float(np.nanmin(during)) > -5.0  # never a dip


def test_live_reads_the_bridge_as_hips_lifted(bridges: object) -> None:
    from sensor.analyze import analyze_samples
    from sensor.recording import read_recording
    from sensor.runner import settings_for

    rec = read_recording(bridges)  # type: ignore[arg-type]
    reps = analyze_samples(rec.samples, rec.gaps, rec.header).reps
    p = Pipeline(settings_for(rec.header))  # as the live runner makes it
    tops: list[tuple[float, str]] = []
    want = iter(sorted((r.start_s + r.end_s) / 2 for r in reps))
    mid = next(want)
    for chunk in rec.samples.chunks(10):  # as a live sensor's notifications come
        p.feed(chunk)
        if p.status.time_s >= mid:
            assert p.status.posture == "supine"
            assert p.status.pitch_deg == pytest.approx(-p.status.angle_deg)  # the raw elevation dips
            tops.append((p.status.angle_deg, angle_words(p.status.posture, p.status.angle_deg)))
            mid = next(want, np.inf)
    assert len(tops) == len(reps)
    for angle, words in tops:
        assert angle > 10.0 and words == f"hips lifted {angle:.0f}°"


def test_the_convention_only_turns_the_sign_lying_on_the_back() -> None:
    e = np.array([-35.0, 8.0, 90.0])
    assert list(display_angle(e, np.array([SUPINE, PRONE, STANDING]))) == [35.0, 8.0, 90.0]
    assert angle_words("supine", 0.4) == "hips down" and angle_words("prone", 8.2) == "pelvis angle +8°"


def test_reanalyze_redraws_a_timeline_stored_before(bridges: object, tmp_path: object) -> None:
    """A session stored with the raw elevation (bridges dipping) gets the rising timeline
    from ``holdtrack reanalyze``, its events untouched; a second run has nothing to redraw."""
    from pathlib import Path

    from sensor import importer
    from sensor.store import Store, queries

    st = Store(Path(str(tmp_path)))
    sid = importer.import_paths(st, [bridges]).results[0].session_id
    assert sid is not None
    with st.transaction() as con:  # as stored before: the raw elevation, a bridge at -35°
        con.execute("UPDATE traces SET deg = ? WHERE session_id = ?", ((-queries.session_detail(st, sid).trace.deg).tobytes(), sid))  # type: ignore[union-attr]
    old = queries.session_detail(st, sid)
    assert old is not None and old.trace is not None and float(np.nanmin(old.trace.deg)) < -10 and old.detected.reps
    (res,) = importer.reanalyze(st)
    assert res.status == "unchanged" and res.message.endswith("; timeline redrawn"), res.message
    new = queries.session_detail(st, sid)
    assert new is not None and new.trace is not None and new.reps == old.reps
    t, deg = new.trace.time_s, new.trace.deg
    for r in new.detected.reps:  # each bridge rises, as a fresh import draws it
        during = deg[(t >= r.start_s) & (t <= r.end_s)]
        assert float(np.nanmax(during)) > 10 and float(np.nanmin(during)) > -5
    (again,) = importer.reanalyze(st)
    assert again.status == "unchanged" and "redrawn" not in again.message
