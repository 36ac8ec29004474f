"""``analyze``: a whole file through the session runner (the same code as live capture)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from sensor.events import Analysis, Gap
from sensor.files.read_ahead import read_ahead
from sensor.runner import SessionRunner, settings_for
from sensor.samples import Samples, interleave
from sensor.settings import PipelineSettings
from sensor.stream import Header


def analyze_stream(
    items: Iterable[Samples | Gap],
    *,
    settings: PipelineSettings | None = None,
    header: Header | None = None,
    mount: str = "back",
    signals_out: Path | None = None,
    notes: list[str] | None = None,
    again: Callable[[], Iterable[Samples | Gap]] | None = None,
) -> Analysis:
    """Run the session runner over sample chunks and gaps in stream order. Settings: those
    given, else the header's (what the recording was made with), else the defaults with
    ``mount``. ``signals_out``: also write the intermediate signals there as CSV (see
    ``write_signals_csv``). ``notes`` gets what the checks found or corrected, a line each.
    ``again``: the same stream once more, to try the other mountings when nothing in it
    checked the one given (``sensor.mount_fit``)."""
    header = header or Header(mount=mount)
    s = settings or settings_for(header, mount=mount if header.settings is None else None)
    if signals_out is not None and not s.keep_signals:
        s = replace(s, keep_signals=True)
    runner = SessionRunner(header, s)
    result = runner.run_items(items)
    if notes is not None:
        notes.extend(runner.notes)
    if signals_out is not None:
        write_signals_csv(signals_out, runner.pipeline.signals())
        return result.analysis  # the signals are of the mounting given
    if again is None:
        return result.analysis
    from sensor.mount_fit import fit_mount

    def analyse_as(m: str) -> Analysis:
        return SessionRunner(header, replace(s, mount=m)).run_items(again()).analysis

    a = fit_mount(result.analysis, analyse_as)
    if notes is not None and a is not result.analysis:
        notes.append(a.mount_note)
    return a


def analyze_samples(
    samples: Samples, gaps: Iterable[Gap] = (), header: Header | None = None, settings: PipelineSettings | None = None
) -> Analysis:
    """Analyze samples held in memory (gaps are merged in at their place in time)."""
    gaps = list(gaps)
    return analyze_stream(
        interleave(samples, gaps),
        settings=settings,
        header=header,
        mount=header.mount if header else "back",
        again=lambda: interleave(samples, gaps),
    )


def analyze_path(
    path: str | Path,
    settings: PipelineSettings | None = None,
    mount: str | None = None,
    signals_out: Path | None = None,
    *,
    default_settings: bool = False,
    notes: list[str] | None = None,
) -> Analysis:
    """Analyze any supported input file (see ``sensor.files.inputs``) with the settings its
    recording was made with (``default_settings``: with today's defaults instead); ``mount``
    (the user's word) wins over the recording's."""
    from sensor.files.inputs import open_input

    header, items = open_input(path)
    s = settings or settings_for(header, mount=mount, defaults=default_settings, where=path)
    return analyze_stream(read_ahead(items), settings=s, header=header, signals_out=signals_out, notes=notes, again=reopen(path))


def reopen(path: str | Path) -> Callable[[], Iterable[Samples | Gap]]:
    """The file's stream once more, read again (a second pass costs what the first did)."""
    from sensor.files.inputs import open_input

    return lambda: read_ahead(open_input(path)[1])


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
    from sensor.files.output import atomic_output

    with atomic_output(path, "w", encoding="utf-8") as f:
        f.write(",".join(SIGNAL_COLUMNS) + "\n")
        if rows.size:
            f.write("\n".join(rows.tolist()) + "\n")
