"""Truth densities of the GANplifying study (SPEC §1.1).

The 1D camel back is p(x) = ½ N(x; −μ, σ) + ½ N(x; +μ, σ) with μ = 4, σ = 1. It is a special case
of the two-Gaussian mixture that the 5-parameter fit uses, so both share :func:`mixture_pdf` and
:func:`mixture_cdf`: the truth and the fit model cannot drift apart.

All samplers return arrays of shape ``(n, dim)`` — the layout generators produce — even in 1D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def normal_pdf(x, mu, sigma):
    """Density of N(mu, sigma) at x."""
    z = (np.asarray(x, dtype=float) - mu) / sigma
    return np.exp(-0.5 * z * z) / (_SQRT_2PI * sigma)


def normal_cdf(x, mu, sigma):
    """Cumulative distribution of N(mu, sigma) at x."""
    return ndtr((np.asarray(x, dtype=float) - mu) / sigma)


def mixture_pdf(x, mu1, sigma1, mu2, sigma2, frac):
    """Two-Gaussian mixture density ``frac·N(mu1, sigma1) + (1 − frac)·N(mu2, sigma2)``.

    The argument order is the fit's parameter order (iminuit reads the names from the signature).
    """
    return frac * normal_pdf(x, mu1, sigma1) + (1.0 - frac) * normal_pdf(x, mu2, sigma2)


def mixture_cdf(x, mu1, sigma1, mu2, sigma2, frac):
    """Cumulative distribution of :func:`mixture_pdf`."""
    return frac * normal_cdf(x, mu1, sigma1) + (1.0 - frac) * normal_cdf(x, mu2, sigma2)


@dataclass(frozen=True)
class CamelBack:
    """The 1D camel back ½N(−mu, sigma) + ½N(+mu, sigma) of arXiv:2008.06545, eq. (1)."""

    mu: float = 4.0
    sigma: float = 1.0

    dim = 1

    def __post_init__(self):
        if not self.sigma > 0:
            raise ValueError(f"CamelBack: sigma must be positive, got {self.sigma!r}")

    @property
    def parameters(self) -> dict[str, float]:
        """The truth in the fit's parametrisation (mu1, sigma1, mu2, sigma2, frac)."""
        return {
            "mu1": -self.mu,
            "sigma1": self.sigma,
            "mu2": self.mu,
            "sigma2": self.sigma,
            "frac": 0.5,
        }

    def pdf(self, x):
        """Density at x (any shape)."""
        return mixture_pdf(x, **self.parameters)

    def cdf(self, x):
        """Cumulative distribution at x (any shape)."""
        return mixture_cdf(x, **self.parameters)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points, shape ``(n, 1)``."""
        if n < 0:
            raise ValueError(f"CamelBack.sample: n must be >= 0, got {n}")
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        x = sign * self.mu + self.sigma * rng.standard_normal(n)
        return x[:, None]
