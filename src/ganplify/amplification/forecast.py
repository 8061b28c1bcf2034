"""Forecasting a generator's amplification from its own uncertainty (docs/science.md §1.7).

The recipe of *Forecasting Generative Amplification* (Bahl, Diefenbacher, Elmer, Plehn, Spinner;
arXiv:2509.08048, SciPost Phys. 20, 150), "averaging amplification" with an ensemble, in the
terms of this project. B generators (*members*) are trained on bootstrap resamples of one training
sample of n_train events. Per quantile cell j, member m puts probability q_mj there (exactly, or
as the fraction f_mj of its N_m generated events). The members' mean p̂_j estimates the cell's
probability, their spread σ²_j the variance of a generator's q_j over training samples — the
statistical precision that n_train events allow. M events of a generator with that variance and
no bias have the expected squared error σ²_j + p̂_j(1 − p̂_j)/M in cell j, the error of

    n_equiv_j(M) = p̂_j(1 − p̂_j) / (σ²_j + p̂_j(1 − p̂_j) / M)

truth events. Over a grid of K cells (§1.3's statistic) the forecast mean squared error is
``mse(M) = (1/K) Σ_j [σ²_j + p̂_j(1 − p̂_j)/M]``, worth ``N_eq(M) = A / mse(M)`` truth events with
``A = (1/K) Σ_j p̂_j(1 − p̂_j)`` (= (K − 1)/K² for equal cells: §1.3's N_eq), and
G(M) = N_eq(M) / n_train. Several cell grids at once (a calorimeter's observables, ``groups``)
add up as in :mod:`.observables`: N_eq = Σ_g A_g / Σ_g mse_g.

What it cannot see: a bias common to all members (the architecture cannot represent the truth,
training stops short, the bootstrap's duplicated points shift every member alike). Where the truth's
cell probabilities p_j are known, :attr:`AmplificationForecast.misspecification` estimates that
part, ``(1/K) Σ_j [(p̂_j − p_j)² − σ²_j (1 + 1/B) − ν_j]`` (ν_j: the generated events' noise in
p̂_j), whose expectation is the members' mean squared bias.

Details that matter:

- Finite generated samples. A member's fraction f_mj scatters around q_mj by q(1 − q)/N_m, which
  would pass for spread; it is subtracted with its unbiased estimate f(1 − f)/(N_m − 1).
- σ²_j is kept unclipped (a small negative value where the generation noise dominates) so that
  sums over cells stay unbiased; only the per-cell n_equiv_j uses max(σ²_j, 0).
- Interval: a percentile bootstrap over the members — B members drawn with replacement, the whole
  estimate recomputed, each replica's raw spread scaled by B/(B − 1) so that the replicas centre on
  the estimate rather than below it. It measures how well B members pin down the spread, nothing
  else: not the training sample's luck (another sample gives another forecast) and not the
  mis-specification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class AmplificationForecast:
    """A forecast of N_eq(M) and G(M) from an ensemble of generators (module docstring).

    Per cell (last axis K, in the order of the input): ``p_hat``, ``spread`` (σ², generation noise
    removed, unclipped), ``generation_noise`` (what was removed), ``n_equiv_cells`` (nM, K).
    Per M (``n_generated``, may hold ``inf``): ``mse``, ``n_equiv`` with ``n_equiv_lo`` …
    ``n_equiv_hi``. ``noise_scale``: A = Σ_g A_g; ``mse_replicas`` (R, nM) and
    ``noise_replicas`` (R,): the member bootstrap's replicas (for combining runs).
    ``misspecification``: in MSE units, summed over groups as ``mse`` is (NaN without a truth).
    """

    n_train: int
    n_members: int
    n_generated: np.ndarray
    groups: np.ndarray
    p_hat: np.ndarray
    spread: np.ndarray
    generation_noise: np.ndarray
    noise_scale: float
    mse: np.ndarray
    n_equiv: np.ndarray
    n_equiv_lo: np.ndarray
    n_equiv_hi: np.ndarray
    n_equiv_cells: np.ndarray
    mse_replicas: np.ndarray
    noise_replicas: np.ndarray
    confidence_level: float
    truth_probs: np.ndarray | None = None
    misspecification: float = float("nan")

    @property
    def amplification(self) -> np.ndarray:
        """G(M) = N_eq(M) / n_train."""
        return self.n_equiv / self.n_train

    @property
    def amplification_lo(self) -> np.ndarray:
        return self.n_equiv_lo / self.n_train

    @property
    def amplification_hi(self) -> np.ndarray:
        return self.n_equiv_hi / self.n_train

    @property
    def spread_mse(self) -> float:
        """The M → ∞ limit of ``mse``: the spread term Σ_g (1/K_g) Σ_j σ²_j."""
        return float(_group_mean(self.spread, self.groups).sum())

    @property
    def n_equiv_limit(self) -> float:
        """N_eq of infinitely many generated events: A / spread term (inf for no spread)."""
        s = self.spread_mse
        return self.noise_scale / s if s > 0 else float("inf")

    def n_equiv_with_misspecification(self) -> np.ndarray:
        """N_eq(M) had the forecast seen the mis-specification term too: A / (mse + misspec),
        what the truth says the generator is worth (NaN without a truth). A negative estimate
        (the members' mean closer to the truth than their spread allows: the spread over-counts
        the error, e.g. members on resamples vary more than generators on fresh samples) adds
        nothing: a squared bias is not negative."""
        return self.noise_scale / (self.mse + max(self.misspecification, 0.0))


def _group_mean(values, groups) -> np.ndarray:
    """(1/K_g) Σ_{j in g} values_j along the last axis, per group: shape (..., n_groups)."""
    values = np.asarray(values, dtype=float)
    ids = np.unique(groups)
    return np.stack([values[..., groups == g].mean(axis=-1) for g in ids], axis=-1)


def _moments(f, n_events, groups):
    """p̂, raw spread s² (ddof 1), generation noise of the spread and of p̂, and A, of member
    fractions ``f`` (..., B, K); leading axes are replicas."""
    b = f.shape[-2]
    p_hat = f.mean(axis=-2)
    raw = f.var(axis=-2, ddof=1)
    if n_events is None:
        noise_m = np.zeros_like(f)
    else:
        noise_m = f * (1.0 - f) / (n_events[..., None] - 1.0)
    gen_noise = noise_m.mean(axis=-2)  # E[q(1 − q)/N] averaged over members
    p_hat_noise = noise_m.sum(axis=-2) / b**2
    a = _group_mean(p_hat * (1.0 - p_hat), groups).sum(axis=-1)
    return p_hat, raw, gen_noise, p_hat_noise, a


def _mse(spread, p_hat, groups, m) -> np.ndarray:
    """Σ_g (1/K_g) Σ_j [σ²_j + p̂_j(1 − p̂_j)/M] for every M: shape (..., nM)."""
    with np.errstate(divide="ignore"):
        inv_m = np.where(np.isinf(m), 0.0, 1.0 / m)
    pq = p_hat * (1.0 - p_hat)
    per_cell = spread[..., None, :] + pq[..., None, :] * inv_m[:, None]
    return _group_mean(per_cell, groups).sum(axis=-1)


def forecast_amplification(
    member_probs,
    n_train: int,
    n_generated,
    *,
    rng: np.random.Generator,
    n_member_events=None,
    groups=None,
    truth_probs=None,
    n_resamples: int = 1000,
    confidence_level: float = 0.68,
) -> AmplificationForecast:
    """Forecast N_eq(M) and G(M) of a generator from an ensemble of its bootstrap members.

    Parameters
    ----------
    member_probs : array (B, K)
        Each member's probability of each cell (exact), or its fraction of ``n_member_events``
        generated events. B ≥ 2. Cells of several grids may be concatenated (``groups``).
    n_train : int
        Size of the training sample the members were resampled from.
    n_generated : array of M
        Numbers of generated events to forecast for (``np.inf``: the limit).
    rng : numpy Generator
        For the member bootstrap of the interval.
    n_member_events : int or array (B,), optional
        Events behind each member's fractions; None: ``member_probs`` are exact probabilities.
    groups : array (K,), optional
        Label of the cell grid each cell belongs to (each grid sums to 1 per member); default:
        one grid.
    truth_probs : array (K,), optional
        The truth's cell probabilities, where known: gives the mis-specification term.
    n_resamples, confidence_level
        Member-bootstrap replicas and the central interval's probability.
    """
    f = np.asarray(member_probs, dtype=float)
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 2:
        raise ValueError(f"member_probs must be (B >= 2 members, K >= 2 cells), got {f.shape}")
    if not np.all(np.isfinite(f)) or f.min() < 0 or f.max() > 1:
        raise ValueError("member_probs must be probabilities in [0, 1]")
    b, k = f.shape
    g = np.zeros(k, dtype=int) if groups is None else np.asarray(groups)
    if g.shape != (k,):
        raise ValueError(f"groups must have one label per cell ({k}), got shape {g.shape}")
    sums = np.stack([f[:, g == label].sum(axis=1) for label in np.unique(g)], axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        raise ValueError(
            "each member's probabilities must sum to 1 over each cell grid; got sums "
            f"{np.unique(np.round(sums, 6))[:5]}"
        )
    if int(n_train) < 1:
        raise ValueError(f"n_train must be >= 1, got {n_train}")
    m = np.atleast_1d(np.asarray(n_generated, dtype=float))
    if m.ndim != 1 or m.size == 0 or np.any(m <= 0) or np.any(np.isnan(m)):
        raise ValueError(f"n_generated must be positive numbers of events, got {n_generated!r}")
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    n_ev = None
    if n_member_events is not None:
        n_ev = np.broadcast_to(np.asarray(n_member_events, dtype=float), (b,)).copy()
        if np.any(n_ev < 2):
            raise ValueError(f"n_member_events must be >= 2 per member, got {n_member_events!r}")

    truth = None
    if truth_probs is not None:
        truth = np.asarray(truth_probs, dtype=float)
        if truth.shape != (k,):
            raise ValueError(
                f"truth_probs must have one probability per cell ({k}), got {truth.shape}"
            )
    return _forecast(
        f, n_ev, g, m, int(n_train), rng, int(n_resamples), float(confidence_level), truth
    )


def _forecast(f, n_ev, g, m, n_train, rng, n_resamples, confidence_level, truth=None):
    """The forecast of validated member fractions ``f`` (B, K) with their events ``n_ev`` (None:
    exact), cell-grid labels ``g`` and M values ``m``: moments, per-cell N_eq, the member
    bootstrap's interval and, with ``truth``, the mis-specification term."""
    b = f.shape[0]
    p_hat, raw, gen_noise, p_hat_noise, a = _moments(f, n_ev, g)
    a = float(a)
    spread = raw - gen_noise
    mse = _mse(spread, p_hat, g, m)
    n_equiv = _ratio(a, mse)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_m = np.where(np.isinf(m), 0.0, 1.0 / m)
        pq = p_hat * (1.0 - p_hat)
        cells = pq[None, :] / (np.maximum(spread, 0.0)[None, :] + pq[None, :] * inv_m[:, None])

    # the member bootstrap, vectorised over replicas in batches of ~10^7 numbers
    mse_rep = np.empty((n_resamples, m.size))
    a_rep = np.empty(n_resamples)
    step = max(1, 10_000_000 // (b * f.shape[1]))
    for lo_r in range(0, n_resamples, step):
        r = slice(lo_r, min(lo_r + step, n_resamples))
        pick = rng.integers(0, b, (r.stop - r.start, b))
        ph, rw, gn, _, a_rep[r] = _moments(f[pick], None if n_ev is None else n_ev[pick], g)
        mse_rep[r] = _mse(rw * b / (b - 1.0) - gn, ph, g, m)
    lo, hi = _interval(a_rep, mse_rep, confidence_level)

    misspec = float("nan")
    if truth is not None:
        excess = (p_hat - truth) ** 2 - spread * (1.0 + 1.0 / b) - p_hat_noise
        misspec = float(_group_mean(excess, g).sum())
    return AmplificationForecast(
        n_train=n_train,
        n_members=b,
        n_generated=m,
        groups=g,
        p_hat=p_hat,
        spread=spread,
        generation_noise=gen_noise,
        noise_scale=a,
        mse=mse,
        n_equiv=n_equiv,
        n_equiv_lo=lo,
        n_equiv_hi=hi,
        n_equiv_cells=cells,
        mse_replicas=mse_rep,
        noise_replicas=a_rep,
        confidence_level=confidence_level,
        truth_probs=truth,
        misspecification=misspec,
    )


def _ratio(a, mse) -> np.ndarray:
    """A / mse, inf where the forecast error is not positive."""
    mse = np.asarray(mse, dtype=float)
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mse > 0, a / np.where(mse > 0, mse, 1.0), np.inf)


def _interval(a_rep, mse_rep, confidence_level) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of N_eq = A/mse over the replicas, taken on mse/A (finite, and
    monotone in N_eq) so that replicas with no positive error (N_eq = inf) order correctly."""
    alpha = 0.5 * (1.0 - confidence_level)
    ratio = np.asarray(mse_rep, dtype=float) / np.asarray(a_rep, dtype=float)[:, None]
    r_lo, r_hi = np.quantile(ratio, [alpha, 1.0 - alpha], axis=0)
    return _ratio(1.0, r_hi), _ratio(1.0, r_lo)


def combine_forecasts(forecasts: Sequence[AmplificationForecast]) -> AmplificationForecast:
    """The forecast of several independent training samples (runs) of the same study: mean
    forecast error and A over runs, N_eq = mean A / mean mse (as §1.3's N_eq of a mean MSE), the
    interval from the runs' replicas averaged replica by replica (independent runs), per-cell
    arrays and the mis-specification term averaged."""
    fs = list(forecasts)
    if not fs:
        raise ValueError("combine_forecasts: no forecasts")
    first = fs[0]
    for other in fs[1:]:
        if (
            other.n_generated.shape != first.n_generated.shape
            or not np.array_equal(other.n_generated, first.n_generated)
            or other.p_hat.shape != first.p_hat.shape
            or other.mse_replicas.shape != first.mse_replicas.shape
        ):
            raise ValueError("combine_forecasts: forecasts differ in M, cells or replicas")
    if len(fs) == 1:
        return first
    mean = lambda name: np.mean([getattr(x, name) for x in fs], axis=0)  # noqa: E731
    a, mse = float(mean("noise_scale")), mean("mse")
    mse_rep, a_rep = mean("mse_replicas"), mean("noise_replicas")
    lo, hi = _interval(a_rep, mse_rep, first.confidence_level)
    return replace(
        first,
        p_hat=mean("p_hat"),
        spread=mean("spread"),
        generation_noise=mean("generation_noise"),
        noise_scale=a,
        mse=mse,
        n_equiv=_ratio(a, mse),
        n_equiv_lo=lo,
        n_equiv_hi=hi,
        n_equiv_cells=mean("n_equiv_cells"),
        mse_replicas=mse_rep,
        noise_replicas=a_rep,
        truth_probs=first.truth_probs,
        misspecification=float(mean("misspecification")),
    )
