"""Sensor classes of the simulated wearer: an uncalibrated hobby IMU, a sensor that turns in
its belt, a phone's timing, and a session told the wrong mounting. Checked on the samples
the sensor writes, against the truth drawn for it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sensor.samples import STANDARD_GRAVITY
from sensor.sim.imu_errors import ACC_BIAS_MAX, GYRO_BIAS_MAX_DPS
from sensor.sim.simulate import SimOptions, SimulatedSession, simulate_session


def _stand(s: SimulatedSession, a: float, z: float) -> np.ndarray:
    t = s.samples.time_s
    return (t >= a) & (t <= z)


def test_uncalibrated_imus_have_their_biases_scale_errors_and_noise_within_the_datasheet_ranges() -> None:
    for seed in range(5):
        s = simulate_session(
            seed, SimOptions(classes=("uncalibrated_imu",), rate_hz=100.0, exercises=("bridge",), short=True, dropouts=False)
        )
        imu = s.truth["sensor"]["imu"]
        gb = np.array(imu["gyro_bias_dps"]) + np.array(imu["gyro_bias_drift_dps"])
        ab = np.array(imu["acc_bias"]) + np.array(imu["acc_bias_drift"])
        assert np.all(np.abs(np.array(imu["gyro_bias_dps"])) <= GYRO_BIAS_MAX_DPS) and np.all(np.abs(gb) <= GYRO_BIAS_MAX_DPS)
        assert np.all(np.abs(np.array(imu["acc_bias"])) <= ACC_BIAS_MAX) and np.all(np.abs(ab) <= ACC_BIAS_MAX)
        for m in (np.array(imu["acc_matrix"]), np.array(imu["gyro_matrix"])):
            assert np.all(np.abs(np.diag(m) - 1) <= 0.03) and np.all(np.abs(m - np.diag(np.diag(m))) <= 0.02)
        # The opening stand (0.5-3 s): the gyro reads its bias, the accelerometer its noise.
        still = _stand(s, 0.5, 3.0)
        gyro = np.degrees(s.samples.gyro[still].astype(float))
        assert gyro.mean(axis=0) == pytest.approx(imu["gyro_bias_dps"], abs=0.08)  # tremor, noise, warm-up: < 0.08 °/s
        noise = s.samples.acc[still].astype(float).std(axis=0)
        assert np.all(noise == pytest.approx(imu["acc_noise"], rel=0.25))
        assert 0.08 <= imu["acc_noise"] <= 0.12 and 0.10 <= imu["gyro_noise_dps"] <= 0.16
        g = np.linalg.norm(s.samples.acc[still].astype(float).mean(axis=0))
        assert abs(g - STANDARD_GRAVITY) <= 0.03 * STANDARD_GRAVITY * math.sqrt(3) + ACC_BIAS_MAX * math.sqrt(3)


def _closing_stand(s: SimulatedSession) -> tuple[float, float]:
    """The stand before the closing walk: the pose upright and still at its own height."""
    m = s.motion
    assert m is not None
    upright = m["long_axis_deg"] > 60
    moving = np.r_[np.linalg.norm(np.diff(m["pos"], axis=0), axis=1) > 1e-6, True]
    still = np.flatnonzero(upright & ~moving & (m["t"] > s.truth["duration_s"] / 2))
    runs = np.split(still, np.flatnonzero(np.diff(still) > 1) + 1)
    run = max(runs, key=len)
    return float(m["t"][run[0]] + 0.4), float(m["t"][run[-1]] - 0.4)


@pytest.mark.parametrize(("axis", "angle"), [("x", 12.0), ("z", -7.0), ("y", 10.0)])
def test_a_belt_slip_turns_the_sensor_on_the_body_by_its_angle_and_it_stays_turned(axis: str, angle: float) -> None:
    s = simulate_session(
        8,
        SimOptions(
            classes=("belt_slip",),
            rate_hz=100.0,
            exercises=("bridge", "back_extension"),
            short=True,
            dropouts=False,
            link_losses=0,
            sensor={"slip_deg": angle, "slip_axis": axis},
        ),
    )
    slip = s.truth["sensor"]["slip"]
    assert "belt_slip" in s.truth["classes"] and slip["angle_deg"] == angle
    before, after = np.array(slip["device_to_body_before"]), np.array(slip["device_to_body_after"])
    from scipy.spatial.transform import Rotation

    turn = Rotation.from_rotvec(after) * Rotation.from_rotvec(before).inv()
    assert math.degrees(turn.magnitude()) == pytest.approx(abs(angle), abs=1e-6)
    # It happens while the wearer rolls over: the body turns across it.
    m = s.motion
    assert m is not None
    i0, i1 = np.searchsorted(m["t"], [slip["start_s"] - 0.3, slip["end_s"] + 0.3])
    assert math.degrees(math.acos(np.clip(m["up_body"][i0] @ m["up_body"][i1], -1, 1))) >= 5
    # Gravity as the device reads it standing, before (the opening stand) and after: the
    # turn moves it by the angle, unless the turn is about the upright body's vertical.
    a0 = s.samples.acc[_stand(s, 0.5, 3.0)].astype(float).mean(axis=0)
    a1 = s.samples.acc[_stand(s, *_closing_stand(s))].astype(float).mean(axis=0)
    seen = math.degrees(math.acos(np.clip(a0 @ a1 / np.linalg.norm(a0) / np.linalg.norm(a1), -1, 1)))
    expected = 0.0 if axis == "y" else abs(angle)
    assert seen == pytest.approx(expected, abs=0.6)  # standing sway, noise


def test_phone_timing_has_the_phones_rate_jitter_and_batched_ties_and_reads_back_at_its_rate() -> None:
    from sensor.files.validate import validate_samples

    for stamping, rate in (("hardware", 62.5), ("delivery", 100.0), ("delivery", 200.0)):
        s = simulate_session(
            5,
            SimOptions(
                classes=("phone_rate",), exercises=("bridge",), short=True, sensor={"phone_rate_hz": rate, "phone_stamping": stamping}
            ),
        )
        clock = s.truth["sensor"]["phone_clock"]
        assert s.header.sample_rate_hz == rate == clock["nominal_hz"] and abs(clock["true_hz"] / rate - 1) <= 0.01
        t = s.samples.time_s
        d = np.diff(t)
        assert np.all(d >= 0)  # stamped in arrival order
        if stamping == "hardware":
            assert np.all(d > 0) and np.median(d) == pytest.approx(1 / clock["true_hz"], rel=0.01)
            assert np.mean(d > 1.5 / rate) <= 0.01  # the odd lost sample
        else:
            assert np.mean(d == 0) >= 0.3  # ties: whole milliseconds within a batch
            assert np.max(d) >= (clock["batch"] - 1) / rate  # then a wait for the next batch
            assert np.all(np.round(t * 1000) == pytest.approx(t * 1000, abs=1e-6))
        assert len(t) / (t[-1] - t[0]) == pytest.approx(clock["true_hz"] * (1 - clock["lost_fraction"]), rel=0.01)
        read = validate_samples(t, s.samples.imu, "phone")  # what a reader makes of the file
        assert len(read) == len(t)
        assert 1 / np.median(np.diff(read.time_s)) == pytest.approx(clock["true_hz"], rel=0.05)


@pytest.mark.parametrize("daily", [False, True])
def test_a_mount_mismatch_tells_the_analysis_another_mounting_than_the_one_worn(daily: bool) -> None:
    s = simulate_session(
        6, SimOptions(classes=("mount_mismatch",), mount="left", rate_hz=25.0, short=True, exercises=("bridge",), daily_life=daily)
    )
    assert s.truth["mount"] == "left" and s.header.mount == s.truth["mount_declared"] != "left"
    assert {"mount_left", "mount_mismatch"} <= set(s.truth["classes"])
    assert s.truth["kind"] == ("daily_life" if daily else "routine")


def test_a_sensor_on_the_front_of_the_belt_feels_the_pelvis_turning_about_the_back() -> None:
    """The floor model puts each mounting at its own place on the pelvis: turned about the
    hips on all fours, the belt's front swings through a larger arc than the sacrum."""
    back = simulate_session(9, SimOptions(classes=("cat_cow",), mount="back", rate_hz=100.0, daily_life=True, dropouts=False))
    front = simulate_session(9, SimOptions(classes=("cat_cow",), mount="front", rate_hz=100.0, daily_life=True, dropouts=False))
    (a,) = [x for x in back.truth["activities"] if x["kind"] == "cat_cow"]
    assert front.truth["activities"][0]["start_s"] == pytest.approx(a["start_s"])  # the same person, moving the same way
    span = _stand(back, a["start_s"], a["end_s"])
    dev = [np.std(np.linalg.norm(s.samples.acc[span].astype(float), axis=1)) for s in (back, front)]
    # |specific force| varies more 0.22 m in front of the sacrum (without the lever arm the
    # two are within 1 % of each other: the same person, noise and quantization)
    assert dev[1] > 1.3 * dev[0]
