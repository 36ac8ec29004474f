"""``analyze``: a whole recording through the streaming pipeline, fed in chunks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sensor.events import Analysis, Event, Gap, Hold, Rep
from sensor.pipeline import Pipeline, PipelineSettings, nominal_rate_hz
from sensor.recording import Header
from sensor.samples import Samples

CHUNK = 8192  # samples per feed (results do not depend on it; large chunks are fastest)


def analyze_stream(
    items: Iterable[Samples | Gap],
    *,
    settings: PipelineSettings | None = None,
    source: str = "",
    mount: str = "back",
    signals_out: Path | None = None,
) -> Analysis:
    """Run the pipeline over sample chunks and gaps in stream order (``mount`` applies
    when no settings are given); ``signals_out``: also write the intermediate signals
    there as CSV (see ``write_signals_csv``)."""
    s = settings or PipelineSettings(mount=mount)
    if signals_out is not None and not s.keep_signals:
        from dataclasses import replace

        s = replace(s, keep_signals=True)
    p = Pipeline(s)
    keep_trace = p.settings.trace_hz is not None
    events: list[Event] = []
    first = last = None
    rate = 0.0
    for item in items:
        if isinstance(item, Gap):
            events.extend(p.gap(item.start_s, item.end_s))
            continue
        if len(item) == 0:
            continue
        if first is None:
            first = float(item.time_s[0])
            rate = nominal_rate_hz(item.time_s)
        last = float(item.time_s[-1])
        for i in range(0, len(item), CHUNK):
            events.extend(p.feed(item[i : i + CHUNK]))
    events.extend(p.finish())
    if signals_out is not None:
        write_signals_csv(signals_out, p.signals())
    # A link loss is reported twice, by the source and by the resampler seeing the hole:
    # merge overlapping ones.
    gaps: list[Gap] = []
    for g in sorted((e for e in events if isinstance(e, Gap)), key=lambda g: g.start_s):
        if gaps and g.start_s <= gaps[-1].end_s:
            gaps[-1] = Gap(min(gaps[-1].start_s, g.start_s), max(gaps[-1].end_s, g.end_s))
        else:
            gaps.append(g)
    return Analysis(
        reps=[e for e in events if isinstance(e, Rep)],
        holds=[e for e in events if isinstance(e, Hold)],
        gaps=gaps,
        calibrated=p.calibration is not None and p.calibration.from_stand,
        duration_s=round((last - first) if first is not None and last is not None else 0.0, 3),
        sample_rate_hz=round(rate, 2),
        source=source,
        trace=p.display_trace() if keep_trace else None,
    )


def analyze_samples(
    samples: Samples, gaps: Iterable[Gap] = (), header: Header | None = None, settings: PipelineSettings | None = None
) -> Analysis:
    """Analyze samples held in memory (gaps are merged in at their place in time)."""
    items: list[Samples | Gap] = []
    t = samples.time_s
    pos = 0
    import numpy as np

    for g in sorted(gaps, key=lambda g: g.start_s):
        cut = int(np.searchsorted(t, g.end_s))
        items.append(samples[pos:cut])
        items.append(g)
        pos = cut
    items.append(samples[pos:])
    return analyze_stream(items, settings=settings, source=header.source if header else "", mount=header.mount if header else "back")


def analyze_path(
    path: str | Path, settings: PipelineSettings | None = None, mount: str | None = None, signals_out: Path | None = None
) -> Analysis:
    """Analyze any supported input file (see ``sensor.inputs``). The mounting comes from
    ``mount``, else the recording's header, else the default (back)."""
    from sensor.inputs import open_input

    header, items = open_input(path)
    a = analyze_stream(items, settings=settings, source=str(path), mount=mount or header.mount or "back", signals_out=signals_out)
    return note_read_status(a, header)


SIGNAL_COLUMNS = ("time_s", "elevation_deg", "excursion_deg", "rest_deg", "posture", "state")


def write_signals_csv(path: Path, sig: dict[str, np.ndarray]) -> None:
    """The pipeline's intermediate signals, one row per grid sample (50 Hz): what to look
    at when a rep was missed. Empty cells where there is no rest level (not lying)."""

    def num(x: np.ndarray, fmt: str) -> np.ndarray:
        out = np.char.mod(fmt, np.nan_to_num(x))
        return np.where(np.isnan(x), "", out)

    cols = [
        num(sig["time_s"], "%.3f"),
        num(sig["elevation_deg"], "%.3f"),
        num(sig["excursion_deg"], "%.3f"),
        num(sig["rest_deg"], "%.3f"),
        sig["posture"].astype(str),
        sig["state"].astype(str),
    ]
    rows = cols[0]
    for c in cols[1:]:
        rows = np.char.add(np.char.add(rows, ","), c)
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(SIGNAL_COLUMNS) + "\n")
        if rows.size:
            f.write("\n".join(rows.tolist()) + "\n")


def note_read_status(a: Analysis, header: Header) -> Analysis:
    """Carry what reading a recording found (damage, no clean end) into its analysis."""
    st = header.status
    if st is not None:
        a.damaged_blocks = st.damaged_blocks
        a.interrupted = not st.complete or st.recovered
    return a
