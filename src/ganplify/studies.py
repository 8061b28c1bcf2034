"""A study's configuration turned into its truth density and quantile cells.

A study (``config["studies"][name]``) names its truth, the training-sample size and the numbers of
quantiles. Jobs call :func:`truth_from_config` and :func:`quantile_edges` rather than building these
themselves, so every job of a study uses the same cells.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .quantiles import edges_from_cdf
from .truth import CamelBack

#: Directory (under ``results/{study}/``) of each approach's per-run files.
APPROACH_DIRS = {"sample": "samples", "fit": "fits", "gan": "gan", "ensemble": "ensemble"}


def truth_from_config(truth_cfg: dict):
    """The truth density described by a study's ``truth`` mapping."""
    kind = truth_cfg.get("kind")
    if kind == "camelback":
        return CamelBack(
            mu=float(truth_cfg.get("mu", 4.0)), sigma=float(truth_cfg.get("sigma", 1.0))
        )
    raise ValueError(f"truth.kind: unknown truth density {kind!r} (known: 'camelback')")


@lru_cache(maxsize=64)
def _camelback_edges(mu: float, sigma: float, n_cells: int) -> np.ndarray:
    truth = CamelBack(mu, sigma)
    return edges_from_cdf(truth.cdf, n_cells, bracket=(-mu - sigma, mu + sigma))


def quantile_edges(truth, n_cells: int) -> np.ndarray:
    """Exact inner edges of ``n_cells`` equal-probability cells of ``truth``."""
    if isinstance(truth, CamelBack):
        return _camelback_edges(truth.mu, truth.sigma, int(n_cells)).copy()
    raise TypeError(f"no quantile cells for truth {truth!r}")


def all_fractions(x, truth, quantiles) -> dict[int, np.ndarray]:
    """Cell fractions of the points ``x`` for every K in ``quantiles``."""
    from .quantiles import cell_fractions

    return {int(k): cell_fractions(x, quantile_edges(truth, k)) for k in quantiles}
