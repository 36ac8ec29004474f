"""When the simulated sensor samples and what time it writes beside each sample: a steady
device clock with radio dropouts and marked link losses, and timestamps with a little
jitter; or, for ``phone_rate``, a phone's.

Phones (``phone_rate``): nominal rates of 50, 60, 62.5, 100 or 200 Hz (Android's game and
fastest delays, iOS's usual 100 Hz; the real exports in ``shared/vectors`` run at 59.4,
62.5, 99.8, 100.4 and 100.8 Hz), the phone's own clock 0-1 % off nominal, and single
samples lost now and then (0.05-0.3 %: one Android export has 0.2 % of its steps at 1.5
periods). Half the sessions are stamped by the sensor hardware (steady, jitter 1-5 % of a
period: the exports' steps vary by ~2 %); the other half on delivery, as apps logging
batched sensor events or pushes do (the WitMotion app's 200 Hz export: 8 rows within a
millisecond, then a 30-60 ms wait): batches of 4-12 samples delivered 1-10 ms after the
last was taken plus a scheduler's delay (exponential, mean 2-8 ms), each stamped at
delivery in whole milliseconds (ties, and 1 ms steps within a batch). Stamps never go back
(a logger stamps in arrival order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sensor.events import Gap

PHONE_RATES_HZ = (50.0, 60.0, 62.5, 100.0, 200.0)


def device_instants(
    rng: np.random.Generator, T: float, rate: float, *, dropouts: bool, link_losses: int | None, quiet: list[tuple[float, float]]
) -> tuple[np.ndarray, list[Gap]]:
    """Sample instants of a steady clock over ``T`` s, radio dropouts (unmarked, 3 a minute
    of 0.05-0.5 s) and marked link losses of 1-3 s in ``quiet`` spans cut out."""
    t_true = np.arange(0.0, T - 0.05, 1.0 / rate)
    keep = np.ones(len(t_true), bool)
    if dropouts:
        for _ in range(int(rng.poisson(T / 60 * 3))):
            a = rng.uniform(0, T)
            keep &= ~((t_true >= a) & (t_true < a + rng.uniform(0.05, 0.5)))
    gaps: list[Gap] = []
    n_loss = link_losses if link_losses is not None else int(rng.integers(0, 3))
    for _ in range(n_loss):
        if not quiet:
            break
        a0, a1 = quiet[int(rng.integers(len(quiet)))]
        if a1 - a0 < 6:
            continue
        a = rng.uniform(a0 + 1, a1 - 5)
        d = rng.uniform(1.0, 3.0)
        if any(a < g.end_s + 1.0 and g.start_s < a + d + 1.0 for g in gaps):
            continue  # one loss at a time
        keep &= ~((t_true >= a) & (t_true < a + d))
        gaps.append(Gap(round(a, 6), round(a + d, 6)))
    gaps.sort(key=lambda g: g.start_s)
    return t_true[keep], gaps


def jittered(rng: np.random.Generator, t_true: np.ndarray, rate: float) -> np.ndarray:
    """Timestamps that wobble (BLE batching, phone schedulers) but never reorder."""
    return t_true + np.clip(rng.normal(0, 0.12 / rate, len(t_true)), -0.4 / rate, 0.4 / rate)


def phone_clock(
    rng: np.random.Generator, T: float, nominal: float, stamping: str | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A phone's sample instants and the timestamps it writes (see the module's notes);
    ``stamping``: "hardware" or "delivery" (default: drawn)."""
    true_rate = nominal * (1 + float(rng.uniform(-0.01, 0.01)))
    t_true = np.arange(0.0, T - 0.05, 1.0 / true_rate)
    lost = float(rng.uniform(0.0005, 0.003))
    t_true = t_true[rng.random(len(t_true)) >= lost]
    info: dict[str, Any] = {"nominal_hz": nominal, "true_hz": true_rate, "lost_fraction": lost}
    if (stamping or ("hardware" if rng.random() < 0.5 else "delivery")) == "hardware":
        jit = float(rng.uniform(0.01, 0.05)) / nominal
        stamps = t_true + rng.normal(0, jit, len(t_true))
        info.update(stamping="hardware", jitter_s=jit)
    else:
        k = int(rng.integers(4, 13))
        latency = float(rng.uniform(0.001, 0.010))
        delay_mean = float(rng.uniform(0.002, 0.008))
        last = t_true[np.minimum(np.arange(0, len(t_true), k) + k - 1, len(t_true) - 1)]
        delivered = last + latency + rng.exponential(delay_mean, len(last))
        idx = np.arange(len(t_true))
        step = float(rng.uniform(0.0, 0.0003))
        stamps = np.round((delivered[idx // k] + (idx % k) * step) * 1000) / 1000
        info.update(stamping="delivery", batch=k, latency_s=latency, delay_mean_s=delay_mean)
    return t_true, np.maximum.accumulate(stamps), info
