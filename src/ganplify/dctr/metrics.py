"""The statistics of weighted events: fidelity (S², AUC, JSD) and dilution (r, eq. 9, N_eff).

- Separation power, arXiv:2009.03796 eq. 15: S² = ½ Σ_i (h1_i − h2_i)² / (h1_i + h2_i) with both
  histograms normalised to Σh = 1, so that S² = 0 for identical and 1 for disjoint histograms.
  (The authors' notebook used ``np.histogram(density=True)``, which scales S² by 1/bin width;
  CaloChallenge notes that eq. 15 needs Σh = 1. We use Σh = 1.)
- Dilution r: the standard deviation of the weighted mean of an observable in the generated
  sample over that in the truth sample, both from a Poisson(1) bootstrap (replica weights
  Poisson(1) × w, 200 replicas in the paper). r ≈ 1 for unweighted samples of equal size and
  r² ≈ N_eff(truth) / N_eff(generated) for weights independent of the observable.
- Eq. 9: the generated events needed to match N_T truth events for observable f,
  N_G / N_T = ∫p_T W δf² / ∫p_T δf² with δf = f − f̄, from sample averages: the numerator is
  (1/N_G) Σ_G W² δf² (since p_T W = p_G W²), the denominator (1/N_T) Σ_T δf².
- AUC of a truth-vs-generated classifier (weighted, ties counted half) and the JSD estimate
  (ln 2 − BCE)/ln 2 of its calibrated outputs (CaloChallenge's metric): 0.5 and 0 when the
  classifier cannot tell the samples apart.
"""

from __future__ import annotations

import numpy as np

from .weights import balanced_weights


def normalised_histogram(x, bins, weights=None) -> np.ndarray:
    """Histogram of ``x`` with ``bins`` (edges), normalised to Σh = 1 (under/overflow dropped)."""
    h, _ = np.histogram(np.asarray(x, dtype=float), bins=bins, weights=weights)
    total = h.sum()
    return h / total if total > 0 else h.astype(float)


def separation_power_of_histograms(h1, h2) -> float:
    """Eq. 15 for two histograms that are each normalised to Σh = 1."""
    h1, h2 = np.asarray(h1, dtype=float), np.asarray(h2, dtype=float)
    s = h1 + h2
    nz = s > 0
    return float(0.5 * np.sum((h1[nz] - h2[nz]) ** 2 / s[nz]))


def separation_power(x1, x2, bins, w1=None, w2=None) -> float:
    """S² of samples ``x1`` and ``x2`` (optionally weighted) in the histogram ``bins``."""
    return separation_power_of_histograms(
        normalised_histogram(x1, bins, w1), normalised_histogram(x2, bins, w2)
    )


def expected_separation_power_of_equal_samples(n1: float, n2: float, n_bins: int) -> float:
    """The statistical floor of S²: its expectation for two samples of sizes ``n1`` and ``n2``
    drawn from the *same* density, in ``n_bins`` populated bins (large-count limit).

    Per bin h1 − h2 has variance p (1/n1 + 1/n2) and h1 + h2 ≈ 2p, so each of the n_bins − 1
    free bins adds (1/n1 + 1/n2)/2 to Σ (h1 − h2)²/(h1 + h2): E[S²] = (n_bins − 1)(1/n1 + 1/n2)/4.
    An S² near it says the samples agree within their statistics; for weighted samples use N_eff.
    """
    return (n_bins - 1) * (1.0 / n1 + 1.0 / n2) / 4.0


def bootstrap_std_of_means(f, w=None, *, n_replicas: int = 200, rng: np.random.Generator):
    """Poisson(1)-bootstrap standard deviation of the weighted mean of each observable.

    ``f``: ``(n,)`` or ``(n, n_observables)``; ``w``: per-event weights. Every replica draws
    one Poisson(1) multiplicity per event, shared by all observables (as one resampled data set
    would be). Returns one standard deviation per observable.
    """
    f = np.asarray(f, dtype=float)
    f2 = f.reshape(len(f), -1)
    w = np.ones(len(f2)) if w is None else np.asarray(w, dtype=float)
    means = np.empty((n_replicas, f2.shape[1]))
    for r in range(n_replicas):
        pw = rng.poisson(1.0, size=len(w)) * w
        means[r] = pw @ f2 / pw.sum()
    std = means.std(axis=0, ddof=1)
    return std if f.ndim > 1 else float(std[0])


def dilution(
    f_truth, f_gen, w_gen=None, w_truth=None, *, n_replicas: int = 200, rng: np.random.Generator
):
    """r = bootstrap std of the weighted mean in the generated sample / the same in the truth.

    Per observable when ``f_*`` are ``(n, n_observables)``.
    """
    s_gen = bootstrap_std_of_means(f_gen, w_gen, n_replicas=n_replicas, rng=rng)
    s_truth = bootstrap_std_of_means(f_truth, w_truth, n_replicas=n_replicas, rng=rng)
    return np.asarray(s_gen) / np.asarray(s_truth) if np.ndim(s_gen) else s_gen / s_truth


def events_needed_ratio(f_truth, f_gen, w_gen) -> float:
    """Eq. 9 from sample averages: N_G / N_T for observable f with weights ``w_gen``.

    The weights are taken as W = p_T/p_G normalised to mean 1 over the generated sample; the
    mean f̄ is the truth sample's.
    """
    f_truth, f_gen = np.asarray(f_truth, dtype=float), np.asarray(f_gen, dtype=float)
    w = np.asarray(w_gen, dtype=float)
    w = w / w.mean()
    fbar = f_truth.mean()
    return float(np.mean(w * w * (f_gen - fbar) ** 2) / np.mean((f_truth - fbar) ** 2))


def auc(scores, labels, weights=None) -> float:
    """Weighted area under the ROC curve: P(score of a label-1 event > a label-0 event).

    Ties count one half. Equal to the Mann-Whitney U statistic / (n_1 n_0) without weights.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    w = np.ones(s.size) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    # group ties: for each unique score, the negative weight below it and at it
    uniq, start = np.unique(s, return_index=True)
    neg_at = np.add.reduceat(np.where(~y, w, 0.0), start)
    pos_at = np.add.reduceat(np.where(y, w, 0.0), start)
    neg_below = np.concatenate([[0.0], np.cumsum(neg_at)[:-1]])
    total_pos, total_neg = pos_at.sum(), neg_at.sum()
    if total_pos <= 0 or total_neg <= 0:
        raise ValueError("auc needs events of both labels")
    return float(np.sum(pos_at * (neg_below + 0.5 * neg_at)) / (total_pos * total_neg))


def jsd_from_bce(h, labels, weights=None) -> float:
    """(ln 2 − BCE)/ln 2 of calibrated outputs ``h``, classes balanced (CaloChallenge's JSD)."""
    y = np.asarray(labels, dtype=float)
    w = balanced_weights(y, weights)
    p = np.clip(np.asarray(h, dtype=float), 1e-7, 1 - 1e-7)
    bce = -np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))) / w.sum()
    return float((np.log(2.0) - bce) / np.log(2.0))


def bin_indices(x, edges) -> np.ndarray:
    """The bin of each value of ``x`` in the histogram ``edges``, as :func:`numpy.histogram` bins
    them (each bin half-open, the last one closed); ``len(edges) - 1`` for a value outside the
    edges or NaN, which a histogram drops. Binning once and counting with
    :func:`numpy.bincount` per replica is what makes a bootstrap of many histograms affordable."""
    x = np.asarray(x, dtype=float)
    edges = np.asarray(edges, dtype=float)
    n_bins = len(edges) - 1
    idx = np.searchsorted(edges, x, side="right") - 1
    idx[x == edges[-1]] = n_bins - 1
    idx[~((x >= edges[0]) & (x <= edges[-1]))] = n_bins
    return idx


def _s2_of_counts(c1, c2) -> float:
    """Eq. 15 of two unnormalised histograms (:func:`normalised_histogram`'s normalisation)."""
    t1, t2 = c1.sum(), c2.sum()
    return separation_power_of_histograms(c1 / t1 if t1 > 0 else c1, c2 / t2 if t2 > 0 else c2)


def separation_power_ratio_errors(
    x1, x2, edges, w2, *, w1=None, n_replicas: int = 200, rng: np.random.Generator
) -> np.ndarray:
    """Poisson-bootstrap standard deviation of S²(x1, x2 weighted by ``w2``)/S²(x1, x2) per
    observable (columns of ``x1``, ``x2`` with ``edges[j]``): each replica draws one Poisson(1)
    multiplicity per event of each sample, shared by every observable, the weights held fixed.
    It is the events' statistical error of the ratio, not the reweighter's fit's."""
    x1 = np.asarray(x1, dtype=float).reshape(len(x1), -1)
    x2 = np.asarray(x2, dtype=float).reshape(len(x2), -1)
    w1 = np.ones(len(x1)) if w1 is None else np.asarray(w1, dtype=float)
    w2 = np.asarray(w2, dtype=float)
    # each observable binned once (the same bins as numpy.histogram's); every replica only counts
    bins1 = [bin_indices(x1[:, j], e) for j, e in enumerate(edges)]
    bins2 = [bin_indices(x2[:, j], e) for j, e in enumerate(edges)]
    ratios = np.empty((int(n_replicas), x1.shape[1]))
    for r in range(int(n_replicas)):
        p1, p2 = w1 * rng.poisson(1.0, len(x1)), rng.poisson(1.0, len(x2)).astype(float)
        p2w = p2 * w2
        for j, e in enumerate(edges):
            n = len(e)  # the bins and one for what the histogram drops
            c1 = np.bincount(bins1[j], weights=p1, minlength=n)[:-1]
            plain = _s2_of_counts(c1, np.bincount(bins2[j], weights=p2, minlength=n)[:-1])
            weighted = _s2_of_counts(c1, np.bincount(bins2[j], weights=p2w, minlength=n)[:-1])
            ratios[r, j] = weighted / plain if plain > 0 else np.nan
    return np.nanstd(ratios, axis=0, ddof=1)
