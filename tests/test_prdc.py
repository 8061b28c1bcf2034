"""PRDC against its definitions, and the weighted paths of PRDC, FPD and KPD against resampled
unweighted samples: integer weights are duplicated events, real-valued weights agree with a
large weighted resample within its error."""

import numpy as np
import pytest

from ganplify.core import seeding
from ganplify.dctr import distances
from ganplify.dctr.prdc import challenge_inputs, nearest_neighbour_radii, prdc


def brute_force(real, fake, k):
    """PRDC straight from Naeem et al.'s definitions, with full distance matrices."""

    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    rr, ff, rf = dist(real, real), dist(fake, fake), dist(real, fake)
    r_real = np.sort(rr, axis=1)[:, k]  # column 0 is the point itself
    r_fake = np.sort(ff, axis=1)[:, k]
    inside = rf < r_real[:, None]  # (real, fake): fake j in real i's ball
    return {
        "precision": inside.any(axis=0).mean(),
        "recall": (rf < r_fake[None, :]).any(axis=1).mean(),
        "density": inside.sum(axis=0).mean() / k,
        "coverage": (rf.min(axis=1) < r_real).mean(),
    }


def _as_dict(result):
    return {k: getattr(result, k) for k in ("precision", "recall", "density", "coverage")}


def test_prdc_is_the_published_definition():
    rng = seeding.rng(1, "prdc")
    real, fake = rng.normal(0, 1, (300, 4)), rng.normal(0.3, 1.2, (250, 4))
    for k in (1, 5):
        got = _as_dict(prdc(real, fake, nearest_k=k, block=37))
        assert got == pytest.approx(brute_force(real, fake, k), abs=1e-12)


def test_prdc_by_hand():
    """1D, k = 1. Real 0, 1, 3 (radii 1, 1, 2); fake 0.5, 2.9, 10 (radii 2.4, 2.4, 7.1)."""
    real, fake = np.array([[0.0], [1.0], [3.0]]), np.array([[0.5], [2.9], [10.0]])
    r = prdc(real, fake, nearest_k=1)
    # 0.5 lies in the balls of 0 and 1; 2.9 in that of 3; 10 in none
    assert r.precision == pytest.approx(2 / 3) and r.density == pytest.approx(3 / 3)
    # every real point lies within 2.4 of 0.5 or 2.9
    assert r.recall == 1.0
    # nearest fake: 0.5 (< 1), 0.5 (< 1), 2.9 (< 2)
    assert r.coverage == 1.0


def test_samples_of_one_distribution_have_density_one():
    rng = seeding.rng(2, "prdc")
    r = prdc(rng.normal(size=(1500, 3)), rng.normal(size=(1500, 3)), nearest_k=5)
    assert r.density == pytest.approx(1.0, abs=0.1)
    assert min(r.precision, r.recall, r.coverage) > 0.85


def test_integer_weights_are_duplicated_events():
    """Weights 0-4: exactly the PRDC of the sample with each event repeated w times (0: absent);
    and the radii: w ≥ k + 1 copies of a point give it radius 0."""
    rng = seeding.rng(3, "prdc")
    real, fake = rng.normal(0, 1, (200, 3)), rng.normal(0.2, 1, (150, 3))
    w = rng.integers(0, 5, len(fake)).astype(float)
    duplicated = np.repeat(fake, w.astype(int), axis=0)
    for k in (1, 3, 5):
        weighted = _as_dict(prdc(real, fake, w, nearest_k=k, block=64))
        assert weighted == pytest.approx(_as_dict(prdc(real, duplicated, nearest_k=k)), abs=1e-12)
    radii = nearest_neighbour_radii(fake, 3, w)
    dup_radii = nearest_neighbour_radii(duplicated, 3)
    first_copy = np.concatenate([[0], np.cumsum(w.astype(int))[:-1]])
    present = w > 0
    np.testing.assert_allclose(radii[present], dup_radii[first_copy[present]], atol=1e-6)
    assert np.all(radii[w >= 4] == 0)


def test_real_valued_weights_agree_with_a_large_weighted_resample():
    """Precision and density are weighted averages: a resample drawn with probability ∝ w (of
    any size) has them as its expectation. Coverage counts fake points by presence: a resample
    large enough to hold every event has the weighted sample's coverage."""
    rng = seeding.rng(4, "prdc")
    real, fake = rng.normal(0, 1, (250, 2)), rng.normal(0.5, 1.5, (150, 2))
    far = np.hypot(*fake.T) > 1.5  # heavy weights on the fake points far from the real ones
    w = np.where(far, 3.0, 0.5) * rng.uniform(0.9, 1.1, len(fake))
    weighted = prdc(real, fake, w, nearest_k=5)
    unweighted = prdc(real, fake, nearest_k=5)
    p = w / w.sum()
    draws = [prdc(real, fake[rng.choice(len(fake), 60 * len(fake), p=p)]) for _ in range(3)]
    for key in ("precision", "density"):
        values = np.array([getattr(d, key) for d in draws])
        error = values.std(ddof=1) / np.sqrt(len(values)) + 1e-9
        assert getattr(weighted, key) == pytest.approx(values.mean(), abs=4 * error + 2e-3), key
    # the weights matter: the unweighted sample scores differently
    assert weighted.precision < unweighted.precision - 0.02
    # 60 n draws at p ≥ 0.45 / Σw hold every event (P(one of them missing) ~ 1e-4)
    assert 60 * len(fake) * 0.45 / w.sum() > 12
    assert all(d.coverage == weighted.coverage for d in draws)


def test_bad_weights_are_refused():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="4 weights for 5"):
        prdc(x, x, np.ones(4))
    with pytest.raises(ValueError, match="finite, >= 0"):
        prdc(x, x, np.array([1, 1, -1, 1, 1.0]))


def test_challenge_inputs():
    s = np.array([[0.0, 0.5, 1.0, 100.0]])
    np.testing.assert_allclose(challenge_inputs(s, threshold_mev=1.0), [[-1, -1, 0, 2]])


# -- FPD and KPD with weights (ganplify.dctr.distances: draws with probability ∝ w) ------------


@pytest.mark.parametrize("metric", ["fpd", "kpd"])
def test_integer_weights_in_fpd_kpd_are_duplicated_events(metric):
    """A weighted draw of event i with probability w_i / Σw is a uniform draw from the sample
    with each event repeated w_i times: with the same random stream, the same draws and so the
    same value to the last digit."""
    rng = seeding.rng(5, metric)
    x, y = rng.normal(0, 1, (3000, 3)), rng.normal(0.2, 1.1, (2000, 3))
    w = rng.integers(0, 4, len(y)).astype(float)
    dup = np.repeat(y, w.astype(int), axis=0)
    kw = (
        {"min_samples": 500, "max_samples": 1500, "n_batches": 3, "n_points": 3}
        if metric == "fpd"
        else {"n_batches": 4, "batch_size": 800}
    )
    f = getattr(distances, metric)
    a = f(x, y, w, rng=seeding.rng(6, metric), **kw)
    b = f(x, dup, np.ones(len(dup)), rng=seeding.rng(6, metric), **kw)
    assert a == b


@pytest.mark.parametrize("metric", ["fpd", "kpd"])
def test_weighted_fpd_kpd_agree_with_a_large_weighted_resample(metric):
    """The distance of the weighted sample's distribution: a resample 20 times larger, drawn
    with probability ∝ w and scored unweighted, agrees within the two errors."""
    rng = seeding.rng(7, metric)
    x, y = rng.normal(0, 1, (6000, 2)), rng.normal(0.3, 1, (3000, 2))
    w = np.exp(0.6 * y[:, 0]) * rng.uniform(0.5, 1.5, len(y))  # moves y further from x
    resample = y[rng.choice(len(y), 20 * len(y), p=w / w.sum())]
    kw = (
        {"min_samples": 1500, "max_samples": 6000, "n_batches": 6, "n_points": 4}
        if metric == "fpd"
        else {"n_batches": 10, "batch_size": 800}
    )
    f = getattr(distances, metric)
    v_w, e_w = f(x, y, w, rng=seeding.rng(8, metric), **kw)
    v_r, e_r = f(x, resample, rng=seeding.rng(9, metric), **kw)
    v_u, _ = f(x, y, rng=seeding.rng(10, metric), **kw)
    assert v_w == pytest.approx(v_r, abs=3 * np.hypot(e_w, e_r))
    assert abs(v_w - v_u) > 3 * np.hypot(e_w, e_r)  # and the weights did change it
