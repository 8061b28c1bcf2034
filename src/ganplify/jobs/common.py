"""What the jobs of the GANplifying study share: the truth from the config, and the per-run file.

Every per-run file (``results/{study}/{folder}/{i}.h5``, folder from the approach registry) holds a
group ``quantiles`` with one dataset ``K{K}`` per number of cells — the run's cell fractions,
``(K,)``, or ``(n_generated, K)`` for generators — and a group ``marginals`` with one dataset
``q{q}`` per number of quantiles per coordinate — the per-coordinate fractions, ``(dim, q)`` or
``(n_generated, dim, q)``. The gather reads only these, so every approach plugs into the same
tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.io import read_dataset
from ..densities.truth import CamelBack, Shell


def truth_from_config(truth_cfg: Mapping):
    """The truth density described by a study's ``truth`` mapping."""
    kind = truth_cfg.get("kind")
    if kind == "camelback":
        return CamelBack(
            mu=float(truth_cfg.get("mu", 4.0)), sigma=float(truth_cfg.get("sigma", 1.0))
        )
    if kind == "shell":
        return Shell(
            dim=int(truth_cfg["dim"]),
            r_mean=float(truth_cfg.get("r_mean", 4.0)),
            r_sigma=float(truth_cfg.get("r_sigma", 1.0)),
        )
    raise ValueError(f"truth.kind: unknown truth density {kind!r} (known: 'camelback', 'shell')")


def quantile_key(n_cells: int) -> str:
    """Dataset name of the cell fractions for ``n_cells`` quantiles."""
    return f"quantiles/K{int(n_cells)}"


def marginal_key(q: int) -> str:
    """Dataset name of the per-coordinate fractions for ``q`` quantiles per coordinate."""
    return f"marginals/q{int(q)}"


def fraction_datasets(
    cells: Mapping[int, np.ndarray], marginals: Mapping[int, np.ndarray]
) -> dict[str, np.ndarray]:
    """The ``quantiles/…`` and ``marginals/…`` datasets of a per-run file."""
    return {
        **{quantile_key(k): f for k, f in cells.items()},
        **{marginal_key(q): f for q, f in marginals.items()},
    }


def read_fractions(path, n_cells: int) -> np.ndarray:
    """Cell fractions for ``n_cells`` quantiles stored in a per-run file."""
    return read_dataset(path, quantile_key(n_cells))
