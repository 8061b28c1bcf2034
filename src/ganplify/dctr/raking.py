"""Raking: a table of per-feature, per-bin factors that gives weighted events the truth's marginals.

Raking (iterative proportional fitting, Deming & Stephan 1940) multiplies each weight by one factor
per feature and bin,

    w_i → w_i · Π_j F_j(b_j(x_i)),

with ``bins`` bins per feature (quantiles of the truth), the factors F_j found by sweeping the
features in turn, ``iterations`` times, until the weighted share of the events in every bin of
every feature is the truth's. Of all weights with those marginals it is the one closest to the
starting weights in Kullback–Leibler divergence. When the true density ratio is a product of
per-feature step functions on those bins, raking unweighted events recovers it exactly (the
tests check this).

What it is and is not evidence of: raking *copies* the fitting truth's one-dimensional histograms
into the sample it is fitted on. On those events, the S² of every raked marginal is small by
construction and says nothing about the reweighter. Fitted on the events it weights it is a
post-processing of the metric, not of the method. Here it is only ever a :class:`RakeTable`
fitted on the fitting part and applied to other events: :func:`ganplify.dctr.reweighter.fit`
fits the table that weights fold f's generated events on the other folds alone (with weights
from a nested cross-fit of those folds), and new events get the table fitted on every fitting
event; its gain is judged on observables it did not target and by the judge
(``benchmarks/reweighter_peers.py``). Opt-in: ``dctr.weights.rake_bins`` (0: none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def marginal_edges(x_truth: np.ndarray, bins: int) -> list[np.ndarray]:
    """Per feature of ``x_truth`` ``(n, d)``, the interior edges of ``bins`` bins of equal truth
    content (fewer where the feature has ties)."""
    x = np.asarray(x_truth, dtype=float).reshape(len(x_truth), -1)
    levels = np.linspace(0.0, 1.0, int(bins) + 1)[1:-1]
    return [np.unique(np.quantile(column, levels)) for column in x.T]


def _codes(x: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    return np.stack([np.searchsorted(e, x[:, j], side="right") for j, e in enumerate(edges)], 1)


@dataclass(frozen=True)
class RakeTable:
    """Per feature j the interior bin ``edges[j]`` and the factor ``factors[j][b]`` of bin b."""

    edges: list[np.ndarray]
    factors: list[np.ndarray]

    def factor(self, x) -> np.ndarray:
        """Π_j F_j(b_j(x)) of each event of ``x`` ``(n, d)``."""
        x = np.asarray(x, dtype=float).reshape(len(x), -1)
        if x.shape[1] != len(self.edges):
            raise ValueError(f"raking table of {len(self.edges)} features, events of {x.shape[1]}")
        codes = _codes(x, self.edges)
        out = np.ones(len(x))
        for j, f in enumerate(self.factors):
            out *= f[codes[:, j]]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for j, (e, f) in enumerate(zip(self.edges, self.factors, strict=True)):
            out[f"edges/{j}"], out[f"factors/{j}"] = np.asarray(e, float), np.asarray(f, float)
        return out

    @classmethod
    def from_arrays(cls, arrays) -> RakeTable:
        n = len([k for k in arrays if k.startswith("edges/")])
        return cls(
            [np.asarray(arrays[f"edges/{j}"]) for j in range(n)],
            [np.asarray(arrays[f"factors/{j}"]) for j in range(n)],
        )


def fit_rake_table(
    w: np.ndarray,
    x_gen: np.ndarray,
    x_truth: np.ndarray,
    *,
    bins: int,
    iterations: int,
) -> RakeTable:
    """The table whose factors give events ``x_gen`` ``(n, d)`` with weights ``w`` the marginals
    of ``x_truth`` in ``bins`` quantile bins per feature, after ``iterations`` sweeps (the total
    weight is kept; a bin without generated weight keeps factor 1: nothing to scale)."""
    if int(bins) < 2:
        raise ValueError(f"raking bins {bins!r}: at least 2")
    if int(iterations) < 1:
        raise ValueError(f"raking iterations {iterations!r}: at least 1")
    x_gen = np.asarray(x_gen, dtype=float).reshape(len(w), -1)
    x_truth = np.asarray(x_truth, dtype=float).reshape(len(x_truth), -1)
    if x_gen.shape[1] != x_truth.shape[1]:
        raise ValueError(f"raking: {x_gen.shape[1]} generated features, {x_truth.shape[1]} truth")
    w = np.asarray(w, dtype=float)
    edges = marginal_edges(x_truth, bins)
    gen, truth = _codes(x_gen, edges), _codes(x_truth, edges)
    n = int(bins)
    target = [np.bincount(truth[:, j], minlength=n) / len(x_truth) for j in range(len(edges))]
    factors = [np.ones(n) for _ in edges]
    current = w.copy()
    for _ in range(int(iterations)):
        for j, share in enumerate(target):
            mass = np.bincount(gen[:, j], weights=current, minlength=n)
            mass = mass / mass.sum()
            f = np.divide(share, mass, out=np.ones(n), where=mass > 0)
            factors[j] *= f
            current = current * f[gen[:, j]]
    return RakeTable(edges, factors)
