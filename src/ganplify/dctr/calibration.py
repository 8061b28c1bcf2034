"""Calibrating classifier outputs before they become weights (docs/science.md §2.1).

A classifier trained with cross-entropy is calibrated only in the limit of infinite data and
capacity; w = h/(1 − h) magnifies miscalibration near h = 1. Three choices, fitted on events the
classifier did not train on:

- ``none``: h as it comes;
- ``temperature`` (Guo et al. 2017, used by the DCTR paper for its low-level model): one parameter
  T, h → sigmoid(logit(h) / T), T minimising the cross-entropy;
- ``isotonic`` (CaloChallenge's choice): the monotone step function of h that minimises the
  squared error to the labels, linearly interpolated between its steps and clipped to
  [1e-6, 1 − 1e-6] — the equivalent of scikit-learn's
  ``IsotonicRegression(out_of_bounds='clip', y_min=1e-6, y_max=1-1e-6)``.

Both fits take sample weights and balance the classes like the classifier's training
(:func:`ganplify.dctr.weights.balanced_weights`), so that a calibrated h keeps meaning
p_T / (p_T + p_G).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import isotonic_regression, minimize_scalar
from scipy.special import expit, logit

from .weights import balanced_weights

METHODS = ("none", "temperature", "isotonic")
_EPS = 1e-6


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration map h → h'. Call it on classifier outputs."""

    method: str
    temperature: float = 1.0
    #: isotonic: the step function's knots (increasing x, non-decreasing y)
    knots_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    knots_y: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __call__(self, h) -> np.ndarray:
        h = np.asarray(h, dtype=float)
        if self.method == "none":
            return h
        if self.method == "temperature":
            return expit(logit(np.clip(h, _EPS, 1 - _EPS)) / self.temperature)
        return np.clip(np.interp(h, self.knots_x, self.knots_y), _EPS, 1 - _EPS)


def fit_calibration(method: str, h, labels, weights=None) -> Calibration:
    """Fit ``method`` (one of :data:`METHODS`) on outputs ``h`` with ``labels`` (1 truth)."""
    if method not in METHODS:
        raise ValueError(f"calibration {method!r}: choose one of {METHODS}")
    if method == "none":
        return Calibration("none")
    h = np.asarray(h, dtype=float)
    y = np.asarray(labels, dtype=float)
    w = balanced_weights(y, weights)
    if method == "temperature":
        z = logit(np.clip(h, _EPS, 1 - _EPS))

        def loss(log_t):
            p = np.clip(expit(z / np.exp(log_t)), 1e-12, 1 - 1e-12)
            return -np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))) / w.sum()

        res = minimize_scalar(loss, bounds=(-4.0, 4.0), method="bounded")
        return Calibration("temperature", temperature=float(np.exp(res.x)))
    # isotonic: ties in h first share one weighted mean label (as scikit-learn does)
    xs, inverse = np.unique(h, return_inverse=True)
    ws = np.bincount(inverse, weights=w)
    ys = np.bincount(inverse, weights=w * y) / ws
    fitted = isotonic_regression(ys, weights=ws, increasing=True).x
    # keep the two ends of every constant block: interpolation between them is the same map
    change = np.diff(fitted) != 0
    keep = np.zeros(fitted.size, dtype=bool)
    keep[[0, -1]] = True
    keep[:-1] |= change
    keep[1:] |= change
    return Calibration("isotonic", knots_x=xs[keep], knots_y=fitted[keep])
