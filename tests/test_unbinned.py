"""The unbinned route (docs/science.md §1.8) against exact results: the Cramér–von Mises distance's
expectation 1/(6n), and the empirical distribution as a generator, worth its n events."""

import numpy as np
import pytest

from ganplify.amplification.unbinned import (
    cramer_von_mises,
    forecast_unbinned,
    measured_n_equiv,
)


def test_cramer_von_mises_is_the_integral_it_names():
    """Against a midpoint rule on a fine grid, unweighted and weighted."""
    rng = np.random.default_rng(1)
    u, w = rng.uniform(size=7), rng.uniform(0.1, 2.0, size=7)
    v = (np.arange(200_000) + 0.5) / 200_000
    order = np.argsort(u)
    for weights in (None, w):
        ww = (np.ones(7) if weights is None else weights)[order]
        levels = np.concatenate([[0.0], np.cumsum(ww) / ww.sum()])
        ecdf = levels[np.searchsorted(u[order], v, side="right")]
        numeric = np.mean((ecdf - v) ** 2)
        assert cramer_von_mises(u, weights) == pytest.approx(numeric, rel=2e-3)


def test_integer_weights_are_repeated_events():
    u = np.array([0.1, 0.35, 0.8])
    assert cramer_von_mises(u, [2, 1, 3]) == pytest.approx(
        cramer_von_mises([0.1, 0.1, 0.35, 0.8, 0.8, 0.8]), rel=1e-12
    )


def test_the_distance_of_truth_samples_has_expectation_one_over_6n():
    """T = n W² has mean 1/6 and variance (4n − 3)/(180 n) for any n (continuous F)."""
    n, reps = 40, 4000
    rng = np.random.default_rng(2)
    t = np.array([n * cramer_von_mises(rng.uniform(size=n)) for _ in range(reps)])
    se = np.sqrt((4 * n - 3) / (180 * n) / reps)
    assert abs(t.mean() - 1 / 6) < 4 * se
    assert t.var(ddof=1) == pytest.approx((4 * n - 3) / (180 * n), rel=0.1)


def test_truth_samples_are_worth_their_size_measured():
    """The control of the measured route: n truth events per run are worth n, at every prefix."""
    rng = np.random.default_rng(3)
    runs = [rng.uniform(size=200) for _ in range(1600)]
    n_eq = measured_n_equiv(runs, [50, 200])
    # relative error of a mean of 1600 W²: sd(T)/E[T]/40 ≈ 2.2 %
    np.testing.assert_allclose(n_eq, [50, 200], rtol=0.08)


def _bootstrap_members(sample, b, rng, n_events=None):
    """Members of the empirical-distribution generator: each a resample of the training sample,
    or ``n_events`` draws from it."""
    members = [rng.choice(sample, size=len(sample), replace=True) for _ in range(b)]
    if n_events is not None:
        members = [rng.choice(x, size=n_events, replace=True) for x in members]
    return members


@pytest.mark.parametrize("n_events", [None, 1000])
def test_the_empirical_distribution_is_forecast_to_be_worth_its_n_events(n_events):
    """A resample's empirical distribution function has the bootstrap spread F_n(1 − F_n)/n at
    every t, so the forecast is N_eq = n at M → ∞ and 1/(1/n + 1/M) at M; with members known
    through 1,000 draws each, after the generation noise is removed."""
    rng = np.random.default_rng(4)
    n = 100
    sample = rng.normal(size=n)
    members = _bootstrap_members(sample, 1500, rng, n_events)
    m = np.array([100.0, 1000.0, np.inf])
    fc = forecast_unbinned(
        members, n, m, rng=np.random.default_rng(5), exact=n_events is None, n_resamples=50
    )
    expected = 1.0 / (1.0 / n + np.where(np.isinf(m), 0.0, 1.0 / m))
    np.testing.assert_allclose(fc.n_equiv, expected, rtol=0.06)
    assert np.all(fc.n_equiv_lo <= fc.n_equiv) and np.all(fc.n_equiv <= fc.n_equiv_hi)
    assert fc.noise_scale == pytest.approx(1 / 6, rel=0.02)
    assert np.isnan(fc.misspecification)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cramer_von_mises([0.2, 1.5])
    with pytest.raises(ValueError, match="finite non-negative weight"):
        cramer_von_mises([0.2, 0.5], [1.0, np.nan])
    with pytest.raises(ValueError, match="confidence_level"):
        forecast_unbinned(
            [np.arange(5.0), np.arange(5.0) + 1],
            5,
            [10],
            rng=np.random.default_rng(0),
            confidence_level=1.0,
        )
    with pytest.raises(ValueError, match="B >= 2 members"):
        forecast_unbinned([np.arange(5.0)], 5, [10], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="prefix sizes"):
        measured_n_equiv([np.linspace(0, 1, 10)], [20])
