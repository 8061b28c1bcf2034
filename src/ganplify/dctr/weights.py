"""From classifier outputs to event weights, and what every weight set must report.

w = h / (1 − h) estimates p_T / p_G (docs/science.md §2.1). Before the ratio, h is clipped to
[ε, 1 − ε] so that no weight is 0 or infinite; optionally the ratio is capped (the paper caps its
low-level weights at 5 — capping biases less than dropping events, which the authors' toy notebook
did) and, where a raking table fitted on other events is given (:mod:`.raking`, opt-in), multiplied
by its factors and capped again; then it multiplies the events' initial weights (1 for an
unweighted generator) and, if asked, the set is normalised so that the mean weight equals the
mean initial weight (1 for an unweighted sample) — or by a normalisation fixed earlier, when a
stored reweighter weights new events (:mod:`.reweighter`). The cap applies to the ratio, before
normalisation: a capped weight may end slightly above the cap after it.

Every weight set comes with :class:`WeightDiagnostics`: the effective sample size
N_eff = (Σw)²/Σw², N_eff/N, how many events hit the cap, the median and maximum weight, and how many
weights exceed 100 × the median (logged as a warning: a few such events dominate any histogram).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from ..core.config import from_mapping

log = logging.getLogger("ganplify.dctr")

#: A weight above this multiple of the median is flagged.
EXTREME_FACTOR = 100.0


@dataclass(frozen=True)
class WeightSettings:
    clip_epsilon: float = 1e-6
    #: upper limit of the density ratio h/(1 − h); None: no cap. The study's default (config.yaml
    #: dctr.weights.cap); tests/test_config.py keeps every settings default equal to the config's
    cap: float | None = 50.0
    normalise: bool = True
    #: quantile bins per feature of the raking tables fitted out of sample by
    #: :func:`.reweighter.fit` (:mod:`.raking`); 0: no raking. Events of one feature are not
    #: raked (the classifier's ratio already is that marginal's)
    rake_bins: int = 0
    #: sweeps over the features of the raking
    rake_iterations: int = 10

    def __post_init__(self):
        if self.rake_bins == 1 or self.rake_bins < 0:
            raise ValueError(f"rake_bins {self.rake_bins!r}: 0 (no raking) or at least 2")
        if self.rake_iterations < 1:
            raise ValueError(f"rake_iterations {self.rake_iterations!r}: at least 1")

    @classmethod
    def from_config(cls, cfg: Mapping) -> WeightSettings:
        return from_mapping(cls, cfg)


@dataclass(frozen=True)
class WeightDiagnostics:
    n: int
    n_eff: float
    n_eff_fraction: float
    n_capped: int
    median: float
    max: float
    n_extreme: int

    def as_dict(self) -> dict:
        return asdict(self)


def balanced_weights(labels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Sample weights scaled so that both classes carry the same total, N/2 each.

    With equal class totals the weighted cross-entropy is minimised by h = p_T / (p_T + p_G)
    (each density normalised to its class), so h / (1 − h) is the density ratio.
    """
    y = np.asarray(labels).astype(bool)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float).copy()
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("sample weights must be finite and >= 0")
    for cls in (True, False):
        total = w[y == cls].sum()
        if total <= 0:
            raise ValueError(f"class {int(cls)} has no events (or zero total weight)")
        w[y == cls] *= 0.5 * y.size / total
    return w


def effective_sample_size(w) -> float:
    """N_eff = (Σw)² / Σw²: the number of unweighted events with the same statistical power."""
    w = np.asarray(w, dtype=float)
    return float(w.sum() ** 2 / np.sum(w * w)) if w.size else 0.0


def diagnose(w, n_capped: int = 0) -> WeightDiagnostics:
    """The diagnostics of a weight set (warns when weights exceed 100 × the median)."""
    w = np.asarray(w, dtype=float)
    median = float(np.median(w))
    n_extreme = int(np.sum(w > EXTREME_FACTOR * median))
    d = WeightDiagnostics(
        n=int(w.size),
        n_eff=effective_sample_size(w),
        n_eff_fraction=effective_sample_size(w) / w.size,
        n_capped=int(n_capped),
        median=median,
        max=float(w.max()),
        n_extreme=n_extreme,
    )
    if n_extreme:
        log.warning(
            "%d of %d weights exceed %g x the median (%.3g; max %.3g): they dominate the "
            "histograms they fall in",
            n_extreme,
            w.size,
            EXTREME_FACTOR,
            median,
            d.max,
        )
    return d


def dctr_weights(
    h,
    settings: WeightSettings = WeightSettings(),
    initial_weights=None,
    *,
    rake_factor=None,
    norm: float | None = None,
) -> tuple[np.ndarray, WeightDiagnostics]:
    """Weights w = w0 · h/(1 − h) of events with classifier outputs ``h``: clipped and capped;
    with ``rake_factor`` (each event's factor from a :class:`.raking.RakeTable` fitted on
    *other* events) times it and capped again; normalised (``settings.normalise``) to the mean
    initial weight, or by the factor ``norm`` fixed when the reweighter was fitted.
    ``n_capped`` counts the events the cap limited at either step."""
    h = np.clip(np.asarray(h, dtype=float), settings.clip_epsilon, 1.0 - settings.clip_epsilon)
    ratio = h / (1.0 - h)
    w0 = np.ones_like(ratio) if initial_weights is None else np.asarray(initial_weights, float)
    if w0.shape != ratio.shape or np.any(w0 < 0):
        raise ValueError("initial weights: one non-negative weight per event")
    capped = np.zeros(ratio.shape, dtype=bool)
    if settings.cap is not None:
        capped = ratio > settings.cap
        ratio = np.minimum(ratio, settings.cap)
    if rake_factor is not None:
        # raked after the cap, then capped again: a few uncapped ratios of 10^3 and more would
        # set their bins' factors, and the cap would then undo them
        ratio = ratio * np.asarray(rake_factor, dtype=float)
        if settings.cap is not None:
            capped |= ratio > settings.cap
            ratio = np.minimum(ratio, settings.cap)
    w = w0 * ratio
    if settings.normalise:
        w *= w0.sum() / w.sum() if norm is None else norm
    return w, diagnose(w, int(capped.sum()))


def normalisation(w_unnormalised, initial_weights=None) -> float:
    """The factor that gives weights ``w_unnormalised`` the mean of the initial weights."""
    w = np.asarray(w_unnormalised, dtype=float)
    w0 = np.ones_like(w) if initial_weights is None else np.asarray(initial_weights, float)
    return float(w0.sum() / w.sum())
