import numpy as np
import pytest

from ganplify import seeding
from ganplify.equivalence import (
    amplification,
    bootstrap_equivalent_events,
    equivalent_events,
    expected_mse_generated,
    expected_mse_sample,
)
from ganplify.quantiles import quantile_mse


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
