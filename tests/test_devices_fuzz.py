"""Every decoder survives 100,000 random and mutated notifications: bad input is counted in
``Decoded.bad``, never raised, and everything decoded is finite."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.devices import holdtrack_gatt as H
from sensor.devices import polar as P
from sensor.devices import thingy as T
from sensor.devices import witmotion as W
from sensor.devices.base import Decoded, Decoder
from sensor.samples import STANDARD_GRAVITY, Samples

N_FUZZ = 100_000


def realistic(n: int, rate: float) -> Samples:
    rng = np.random.default_rng(5)
    acc = rng.normal(0.0, 3.0, (n, 3)) + np.array([0.0, 0.0, STANDARD_GRAVITY])
    return Samples(np.arange(n) / rate, np.concatenate([acc, rng.uniform(-5, 5, (n, 3))], axis=1))


def polar_corpus() -> list[bytes]:
    out: list[bytes] = []
    for compressed in (True, False):
        p = P.PolarPeripheral("verity", compressed=compressed)
        for meas, rng_ in ((P.MEAS_ACC, 8), (P.MEAS_GYRO, 2000)):
            p.write(P.CONTROL_UUID, P.start_command(meas, 52, 16, rng_))
        out += [b for _, b in p.encode(realistic(240, 52.0))]
    return out


def holdtrack_corpus() -> list[bytes]:
    out: list[bytes] = []
    for mtu in (247, 23):
        p = H.HoldTrackPeripheral(200.0, mtu=mtu)
        p.write(H.CONFIG_UUID, b"\x01")
        out += [b for _, b in p.encode(realistic(200, 200.0))]
    return out


CASES: dict[str, tuple[Callable[[], Decoder], Callable[[], list[bytes]]]] = {
    "witmotion": (
        W.WitMotionDecoder,
        lambda: (
            [b for _, b in W.WitMotionPeripheral(50.0, frames_per_notification=2).encode(realistic(200, 50.0))]
            + [W.WitMotionPeripheral().write(W.WRITE_UUID, W.read_command(0x64))[0][1]]
        ),
    ),
    "polar": (lambda: P.PolarDecoder(52.0, has_gyro=None), polar_corpus),
    "thingy52": (T.ThingyDecoder, lambda: [b for _, b in T.ThingyPeripheral(100.0).encode(realistic(100, 100.0))]),
    "holdtrack": (lambda: H.HoldTrackDecoder(200.0), holdtrack_corpus),
}


def mutations(corpus: list[bytes], n: int, seed: int) -> Iterator[bytes]:
    """Random bytes, truncations, bit flips, splices, byte edits and untouched valid ones."""
    rng = np.random.default_rng(seed)
    noise = rng.bytes(1 << 20)
    ops = rng.integers(0, 6, n)
    picks = rng.integers(0, len(corpus), (n, 2))
    lengths = rng.integers(0, 301, n)
    offsets = rng.integers(0, len(noise) - 301, n)
    cuts = rng.random((n, 2))
    flips = rng.integers(0, 1 << 16, (n, 8))
    for i in range(n):
        a, b = corpus[picks[i, 0]], corpus[picks[i, 1]]
        op = ops[i]
        if op == 0:
            yield noise[offsets[i] : offsets[i] + lengths[i]]
        elif op == 1:
            yield a[: int(cuts[i, 0] * len(a))]
        elif op == 2:
            m = bytearray(a)
            for f in flips[i, : 1 + flips[i, 0] % 8]:
                m[(f >> 3) % len(m)] ^= 1 << (f & 7)
            yield bytes(m)
        elif op == 3:
            yield a[: int(cuts[i, 0] * len(a))] + b[int(cuts[i, 1] * len(b)) :]
        elif op == 4:
            yield a
        else:
            k = int(cuts[i, 0] * len(a))
            yield a[:k] + noise[offsets[i] : offsets[i] + 1 + flips[i, 1] % 4] + a[k + 1 :]


def check(d: Decoded, parts: list[np.ndarray], times: list[np.ndarray]) -> None:
    assert isinstance(d, Decoded)
    assert d.imu.dtype == np.float32 and d.imu.ndim == 2 and d.imu.shape[1] == 6
    assert d.bad >= 0 and d.lost >= 0
    if d.time_s is not None:
        assert d.time_s.shape == (d.imu.shape[0],)
        times.append(d.time_s)
    parts.append(d.imu)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_decoder_survives_100k_mutated_notifications(name: str) -> None:
    make, corpus_fn = CASES[name]
    corpus = corpus_fn()
    decoder = make()
    parts: list[np.ndarray] = []
    times: list[np.ndarray] = []
    bad = 0
    for data in mutations(corpus, N_FUZZ, seed=sum(map(ord, name))):
        d = decoder.decode(data)
        check(d, parts, times)
        bad += d.bad
    imu = np.concatenate(parts)
    assert len(imu) > 1000, "the valid share of the inputs should still decode"
    assert np.all(np.isfinite(imu))
    assert np.abs(imu).max() < 1e6
    if times:
        assert np.all(np.isfinite(np.concatenate(times)))
    assert bad > N_FUZZ // 20, "garbage must be counted as bad"


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=20))
def test_decoder_never_raises_on_arbitrary_bytes(name: str, chunks: list[bytes]) -> None:
    decoder = CASES[name][0]()
    for data in chunks:
        d = decoder.decode(data)
        assert np.all(np.isfinite(d.imu)) and d.bad >= 0
