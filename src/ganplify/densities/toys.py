"""The DCTR paper's toy densities (arXiv:2009.03796, Sec. III.1; docs/science.md §2.3).

All three are mixtures of isotropic Gaussians with equal weights:

- ``bimodal_1d``: ½ N(−1, 0.4) + ½ N(1, 0.4)  (eq. 12)
- ``circle_8``: eight Gaussians of width 0.1 centred at (cos 2πi/8, sin 2πi/8), i = 0 … 7  (eq. 13;
  the authors' notebook used 3.14 for π — here π)
- ``grid_5x5``: 25 Gaussians of width 0.1 centred at (i + 0.1, j + 0.1), i, j = 1 … 5  (eq. 14)

:class:`GaussianMixture` evaluates its density exactly, so a second mixture (shifted means, other
widths) is a "generator" whose density ratio to the truth is known in closed form — what the
exactness tests of the reweighting need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass(frozen=True)
class GaussianMixture:
    """Σ_c w_c N(x; μ_c, σ_c² I) in ``dim`` dimensions.

    ``means``: ``(n_components, dim)``; ``sigmas``: one width per component; ``weights``: the
    component probabilities (normalised here). Stored as tuples so that the mixture is hashable
    and immutable.
    """

    means: tuple[tuple[float, ...], ...]
    sigmas: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self):
        m = np.asarray(self.means, dtype=float)
        if m.ndim != 2 or len(self.sigmas) != len(m) or len(self.weights) != len(m):
            raise ValueError(
                f"GaussianMixture: {len(m)} means, {len(self.sigmas)} sigmas, "
                f"{len(self.weights)} weights: one of each per component"
            )
        if min(self.sigmas) <= 0 or min(self.weights) < 0 or sum(self.weights) <= 0:
            raise ValueError("GaussianMixture: sigmas must be > 0 and weights >= 0, not all 0")

    @classmethod
    def isotropic(cls, means, sigma, weights=None) -> GaussianMixture:
        """Components at ``means`` with a common width ``sigma`` (equal weights by default)."""
        m = np.atleast_2d(np.asarray(means, dtype=float))
        if m.shape[0] == 1 and np.ndim(means) == 1:
            m = m.T  # a list of 1D means
        w = np.full(len(m), 1.0) if weights is None else np.asarray(weights, dtype=float)
        return cls(tuple(map(tuple, m.tolist())), tuple([float(sigma)] * len(m)), tuple(w.tolist()))

    @property
    def dim(self) -> int:
        return len(self.means[0])

    @property
    def _arrays(self):
        w = np.asarray(self.weights, dtype=float)
        return (
            np.asarray(self.means, dtype=float),
            np.asarray(self.sigmas, dtype=float),
            w / w.sum(),
        )

    def log_pdf(self, x) -> np.ndarray:
        """log density at ``x`` of shape ``(n, dim)`` (or ``(n,)`` in 1D)."""
        x = np.asarray(x, dtype=float).reshape(-1, self.dim)
        m, s, w = self._arrays
        d2 = ((x[:, None, :] - m[None, :, :]) ** 2).sum(-1)  # (n, components)
        log_norm = -self.dim * np.log(s * np.sqrt(2.0 * np.pi))
        return logsumexp(np.log(w) + log_norm - 0.5 * d2 / s**2, axis=1)

    def pdf(self, x) -> np.ndarray:
        """Density at ``x`` of shape ``(n, dim)`` (or ``(n,)`` in 1D)."""
        return np.exp(self.log_pdf(x))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points, shape ``(n, dim)``."""
        m, s, w = self._arrays
        c = rng.choice(len(w), size=int(n), p=w)
        return m[c] + s[c, None] * rng.standard_normal((int(n), self.dim))

    def shifted(self, shift=0.0, scale: float = 1.0) -> GaussianMixture:
        """The same mixture with every mean moved by ``shift`` and every width times ``scale``."""
        m = np.asarray(self.means, dtype=float) + np.asarray(shift, dtype=float)
        return GaussianMixture(
            tuple(map(tuple, m.tolist())),
            tuple(float(s) * scale for s in self.sigmas),
            self.weights,
        )


def bimodal_1d() -> GaussianMixture:
    """½ N(−1, 0.4) + ½ N(1, 0.4)."""
    return GaussianMixture.isotropic([[-1.0], [1.0]], 0.4)


def circle_8() -> GaussianMixture:
    """Eight Gaussians of width 0.1 on the unit circle."""
    phi = 2.0 * np.pi * np.arange(8) / 8
    return GaussianMixture.isotropic(np.stack([np.cos(phi), np.sin(phi)], axis=1), 0.1)


def grid_5x5() -> GaussianMixture:
    """25 Gaussians of width 0.1 at (i + 0.1, j + 0.1), i, j = 1 … 5."""
    i, j = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    centres = np.stack([i.ravel() + 0.1, j.ravel() + 0.1], axis=1)
    return GaussianMixture.isotropic(centres, 0.1)


#: The paper's toys by name (the config's ``dctr_toys.run``).
TOYS = {"bimodal_1d": bimodal_1d, "circle_8": circle_8, "grid_5x5": grid_5x5}
