"""From quantile errors to event counts (docs/science.md §1.3).

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


def weighted_cell_moments(cells, weights, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample estimates of a weighted generator's cell moments (see
    :func:`expected_mse_weighted`): ``q̃_j = Σ_{i in j} w_i / Σ w`` and
    ``c_j = N Σ_{i in j} w_i² / (Σ w)²`` from events in cells ``cells`` (indices) with ``weights``.
    """
    cells = np.asarray(cells)
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    q = np.bincount(cells, weights=w, minlength=n_cells) / total
    c = w.size * np.bincount(cells, weights=w * w, minlength=n_cells) / total**2
    return q, c


def expected_mse_weighted(q_weighted, c, n_events):
    """E[quantile MSE] of ``n_events`` *weighted* events.

    Events x ~ p_G carry weights w(x); the weighted fraction in cell j is the ratio
    F_j = Σ_i w_i 1_j(x_i) / Σ_i w_i. With μ = E_G[w], its large-M expectation is the weighted
    model's cell probability q̃_j = E_G[w 1_j] / μ, and by the delta method

        Var F_j ≈ E_G[(w/μ)² (1_j − q̃_j)²] / M = [c_j (1 − 2 q̃_j) + q̃_j² C] / M,

    with the normalised second moments c_j = E_G[w² 1_j] / μ² and C = Σ_j c_j = E[w²]/E[w]²
    (= N / N_eff). Hence

        E[MSE_w(M)] = (1/K) Σ_j (q̃_j − 1/K)² + (1/(K M)) Σ_j [c_j (1 − 2 q̃_j) + q̃_j² C],

    a bias term and a noise term falling like 1/M, as for unweighted events — the weights enlarge
    the noise by their variance. With w ≡ 1 (c_j = q_j, C = 1) this is
    :func:`expected_mse_generated`. Corrections are O(1/M²).
    """
    q = np.asarray(q_weighted, dtype=float)
    c = np.asarray(c, dtype=float)
    k = q.shape[-1]
    big_c = c.sum(axis=-1, keepdims=True)
    bias = np.mean((q - 1.0 / k) ** 2, axis=-1)
    noise = np.sum(c * (1.0 - 2.0 * q) + q * q * big_c, axis=-1) / k
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
