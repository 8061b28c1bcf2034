"""Where generating more stops paying: the saturation of a generator's quantile-error curve.

A generator with cell probabilities q has E[MSE(M)] = a + b / M (docs/science.md §1.3): a bias
term a, which no number of generated events removes, and multinomial noise b / M. We fit this form
to each run's curve by least squares in 1/M (linear, so closed form) and define the saturation
point as the M at which the noise term has fallen to a fraction ``f`` of the bias term:

    M_sat = b / (f · a)          (f = 0.1 by default: generating more gains at most ~10 %)

The asymptotic value a is what a very large generated sample is worth: N_eq = (K − 1) / (K² a).
"""

from __future__ import annotations

import numpy as np


def fit_bias_and_noise(n_events, mse) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fit of ``mse = a + b / n_events`` along the last axis of ``mse``.

    ``n_events``: shape ``(M,)``; ``mse``: shape ``(..., M)``. The residuals are relative (weights
    1 / mse²): the curve spans decades, and absolute residuals would let the smallest M decide
    the fit alone. Returns ``(a, b)`` with the leading shape of ``mse``.
    """
    n = np.asarray(n_events, dtype=float)
    y = np.asarray(mse, dtype=float)
    x = 1.0 / n
    w = 1.0 / np.maximum(y, np.finfo(float).tiny) ** 2
    sw, sx, sy = w.sum(-1), (w * x).sum(-1), (w * y).sum(-1)
    sxx, sxy = (w * x * x).sum(-1), (w * x * y).sum(-1)
    det = sw * sxx - sx * sx
    a = (sxx * sy - sx * sxy) / det
    b = (sw * sxy - sx * sy) / det
    return a, b


def saturation_point(a, b, fraction: float = 0.1):
    """M at which the noise term b / M is ``fraction`` of the bias term a (inf if a <= 0)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, b / (fraction * a), np.inf)
