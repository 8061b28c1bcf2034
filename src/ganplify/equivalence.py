"""From quantile errors to event counts (SPEC §1.3).

For N truth events the K cell counts are multinomial with p_j = 1/K, so the quantile MSE has the
exact expectation (K − 1) / (K² N). Inverting it turns any estimate's mean MSE m into the number of
truth events it is worth, N_eq = (K − 1) / (K² m), and the amplification G = N_eq / N_train.
"""

from __future__ import annotations

import numpy as np


def expected_mse_sample(n_cells, n_events):
    """E[quantile MSE] of ``n_events`` truth events in ``n_cells`` equal-probability cells."""
    k = np.asarray(n_cells, dtype=float)
    return (k - 1.0) / (k * k * np.asarray(n_events, dtype=float))


def expected_mse_generated(cell_probs, n_events):
    """E[quantile MSE] of ``n_events`` drawn from a model with cell probabilities ``cell_probs``.

    ``(1/K) Σ (q_j − 1/K)² + (1/K) Σ q_j (1 − q_j) / M``: the model's bias term, which a large
    generated sample saturates at, plus the multinomial noise, which falls like 1/M.
    """
    q = np.asarray(cell_probs, dtype=float)
    k = q.shape[-1]
    bias = np.mean((q - 1.0 / k) ** 2, axis=-1)
    noise = np.sum(q * (1.0 - q), axis=-1) / k
    return bias + noise / np.asarray(n_events, dtype=float)


def equivalent_events(mse, n_cells):
    """Number of truth events whose expected quantile MSE equals ``mse``: (K − 1) / (K² · mse)."""
    k = np.asarray(n_cells, dtype=float)
    m = np.asarray(mse, dtype=float)
    with np.errstate(divide="ignore"):
        return (k - 1.0) / (k * k * m)


def amplification(n_equiv, n_train):
    """Amplification factor G = N_eq / N_train."""
    return np.asarray(n_equiv, dtype=float) / float(n_train)


def bootstrap_equivalent_events(
    mse_runs,
    n_cells: int,
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    confidence_level: float = 0.68,
) -> tuple[float, float, float]:
    """N_eq of the mean MSE over runs, with a percentile bootstrap interval over the runs.

    The runs (independent training samples) are resampled with replacement; each resample's mean
    MSE is turned into N_eq. Returns ``(n_equiv, lo, hi)``. With fewer than two runs the interval
    is undefined and returned as NaN.
    """
    m = np.asarray(mse_runs, dtype=float)
    if m.ndim != 1 or m.size == 0:
        raise ValueError(f"mse_runs must be a non-empty 1D array, got shape {m.shape}")
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    n_equiv = float(equivalent_events(m.mean(), n_cells))
    if m.size < 2:
        return n_equiv, float("nan"), float("nan")
    idx = rng.integers(0, m.size, size=(n_resamples, m.size))
    boot = equivalent_events(m[idx].mean(axis=1), n_cells)
    alpha = 0.5 * (1.0 - confidence_level)
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return n_equiv, float(lo), float(hi)
