"""A study's quantile cells: the truth's coordinates, exact edges, and fractions of samples.

The cells are the product grid of per-coordinate quantiles in the coordinates in which the truth
factorises: x itself for the 1D camel back, hyperspherical coordinates (r, φ_1 … φ_{d−1}) for the
ring and the shells. A study with q quantiles per coordinate in d dimensions has K = q^d cells of
probability 1/q^d each, and every formula of :mod:`.equivalence` holds with that K.

Every job of a study calls the functions here rather than building cells itself, so all of them use
the same cells. :func:`fit_model` and :func:`fitted_probabilities` pair each truth with its
low-parameter fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ..densities.truth import CamelBack, Shell
from .fits import FitResult, fit_camelback, fit_shell_radius, fitted_cdf, fitted_radius_cdf
from .quantiles import (
    cell_probabilities,
    edges_from_cdf,
    grid_cell_fractions,
    marginal_fractions,
    to_hyperspherical,
)


def dimension(truth) -> int:
    return 1 if isinstance(truth, CamelBack) else int(truth.dim)


def n_cells(truth, q: int) -> int:
    """Number of cells K = q^d for q quantiles per coordinate."""
    return int(q) ** dimension(truth)


@lru_cache(maxsize=256)
def _edges(truth, q: int) -> tuple[np.ndarray, ...]:
    if isinstance(truth, CamelBack):
        return (
            edges_from_cdf(truth.cdf, q, bracket=(-truth.mu - truth.sigma, truth.mu + truth.sigma)),
        )
    if isinstance(truth, Shell):
        lo, hi = truth.r_mean - truth.r_sigma, truth.r_mean + truth.r_sigma
        radius = edges_from_cdf(lambda r: truth.marginal_cdf(0, r), q, bracket=(lo, hi))
        p = np.arange(1, q) / q
        angles = [truth.marginal_ppf(c, p) for c in range(1, truth.dim)]
        return (radius, *angles)
    raise TypeError(f"no quantile cells for truth {truth!r}")


def coordinate_edges(truth, q: int) -> list[np.ndarray]:
    """Exact inner edges of q equal-probability cells of each coordinate's marginal."""
    return [e.copy() for e in _edges(truth, int(q))]


def quantile_edges(truth, n_cells_1d: int) -> np.ndarray:
    """Exact inner edges of ``n_cells_1d`` equal-probability cells of a 1D truth."""
    if not isinstance(truth, CamelBack):
        raise TypeError("quantile_edges is for 1D truths; use coordinate_edges")
    return coordinate_edges(truth, n_cells_1d)[0]


def coordinates(truth, x) -> np.ndarray:
    """The coordinates in which ``truth`` factorises: x in 1D, hyperspherical otherwise."""
    x = np.asarray(x, dtype=float)
    return x.reshape(-1, 1) if isinstance(truth, CamelBack) else to_hyperspherical(x)


def all_fractions(x, truth, quantiles, weights=None) -> dict[int, np.ndarray]:
    """Cell fractions of the points ``x`` (weighted: Σw in the cell / Σw) for every q in
    ``quantiles``, keyed by K = q^d."""
    c = coordinates(truth, x)
    return {
        n_cells(truth, q): grid_cell_fractions(c, coordinate_edges(truth, q), weights)
        for q in quantiles
    }


def all_marginal_fractions(x, truth, quantiles, weights=None) -> dict[int, np.ndarray]:
    """Per-coordinate fractions ``(d, q)`` of the points ``x`` for every q, keyed by q."""
    c = coordinates(truth, x)
    return {int(q): marginal_fractions(c, coordinate_edges(truth, q), weights) for q in quantiles}


def fit_model(truth, x) -> FitResult:
    """The study's low-parameter fit of the known functional form to the points ``x``.

    Camel back: the paper's 5-parameter two-Gaussian fit. Ring and shells: the 2-parameter fit of
    the radius (the direction is uniform and has no free parameter).
    """
    if isinstance(truth, CamelBack):
        return fit_camelback(x)
    if isinstance(truth, Shell):
        return fit_shell_radius(x)
    raise TypeError(f"no fit for truth {truth!r}")


def fitted_probabilities(truth, result: FitResult, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell probabilities ``(q^d,)`` and per-coordinate probabilities ``(d, q)`` of a fit.

    For the shells the fitted model has the exact uniform direction, so each angular cell holds
    1/q and a grid cell's probability is the radial probability divided by q^(d−1).
    """
    edges = coordinate_edges(truth, q)
    if isinstance(truth, CamelBack):
        p = cell_probabilities(fitted_cdf(result), edges[0])
        return p, p[None, :]
    if isinstance(truth, Shell):
        pr = cell_probabilities(fitted_radius_cdf(result), edges[0])
        angular = np.full(int(q), 1.0 / q)
        cells = np.kron(pr, np.full(int(q) ** (truth.dim - 1), 1.0 / int(q) ** (truth.dim - 1)))
        return cells, np.stack([pr] + [angular] * (truth.dim - 1))
    raise TypeError(f"no fitted probabilities for truth {truth!r}")


def prefix_fractions(
    events, truth, quantiles, sizes: Sequence[int], weights=None
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Cell and per-coordinate fractions of the first n events, for every n in ``sizes``.

    Returns ``(cells, marginals)``: ``cells[K]`` of shape ``(len(sizes), K)`` and
    ``marginals[q]`` of shape ``(len(sizes), dim, q)`` — a generator's quantile-error curve.
    With ``weights`` (one per event), the weighted fractions of each prefix.
    """
    w = (lambda n: None) if weights is None else (lambda n: np.asarray(weights)[: int(n)])
    per_n = [
        (
            all_fractions(events[: int(n)], truth, quantiles, w(n)),
            all_marginal_fractions(events[: int(n)], truth, quantiles, w(n)),
        )
        for n in sizes
    ]
    cells = {k: np.stack([c[k] for c, _ in per_n]) for k in per_n[0][0]}
    marginals = {q: np.stack([m[q] for _, m in per_n]) for q in per_n[0][1]}
    return cells, marginals
