"""Per-run quantile fractions gathered into quantile errors and equivalence tables.

The table written to ``results/{study}/equivalent_events.csv`` has exactly the columns
:data:`EQUIVALENCE_COLUMNS`, one row per (approach, K). Later stages and external checks read this
contract; add a new file rather than a column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .equivalence import amplification, bootstrap_equivalent_events, equivalent_events
from .quantiles import quantile_mse

EQUIVALENCE_COLUMNS = [
    "approach",
    "n_train",
    "K",
    "n_runs",
    "mse_mean",
    "mse_std",
    "n_equiv",
    "n_equiv_lo",
    "n_equiv_hi",
    "amplification",
]


def equivalence_rows(
    approach: str,
    n_train: int,
    mse_by_k: dict[int, np.ndarray],
    *,
    rng_for: Callable[[int], np.random.Generator],
    n_resamples: int = 1000,
    confidence_level: float = 0.68,
) -> list[dict]:
    """One table row per K from the per-run MSEs of one approach.

    ``mse_by_k[K]`` holds one MSE per run (independent training sample). ``rng_for(K)`` gives the
    bootstrap's generator, so that every row's interval is reproducible on its own.
    """
    rows = []
    for k in sorted(mse_by_k):
        m = np.asarray(mse_by_k[k], dtype=float)
        m = m[np.isfinite(m)]
        if m.size == 0:
            raise ValueError(f"approach {approach!r}, K={k}: no finite quantile MSE among the runs")
        n_eq, lo, hi = bootstrap_equivalent_events(
            m, k, rng=rng_for(k), n_resamples=n_resamples, confidence_level=confidence_level
        )
        rows.append(
            {
                "approach": approach,
                "n_train": int(n_train),
                "K": int(k),
                "n_runs": int(m.size),
                "mse_mean": float(m.mean()),
                "mse_std": float(m.std(ddof=1)) if m.size > 1 else float("nan"),
                "n_equiv": n_eq,
                "n_equiv_lo": lo,
                "n_equiv_hi": hi,
                "amplification": float(amplification(n_eq, n_train)),
            }
        )
    return rows


MARGINAL_COLUMNS = ["approach", "q", "coordinate", "n_runs", "mse_mean", "mse_std", "n_equiv"]


def marginal_rows(approach: str, marginal_mse: np.ndarray, qs: Sequence[int]) -> list[dict]:
    """Per-coordinate quantile errors: ``marginal_mse`` of shape ``(n_runs, n_q, dim)``.

    Coordinate 0 is x (1D) or the radius r; 1 … dim−1 are the angles φ_1 … φ_{dim−1}. ``n_equiv``
    is the number of truth events whose expected error in that coordinate's q cells is the mean.
    """
    rows = []
    m = np.asarray(marginal_mse, dtype=float)
    for a, q in enumerate(qs):
        for c in range(m.shape[2]):
            v = m[:, a, c]
            v = v[np.isfinite(v)]
            rows.append(
                {
                    "approach": approach,
                    "q": int(q),
                    "coordinate": "r"
                    if (c == 0 and m.shape[2] > 1)
                    else ("x" if c == 0 else f"phi{c}"),
                    "n_runs": int(v.size),
                    "mse_mean": float(v.mean()),
                    "mse_std": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                    "n_equiv": float(equivalent_events(v.mean(), q)),
                }
            )
    return rows


def reference_mse(
    sample: Callable[[int, np.random.Generator], np.ndarray],
    fractions: Callable[[np.ndarray], Sequence[np.ndarray]],
    sizes: Sequence[int],
    n_repeats: int,
    rng_for: Callable[[int], np.random.Generator],
) -> np.ndarray:
    """Quantile MSE of truth samples: shape ``(len(sizes), n_repeats, n_K)``.

    ``fractions(x)`` returns the cell fractions of the points x for each of the n_K cell grids.
    These are the "sample" curves of Fig. 2: what N truth events achieve, by Monte Carlo, to be
    drawn next to the exact expectation (K − 1) / (K² N).
    """
    rows = []
    for n in sizes:
        gen = rng_for(int(n))
        rows.append(
            [[quantile_mse(f) for f in fractions(sample(int(n), gen))] for _ in range(n_repeats)]
        )
    return np.array(rows, dtype=float)


def stack_runs(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """Stack per-run arrays along a new first axis, with a clear error on a shape mismatch."""
    arrays = [np.asarray(a) for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"per-run arrays differ in shape: {sorted(shapes)}")
    return np.stack(arrays)
