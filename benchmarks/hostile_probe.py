"""A probe of hostile inputs issue 21 named (headers, settings, gaps, folders, outputs),
each through the real ``holdtrack`` command in its own process: exit code, stderr lines,
internal errors and tracebacks, hangs, peak memory, and whether anything was lost (an
input replaced, a good session not stored). Every case says what it expects; the summary
counts the cases that did otherwise.

    uv run python -m benchmarks.hostile_probe [--timeout 60] [--settings 120] [--seed 1]

Children run under a 2 GiB address-space limit (``corpus_probe.run``), so an unbounded
allocation fails instead of taking the machine; peak RSS over 500 MB is reported as a
failure too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import conftest  # noqa: F401  # makes ``tests`` this project's folder, not an installed package
from benchmarks.corpus_probe import run
from sensor.settings import PipelineSettings
from sensor.settings_ranges import RANGES
from sensor.stream import Header
from tests.malformed import good_htrec, header_record, htrec, record, sample_records, still_samples

CLI = [sys.executable, "-m", "sensor.cli"]
MAX_RSS_MB = 500


@dataclass
class Case:
    name: str
    args: list[str]  # holdtrack arguments
    expect: int  # exit code
    says: str = ""  # a word the one error line must hold (when expect != 0)
    env: dict[str, str] = field(default_factory=dict)
    after: Callable[[], str | None] | None = None  # a loss check: None when nothing was lost


def with_header(path: Path, **fields: Any) -> Path:
    path.write_bytes(
        htrec(*sample_records(still_samples(20, seed=len(path.name))), header=header_record({**Header(source="probe").to_json(), **fields}))
    )
    return path


def settings_with(name: str, value: Any) -> dict[str, Any]:
    obj = PipelineSettings().to_json()
    *path, last = name.split(".")
    inner = obj
    for p in path:
        inner = inner[p]
    inner[last] = value
    return obj


def gap(a: float, b: float) -> bytes:
    return record(b"G", json.dumps({"start_s": a, "end_s": b}).encode())


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def cases(tmp: Path, n_settings: int, rng: random.Random) -> list[Case]:
    out: list[Case] = []
    data = str(tmp / "store")
    # -- header dates, east and west of UTC ---------------------------------------------
    soon = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for when in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2999-06-01T00:00:00Z", soon, "1970-01-01T00:00:00Z", "nonsense"):
        for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
            f = with_header(tmp / f"date-{when[:4]}-{tz.split('/')[1]}.htrec", created_utc=when)
            out.append(
                Case(
                    f"date {when[:10]} {tz}",
                    ["import", "--data-dir", data, str(f)],
                    1,
                    "created_utc" if when != soon else "future",
                    {"TZ": tz},
                )
            )
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        out.append(Case(f"history after the dates {tz}", ["history", "--data-dir", data], 0, env={"TZ": tz}))
    # -- settings: random settings, random values (inside, at the ends, outside, odd types) --
    names = sorted(RANGES)
    for k in range(n_settings):
        name = rng.choice(names)
        low, high, _ = RANGES[name]
        kind = rng.choice(["inside", "low", "high", "below", "above", "zero", "negative", "huge", "string", "null"])
        value: Any = {
            "inside": rng.uniform(low, high),
            "low": low,
            "high": high,
            "below": low - abs(low) * 0.5 - 0.01,
            "above": high * 2 + 1,
            "zero": 0.0,
            "negative": -abs(rng.uniform(low, high)) - 0.01,
            "huge": 1e6,
            "string": "fast",
            "null": None,
        }[kind]
        ok = kind in ("inside", "low", "high") or (kind == "zero" and low <= 0.0 <= high)
        odd_type = kind in ("string", "null")
        f = with_header(tmp / f"setting-{k}.htrec", settings=settings_with(name, value))
        out.append(Case(f"setting {name} {kind}", ["analyze", str(f)], 0 if ok else 2, "" if ok else ("settings" if odd_type else name)))
    f = with_header(tmp / "grid-1e6.htrec", settings=settings_with("grid_hz", 1e6))
    out.append(Case("grid_hz 1e6 --default-settings", ["analyze", "--default-settings", str(f)], 0))
    big = tmp / "big-header.htrec"
    big.write_bytes(
        htrec(
            *sample_records(still_samples(20)),
            header=record(b"H", json.dumps({**Header().to_json(), "extra": {"x": "y" * (3 << 20)}}).encode()),
        )
    )
    out.append(Case("header of 3 MB", ["analyze", str(big)], 2, "too large"))
    # -- gaps --------------------------------------------------------------------------
    recs = sample_records(still_samples(60))
    for label, g, at in (
        ("1e300 gap", gap(-1e300, 1e300), 4),
        ("gap after the end", gap(1e300, 1e300), len(recs)),
        ("gap into the future", gap(20.0, 5e4), 4),
    ):
        f = tmp / f"{label.replace(' ', '-')}.htrec"
        f.write_bytes(htrec(*recs[:at], g, *recs[at:]))
        out.append(Case(label, ["analyze", str(f)], 2, "gap record"))
    s = still_samples(60)
    one = sample_records(s, block=1)
    f = tmp / "gaps-200k.htrec"
    f.write_bytes(
        htrec(
            *[
                x
                for i, r in enumerate(one)
                for x in ((r, gap(float(s.time_s[i]), float(s.time_s[i]) + 0.001)) if i < len(one) - 1 else (r,))
            ]
        )
    )
    out.append(Case("a gap between every two samples", ["analyze", str(f)], 2, "gap records"))
    f = tmp / "gaps-stacked.htrec"
    f.write_bytes(htrec(*recs[:4], *[gap(19.99, 20.0)] * 50_000, *recs[4:]))
    out.append(Case("50k gaps between two samples", ["analyze", str(f)], 0))
    # -- folders -----------------------------------------------------------------------
    loop = tmp / "folders" / "loop"  # sub/top leads to folders/, which holds only the loop
    (loop / "sub").mkdir(parents=True)
    (loop / "a.htrec").write_bytes(good_htrec(10))
    (loop / "sub" / "b.htrec").write_bytes(good_htrec(12))
    for name, target in (("self", "."), ("again", "."), ("sub/up", ".."), ("sub/top", "../.."), ("alias.htrec", "sub/b.htrec")):
        (loop / name).symlink_to(target)
    out.append(Case("folder with links to itself", ["import", "--data-dir", str(tmp / "store-loop"), str(loop)], 0))
    # -- outputs -----------------------------------------------------------------------
    rec = tmp / "keep.htrec"
    rec.write_bytes(good_htrec(30))
    before = digest(rec)

    def intact() -> str | None:
        return None if digest(rec) == before else "the recording was replaced"

    for opt in ("--csv", "--fit"):
        out.append(
            Case(f"export {opt} onto the recording", ["export", str(rec), opt, str(rec), "--force"], 2, "input itself", after=intact)
        )
    (tmp / "exists.csv").write_text("mine\n")
    out.append(
        Case(
            "export over a file without --force",
            ["export", str(rec), "--csv", str(tmp / "exists.csv")],
            1,
            "exists",
            after=lambda: None if (tmp / "exists.csv").read_text() == "mine\n" else "the file was overwritten",
        )
    )
    out.append(Case("convert onto itself", ["convert", str(rec), str(rec), "--force"], 2, "input itself", after=intact))
    odd = tmp / os.fsdecode(b"caf\xe9.htrec")
    odd.write_bytes(good_htrec(15))
    out.append(Case("a name that is not UTF-8", ["import", "--data-dir", str(tmp / "store-names"), str(odd)], 0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--settings", type=int, default=120, help="random settings cases")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    todo = cases(tmp, args.settings, random.Random(args.seed))
    bad, internal, hangs, peak = 0, 0, 0, (0.0, "")
    t0 = time.monotonic()
    for c in todo:
        env_before = {k: os.environ.get(k) for k in c.env}
        os.environ.update(c.env)
        try:
            rc, _out, err, rss_kb = run([*CLI, *c.args], args.timeout)
        finally:
            for k, v in env_before.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        rss = rss_kb / 1024
        peak = max(peak, (rss, c.name))
        lines = [ln for ln in err.strip().splitlines() if ln.startswith(("holdtrack:", "error:"))]
        problems = []
        if rc is None:
            hangs += 1
            problems.append(f"no answer in {args.timeout:.0f} s")
        if "internal error" in err or "Traceback" in err:
            internal += 1
            problems.append("internal error")
        if rc is not None and rc != c.expect:
            problems.append(f"exit {rc}, expected {c.expect}")
        if c.expect and c.says and not any(c.says in ln for ln in lines):
            problems.append(f"no line saying {c.says!r}")
        if c.expect == 2 and len(lines) != 1:
            problems.append(f"{len(lines)} error lines")
        if rss > MAX_RSS_MB:
            problems.append(f"{rss:.0f} MB")
        if c.after is not None and (lost := c.after()):
            problems.append(lost)
        if problems:
            bad += 1
            print(f"  NOT OK {c.name}: {'; '.join(problems)} | {(lines or [''])[-1][:140]}")
    print(
        f"{len(todo)} hostile cases in {time.monotonic() - t0:.0f} s: {bad} not as expected, {internal} internal errors, "
        f"{hangs} hangs; peak RSS {peak[0]:.0f} MB ({peak[1]}); files in {tmp}"
    )


if __name__ == "__main__":
    main()
