import numpy as np
import pytest

from ganplify.amplification.equivalence import (
    amplification,
    bootstrap_equivalent_events,
    equivalent_events,
    expected_mse_generated,
    expected_mse_sample,
)
from ganplify.amplification.quantiles import quantile_mse
from ganplify.core import seeding


def test_equivalent_events_inverts_the_expected_error():
    for k in (10, 20, 50):
        for n in (37, 100, 1234.5):
            assert equivalent_events(expected_mse_sample(k, n), k) == pytest.approx(n)
    assert expected_mse_sample(10, 100) == pytest.approx(9.0e-4)
    assert amplification(500.0, 100) == pytest.approx(5.0)


def test_expected_mse_of_generated_events_matches_monte_carlo():
    """A biased model: bias term plus multinomial noise falling like 1/M."""
    q = np.array([0.05, 0.15, 0.1, 0.2, 0.1, 0.05, 0.1, 0.1, 0.05, 0.1])
    gen = seeding.rng(3, "gen-mc")
    for m_events in (50, 500, 50_000):
        f = gen.multinomial(m_events, q, size=20_000) / m_events
        mse = quantile_mse(f)
        sem = mse.std(ddof=1) / np.sqrt(mse.size)
        assert abs(mse.mean() - expected_mse_generated(q, m_events)) < 5 * sem + 1e-15
    # unbiased model reduces to the sample formula
    assert expected_mse_generated(np.full(10, 0.1), 100) == pytest.approx(
        expected_mse_sample(10, 100)
    )


def test_bootstrap_interval_brackets_estimate_and_is_reproducible():
    gen = seeding.rng(5, "boot")
    mse = expected_mse_sample(20, 300) * gen.chisquare(19, size=100) / 19
    a = bootstrap_equivalent_events(mse, 20, rng=seeding.rng(5, "b"), n_resamples=500)
    b = bootstrap_equivalent_events(mse, 20, rng=seeding.rng(5, "b"), n_resamples=500)
    assert a == b
    n_eq, lo, hi = a
    assert lo < n_eq < hi
    assert n_eq == pytest.approx(300, rel=0.1)
    # a wider confidence level gives a wider interval
    _, lo95, hi95 = bootstrap_equivalent_events(
        mse, 20, rng=seeding.rng(5, "b"), n_resamples=500, confidence_level=0.95
    )
    assert lo95 < lo and hi95 > hi


def test_bootstrap_with_one_run_has_no_interval():
    n_eq, lo, hi = bootstrap_equivalent_events([1e-3], 10, rng=seeding.rng(1))
    assert n_eq == pytest.approx(90.0) and np.isnan(lo) and np.isnan(hi)
    with pytest.raises(ValueError):
        bootstrap_equivalent_events([], 10, rng=seeding.rng(1))


def _weighted_model(k_bias: float):
    """A model with cell probabilities q, per-cell weight factors r (correcting q towards 1/K by
    a fraction 1 - k_bias) and a Gamma(2, 1/2) factor per event: exact moments in closed form."""
    from ganplify.amplification.equivalence import expected_mse_weighted

    q = np.array([0.1, 0.3, 0.2, 0.25, 0.15])
    r = (1 / (5 * q)) ** (1 - k_bias)
    mu = np.sum(q * r)  # E[w] (E[g] = 1)
    q_tilde = q * r / mu
    c = q * r**2 * 1.5 / mu**2  # E[g^2] = var + 1 = 1.5
    return q, r, q_tilde, c, expected_mse_weighted


@pytest.mark.parametrize("k_bias", [0.0, 0.5])
def test_expected_mse_of_weighted_events_matches_monte_carlo(k_bias):
    q, r, q_tilde, c, expected = _weighted_model(k_bias)
    gen = seeding.rng(8, "weighted-mc", str(k_bias))
    for m in (100, 1000):
        cells = gen.choice(5, size=(20_000, m), p=q)
        w = r[cells] * gen.gamma(2.0, 0.5, size=cells.shape)
        fractions = (
            np.stack([(w * (cells == j)).sum(1) for j in range(5)], axis=1) / w.sum(1)[:, None]
        )
        mse = quantile_mse(fractions)
        sem = mse.std(ddof=1) / np.sqrt(mse.size)
        # the O(1/M²) terms of the ratio estimator: within 2 % at M = 100
        assert abs(mse.mean() - expected(q_tilde, c, m)) < 5 * sem + 0.02 * expected(q_tilde, c, m)
    # unit weights reduce it to the unweighted formula
    np.testing.assert_allclose(expected(q, q, 37), expected_mse_generated(q, 37))


def test_weighted_cell_moments_estimate_the_exact_ones():
    from ganplify.amplification.equivalence import weighted_cell_moments

    q, r, q_tilde, c, _ = _weighted_model(0.5)
    gen = seeding.rng(9, "moments")
    cells = gen.choice(5, size=400_000, p=q)
    w = r[cells] * gen.gamma(2.0, 0.5, size=cells.size)
    q_hat, c_hat = weighted_cell_moments(cells, w, 5)
    np.testing.assert_allclose(q_hat, q_tilde, rtol=0.02)
    np.testing.assert_allclose(c_hat, c, rtol=0.03)


def test_the_saturation_fit_recovers_the_weighted_bias_and_noise():
    """The weighted curve has the form a + b/M: the saturation fit finds the formula's terms."""
    from ganplify.amplification.saturation import fit_bias_and_noise

    q, r, q_tilde, c, expected = _weighted_model(0.5)
    sizes = np.array([100, 200, 500, 1000, 2000, 5000])
    gen = seeding.rng(10, "weighted-sat")
    curve = []
    for m in sizes:
        cells = gen.choice(5, size=(4000, m), p=q)
        w = r[cells] * gen.gamma(2.0, 0.5, size=cells.shape)
        f = np.stack([(w * (cells == j)).sum(1) for j in range(5)], axis=1) / w.sum(1)[:, None]
        curve.append(quantile_mse(f).mean())
    a, b = fit_bias_and_noise(sizes, np.array(curve))
    a_exact = expected(q_tilde, c, np.inf)
    b_exact = expected(q_tilde, c, 1.0) - a_exact
    assert a == pytest.approx(a_exact, rel=0.05) and b == pytest.approx(b_exact, rel=0.1)
