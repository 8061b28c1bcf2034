import numpy as np
import pytest
from scipy.integrate import quad

from ganplify.core import seeding
from ganplify.densities.truth import CamelBack, mixture_cdf, mixture_pdf


def test_pdf_is_normalised_and_cdf_is_its_integral():
    t = CamelBack()
    assert quad(t.pdf, -np.inf, np.inf)[0] == pytest.approx(1.0, abs=1e-10)
    for x in [-6.0, -4.0, -1.3, 0.0, 2.5, 4.0, 7.0]:
        assert t.cdf(x) == pytest.approx(quad(t.pdf, -np.inf, x)[0], abs=1e-9)


def test_camelback_is_symmetric_with_modes_at_pm_mu():
    t = CamelBack(mu=4.0, sigma=1.0)
    x = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(t.pdf(x), t.pdf(-x), rtol=1e-12)
    assert t.cdf(0.0) == pytest.approx(0.5, abs=1e-15)
    grid = np.linspace(0, 8, 8001)
    assert grid[np.argmax(t.pdf(grid))] == pytest.approx(4.0, abs=2e-3)


def test_sampler_matches_moments():
    t = CamelBack()
    x = t.sample(200_000, seeding.rng(1, "test"))
    assert x.shape == (200_000, 1)
    # mean 0, variance mu^2 + sigma^2 = 17; standard errors ~0.009 and ~0.02
    assert abs(x.mean()) < 0.05
    assert x.var() == pytest.approx(17.0, abs=0.15)
    assert np.mean(x > 0) == pytest.approx(0.5, abs=0.005)


def test_mixture_cdf_matches_pdf_for_asymmetric_parameters():
    p = {"mu1": -3.0, "sigma1": 0.7, "mu2": 5.0, "sigma2": 1.4, "frac": 0.3}
    for x in [-4.0, 0.0, 5.5]:
        integral = quad(lambda t: mixture_pdf(t, **p), -np.inf, x)[0]
        assert mixture_cdf(x, **p) == pytest.approx(integral, abs=1e-9)


def test_invalid_width_is_rejected():
    with pytest.raises(ValueError, match="sigma"):
        CamelBack(sigma=0.0)
