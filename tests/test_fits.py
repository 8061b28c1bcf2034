import numpy as np
import pytest

from ganplify.amplification.fits import CAMELBACK_PARAMETERS, fit_camelback, fitted_cdf
from ganplify.core import seeding
from ganplify.densities.truth import CamelBack, mixture_pdf


def _draw_mixture(p, n, gen):
    first = gen.random(n) < p["frac"]
    return np.where(
        first, gen.normal(p["mu1"], p["sigma1"], n), gen.normal(p["mu2"], p["sigma2"], n)
    )


def test_fit_recovers_known_asymmetric_parameters_on_a_large_sample():
    p = {"mu1": -3.0, "sigma1": 0.8, "mu2": 4.5, "sigma2": 1.3, "frac": 0.35}
    x = _draw_mixture(p, 20_000, seeding.rng(11, "fit-large"))
    r = fit_camelback(x)
    assert r.valid and r.accurate
    for j, name in enumerate(CAMELBACK_PARAMETERS):
        pull = (r.values[j] - p[name]) / r.errors[j]
        assert abs(pull) < 4, (name, r.values[j], r.errors[j])
        assert r.errors[j] < 0.05
    assert np.all(np.linalg.eigvalsh(r.covariance) > 0)


def test_fit_errors_match_the_spread_over_samples():
    """HESSE errors should describe the scatter of fitted values over independent samples."""
    t = CamelBack()
    fits = [fit_camelback(t.sample(400, seeding.rng(2, "spread", i))) for i in range(60)]
    assert all(f.valid for f in fits)
    values = np.array([f.values for f in fits])
    errors = np.array([f.errors for f in fits])
    truth = np.array([t.parameters[p] for p in CAMELBACK_PARAMETERS])
    pulls = (values - truth) / errors
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.6)
    assert np.all((pulls.std(axis=0) > 0.6) & (pulls.std(axis=0) < 1.5))


def test_modes_are_ordered_whatever_the_start():
    x = CamelBack().sample(500, seeding.rng(4, "order"))
    start = {"mu1": 4.0, "sigma1": 1.0, "mu2": -4.0, "sigma2": 1.0, "frac": 0.3}
    r = fit_camelback(x, start=start)
    assert r.valid and r.values[0] < r.values[2]
    # the fitted density is the same either way
    r2 = fit_camelback(x)
    grid = np.linspace(-8, 8, 50)
    # same minimum up to MIGRAD's tolerance: parameters agree to a small fraction of their errors
    np.testing.assert_allclose(r.values, r2.values, atol=0.05 * r.errors.min())
    np.testing.assert_allclose(
        mixture_pdf(grid, **r.as_dict()), mixture_pdf(grid, **r2.as_dict()), atol=1e-4
    )


def test_fitted_cdf_is_the_mixture_cdf():
    r = fit_camelback(CamelBack().sample(300, seeding.rng(9, "cdf")))
    cdf = fitted_cdf(r)
    assert cdf(-50.0) == pytest.approx(0.0, abs=1e-12) and cdf(50.0) == pytest.approx(1.0)


@pytest.mark.parametrize("x", [np.array([1.0, 2.0]), np.array([0.0, np.nan] * 10)])
def test_unusable_samples_are_flagged_not_raised(x):
    r = fit_camelback(x)
    assert not r.valid
    assert np.all(np.isnan(r.values))
    assert "unusable" in r.message
