import numpy as np
import pytest

from ganplify.amplification.cells import quantile_edges
from ganplify.amplification.equivalence import expected_mse_sample
from ganplify.amplification.quantiles import (
    cell_fractions,
    cell_probabilities,
    edges_from_cdf,
    grid_cell_fractions,
    quantile_mse,
)
from ganplify.core import seeding
from ganplify.densities.truth import CamelBack, normal_cdf


def test_camelback_k10_edges_match_the_paper():
    edges = quantile_edges(CamelBack(), 10)
    expected = [-4.842, -4.253, -3.747, -3.158, 0.0, 3.158, 3.747, 4.253, 4.842]
    np.testing.assert_allclose(edges, expected, atol=1e-3)


@pytest.mark.parametrize("k", [2, 10, 20, 50])
def test_edges_cut_equal_probability_cells(k):
    t = CamelBack()
    edges = quantile_edges(t, k)
    assert edges.shape == (k - 1,)
    assert np.all(np.diff(edges) > 0)
    np.testing.assert_allclose(cell_probabilities(t.cdf, edges), np.full(k, 1 / k), atol=1e-12)


def test_edges_from_cdf_widens_a_bad_bracket():
    edges = edges_from_cdf(lambda x: normal_cdf(x, 100.0, 2.0), 4, bracket=(-1, 1))
    np.testing.assert_allclose(
        edges, 100.0 + 2.0 * np.array([-0.6744897, 0.0, 0.6744897]), atol=1e-6
    )


def test_cell_fractions_counts_and_edge_convention():
    edges = np.array([-1.0, 0.0, 1.0])
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 4.0])
    # a point on an edge belongs to the cell on its right: [a, b)
    np.testing.assert_allclose(cell_fractions(x, edges), np.array([1, 2, 2, 3]) / 8)
    np.testing.assert_allclose(cell_fractions(x[:, None], edges), np.array([1, 2, 2, 3]) / 8)
    with pytest.raises(ValueError, match="empty"):
        cell_fractions(np.array([]), edges)


def test_weighted_fractions_by_hand():
    edges = np.array([0.0])
    x = np.array([-1.0, -0.5, 0.5, 2.0])
    w = np.array([1.0, 3.0, 0.5, 0.5])
    # Σw below 0: 4 of 5; unit weights give the plain fractions
    np.testing.assert_allclose(cell_fractions(x, edges, w), [0.8, 0.2])
    np.testing.assert_allclose(cell_fractions(x, edges, np.ones(4)), cell_fractions(x, edges))
    # a product grid: cells in C order of (coordinate 0, coordinate 1)
    coords = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    got = grid_cell_fractions(coords, [edges, edges], np.array([2.0, 1.0, 0.5, 0.5]))
    np.testing.assert_allclose(got, [0.5, 0.25, 0.0, 0.25])


def test_quantile_mse_definition():
    assert quantile_mse(np.full(10, 0.1)) == pytest.approx(0.0, abs=1e-18)
    f = np.array([0.3, 0.2, 0.5, 0.0])
    assert quantile_mse(f) == pytest.approx(np.mean((f - 0.25) ** 2))
    np.testing.assert_allclose(quantile_mse(np.stack([f, np.full(4, 0.25)])), [quantile_mse(f), 0])


@pytest.mark.parametrize("k,n", [(10, 100), (20, 100), (50, 100), (10, 1000)])
def test_expected_mse_of_truth_samples_matches_monte_carlo(k, n):
    """E[MSE] = (K-1)/(K^2 N) exactly; check against 4000 truth samples (to ~5 standard errors)."""
    t = CamelBack()
    edges = quantile_edges(t, k)
    gen = seeding.rng(7, "mc", k, n)
    m = np.array([quantile_mse(cell_fractions(t.sample(n, gen), edges)) for _ in range(4000)])
    sem = m.std(ddof=1) / np.sqrt(m.size)
    assert abs(m.mean() - expected_mse_sample(k, n)) < 5 * sem
    # The test has teeth: an off-by-one K (K instead of K-1) would be far outside.
    assert abs(m.mean() - k / (k * k * n)) > 5 * sem
