"""The ring and the n-D shells: truth, hyperspherical coordinates, exact cells, the radial fit."""

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

from ganplify.amplification.cells import (
    all_fractions,
    all_marginal_fractions,
    coordinate_edges,
    fit_model,
    fitted_probabilities,
    n_cells,
)
from ganplify.amplification.equivalence import expected_mse_sample
from ganplify.amplification.quantiles import from_hyperspherical, quantile_mse, to_hyperspherical
from ganplify.core import seeding
from ganplify.densities.truth import (
    CamelBack,
    Shell,
    folded_normal_cdf,
    folded_normal_pdf,
    sine_power_cdf,
    sine_power_ppf,
)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_hyperspherical_round_trip(d):
    x = Shell(d).sample(1000, seeding.rng(1, "rt", d))
    c = to_hyperspherical(x)
    np.testing.assert_allclose(from_hyperspherical(c), x, atol=1e-12)
    np.testing.assert_allclose(c[:, 0], np.linalg.norm(x, axis=1))
    assert np.all((c[:, 1:-1] >= 0) & (c[:, 1:-1] <= np.pi))
    assert np.all((c[:, -1] >= 0) & (c[:, -1] < 2 * np.pi))


@pytest.mark.parametrize("power", [0, 1, 2, 3])
def test_sine_power_cdf_is_the_normalised_integral(power):
    norm = quad(lambda t: np.sin(t) ** power, 0, np.pi)[0]
    for phi in (0.3, 1.0, np.pi / 2, 2.5):
        assert sine_power_cdf(phi, power) == pytest.approx(
            quad(lambda t: np.sin(t) ** power, 0, phi)[0] / norm, abs=1e-12
        )
    p = np.array([0.1, 0.5, 0.77])
    np.testing.assert_allclose(sine_power_cdf(sine_power_ppf(p, power), power), p, atol=1e-12)


def test_folded_normal_is_normalised():
    assert quad(lambda r: folded_normal_pdf(r, 4, 1), 0, np.inf)[0] == pytest.approx(1.0)
    assert folded_normal_cdf(4.0, 4, 1) == pytest.approx(
        quad(lambda r: folded_normal_pdf(r, 4, 1), 0, 4)[0]
    )


@pytest.mark.parametrize("d", [2, 3, 5])
def test_coordinates_follow_their_exact_marginals(d):
    """Kolmogorov-Smirnov of each hyperspherical coordinate against its exact marginal CDF."""
    t = Shell(d)
    c = to_hyperspherical(t.sample(20_000, seeding.rng(2, "ks", d)))
    for j in range(d):
        p = stats.kstest(c[:, j], lambda v, j=j: t.marginal_cdf(j, v)).pvalue
        assert p > 1e-3, (d, j, p)


def test_ring_density_is_normalised():
    t = Shell(2)
    g = np.linspace(-10, 10, 800)  # no grid point at the (integrable) singularity r = 0
    xx, yy = np.meshgrid(g, g)
    dens = t.pdf(np.stack([xx, yy], axis=-1))
    assert dens.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-4)


def test_the_camel_back_is_the_one_dimensional_shell():
    """±|N(4,1)| with a random sign has exactly the camel-back distribution."""
    gen = seeding.rng(3, "n1")
    x = np.where(gen.random(20_000) < 0.5, -1, 1) * np.abs(gen.normal(4, 1, 20_000))
    assert stats.kstest(x, CamelBack().cdf).pvalue > 1e-3


@pytest.mark.parametrize("d,q", [(2, 5), (3, 3), (5, 2)])
def test_grid_cells_hold_equal_probability(d, q):
    """Chi-square of a large truth sample over the q^d cells against 1/q^d each."""
    t = Shell(d)
    n = 100_000
    f = all_fractions(t.sample(n, seeding.rng(4, "cells", d, q)), t, [q])[n_cells(t, q)]
    assert f.shape == (q**d,)
    chi2 = np.sum((f * n - n / q**d) ** 2 / (n / q**d))
    assert stats.chi2.sf(chi2, q**d - 1) > 1e-3
    marg = all_marginal_fractions(t.sample(n, seeding.rng(5, "m", d)), t, [q])[q]
    assert marg.shape == (d, q)
    np.testing.assert_allclose(marg, 1 / q, atol=5 * np.sqrt(1 / q / n))


@pytest.mark.parametrize("d,q,n", [(2, 5, 100), (5, 2, 500)])
def test_expected_error_of_nd_truth_samples(d, q, n):
    t = Shell(d)
    k = n_cells(t, q)
    gen = seeding.rng(6, "nd-mc", d)
    m = np.array([quantile_mse(all_fractions(t.sample(n, gen), t, [q])[k]) for _ in range(1500)])
    assert abs(m.mean() - expected_mse_sample(k, n)) < 5 * m.std(ddof=1) / np.sqrt(m.size)


def test_radial_fit_recovers_parameters_and_its_cells():
    t = Shell(3, r_mean=4.0, r_sigma=1.0)
    r = fit_model(t, t.sample(20_000, seeding.rng(7, "fit")))
    assert r.valid and r.names == ("r_mean", "r_sigma")
    assert abs(r.values[0] - 4.0) < 4 * r.errors[0] and abs(r.values[1] - 1.0) < 4 * r.errors[1]
    cells, marg = fitted_probabilities(t, r, 3)
    assert cells.shape == (27,) and marg.shape == (3, 3)
    assert cells.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(cells, 1 / 27, atol=2e-3)  # a near-perfect fit: near-equal cells
    np.testing.assert_allclose(marg[1:], 1 / 3)  # angles are exact in the fitted model


def test_angle_edges_are_exact():
    edges = coordinate_edges(Shell(3), 4)
    np.testing.assert_allclose(edges[2], [np.pi / 2, np.pi, 3 * np.pi / 2])  # uniform azimuth
    np.testing.assert_allclose(edges[1], np.arccos([0.5, 0.0, -0.5]))  # cos φ uniform in 3D


def test_bad_shell_is_rejected():
    with pytest.raises(ValueError, match="dim"):
        Shell(1)
