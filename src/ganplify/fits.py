"""Unbinned maximum-likelihood fits with iminuit (SPEC §1.4).

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

from .truth import mixture_cdf, mixture_pdf

#: Parameter order of the 5-parameter camel-back fit (that of :func:`ganplify.truth.mixture_pdf`).
CAMELBACK_PARAMETERS = ("mu1", "sigma1", "mu2", "sigma2", "frac")


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
        nan = np.full(len(names), np.nan)
        return FitResult(
            names,
            nan,
            nan,
            np.full((5, 5), np.nan),
            False,
            False,
            np.nan,
            np.nan,
            0,
            0,
            message=f"unusable sample: {x.size} points, finite: {bool(np.all(np.isfinite(x)))}",
        )
    cost = UnbinnedNLL(x, mixture_pdf)
    m = Minuit(cost, **(start or camelback_start(x)))
    m.limits["sigma1", "sigma2"] = (1e-3, None)
    m.limits["frac"] = (0.0, 1.0)
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
    fmin = m.fmin
    return FitResult(
        names=names,
        values=values,
        errors=errors,
        covariance=cov,
        valid=bool(m.valid),
        accurate=bool(fmin.has_accurate_covar) if fmin is not None else False,
        fval=float(m.fval),
        edm=float(fmin.edm) if fmin is not None else np.nan,
        nfcn=int(m.nfcn),
        n_attempts=attempts,
        message="" if m.valid else str(fmin),
    )


def fitted_cdf(result: FitResult):
    """Cumulative distribution of the fitted mixture, as a function of x."""
    p = result.as_dict()
    return lambda x: mixture_cdf(x, **p)
