"""Precision, recall, density and coverage (PRDC) of a generated sample, with event weights.

CaloChallenge (arXiv:2410.21611) scores generators with ``prdc.compute_prdc`` (Naeem et al.,
arXiv:2002.09797) on log10 of the voxel energies, zeros replaced by 0.1 first, with
``nearest_k = 5``. For real (reference) points X and fake (generated) points Y, with B(x, r) the
ball around x whose radius r is the distance to x's k-th nearest neighbour in its own sample:

- precision: the fraction of fake points inside some real ball;
- recall: the fraction of real points inside some fake ball;
- density: the number of real balls holding a fake point, divided by k, averaged over fake
  points (≈ 1 for samples of the same distribution);
- coverage: the fraction of real points whose own ball holds a fake point.

Distances are Euclidean, comparisons strict (``<``), as in ``prdc``. Here everything is computed
in blocks of rows, so no n × n matrix is ever held (``prdc`` builds three).

**Weights.** No published PRDC takes event weights. Here a weight counts events: a fake point of
weight w stands for w copies of itself, so integer weights give exactly the PRDC of the sample
with each event repeated w times (weight 0: the event is absent), and real-valued weights extend
that continuously:

- precision and density are averages over fake points: they become weighted averages, Σ w a / Σ w;
- a fake point's k-NN radius is the smallest d at which the weight within d reaches k + 1,
  counting the point's own weight: w_j + Σ_{l ≠ j, d_jl ≤ d} w_l ≥ k + 1 (for w = 1 the k-th
  neighbour; for w_j ≥ k + 1 the radius is 0, as for k + 1 identical copies);
- recall and coverage count fake points by presence (weight > 0): a real point is recalled when it
  lies inside the ball of a fake point of positive weight, covered when such a point lies inside
  its own ball.

Precision and density of a weighted sample equal the expectation of the unweighted ones over
resamples drawn with probability ∝ w (any resample size). Recall and coverage are statements
about a sample's multiplicities, which a weighted sample does not have; they are exact for integer
weights and tend to the values of a large resample where that resample holds every event
(coverage). Weights should therefore be in units of events (DCTR's, normalised to mean 1, make
the weighted sample stand for as many events as it holds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

#: rows per block of the distance matrices; 512 rows against 121,000 points take 0.5 GB
BLOCK = 512


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage of a (weighted) generated sample."""

    precision: float
    recall: float
    density: float
    coverage: float
    nearest_k: int

    def as_dict(self) -> dict:
        return asdict(self)


def challenge_inputs(showers, threshold_mev: float) -> np.ndarray:
    """The challenge's PRDC inputs of showers ``(n, voxels)`` in MeV: voxels below the data set's
    threshold zeroed, zeros replaced by 0.1, log10."""
    s = np.asarray(showers, dtype=np.float64)
    s = np.where(s < threshold_mev, 0.0, s)
    return np.log10(np.where(s == 0.0, 0.1, s))


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _distances(a: np.ndarray, a2: np.ndarray, b: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` and ``b`` (``a2``, ``b2``: squared norms)."""
    d2 = a2[:, None] + b2[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(d2, 0.0))


def _blocks(n: int, block: int, progress: Callable[[Iterable], Iterable] | None):
    starts = range(0, n, block)
    return progress(starts) if progress is not None else starts


def nearest_neighbour_radii(
    x,
    nearest_k: int,
    weights=None,
    *,
    block: int = BLOCK,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> np.ndarray:
    """Each point's distance to its ``nearest_k``-th nearest neighbour in ``x`` (itself excluded);
    with ``weights``, the smallest d with w_i + Σ_{j ≠ i, d_ij ≤ d} w_j ≥ k + 1 (module docstring).
    A point whose sample does not hold that much weight gets an infinite radius."""
    x = np.asarray(x, dtype=np.float64)
    n, k = len(x), int(nearest_k)
    x2 = _squared_norms(x)
    radii = np.empty(n)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    for lo in _blocks(n, block, progress):
        hi = min(lo + block, n)
        d = _distances(x[lo:hi], x2[lo:hi], x, x2)
        rows = np.arange(hi - lo)
        d[rows, rows + lo] = np.inf  # not its own neighbour
        if w is None:
            if n - 1 < k:
                radii[lo:hi] = np.inf
            else:
                radii[lo:hi] = np.partition(d, k - 1, axis=1)[:, k - 1]
            continue
        need = (k + 1) - w[lo:hi]  # weight the other points must bring
        m = min(n - 1, 4 * (k + 1))  # candidates: the m nearest, enough for most rows
        part = np.argpartition(d, m - 1, axis=1)[:, :m] if m < n else np.argsort(d, axis=1)
        cand_d = np.take_along_axis(d, part, axis=1)
        order = np.argsort(cand_d, axis=1, kind="stable")
        cand_d = np.take_along_axis(cand_d, order, axis=1)
        cum = np.cumsum(w[np.take_along_axis(part, order, axis=1)], axis=1)
        for i in range(hi - lo):
            if need[i] <= 0:
                radii[lo + i] = 0.0
                continue
            j = int(np.searchsorted(cum[i], need[i] * (1 - 1e-12), side="left"))
            if j < cum.shape[1]:
                radii[lo + i] = cand_d[i, j]
                continue
            full = np.argsort(d[i], kind="stable")  # a row of light neighbours: all of them
            cum_full = np.cumsum(w[full])
            j = int(np.searchsorted(cum_full, need[i] * (1 - 1e-12), side="left"))
            radii[lo + i] = d[i, full[j]] if j < n and np.isfinite(d[i, full[j]]) else np.inf
    return radii


def prdc(
    real,
    fake,
    fake_weights=None,
    *,
    nearest_k: int = 5,
    real_radii=None,
    block: int = BLOCK,
    progress: Callable[[Iterable, str], Iterable] | None = None,
) -> PRDC:
    """PRDC of the ``fake`` sample (optionally weighted, weights ≥ 0 in units of events) against
    the ``real`` one, feature arrays ``(n, d)``. ``real_radii``: the real points' k-NN radii
    (:func:`nearest_neighbour_radii`), when already computed for another fake sample;
    ``progress(iterable, description)`` wraps the passes over blocks of rows when given."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"real {real.shape} and fake {fake.shape} need the same features")
    w = None
    if fake_weights is not None:
        w = np.asarray(fake_weights, dtype=np.float64).reshape(-1)
        if len(w) != len(fake):
            raise ValueError(f"{len(w)} weights for {len(fake)} generated events")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be finite, >= 0 and not all 0")
    k = int(nearest_k)

    def wrap(desc):
        return None if progress is None else (lambda it: progress(it, desc))

    if real_radii is None:
        real_radii = nearest_neighbour_radii(real, k, block=block, progress=wrap("PRDC real radii"))
    r_real = np.asarray(real_radii, dtype=np.float64)
    r_fake = nearest_neighbour_radii(fake, k, w, block=block, progress=wrap("PRDC fake radii"))
    present = np.ones(len(fake), bool) if w is None else w > 0
    real2, fake2 = _squared_norms(real), _squared_norms(fake)
    in_real_balls = np.empty(len(fake))  # per fake point: how many real balls hold it
    recalled = np.zeros(len(real), bool)
    nearest_fake = np.full(len(real), np.inf)
    for lo in _blocks(len(fake), block, wrap("PRDC real vs fake")):
        hi = min(lo + block, len(fake))
        d = _distances(fake[lo:hi], fake2[lo:hi], real, real2)  # (fake block, real)
        in_real_balls[lo:hi] = (d < r_real[None, :]).sum(axis=1)
        keep = present[lo:hi]
        if keep.any():
            dk = d[keep]
            recalled |= (dk < r_fake[lo:hi][keep][:, None]).any(axis=0)
            nearest_fake = np.minimum(nearest_fake, dk.min(axis=0))
    mean = np.mean if w is None else (lambda a: float(np.sum(w * a) / w.sum()))
    return PRDC(
        precision=float(mean(in_real_balls > 0)),
        recall=float(recalled.mean()),
        density=float(mean(in_real_balls) / k),
        coverage=float(np.mean(nearest_fake < r_real)),
        nearest_k=k,
    )
