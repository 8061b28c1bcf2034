"""The amplification forecast (ganplify.amplification.forecast) on generators with exact answers.

Two "generators" whose bootstrap spread and bias are known in closed form:

- the empirical distribution of the training sample (a member: the empirical distribution of a
  bootstrap resample). Its cell probability over resamples is multinomial, variance t(1 − t)/n for
  training fraction t, so the forecast must give N_eq = n_train for M → ∞ and nM/(n + M) for M
  events, and no mis-specification (it is unbiased);
- a Gaussian kernel density of the training sample (bandwidth h). Its expected cell probabilities
  are the truth smeared by N(0, h²) — the camel back with σ' = √(1 + h²), a known bias — and
  its variance over training samples is (E[k_j²] − E[k_j]²)/n with k_j the kernel's mass in cell j.
"""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from ganplify.amplification.cells import quantile_edges
from ganplify.amplification.equivalence import equivalent_events
from ganplify.amplification.forecast import combine_forecasts, forecast_amplification
from ganplify.densities.truth import CamelBack

TRUTH = CamelBack()


def _fractions(x, edges):
    return np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1) / len(x)


def _bootstrap_members(x, edges, b, rng):
    """The empirical distributions of b bootstrap resamples of x: their cell probabilities."""
    n = len(x)
    return np.stack([_fractions(x[rng.integers(0, n, n)], edges) for _ in range(b)])


def test_the_empirical_distribution_forecasts_its_own_training_size():
    rng = np.random.default_rng(1)
    k, n = 20, 100
    edges = quantile_edges(TRUTH, k)
    x = TRUTH.sample(n, rng).ravel()
    t = _fractions(x, edges)
    members = _bootstrap_members(x, edges, 4000, rng)
    m = np.array([100.0, 1000.0, np.inf])
    fc = forecast_amplification(members, n, m, rng=rng, n_resamples=200)
    # per cell: the multinomial bootstrap variance t(1 − t)/n (4000 members: ~2 % per cell)
    occupied = t > 0
    np.testing.assert_allclose(fc.spread[occupied], (t * (1 - t) / n)[occupied], rtol=0.12)
    np.testing.assert_allclose(fc.p_hat, t, atol=0.003)
    # aggregated: N_eq(M) = 1 / (1/n + 1/M), G → 1 (a factor 2 anywhere fails by far)
    np.testing.assert_allclose(fc.n_equiv, 1 / (1 / n + 1 / m), rtol=0.03)
    assert fc.n_equiv_limit == pytest.approx(n, rel=0.03)
    np.testing.assert_allclose(fc.amplification, fc.n_equiv / n)
    assert np.all(fc.n_equiv_lo <= fc.n_equiv) and np.all(fc.n_equiv <= fc.n_equiv_hi)
    # the per-cell forecast of an occupied cell is the same n at M → ∞
    np.testing.assert_allclose(fc.n_equiv_cells[-1, occupied], n, rtol=0.15)


def test_the_generated_events_noise_is_not_taken_for_spread():
    """Members known only through N = 200 events each: their fractions scatter by q(1 − q)/N on
    top of the spread; uncorrected the forecast would be 1/(1/100 + 1/200) = 67, not 100."""
    rng = np.random.default_rng(2)
    k, n, n_events = 10, 100, 200
    edges = quantile_edges(TRUTH, k)
    x = TRUTH.sample(n, rng).ravel()
    probs = _bootstrap_members(x, edges, 3000, rng)
    counts = np.stack([rng.multinomial(n_events, p) for p in probs])
    fc = forecast_amplification(
        counts / n_events, n, [np.inf], rng=rng, n_member_events=n_events, n_resamples=100
    )
    assert fc.n_equiv_limit == pytest.approx(n, rel=0.06)
    raw = forecast_amplification(counts / n_events, n, [np.inf], rng=rng, n_resamples=10)
    assert raw.n_equiv_limit == pytest.approx(1 / (1 / n + 1 / n_events), rel=0.06)


def test_the_forecast_matches_the_truth_for_an_unbiased_generator():
    """Over 150 training samples: the forecast of the empirical generator against its measured
    worth (exact given the sample: E[MSE(M)] = (1/K) Σ[(t − p)² + t(1 − t)/M]); the
    mis-specification term averages to zero within its error."""
    rng = np.random.default_rng(3)
    k, n = 10, 100
    m = np.array([300.0, 3000.0, np.inf])
    edges = quantile_edges(TRUTH, k)
    truth = np.full(k, 1 / k)
    forecasts, measured = [], []
    for _ in range(150):
        x = TRUTH.sample(n, rng).ravel()
        t = _fractions(x, edges)
        members = _bootstrap_members(x, edges, 40, rng)
        forecasts.append(
            forecast_amplification(members, n, m, rng=rng, truth_probs=truth, n_resamples=50)
        )
        with np.errstate(divide="ignore"):
            measured.append(np.mean((t - truth) ** 2) + np.mean(t * (1 - t)) / m)
    pooled = combine_forecasts(forecasts)
    n_eq_measured = equivalent_events(np.mean(measured, axis=0), k)
    np.testing.assert_allclose(pooled.n_equiv, n_eq_measured, rtol=0.05)
    miss = np.array([f.misspecification for f in forecasts])
    assert abs(miss.mean()) < 3 * miss.std(ddof=1) / np.sqrt(miss.size)
    # with a truth, the corrected forecast is the measured worth too
    np.testing.assert_allclose(pooled.n_equiv_with_misspecification(), n_eq_measured, rtol=0.05)


def _kde_kernel_mass(x, edges, h):
    lo = np.concatenate([[-np.inf], edges])
    hi = np.concatenate([edges, [np.inf]])
    return norm.cdf((hi[None, :] - x[:, None]) / h) - norm.cdf((lo[None, :] - x[:, None]) / h)


def test_a_smoothed_density_has_its_closed_form_spread_and_bias():
    """A kernel density (h = 0.8) of each training sample: the forecast sees the variance, which
    is right, and misses the smoothing bias, which the mis-specification term recovers; against
    the truth the forecast over-promises by (Var + bias²)/Var ≈ 2.9."""
    rng = np.random.default_rng(4)
    k, n, h, b = 10, 100, 0.8, 30
    edges = quantile_edges(TRUTH, k)
    lo = np.concatenate([[-np.inf], edges])
    hi = np.concatenate([edges, [np.inf]])
    smeared = CamelBack(mu=TRUTH.mu, sigma=float(np.hypot(TRUTH.sigma, h)))
    expected_q = np.diff(np.concatenate([[0.0], smeared.cdf(edges), [1.0]]))
    bias2 = np.mean((expected_q - 1 / k) ** 2)

    def second_moment(j):
        kernel = lambda y: norm.cdf((hi[j] - y) / h) - norm.cdf((lo[j] - y) / h)  # noqa: E731
        return quad(lambda y: TRUTH.pdf(y) * kernel(y) ** 2, -14, 14, points=[-4, 4])[0]

    var_q = (np.array([second_moment(j) for j in range(k)]) - expected_q**2) / n
    truth = np.full(k, 1 / k)
    forecasts, measured = [], []
    for _ in range(200):
        kx = _kde_kernel_mass(TRUTH.sample(n, rng).ravel(), edges, h)
        members = np.stack([kx[rng.integers(0, n, n)].mean(axis=0) for _ in range(b)])
        forecasts.append(
            forecast_amplification(members, n, [np.inf], rng=rng, truth_probs=truth, n_resamples=20)
        )
        measured.append(np.mean((kx.mean(axis=0) - truth) ** 2))
    pooled = combine_forecasts(forecasts)
    # the bootstrap's spread is the variance over training samples, times (n − 1)/n
    assert pooled.spread_mse == pytest.approx(var_q.mean() * (n - 1) / n, rel=0.05)
    # E[misspec] = bias² + Var/n (the bootstrap's (n − 1)/n): the smoothing bias, seen
    assert pooled.misspecification == pytest.approx(bias2 + var_q.mean() / n, rel=0.08)
    assert np.mean(measured) == pytest.approx(bias2 + var_q.mean(), rel=0.05)
    n_eq_measured = float(equivalent_events(np.mean(measured), k))
    over = pooled.n_equiv_limit / n_eq_measured
    assert over == pytest.approx((var_q.mean() + bias2) / var_q.mean(), rel=0.08)
    assert over > 2.5
    assert pooled.n_equiv_with_misspecification()[0] == pytest.approx(n_eq_measured, rel=0.05)


def test_the_member_bootstrap_interval_covers_about_its_level():
    """On one training sample, 20 members at a time: the 68 % interval contains the bootstrap
    world's answer n_train in 55–80 % of 300 ensembles (measured 64 % at 200 in a probe)."""
    rng = np.random.default_rng(5)
    k, n = 20, 100
    edges = quantile_edges(TRUTH, k)
    x = TRUTH.sample(n, rng).ravel()
    hits = []
    for _ in range(300):
        fc = forecast_amplification(
            _bootstrap_members(x, edges, 20, rng), n, [np.inf], rng=rng, n_resamples=200
        )
        hits.append(fc.n_equiv_lo[0] <= n <= fc.n_equiv_hi[0])
    assert 0.55 < np.mean(hits) < 0.80


def test_several_cell_grids_add_up_like_observables():
    """Two grids (groups): N_eq = Σ_g A_g / Σ_g mse_g, the sum of the grids' own forecasts'
    numerators over the sum of their errors."""
    rng = np.random.default_rng(6)
    n = 100
    x = TRUTH.sample(n, rng).ravel()
    e10, e5 = quantile_edges(TRUTH, 10), quantile_edges(TRUTH, 5)
    idx = [rng.integers(0, n, n) for _ in range(50)]
    m10 = np.stack([_fractions(x[i], e10) for i in idx])
    m5 = np.stack([_fractions(np.abs(x[i]), e5) for i in idx])
    both = forecast_amplification(
        np.hstack([m10, m5]), n, [500.0], rng=rng, groups=[0] * 10 + [1] * 5, n_resamples=10
    )
    one = forecast_amplification(m10, n, [500.0], rng=rng, n_resamples=10)
    two = forecast_amplification(m5, n, [500.0], rng=rng, n_resamples=10)
    expected = (one.noise_scale + two.noise_scale) / (one.mse + two.mse)
    np.testing.assert_allclose(both.n_equiv, expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"member_probs": np.full((1, 4), 0.25)}, "B >= 2"),
        ({"member_probs": np.full((3, 4), 0.3)}, "sum to 1"),
        ({"n_generated": [0]}, "n_generated"),
        ({"n_member_events": 1}, "n_member_events"),
        ({"truth_probs": np.full(3, 1 / 3)}, "truth_probs"),
        ({"groups": [0, 0]}, "groups"),
        ({"confidence_level": 1.5}, "confidence_level"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"member_probs": np.full((3, 4), 0.25), "n_train": 10, "n_generated": [10]}
    args |= kwargs
    with pytest.raises(ValueError, match=message):
        forecast_amplification(rng=np.random.default_rng(0), **args)
