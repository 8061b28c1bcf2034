"""Amplification measured on a generated sample's observables (a shower generator's).

The GANplifying statistic (docs/science.md §1.3) on each of several observables x_o of an event:
K_o cells from the quantiles of a large reference truth sample, the generated events' (weighted)
fraction f_j in each, and the quantile MSE ``(1/K_o) Σ_j (f_j − p_j)²`` against the reference's
cell probabilities p_j. Observables with ties (a layer that is often empty: many exact zeros)
have fewer and unequal cells, so p_j is the reference's fraction, not 1/K, and N truth events
have the expected MSE ``A_o / N`` with ``A_o = (1/K_o) Σ_j p_j (1 − p_j)`` (= (K − 1)/K² for
equal cells). The reference is finite too: its own noise adds ``A_o / N_ref`` to every sample's
MSE, and is subtracted. Summed over observables, a sample's MSE is worth

    N_eq = Σ_o A_o / Σ_o (MSE_o − A_o / N_ref)

truth events — the number whose expected summed MSE is the sample's — and G = N_eq / N_train.
Intervals: the bootstrap standard deviation of the summed MSE over resamples of the sample's
events (with their weights), propagated to N_eq (N_eq → ∞ when the MSE is within its noise of the
reference's, reported as inf). One standard deviation, but conservative: the resamples carry
their own multinomial noise on top of the sample's, so on truth samples (tests/test_observables.py)
the interval covers the true N about 90 % of the time rather than 68 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReferenceCells:
    """Per observable: the cell edges (from the reference's quantiles) and the reference's cell
    probabilities; ``n_reference`` its size; observables with a single cell are left out."""

    names: tuple[str, ...]
    edges: tuple[np.ndarray, ...]
    probs: tuple[np.ndarray, ...]
    n_reference: int

    @property
    def noise(self) -> np.ndarray:
        """``A_o``: the expected MSE of one truth event per observable (N events: A_o / N)."""
        return np.array([np.mean(p * (1.0 - p)) for p in self.probs])


def reference_cells(reference, names: Sequence[str], quantiles: int) -> ReferenceCells:
    """Cells at the ``quantiles``-quantiles of each column of ``reference`` (n, observables);
    repeated edges (ties) merge cells, an observable left with one cell is dropped."""
    ref = np.asarray(reference, dtype=float)
    if ref.ndim != 2 or ref.shape[1] != len(names):
        raise ValueError(f"reference of shape {ref.shape} for {len(names)} observables")
    kept, edges, probs = [], [], []
    levels = np.arange(1, int(quantiles)) / int(quantiles)
    for j, name in enumerate(names):
        e = np.unique(np.quantile(ref[:, j], levels))
        p = _fractions(ref[:, j], e, None)
        if np.count_nonzero(p) < 2:
            continue
        kept.append(name)
        edges.append(e)
        probs.append(p)
    return ReferenceCells(tuple(kept), tuple(edges), tuple(probs), len(ref))


def _fractions(x, edges, weights) -> np.ndarray:
    # side="right" as in amplification.quantiles.cell_fractions: a tie on an edge goes right
    index = np.searchsorted(edges, x, side="right")
    n = len(edges) + 1
    if weights is None:
        return np.bincount(index, minlength=n) / index.size
    return np.bincount(index, weights=weights, minlength=n) / weights.sum()


def cell_indices(cells: ReferenceCells, x, names: Sequence[str]) -> np.ndarray:
    """The cell of each event (rows of ``x``, columns ``names``) per kept observable: (n, kept)."""
    col = {n: j for j, n in enumerate(names)}
    x = np.asarray(x, dtype=float)
    return np.stack(
        [
            np.searchsorted(e, x[:, col[n]], side="right")
            for n, e in zip(cells.names, cells.edges, strict=True)
        ],
        axis=1,
    )


def observable_mse(cells: ReferenceCells, index, weights=None) -> np.ndarray:
    """The quantile MSE per kept observable of the events in cells ``index`` (n, kept)."""
    w = None if weights is None else np.asarray(weights, dtype=float)
    out = np.empty(len(cells.names))
    for o, p in enumerate(cells.probs):
        n = len(p)
        i = index[:, o]
        f = np.bincount(i, minlength=n) / i.size if w is None else np.bincount(i, w, n) / w.sum()
        out[o] = np.mean((f - p) ** 2)
    return out


def equivalent_events(cells: ReferenceCells, mse_sum) -> np.ndarray:
    """N_eq of a summed MSE: ``Σ A_o / (MSE − Σ A_o / N_ref)`` (inf at or below the floor)."""
    a = cells.noise.sum()
    excess = np.asarray(mse_sum, dtype=float) - a / cells.n_reference
    with np.errstate(divide="ignore"):
        return np.where(excess > 0, a / np.maximum(excess, np.finfo(float).tiny), np.inf)


@dataclass(frozen=True)
class Amplification:
    """A sample's worth in truth events: N_eq with its 68 % interval, and per observable."""

    n_events: int
    mse: float
    mse_sd: float
    n_eq: float
    n_eq_lo: float
    n_eq_hi: float
    n_eq_per_observable: np.ndarray

    def gain(self, n_train: int) -> tuple[float, float, float]:
        """G = N_eq / N_train with its interval."""
        return self.n_eq / n_train, self.n_eq_lo / n_train, self.n_eq_hi / n_train


def sample_amplification(
    cells: ReferenceCells,
    index,
    weights=None,
    *,
    rng: np.random.Generator,
    n_bootstrap: int = 200,
) -> Amplification:
    """N_eq of the events in cells ``index`` (:func:`cell_indices`), with ``weights`` (normalised
    here), and its bootstrap interval (:mod:`module docstring <.observables>`)."""
    index = np.asarray(index)
    n = len(index)
    mse = observable_mse(cells, index, weights)
    boot = np.empty(int(n_bootstrap))
    for b in range(len(boot)):
        pick = rng.integers(0, n, n)
        boot[b] = observable_mse(
            cells, index[pick], None if weights is None else weights[pick]
        ).sum()
    # the resamples' spread estimates the MSE's; their mean is shifted by the resampling noise
    sd = float(boot.std(ddof=1)) if len(boot) > 1 else float("nan")
    total = float(mse.sum())
    a = cells.noise
    per_obs = np.where(
        mse - a / cells.n_reference > 0,
        a / np.maximum(mse - a / cells.n_reference, np.finfo(float).tiny),
        np.inf,
    )
    lo, hi = equivalent_events(cells, total + sd), equivalent_events(cells, total - sd)
    return Amplification(
        n, total, sd, float(equivalent_events(cells, total)), float(lo), float(hi), per_obs
    )
