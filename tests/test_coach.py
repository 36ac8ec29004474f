"""The live coach: its cues on scripted streams, live sets against analyze's grouping,
the routine's next step, and the audio settings."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from store_builders import hold, reps

from sensor.analyze import analyze_samples
from sensor.coach import MARK_S, Coach, next_step, set_progress
from sensor.events import HoldStarted
from sensor.routine import AudioSettings, Routine, group_sets, load_routine, save_routine
from sensor.signal.pipeline import HoldStatus, LiveStatus
from sensor.sim.simulate import simulate_session


def status(t: float, posture: str = "prone", excursion: float = 0.0, hold_: HoldStatus | None = None) -> LiveStatus:
    return LiveStatus(time_s=t, posture=posture, excursion_deg=excursion, hold=hold_)


def run(coach: Coach, events_at: dict[float, list[object]], until: float, step: float = 0.1, **kw: object) -> None:
    """Feed the coach as the live runner does: every ``step`` s, with the events due then."""
    t = 0.0
    pending = sorted(events_at.items())
    while t <= until + 1e-9:
        due = [e for at, evs in pending if at <= t + 1e-9 for e in evs]
        pending = [(at, evs) for at, evs in pending if at > t + 1e-9]
        coach.update(status(t, **kw), due, t)  # type: ignore[arg-type]
        t = round(t + step, 6)


def test_a_tone_per_rep_set_done_at_the_target_and_rest_over_after_the_rest() -> None:
    r = Routine()  # back extensions: 3 sets of 10; 30 s rest
    set1 = reps("back_extension", 10, start=10, every=4)
    set2 = reps("back_extension", 4, start=set1[-1].end_s + 40, every=4)
    c = Coach(r)
    run(c, {x.detected_at_s: [x] for x in set1 + set2}, until=set2[-1].end_s + 35)
    kinds = [q.kind for q in c.cues]
    rep_cues = [q for q in c.cues if q.kind == "rep"]
    assert [q.at_s for q in rep_cues] == pytest.approx([x.detected_at_s for x in set1 + set2], abs=1e-9)
    assert all(q.tone == "rep" and q.say == "" for q in rep_cues)
    done = [q for q in c.cues if q.kind == "set_done"]
    # Set 1 at its 10th rep (the target), set 2 (4 reps) once the set pause has passed.
    assert [q.say for q in done] == ["Set 1 done, 10 reps.", "Set 2 done, 4 reps."]
    assert done[0].at_s == pytest.approx(set1[-1].detected_at_s, abs=0.11)
    assert done[1].at_s == pytest.approx(set2[-1].end_s + 15.0, abs=0.11)  # SET_PAUSE_S after the last rep
    rest = [q for q in c.cues if q.kind == "rest_over"]
    assert len(rest) == 2 and rest[0].at_s == pytest.approx(set1[-1].end_s + r.audio.rest_s, abs=0.11)
    assert rest[0].say.startswith("Rest over. Set 2")
    assert kinds.index("rest_over") < kinds.index("rep", kinds.index("set_done") + 1)
    assert [q.seq for q in c.cues] == list(range(1, len(c.cues) + 1))


def test_reps_past_the_target_join_the_set_without_a_second_announcement() -> None:
    extra = reps("back_extension", 12, start=10, every=4)
    c = Coach(Routine())
    run(c, {x.detected_at_s: [x] for x in extra}, until=extra[-1].end_s + 20)
    assert [q.say for q in c.cues if q.kind == "set_done"] == ["Set 1 done, 10 reps."]


def test_the_last_set_names_the_next_step() -> None:
    sets = [reps("back_extension", 10, start=10 + k * 100, every=4) for k in range(3)]
    c = Coach(Routine())
    run(c, {x.detected_at_s: [x] for s in sets for x in s}, until=sets[-1][-1].end_s + 1)
    last = [q for q in c.cues if q.kind == "set_done"][-1]
    assert last.say == "Set 3 done, 10 reps. Next: hip bridge."  # the routine starts with bridges, not done yet
    assert [q.say for q in c.cues if q.kind == "set_done"][:2] == ["Set 1 done, 10 reps.", "Set 2 done, 10 reps."]


def test_hold_marks_every_10_s_the_target_and_one_calm_cue() -> None:
    r = replace(Routine(), plank=replace(Routine().plank, hold_s=30.0))
    c = Coach(r)
    c.update(None, [HoldStarted("plank", None, 5.0, 5.2)], 5.2)
    t = 5.2
    while t < 5.0 + 42:
        score = 80.0 if t < 25 else 45.0  # gets wobbly after 20 s
        c.update(status(t, "prone", 0.0, HoldStatus("plank", None, 5.0, t - 5.0, 1.0, score)), [], t)
        t = round(t + 0.1, 6)
    said = [(q.kind, q.say) for q in c.cues]
    assert said == [
        ("hold_mark", "10"),
        ("hold_mark", "20"),
        ("unsteady", "Breathe. Brace your belly and keep the hips still."),
        ("hold_target", "30. Target reached."),
        ("hold_mark", "40"),
    ]
    marks = [q.at_s for q in c.cues if q.kind == "hold_mark"]
    assert marks[0] == pytest.approx(5.0 + MARK_S, abs=0.11) and marks[1] == pytest.approx(5.0 + 2 * MARK_S, abs=0.11)


def test_bridge_hold_says_the_target_once_per_lift() -> None:
    c = Coach(Routine())  # bridges held 5 s
    for lift in (10.0, 30.0):
        t = lift - 2
        while t < lift + 9:
            up = lift <= t < lift + 7  # 7 s at the top
            c.update(status(t, "supine", 25.0 if up else 1.0), [], t)
            t = round(t + 0.1, 6)
    said = [q for q in c.cues if q.kind == "bridge_hold"]
    assert [q.say for q in said] == ["5 seconds. Lower slowly."] * 2
    assert [q.at_s for q in said] == pytest.approx([15.0, 35.0], abs=0.11)


@pytest.mark.slow
def test_live_sets_are_the_sets_analyze_finds() -> None:
    """At every rep as it is counted, "set k · n" is what analyze's grouping of the whole
    session gives that rep (a fresh seed, three sets of back extensions)."""
    sim = simulate_session(424242)
    a = analyze_samples(sim.samples, sim.gaps, sim.header)
    final = group_sets(a.reps)
    where = {i: (k, j + 1) for k, members in enumerate(final) for j, i in enumerate(members)}
    order = sorted(range(len(a.reps)), key=lambda i: a.reps[i].detected_at_s)
    seen = []
    for n, i in enumerate(order, 1):
        live = [a.reps[j] for j in order[:n]]
        p = set_progress(live, a.reps[i].detected_at_s, Routine())
        k, rep_in_set = where[i]
        set_no = sum(1 for s in final[: k + 1] if a.reps[s[0]].exercise == a.reps[i].exercise)
        assert p is not None and (p.exercise, p.set_no, p.reps) == (a.reps[i].exercise, set_no, rep_in_set)
        seen.append(p.set_no)
    assert max(seen) == 3


def test_next_step_follows_the_routine_order_and_both_sides() -> None:
    r = Routine()
    assert next_step([], [], r) == "hip bridge"
    bridges = reps("bridge", 12)
    assert next_step(bridges, [], r) == "back extension, set 1 of 3"
    ext = [x for k in range(3) for x in reps("back_extension", 10, start=200 + 100 * k, every=4)]
    assert next_step(bridges + ext[:10], [], r) == "back extension, set 2 of 3"
    assert next_step(bridges + ext, [], r) == "side plank, right"
    assert next_step(bridges + ext, [], r, holding=("side_plank", "right")) == "side plank, left"
    holds = [hold("side_plank", "right", 600, 30), hold("side_plank", "left", 700, 30), hold("side_plank", "right", 800, 30)]
    assert next_step(bridges + ext, holds, r) == "side plank, left"
    assert next_step(bridges + ext, [*holds, hold("side_plank", "left", 900, 30)], r) == ""
    r2 = replace(r, plank=replace(r.plank, sessions_per_week=2))
    assert next_step(bridges + ext, [*holds, hold("side_plank", "left", 900, 30)], r2) == "front plank"


def test_audio_settings_are_saved_with_the_routine(tmp_path: Path) -> None:
    assert load_routine(tmp_path).audio == AudioSettings()
    save_routine(replace(Routine(), audio=AudioSettings(False, 0.35, 45.0)), tmp_path)
    assert load_routine(tmp_path).audio == AudioSettings(False, 0.35, 45.0)
    # An older settings file (no "audio") loads with the defaults; out-of-range values are clamped.
    (tmp_path / "settings.json").write_text(json.dumps({"mount": "left"}))
    assert load_routine(tmp_path).audio == AudioSettings() and load_routine(tmp_path).mount == "left"
    (tmp_path / "settings.json").write_text(json.dumps({"audio": {"volume": 7, "rest_s": -3}}))
    assert load_routine(tmp_path).audio == AudioSettings(True, 1.0, 0.0)


def test_sets_split_at_a_short_rest_when_the_reps_come_quickly() -> None:
    """Three sets of back extensions with 10 s rests (under the 15 s pause) and reps every
    ~2 s: three sets. A tired pause of 6 s inside a set does not split it."""
    from sensor.events import Rep
    from sensor.routine import group_sets

    reps: list[Rep] = []
    t = 0.0
    for s in range(3):
        for k in range(10):
            reps.append(Rep("back_extension", t, t + 1.5, 0.5, t + 1.5))
            t += 1.5 + (6.0 if (s, k) == (1, 4) else 2.0)
        t += 10.0 - 2.0
    sets = group_sets(reps)
    assert [len(x) for x in sets] == [10, 10, 10]
    # Bridges: 6 s each, 3 s apart, one 7 s breather (under 3 x 3 s): still one set.
    starts = [0.0, 9.0, 18.0, 31.0, 40.0, 49.0]
    bridges = [Rep("bridge", t0, t0 + 6.0, 5.0, t0 + 6.0) for t0 in starts]
    assert [len(x) for x in group_sets(bridges)] == [6]
