"""The CaloChallenge's sample distances on feature vectors: FPD and KPD (arXiv:2211.10295).

The challenge computes them with ``jetnet.evaluation.fpd`` and ``kpd`` on the cls-high vector
(``ganplify.calo.features``), and quotes both × 10³. jetnet pulls in ~70 packages and an older
NumPy, so the two are written here from their definitions, with jetnet's conventions:

- features are first divided by the largest absolute value of each feature in the *truth*
  sample (a feature that is identically zero is left alone);
- **FPD**: the Fréchet distance of the Gaussians fitted to the two samples,
  d² = |μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), averaged over ``n_batches`` bootstrap batches at
  ``n_points`` batch sizes N spaced evenly in 1/N between ``min_samples`` and ``max_samples``, and
  extrapolated to 1/N → 0 by a straight-line fit (intercept and slope ≥ 0); the value is the
  intercept, the error its standard error;
- **KPD**: the unbiased estimate of MMD² with the polynomial kernel k(x, y) = (x·y/d + 1)⁴,
  in ``n_batches`` bootstrap batches of ``batch_size`` (the challenge: 10,000); the value is the
  median, the error half the 16–84 % inter-quantile range. The kernel matrices are summed in
  blocks of rows, so a batch of 10,000 needs ~100 MB, not 2.4 GB.

Weighted generated samples (after DCTR) are drawn with probability ∝ w: the distance of the
weighted sample's distribution.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """d² of two Gaussians N(μ₁, Σ₁), N(μ₂, Σ₂) (closed form)."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        eps = 1e-6 * np.eye(len(mu1))
        covmean = linalg.sqrtm((sigma1 + eps) @ (sigma2 + eps))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def normalise(x_truth, x_gen) -> tuple[np.ndarray, np.ndarray]:
    """Both samples divided by the truth's largest absolute value per feature."""
    x_truth, x_gen = np.asarray(x_truth, np.float64), np.asarray(x_gen, np.float64)
    scale = np.max(np.abs(x_truth), axis=0)
    scale[scale == 0] = 1.0
    return x_truth / scale, x_gen / scale


def _draw(n: int, size: int, rng: np.random.Generator, p=None) -> np.ndarray:
    return rng.choice(n, size=size, replace=True, p=p)


def _probabilities(w) -> np.ndarray | None:
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    return w / w.sum()


def fpd(
    x_truth,
    x_gen,
    w_gen=None,
    *,
    rng: np.random.Generator,
    min_samples: int = 20_000,
    max_samples: int = 50_000,
    n_batches: int = 20,
    n_points: int = 10,
) -> tuple[float, float]:
    """(FPD, its error) of the generated (optionally weighted) against the truth features."""
    x, y = normalise(x_truth, x_gen)
    p = _probabilities(w_gen)
    sizes = (1.0 / np.linspace(1.0 / min_samples, 1.0 / max_samples, n_points)).astype(int)
    means = []
    for size in sizes:
        vals = []
        for _ in range(n_batches):
            a, b = x[_draw(len(x), size, rng)], y[_draw(len(y), size, rng, p)]
            vals.append(
                frechet_distance(
                    a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
                )
            )
        means.append(np.mean(vals))
    params, cov = optimize.curve_fit(
        lambda inv_n, c, m: c + m * inv_n,
        1.0 / sizes,
        means,
        bounds=([0.0, 0.0], [np.inf, np.inf]),
    )
    return float(params[0]), float(np.sqrt(cov[0, 0]))


def _kernel_sum(a: np.ndarray, b: np.ndarray, block: int, same: bool) -> float:
    """Σ k(a_i, b_j) over all pairs (without the diagonal when ``same``), block by block."""
    gamma = 1.0 / a.shape[1]
    total = 0.0
    for lo in range(0, len(a), block):
        k = (a[lo : lo + block] @ b.T * gamma + 1.0) ** 4
        if same:
            rows = np.arange(lo, min(lo + block, len(a)))
            k[rows - lo, rows] = 0.0
        total += float(k.sum())
    return total


def mmd2_unbiased(a, b, *, block: int = 1000) -> float:
    """Unbiased MMD² of samples ``a`` and ``b`` with the kernel (x·y/d + 1)⁴."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    m, n = len(a), len(b)
    return (
        _kernel_sum(a, a, block, True) / (m * (m - 1))
        + _kernel_sum(b, b, block, True) / (n * (n - 1))
        - 2.0 * _kernel_sum(a, b, block, False) / (m * n)
    )


def kpd(
    x_truth,
    x_gen,
    w_gen=None,
    *,
    rng: np.random.Generator,
    n_batches: int = 10,
    batch_size: int = 10_000,
) -> tuple[float, float]:
    """(KPD, its error) of the generated (optionally weighted) against the truth features."""
    x, y = normalise(x_truth, x_gen)
    p = _probabilities(w_gen)
    vals = [
        mmd2_unbiased(x[_draw(len(x), batch_size, rng)], y[_draw(len(y), batch_size, rng, p)])
        for _ in range(n_batches)
    ]
    lo, hi = np.percentile(vals, [16.275, 83.725])
    return float(np.median(vals)), float((hi - lo) / 2.0)
