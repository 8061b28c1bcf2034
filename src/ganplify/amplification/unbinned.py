"""The unbinned route to a generator's worth: its empirical distribution function (docs/science.md
§1.8), measured against a known truth and forecast from bootstrap members without one.

*Forecasting Generative Amplification* (arXiv:2509.08048) puts an unbinned, Kolmogorov–Smirnov-type
test beside its binned route. We take the member of that family whose expectation is exact, the
Cramér–von Mises distance of a one-dimensional sample of n events to a continuous truth F,

    W² = ∫ (F̂_n(x) − F(x))² dF(x),    E[W²] = 1/(6 n)  for events drawn from F,

so that a generator whose M events have a mean W² over training samples is worth

    N_eq(M) = 1 / (6 · mean W²)

truth events — the analogue of §1.3's equal-probability cells, with
half-lines (x ≤ t) in place of cells: ∫ F(1 − F) dF = 1/6 plays the role of (K − 1)/K².

Without the truth, B members trained on bootstrap resamples of the n_train training events give,
at L points t_l equally spaced in the members' pooled distribution, the members' mean F̂(t_l), their
spread σ²(t_l) (generation noise removed as in :mod:`ganplify.amplification.forecast`), and

    N_eq(M) = A / (1/L Σ_l [σ²(t_l) + F̂(t_l)(1 − F̂(t_l))/M]),   A = 1/L Σ_l F̂(1 − F̂) → 1/6,

with the member-bootstrap interval of
:func:`ganplify.amplification.forecast.forecast_amplification`. It assumes and
cannot see what the binned forecast assumes and cannot see: a bias the members share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .forecast import AmplificationForecast, _forecast


def cramer_von_mises(u, weights=None) -> float:
    """W² = ∫₀¹ (F̂(v) − v)² dv of the values ``u = F(x)`` of events under the truth's CDF F
    (each in [0, 1]), F̂ their empirical distribution function, weighted by ``weights`` if given.

    Exact: between neighbouring sorted values F̂ is a constant c, and ∫ (c − v)² dv is a cubic.
    For n unit-weight events its expectation is 1/(6 n)."""
    u = np.asarray(u, dtype=float).ravel()
    if u.size == 0:
        raise ValueError("cramer_von_mises needs at least one event")
    if np.any(~np.isfinite(u)) or u.min() < 0.0 or u.max() > 1.0:
        raise ValueError("cramer_von_mises: the values F(x) must lie in [0, 1]")
    w = np.ones_like(u) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != u.shape or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("cramer_von_mises: one finite non-negative weight per event, not all zero")
    order = np.argsort(u, kind="stable")
    edges = np.concatenate([[0.0], u[order], [1.0]])
    level = np.concatenate([[0.0], np.cumsum(w[order]) / w.sum()])  # F̂ on [edges_i, edges_i+1)
    return float(np.sum((edges[1:] - level) ** 3 - (edges[:-1] - level) ** 3) / 3.0)


def measured_n_equiv(runs_u: Sequence, n_generated) -> np.ndarray:
    """N_eq(M) = 1/(6 · mean W²) of a generator over its runs: ``runs_u[r]`` holds F(x) of run r's
    generated events in order, ``n_generated`` the prefix sizes M scored (each ≤ every run's
    events). The truth-sample control: ``runs_u`` of n truth events each gives N_eq ≈ n."""
    m = np.atleast_1d(np.asarray(n_generated, dtype=int))
    runs = [np.asarray(u, dtype=float).ravel() for u in runs_u]
    if not runs:
        raise ValueError("measured_n_equiv needs at least one run")
    if np.any(m < 1) or any(len(u) < m.max() for u in runs):
        raise ValueError(
            f"measured_n_equiv: prefix sizes {m.tolist()} need that many events in every run"
        )
    w2 = np.array([[cramer_von_mises(u[:k]) for k in m] for u in runs])
    return 1.0 / (6.0 * w2.mean(axis=0))


def forecast_unbinned(
    member_events: Sequence,
    n_train: int,
    n_generated,
    *,
    rng: np.random.Generator,
    exact: bool = False,
    n_points: int = 1000,
    n_resamples: int = 1000,
    confidence_level: float = 0.68,
) -> AmplificationForecast:
    """Forecast N_eq(M) and G(M) of a generator of one observable from its bootstrap members'
    events, without the truth (module docstring).

    Parameters
    ----------
    member_events : sequence of B ≥ 2 arrays
        Each member's generated values of the observable (1D).
    n_train : int
        Size of the training sample the members were resampled from.
    n_generated : array of M
        Numbers of generated events to forecast for (``np.inf``: the limit).
    rng : numpy Generator
        For the member bootstrap of the interval.
    exact : bool
        The members' arrays are their distributions themselves (e.g. the resampled training
        events of an empirical-distribution "generator"), not finite draws: no generation noise
        is removed.
    n_points : int
        The L points t_l: the (l + ½)/L quantiles of the members' pooled events.
    n_resamples, confidence_level
        Member-bootstrap replicas and the central interval's probability.

    Returns
    -------
    ganplify.amplification.forecast.AmplificationForecast
        Its "cells" are the L half-lines x ≤ t_l (``p_hat``: F̂(t_l)); its mis-specification
        term is NaN (no truth)."""
    members = [np.asarray(x, dtype=float).ravel() for x in member_events]
    if len(members) < 2 or any(x.size < 2 for x in members):
        raise ValueError("forecast_unbinned needs B >= 2 members of >= 2 events each")
    if any(not np.all(np.isfinite(x)) for x in members):
        raise ValueError("forecast_unbinned: member events must be finite")
    if int(n_train) < 1 or int(n_points) < 2:
        raise ValueError(f"n_train >= 1 and n_points >= 2, got {n_train}, {n_points}")
    m = np.atleast_1d(np.asarray(n_generated, dtype=float))
    if m.ndim != 1 or m.size == 0 or np.any(m <= 0) or np.any(np.isnan(m)):
        raise ValueError(f"n_generated must be positive numbers of events, got {n_generated!r}")
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    pooled = np.concatenate(members)
    t = np.quantile(pooled, (np.arange(int(n_points)) + 0.5) / int(n_points))
    f = np.stack([np.searchsorted(np.sort(x), t, side="right") / x.size for x in members])
    n_ev = None if exact else np.array([x.size for x in members], dtype=float)
    return _forecast(
        f,
        n_ev,
        np.zeros(t.size, dtype=int),
        m,
        int(n_train),
        rng,
        int(n_resamples),
        float(confidence_level),
    )
