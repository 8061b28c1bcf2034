"""Truth densities of the GANplifying study (docs/science.md §1.1).

The 1D camel back is p(x) = ½ N(x; −μ, σ) + ½ N(x; +μ, σ) with μ = 4, σ = 1. It is a special case
of the two-Gaussian mixture that the 5-parameter fit uses, so both share :func:`mixture_pdf` and
:func:`mixture_cdf`: the truth and the fit model cannot drift apart.

The 2D ring and the n-D spherical shell (:class:`Shell`) generalise the camel back: a radius
|N(4, 1)| times a uniform direction.

All samplers return arrays of shape ``(n, dim)`` — the layout generators produce — even in 1D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, betaincinv, gamma, ndtr

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


def folded_normal_pdf(r, mu, sigma):
    """Density of |N(mu, sigma)| at r >= 0 (zero for r < 0)."""
    r = np.asarray(r, dtype=float)
    return np.where(r >= 0, normal_pdf(r, mu, sigma) + normal_pdf(r, -mu, sigma), 0.0)


def folded_normal_cdf(r, mu, sigma):
    """Cumulative distribution of |N(mu, sigma)|."""
    r = np.asarray(r, dtype=float)
    return np.where(r > 0, normal_cdf(r, mu, sigma) - normal_cdf(-r, mu, sigma), 0.0)


def sine_power_cdf(phi, power):
    """CDF of the density ∝ sin^power(φ) on [0, π] (the polar angles of a uniform direction).

    With u = (1 − cos φ)/2 the density becomes a Beta((power+1)/2, (power+1)/2) density in u, so
    the CDF is a regularised incomplete beta function — exact, no numerical integration.
    """
    a = 0.5 * (power + 1.0)
    u = 0.5 * (1.0 - np.cos(np.clip(np.asarray(phi, dtype=float), 0.0, np.pi)))
    return betainc(a, a, u)


def sine_power_ppf(p, power):
    """Inverse of :func:`sine_power_cdf`."""
    a = 0.5 * (power + 1.0)
    return np.arccos(1.0 - 2.0 * betaincinv(a, a, np.asarray(p, dtype=float)))


@dataclass(frozen=True)
class Shell:
    """The n-dimensional spherical shell x = r·u of arXiv:2008.06545 (SciPost version, Sec. 3–4).

    u is uniform on the unit sphere S^{n−1} and r ~ |N(r_mean, r_sigma)| (the paper's |N(4, 1)|).
    n = 1 is exactly the camel back: ±|N(4, 1)| has density ½N(−4, 1) + ½N(4, 1).

    In hyperspherical coordinates (r, φ_1 … φ_{n−1}) — see
    :func:`ganplify.amplification.quantiles.to_hyperspherical` — the coordinates are independent
    under this density: r follows the folded normal, φ_k (k ≤ n − 2) has density
    ∝ sin^{n−1−k}(φ_k) on [0, π], and the last angle is uniform on [0, 2π).
    """

    dim: int = 2
    r_mean: float = 4.0
    r_sigma: float = 1.0

    def __post_init__(self):
        if int(self.dim) != self.dim or self.dim < 2:
            raise ValueError(f"Shell: dim must be an integer >= 2, got {self.dim!r}")
        if not self.r_sigma > 0:
            raise ValueError(f"Shell: r_sigma must be positive, got {self.r_sigma!r}")

    @property
    def parameters(self) -> dict[str, float]:
        """The truth in the radial fit's parametrisation."""
        return {"r_mean": self.r_mean, "r_sigma": self.r_sigma}

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points, shape ``(n, dim)``."""
        u = rng.standard_normal((n, self.dim))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        r = np.abs(self.r_mean + self.r_sigma * rng.standard_normal(n))
        return r[:, None] * u

    def pdf(self, x) -> np.ndarray:
        """Density in Cartesian coordinates, x of shape ``(..., dim)``."""
        x = np.asarray(x, dtype=float)
        r = np.linalg.norm(x, axis=-1)
        area = 2.0 * np.pi ** (0.5 * self.dim) / gamma(0.5 * self.dim)  # |S^{n−1}|
        with np.errstate(divide="ignore"):
            return folded_normal_pdf(r, self.r_mean, self.r_sigma) / (area * r ** (self.dim - 1))

    def marginal_cdf(self, coordinate: int, value):
        """CDF of hyperspherical coordinate ``coordinate`` (0: r, 1 … dim−1: the angles)."""
        n = self.dim
        if coordinate == 0:
            return folded_normal_cdf(value, self.r_mean, self.r_sigma)
        if coordinate == n - 1:
            return np.clip(np.asarray(value, dtype=float) / (2.0 * np.pi), 0.0, 1.0)
        return sine_power_cdf(value, n - 1 - coordinate)

    def marginal_pdf(self, coordinate: int, value):
        """Density of hyperspherical coordinate ``coordinate`` (0: r, 1 … dim−1: the angles)."""
        n = self.dim
        v = np.asarray(value, dtype=float)
        if coordinate == 0:
            return folded_normal_pdf(v, self.r_mean, self.r_sigma)
        if coordinate == n - 1:
            return np.where((v >= 0) & (v < 2.0 * np.pi), 1.0 / (2.0 * np.pi), 0.0)
        power = n - 1 - coordinate
        norm = np.sqrt(np.pi) * gamma(0.5 * (power + 1)) / gamma(0.5 * power + 1)  # ∫ sin^p
        return np.where((v >= 0) & (v <= np.pi), np.sin(np.clip(v, 0, np.pi)) ** power / norm, 0.0)

    def marginal_ppf(self, coordinate: int, p):
        """Quantile function of the angular coordinates (the radius uses root finding)."""
        n = self.dim
        if coordinate == n - 1:
            return 2.0 * np.pi * np.asarray(p, dtype=float)
        if 1 <= coordinate <= n - 2:
            return sine_power_ppf(p, n - 1 - coordinate)
        raise ValueError("the radius has no closed-form quantile function; use edges_from_cdf")
