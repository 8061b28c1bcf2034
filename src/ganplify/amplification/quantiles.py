"""Quantile cells and the quantile error (docs/science.md §1.2).

K quantiles are K cells that each hold exactly 1/K of the truth probability. The edges come from the
exact truth CDF by root finding — never from a Monte-Carlo sample — so that the only fluctuation in
a quantile error is that of the estimate under test.

Conventions: ``edges`` are the K − 1 *inner* edges, increasing; cell j is ``[edges[j-1], edges[j])``
with ``edges[-1] = −∞`` and ``edges[K-1] = +∞`` implied. Fractions are arrays whose last axis runs
over the K cells.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq


def edges_from_cdf(
    cdf: Callable[[float], float],
    n_cells: int,
    *,
    bracket: tuple[float, float] = (-1.0, 1.0),
    xtol: float = 1e-12,
) -> np.ndarray:
    """Inner edges of ``n_cells`` equal-probability cells of a continuous 1D distribution.

    Solves ``cdf(x) = j / n_cells`` for j = 1 … n_cells − 1 with Brent's method. ``bracket`` is a
    starting interval; it is widened until it contains every edge, so it need not be tight.
    """
    if int(n_cells) != n_cells or n_cells < 2:
        raise ValueError(f"n_cells must be an integer >= 2, got {n_cells!r}")
    n_cells = int(n_cells)
    lo, hi = map(float, bracket)
    p_lo, p_hi = 1.0 / n_cells, 1.0 - 1.0 / n_cells
    for _ in range(200):
        if cdf(lo) < p_lo:
            break
        lo -= max(1.0, abs(lo))
    for _ in range(200):
        if cdf(hi) > p_hi:
            break
        hi += max(1.0, abs(hi))
    targets = np.arange(1, n_cells) / n_cells
    return np.array([brentq(lambda x, t=t: cdf(x) - t, lo, hi, xtol=xtol) for t in targets])


def cell_fractions(x, edges, weights=None) -> np.ndarray:
    """Fraction of the points ``x`` (1D array, or ``(n, 1)``) in each cell defined by ``edges``.

    With ``weights``, the weighted fractions Σ_{i in j} w_i / Σ_i w_i.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"cell_fractions expects 1D points, got shape {x.shape}")
    if x.size == 0:
        raise ValueError("cell_fractions: empty sample")
    # side="right": a point exactly on an edge belongs to the cell to its right, [a, b).
    index = np.searchsorted(np.asarray(edges, dtype=float), x, side="right")
    return _fractions(index, len(edges) + 1, weights)


def _fractions(index, n_cells: int, weights) -> np.ndarray:
    if weights is None:
        return np.bincount(index, minlength=n_cells) / index.size
    w = np.asarray(weights, dtype=float)
    if w.shape != index.shape:
        raise ValueError(f"{w.shape[0] if w.ndim else 0} weights for {index.size} points")
    return np.bincount(index, weights=w, minlength=n_cells) / w.sum()


def cell_probabilities(cdf: Callable, edges) -> np.ndarray:
    """Probability of each cell under the distribution with cumulative ``cdf`` (e.g. a fit)."""
    c = np.concatenate([[0.0], np.asarray(cdf(np.asarray(edges, dtype=float))), [1.0]])
    return np.diff(c)


def quantile_mse(fractions) -> np.ndarray:
    """Quantile MSE ``(1/K) Σ_j (x_j − 1/K)²`` over the last axis of ``fractions``."""
    f = np.asarray(fractions, dtype=float)
    k = f.shape[-1]
    return np.mean((f - 1.0 / k) ** 2, axis=-1)


def to_hyperspherical(x) -> np.ndarray:
    """Cartesian ``(n, d)`` → hyperspherical ``(n, d)``: (r, φ_1 … φ_{d−1}).

    x_1 = r cos φ_1, x_2 = r sin φ_1 cos φ_2, …, x_d = r sin φ_1 … sin φ_{d−1}; φ_k ∈ [0, π] for
    k ≤ d − 2 and the last angle in [0, 2π). For d = 1 the single coordinate is x itself (the camel
    back keeps its sign: its quantiles are those of x).
    """
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    if d == 1:
        return x.copy()
    out = np.empty_like(x)
    # tail[:, k] = |(x_k, …, x_d)|, computed from the end to stay accurate
    tail = np.sqrt(np.cumsum(x[:, ::-1] ** 2, axis=1))[:, ::-1]
    out[:, 0] = tail[:, 0]
    for k in range(d - 2):
        out[:, k + 1] = np.arctan2(tail[:, k + 1], x[:, k])
    out[:, d - 1] = np.mod(np.arctan2(x[:, d - 1], x[:, d - 2]), 2.0 * np.pi)
    return out


def from_hyperspherical(c) -> np.ndarray:
    """Inverse of :func:`to_hyperspherical`."""
    c = np.asarray(c, dtype=float)
    n, d = c.shape
    if d == 1:
        return c.copy()
    x = np.empty_like(c)
    running = c[:, 0].copy()
    for k in range(d - 1):
        x[:, k] = running * np.cos(c[:, k + 1])
        running = running * np.sin(c[:, k + 1])
    x[:, d - 1] = running
    return x


def grid_cell_fractions(coords, edges_per_coordinate, weights=None) -> np.ndarray:
    """Fractions of points in the cells of a product grid: shape ``(q_1 · … · q_d,)``.

    ``coords``: ``(n, d)`` (e.g. hyperspherical coordinates); ``edges_per_coordinate[j]``: the inner
    edges of coordinate j. Cells are numbered in C order of (cell of coordinate 0, …, of d − 1).
    With one coordinate this is :func:`cell_fractions`; ``weights`` as there.
    """
    coords = np.asarray(coords, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != len(edges_per_coordinate):
        raise ValueError(
            f"coords of shape {coords.shape} for {len(edges_per_coordinate)} coordinates"
        )
    if coords.shape[0] == 0:
        raise ValueError("grid_cell_fractions: empty sample")
    shape = tuple(len(e) + 1 for e in edges_per_coordinate)
    index = [
        np.searchsorted(np.asarray(e, dtype=float), coords[:, j], side="right")
        for j, e in enumerate(edges_per_coordinate)
    ]
    flat = np.ravel_multi_index(index, shape)
    return _fractions(flat, int(np.prod(shape)), weights)


def marginal_fractions(coords, edges_per_coordinate, weights=None) -> np.ndarray:
    """Per-coordinate cell fractions, shape ``(d, q)`` (all coordinates with q cells)."""
    coords = np.asarray(coords, dtype=float)
    return np.stack(
        [cell_fractions(coords[:, j], e, weights) for j, e in enumerate(edges_per_coordinate)]
    )
