import numpy as np
import pytest

from ganplify.amplification.equivalence import expected_mse_generated
from ganplify.amplification.saturation import fit_bias_and_noise, saturation_point
from ganplify.core import seeding


def test_exact_curve_is_recovered():
    n = np.array([100, 300, 1000, 3000, 10000, 100000])
    a, b = fit_bias_and_noise(n, 2e-5 + 0.09 / n)
    assert a == pytest.approx(2e-5) and b == pytest.approx(0.09)
    assert saturation_point(a, b, 0.1) == pytest.approx(0.09 / 2e-6)


def test_noisy_generator_curves_scatter_around_the_truth():
    """Multinomial draws from a biased model: the fit finds its bias term on average."""
    q = np.full(10, 0.1) + np.array([0.01, -0.01] * 5)
    n = np.array([100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000])
    gen = seeding.rng(4, "sat")
    curves = np.array(
        [[np.mean((gen.multinomial(m, q) / m - 0.1) ** 2) for m in n] for _ in range(300)]
    )
    a, b = fit_bias_and_noise(n, curves)
    a_true = np.mean((q - 0.1) ** 2)
    assert a.mean() == pytest.approx(a_true, rel=0.1)
    np.testing.assert_allclose(curves.mean(0), expected_mse_generated(q, n), rtol=0.15)


def test_unbiased_model_never_saturates():
    assert saturation_point(0.0, 0.09) == np.inf
    assert saturation_point(-1e-6, 0.09) == np.inf
