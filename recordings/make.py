"""Regenerate the labelled sample sessions in this folder (deterministic).

    uv run python -m recordings.make

Each session is the simulated wearer (``sensor.sim.simulate``) written in HoldTrack's own
recording format, with its truth beside it. The set covers every exercise, both sides,
every supported rate from 25 to 400 Hz, mountings rotated all the way round and tilted up
to 20°, sensor bias, dropouts and link losses, and sessions without the calibration
stand; the technique catalogue (``sensor.sim.technique``: back extensions rocking the pelvis
either way, cut-short holds, tempo, knee side planks) is drawn from each seed, and a few
sessions are worn on the front or a hip, or are daily life (lying prone and on a side). Dates are spread over seven weeks so the dashboard's history has something to
show.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sensor.recording import write_recording
from sensor.sim.simulate import SimOptions, simulate_session
from sensor.vocab import truth_path

HERE = Path(__file__).resolve().parent
RATES = (25.0, 50.0, 52.0, 100.0, 104.0, 200.0, 400.0)
MOUNT_PLAN = ("back", "back", "front", "back", "left", "back", "right")  # mostly the default
DAILY_LIFE = (11, 19)  # sessions of lying about, nothing to report
FIRST_DAY = datetime(2026, 9, 28, 7, 30, tzinfo=UTC)


def plan() -> list[tuple[str, int, SimOptions, datetime]]:
    out = []
    day = FIRST_DAY
    for i in range(24):
        seed = 2000 + i
        rate = RATES[i % len(RATES)]
        # Most sessions are short (small files); a few at low rates are the whole routine.
        full = i % 7 == 0 or i == 8
        mount = MOUNT_PLAN[i % len(MOUNT_PLAN)]
        opt = SimOptions(rate_hz=rate, short=not full, mount_rotation_deg=(i * 47) % 360, mount_tilt_deg=(i * 7) % 21, mount=mount)
        if i % 8 == 5:
            opt.standing_start = False
        if full:
            pass
        elif i in DAILY_LIFE:
            opt.daily_life = True
        elif i % 6 == 3:
            opt.exercises = ("bridge", "side_plank")
        elif i % 6 == 4:
            opt.exercises = ("back_extension", "plank")
        name = f"session-{i + 1:02d}-{int(rate)}hz" + ("-nostand" if not opt.standing_start else "") + ("-daily" if opt.daily_life else "")
        out.append((name, seed, opt, day))
        day += timedelta(days=(2, 2, 3)[i % 3], hours=(i % 5) - 2)
    return out


def main() -> None:
    for name, seed, opt, when in plan():
        sim = simulate_session(seed, opt)
        sim.header.created_utc = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        rec = HERE / f"{name}.htrec"
        rec.unlink(missing_ok=True)
        write_recording(rec, sim.header, sim.samples, sim.gaps)
        truth_path(rec).write_text(json.dumps(sim.truth, indent=1) + "\n")
        print(f"{rec.name}: {rec.stat().st_size // 1024} KiB, {len(sim.truth['reps'])} reps, {len(sim.truth['holds'])} holds")


if __name__ == "__main__":
    main()
