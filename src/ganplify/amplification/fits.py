"""Unbinned maximum-likelihood fits with iminuit (docs/science.md §1.4).

The paper fitted the camel back with iminuit + probfit. probfit is unmaintained: it needs
iminuit < 2 and does not import under NumPy 2. ``iminuit.cost.UnbinnedNLL`` is the maintained
equivalent — the same negative log-likelihood, with the error definition handled for us.

A fit never raises on a bad sample: it returns a :class:`FitResult` whose flags say what happened,
so that a failed fit is recorded and counted, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from iminuit import Minuit
from iminuit.cost import UnbinnedNLL

from ..densities.truth import folded_normal_cdf, folded_normal_pdf, mixture_cdf, mixture_pdf

#: Parameter order of the 5-parameter camel-back fit (that of
#: :func:`ganplify.densities.truth.mixture_pdf`).
CAMELBACK_PARAMETERS = ("mu1", "sigma1", "mu2", "sigma2", "frac")
#: Parameters of the radial fit of the ring and the shells.
SHELL_PARAMETERS = ("r_mean", "r_sigma")


@dataclass
class FitResult:
    """Outcome of one fit. ``valid`` is iminuit's verdict (converged, EDM small, not at a limit)."""

    names: tuple[str, ...]
    values: np.ndarray
    errors: np.ndarray
    covariance: np.ndarray
    valid: bool
    accurate: bool
    fval: float
    edm: float
    nfcn: int
    n_attempts: int
    message: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.values.tolist(), strict=True))


def camelback_start(x) -> dict[str, float]:
    """Data-driven starting values: the lower and upper halves of the sample seed the two modes."""
    x = np.sort(np.asarray(x, dtype=float).ravel())
    lower, upper = x[: x.size // 2], x[x.size // 2 :]
    return {
        "mu1": float(lower.mean()),
        "sigma1": float(max(lower.std(), 0.1)),
        "mu2": float(upper.mean()),
        "sigma2": float(max(upper.std(), 0.1)),
        "frac": 0.5,
    }


def _failed(names, message) -> FitResult:
    nan = np.full(len(names), np.nan)
    cov = np.full((len(names), len(names)), np.nan)
    return FitResult(tuple(names), nan, nan, cov, False, False, np.nan, np.nan, 0, 0, message)


def _minimize(m: Minuit, max_attempts: int) -> int:
    """MIGRAD, retried after a SIMPLEX pass while it does not converge; HESSE if it did."""
    attempts = 0
    while attempts < max_attempts:
        attempts += 1
        if attempts > 1:
            m.simplex()
        m.migrad()
        if m.valid:
            break
    if m.valid:
        m.hesse()
    return attempts


def _result(m: Minuit, names, attempts: int, values=None, errors=None, cov=None) -> FitResult:
    fmin = m.fmin
    k = len(names)
    return FitResult(
        names=tuple(names),
        values=np.array(m.values) if values is None else values,
        errors=np.array(m.errors) if errors is None else errors,
        covariance=(
            cov
            if cov is not None
            else (np.array(m.covariance) if m.covariance is not None else np.full((k, k), np.nan))
        ),
        valid=bool(m.valid),
        accurate=bool(fmin.has_accurate_covar) if fmin is not None else False,
        fval=float(m.fval),
        edm=float(fmin.edm) if fmin is not None else np.nan,
        nfcn=int(m.nfcn),
        n_attempts=attempts,
        message="" if m.valid else str(fmin),
    )


def fit_camelback(x, *, start: dict[str, float] | None = None, max_attempts: int = 3) -> FitResult:
    """5-parameter unbinned ML fit of the two-Gaussian mixture to the points ``x``.

    Parameters are the two means, the two widths and the weight ``frac`` of the first Gaussian.
    Widths are bounded below by 1e-3 and ``frac`` lies in [0, 1]. If MIGRAD does not converge it
    is retried (after a SIMPLEX pass) up to ``max_attempts`` times in total; the number of attempts
    is recorded. The modes are ordered so that ``mu1 <= mu2``.
    """
    x = np.asarray(x, dtype=float).ravel()
    names = CAMELBACK_PARAMETERS
    if x.size < len(names) or not np.all(np.isfinite(x)):
        return _failed(
            names, f"unusable sample: {x.size} points, finite: {bool(np.all(np.isfinite(x)))}"
        )
    m = Minuit(UnbinnedNLL(x, mixture_pdf), **(start or camelback_start(x)))
    m.limits["sigma1", "sigma2"] = (1e-3, None)
    m.limits["frac"] = (0.0, 1.0)
    attempts = _minimize(m, max_attempts)
    values = np.array(m.values)
    errors = np.array(m.errors)
    cov = np.array(m.covariance) if m.covariance is not None else np.full((5, 5), np.nan)
    if values[0] > values[2]:
        # Label switching: the likelihood is symmetric under exchanging the modes.
        perm = [2, 3, 0, 1, 4]
        values, errors, cov = values[perm], errors[perm], cov[np.ix_(perm, perm)]
        values[4] = 1.0 - values[4]
        cov[4, :4] *= -1.0
        cov[:4, 4] *= -1.0
    return _result(m, names, attempts, values, errors, cov)


def fitted_cdf(result: FitResult):
    """Cumulative distribution of the fitted mixture, as a function of x."""
    p = result.as_dict()
    return lambda x: mixture_cdf(x, **p)


def _radius_pdf(r, r_mean, r_sigma):
    return folded_normal_pdf(r, r_mean, r_sigma)


def fit_shell_radius(x, *, max_attempts: int = 3) -> FitResult:
    """2-parameter unbinned ML fit of the ring / shell: r = |x| ~ |N(r_mean, r_sigma)|.

    The known functional form of the shell is a radius distribution times a uniform direction;
    the direction has no free parameter, so the natural low-parameter fit is that of the radius.
    """
    x = np.asarray(x, dtype=float)
    names = SHELL_PARAMETERS
    if x.ndim != 2 or x.shape[0] < len(names) or not np.all(np.isfinite(x)):
        return _failed(names, f"unusable sample of shape {x.shape}")
    r = np.linalg.norm(x, axis=1)
    m = Minuit(
        UnbinnedNLL(r, _radius_pdf), r_mean=float(r.mean()), r_sigma=float(max(r.std(), 0.1))
    )
    m.limits["r_sigma"] = (1e-3, None)
    attempts = _minimize(m, max_attempts)
    return _result(m, names, attempts)


def fitted_radius_cdf(result: FitResult):
    """Cumulative distribution of the fitted radius."""
    p = result.as_dict()
    return lambda r: folded_normal_cdf(r, p["r_mean"], p["r_sigma"])
