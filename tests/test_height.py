"""The lift integral (``sensor.signal.height``) on movements made from physics here, with
their true height known: a brisk bridge's top is no still moment."""

from __future__ import annotations

import numpy as np
import pytest

from sensor.signal.detector_settings import DetectorSettings
from sensor.signal.height import rise_and_speed, rise_m, still_reading
from sensor.signal.posture import SUPINE
from sensor.signal.reps import classify_rep

G = 9.80665
RATE_HZ = 50.0


def _min_jerk(u: np.ndarray) -> np.ndarray:
    return np.asarray(10 * u**3 - 15 * u**4 + 6 * u**5)


def _bridge(move_s: float, lift_m: float, turn_deg: float, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> tuple[np.ndarray, ...]:
    """1 s lying still, then a lift and a lowering of ``move_s`` each with no pause at the
    top, then 1 s still: time, specific force (body frame, with per-axis scale errors) and
    body rates; the index of the still start and of the top."""
    dt = 1.0 / RATE_HZ
    t = np.arange(0.0, 2.0 + 2 * move_s, dt)
    u = np.clip((t - 1.0) / move_s, 0.0, 1.0) - np.clip((t - 1.0 - move_s) / move_s, 0.0, 1.0)
    s = _min_jerk(np.clip(u, 0.0, 1.0))
    z = lift_m * s
    th = np.radians(turn_deg) * s
    az = np.gradient(np.gradient(z, t), t)
    # Pitch about the body x axis: world (0, 0, 1) seen in the body frame is (0, sin, cos).
    f_body = np.stack([np.zeros_like(t), (az + G) * np.sin(th), (az + G) * np.cos(th)], axis=1) * np.asarray(scale)
    gyr = np.stack([np.gradient(th, t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    i0 = int(np.searchsorted(t, 0.9))
    i_top = int(np.argmax(th))
    return t, f_body, gyr, i0, i_top


def test_a_brisk_bridge_lift_is_integrated_to_its_top() -> None:
    """A 12-cm lift in 0.45 s reverses at once: the reading at the top is gravity plus
    about 3 m/s² down, so taking it for gravity misjudges the lift by centimetres."""
    for scale in ((1.0, 1.0, 1.0), (1.01, 0.99, 1.012)):
        t, f, g, i0, i_top = _bridge(0.45, 0.12, 20.0, scale)
        assert abs(rise_m(t, f, g, i0, i_top, end_still=False) - 0.12) <= 0.015
        assert abs(rise_m(t, f, g, i0, i_top, end_still=True) - 0.12) > 0.03


def test_a_slow_top_is_integrated_with_its_still_reading() -> None:
    """Three seconds a movement: the top's reading is gravity to ~0.03 m/s², and an
    accelerometer's scale errors change the still reading as the pelvis turns."""
    t, f, g, i0, i_top = _bridge(3.0, 0.10, 30.0, (1.012, 0.99, 1.0))
    assert abs(rise_m(t, f, g, i0, i_top, end_still=True) - 0.10) <= 0.015
    assert abs(rise_m(t, f, g, i0, i_top, end_still=False) - 0.10) > 0.02  # the scale errors, uncorrected


def _tilt(turn_s: float, hold_s: float, lift_m: float, turn_deg: float) -> tuple[np.ndarray, ...]:
    """1 s lying still, a turn of ``turn_deg`` lifting the sensor ``lift_m`` over
    ``turn_s``, then held still ``hold_s``: time, specific force, body rates."""
    dt = 1.0 / RATE_HZ
    t = np.arange(0.0, 1.0 + turn_s + hold_s, dt)
    s = _min_jerk(np.clip((t - 1.0) / turn_s, 0.0, 1.0))
    th = np.radians(turn_deg) * s
    az = np.gradient(np.gradient(lift_m * s, t), t)
    f_body = np.stack([np.zeros_like(t), (az + G) * np.sin(th), (az + G) * np.cos(th)], axis=1)
    gyr = np.stack([np.gradient(th, t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    return t, f_body, gyr


def test_a_still_reading_over_half_a_second_cuts_the_noise_of_a_slow_tilts_lift() -> None:
    """A pelvic tilt: 12° over 2.5 s, held 3 s, the sensor lifted 6 mm. With a MEMS IMU's
    noise (0.02 m/s², 0.15 °/s per sample) the still readings' own noise, integrated twice
    over 4 s, is most of the error when each averages 5 samples (0.1 s): a lift that big
    reaches a bridge's least (4 cm) now and then. Averaged over the half second each end is
    still, the scatter is less than 60 % of that, with no bias."""
    t, f, w = _tilt(2.5, 3.0, 0.006, 12.0)
    i0, i1 = int(np.searchsorted(t, 0.98)), int(np.searchsorted(t, 1.0 + 2.5 + 1.5))
    rng = np.random.default_rng(11)
    draws = [(rng.normal(0, 0.02, f.shape), np.radians(rng.normal(0, 0.15, w.shape))) for _ in range(200)]
    half = int(0.5 * RATE_HZ)
    short = np.array([rise_m(t, f + nf, w + nw, i0, i1) for nf, nw in draws])
    long = np.array([rise_m(t, f + nf, w + nw, i0, i1, n_start=half, n_end=half) for nf, nw in draws])
    assert np.std(long) < 0.6 * np.std(short)
    assert np.std(long) < 0.013  # a bridge's least lift (4 cm) is three of these away
    assert abs(np.mean(long) - 0.006) < 0.003


def test_a_still_reading_is_turned_into_its_own_samples_frame() -> None:
    """The pelvis sways while "still": averaging readings taken as it turned 1° would tip up
    by half a degree (0.09 m/s² along the lift). Each reading is turned by the gyro into
    the frame of the sample it stands for."""
    t, f, w = _tilt(0.5, 1.0, 0.0, 1.0)  # a 1° turn in 0.5 s
    i1 = int(np.searchsorted(t, 1.5))  # the end of the turn
    lo = int(np.searchsorted(t, 1.0))
    true = f[i1]
    turned = still_reading(t, f, w, lo, i1 + 1, i1)
    assert np.linalg.norm(turned - true) < 0.01
    assert np.linalg.norm(f[lo : i1 + 1].mean(axis=0) - true) > 0.05  # what a plain mean gives


def _front_bridge(back_lift_m: float, turn_deg: float, depth_m: float) -> tuple[np.ndarray, ...]:
    """A supine bridge seen by a sensor ``depth_m`` in front of the back of the pelvis:
    1 s still, 1.5 s up (the head end of the pelvis turning down by ``turn_deg``, the back
    lifting ``back_lift_m``), 2 s held, 1.5 s down, 0.3 s still. The sensor sits
    ``depth_m`` above the back and the turn lowers it by ``depth_m (1 - cos θ)``."""
    dt = 1.0 / RATE_HZ
    t = np.arange(0.0, 6.3, dt)
    u = np.clip((t - 1.0) / 1.5, 0.0, 1.0) - np.clip((t - 4.5) / 1.5, 0.0, 1.0)
    s = _min_jerk(np.clip(u, 0.0, 1.0))
    th = np.radians(turn_deg) * s
    z = back_lift_m * s - depth_m * (1.0 - np.cos(th))
    az = np.gradient(np.gradient(z, t), t)
    up = np.stack([np.zeros_like(t), -np.sin(th), -np.cos(th)], axis=1)  # world up, body frame (z out of the back)
    f = (az + G)[:, None] * up
    gyr = np.stack([np.gradient(th, t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    d = np.degrees(th)  # away from rest the way a bridge goes: the head end down (direction -1)
    quiet = np.abs(np.gradient(d, t)) < 1.5
    return t, d, up, gyr, f, np.full(t.size, dt), quiet


def test_a_bridge_seen_from_the_front_of_the_belt_is_judged_by_the_backs_lift() -> None:
    """Worn on the front of the belt the sensor is 0.22 m above the back lying supine; a
    bridge turning the pelvis 30° lowers it 3 cm against the back, so a low bridge (the back
    up 6 cm) lifts the sensor 3 cm: under a bridge's least (4 cm) if read as the back's."""
    t, d, up, gyr, f, span, quiet = _front_bridge(0.06, 30.0, 0.22)
    s = DetectorSettings()
    assert classify_rep(t, d, up, gyr, f, span, -1.0, SUPINE, s, quiet) is None  # taken as worn on the back
    rep = classify_rep(t, d, up, gyr, f, span, -1.0, SUPINE, s, quiet, depth_m=0.22)
    assert rep is not None and rep.exercise == "bridge"
    assert rep.peak_deg == pytest.approx(30.0, abs=0.5)
    # A pelvic tilt (12°, the back not lifted) stays no bridge wherever it is worn.
    t, d, up, gyr, f, span, quiet = _front_bridge(0.0, 12.0, 0.22)
    assert classify_rep(t, d, up, gyr, f, span, -1.0, SUPINE, s, quiet, depth_m=0.22) is None


def test_an_end_read_while_moving_does_not_take_its_acceleration_for_the_sensor_error() -> None:
    """A lowering of 0.4 m in 3 s without a turn, read at a moment still accelerating
    (0.25 m/s², 0.14 m/s down): its reading is gravity plus that, and taken for the still
    reading the speed comes out near rest. Without a turn the still reading cannot change
    (``READING_ERROR`` along the turned up bounds it): the speed comes out right."""
    dt = 1.0 / RATE_HZ
    t = np.arange(0.0, 6.0, dt)
    s = _min_jerk(np.clip((t - 1.0) / 3.0, 0.0, 1.0))
    z = -0.4 * s
    v = np.gradient(z, t)
    az = np.gradient(v, t)
    f = np.stack([np.zeros_like(t), np.zeros_like(t), az + G], axis=1)
    g = np.zeros_like(f)
    i0, i1 = int(np.searchsorted(t, 0.9)), int(np.searchsorted(t, 1.74))
    assert az[i1] == pytest.approx(-0.25, abs=0.03) and v[i1] == pytest.approx(-0.14, abs=0.01)
    assert rise_and_speed(t, f, g, i0, i1, 25, 5, bounded=True)[1] == pytest.approx(v[i1], abs=0.02)
    assert abs(rise_and_speed(t, f, g, i0, i1, 25, 5)[1] - v[i1]) > 0.05
