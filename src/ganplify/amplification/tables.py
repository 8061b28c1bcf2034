"""The study's tables: per-run errors turned into rows, with every CSV's column contract.

Each table has exactly the columns of its ``*_COLUMNS`` list, in that order; later stages and
external checks read these contracts (add a new file rather than a column):

- ``equivalent_events.csv``: :data:`EQUIVALENCE_COLUMNS`, one row per (approach, K); ``n_eff``
  is the number of events the estimate rests on (the training sample, the largest generated
  sample, or for weighted events their effective number (Σw)²/Σw², averaged over runs);
- ``marginal_errors.csv``: :data:`MARGINAL_COLUMNS`, one row per (approach, q, coordinate);
- ``saturation.csv``: :data:`SATURATION_COLUMNS`, one row per (generator approach, K);
- ``amplification_vs_ntrain.csv``: :data:`AMPLIFICATION_VS_NTRAIN_COLUMNS`, one row per
  (approach, K, training size) of a study run at several sizes;
- ``fit_summary.csv``: :func:`fit_summary_row`'s columns (they depend on the fit's parameters);
- ``forecast.csv``: :data:`FORECAST_COLUMNS`, one row per (K, number generated M), M = inf last:
  the forecast (:mod:`ganplify.amplification.forecast`) beside the measured amplification of
  the study's GAN.

Runs whose errors are not finite (failed fits) are excluded from every statistic and counted in
``n_runs``. The functions take arrays and return rows; reading and writing files is the jobs'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .equivalence import amplification, bootstrap_equivalent_events, equivalent_events
from .quantiles import quantile_mse
from .saturation import fit_bias_and_noise, saturation_point

EQUIVALENCE_COLUMNS = [
    "approach",
    "n_train",
    "K",
    "n_runs",
    "mse_mean",
    "mse_std",
    "n_equiv",
    "n_equiv_lo",
    "n_equiv_hi",
    "amplification",
    "n_eff",
]


def equivalence_rows(
    approach: str,
    n_train: int,
    mse_by_k: dict[int, np.ndarray],
    *,
    rng_for: Callable[[int], np.random.Generator],
    n_resamples: int = 1000,
    confidence_level: float = 0.68,
    n_eff: float = float("nan"),
) -> list[dict]:
    """One table row per K from the per-run MSEs of one approach.

    ``mse_by_k[K]`` holds one MSE per run (independent training sample). ``rng_for(K)`` gives the
    bootstrap's generator, so that every row's interval is reproducible on its own. ``n_eff``: the
    effective number of events the estimate is made of (mean over runs; NaN for a fit).
    """
    rows = []
    for k in sorted(mse_by_k):
        m = np.asarray(mse_by_k[k], dtype=float)
        m = m[np.isfinite(m)]
        if m.size == 0:
            raise ValueError(f"approach {approach!r}, K={k}: no finite quantile MSE among the runs")
        n_eq, lo, hi = bootstrap_equivalent_events(
            m, k, rng=rng_for(k), n_resamples=n_resamples, confidence_level=confidence_level
        )
        rows.append(
            {
                "approach": approach,
                "n_train": int(n_train),
                "K": int(k),
                "n_runs": int(m.size),
                "mse_mean": float(m.mean()),
                "mse_std": float(m.std(ddof=1)) if m.size > 1 else float("nan"),
                "n_equiv": n_eq,
                "n_equiv_lo": lo,
                "n_equiv_hi": hi,
                "amplification": float(amplification(n_eq, n_train)),
                "n_eff": float(n_eff),
            }
        )
    return rows


MARGINAL_COLUMNS = ["approach", "q", "coordinate", "n_runs", "mse_mean", "mse_std", "n_equiv"]


def marginal_rows(approach: str, marginal_mse: np.ndarray, qs: Sequence[int]) -> list[dict]:
    """Per-coordinate quantile errors: ``marginal_mse`` of shape ``(n_runs, n_q, dim)``.

    Coordinate 0 is x (1D) or the radius r; 1 … dim−1 are the angles φ_1 … φ_{dim−1}. ``n_equiv``
    is the number of truth events whose expected error in that coordinate's q cells is the mean.
    """
    rows = []
    m = np.asarray(marginal_mse, dtype=float)
    for a, q in enumerate(qs):
        for c in range(m.shape[2]):
            v = m[:, a, c]
            v = v[np.isfinite(v)]
            rows.append(
                {
                    "approach": approach,
                    "q": int(q),
                    "coordinate": "r"
                    if (c == 0 and m.shape[2] > 1)
                    else ("x" if c == 0 else f"phi{c}"),
                    "n_runs": int(v.size),
                    "mse_mean": float(v.mean()),
                    "mse_std": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                    "n_equiv": float(equivalent_events(v.mean(), q)),
                }
            )
    return rows


def reference_mse(
    sample: Callable[[int, np.random.Generator], np.ndarray],
    fractions: Callable[[np.ndarray], Sequence[np.ndarray]],
    sizes: Sequence[int],
    n_repeats: int,
    rng_for: Callable[[int], np.random.Generator],
) -> np.ndarray:
    """Quantile MSE of truth samples: shape ``(len(sizes), n_repeats, n_K)``.

    ``fractions(x)`` returns the cell fractions of the points x for each of the n_K cell grids.
    These are the "sample" curves of Fig. 2: what N truth events achieve, by Monte Carlo, to be
    drawn next to the exact expectation (K − 1) / (K² N).
    """
    rows = []
    for n in sizes:
        gen = rng_for(int(n))
        rows.append(
            [[quantile_mse(f) for f in fractions(sample(int(n), gen))] for _ in range(n_repeats)]
        )
    return np.array(rows, dtype=float)


def stack_runs(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """Stack per-run arrays along a new first axis, with a clear error on a shape mismatch."""
    arrays = [np.asarray(a) for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"per-run arrays differ in shape: {sorted(shapes)}")
    return np.stack(arrays)


def run_errors(fractions_by_k: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Quantile MSEs of every run and which runs are usable.

    ``fractions_by_k[K]``: the runs' cell fractions, ``(n_runs, K)`` for fixed-size estimates or
    ``(n_runs, n_generated, K)`` for generators. Returns ``(mse, ok)``: ``mse`` of shape
    ``(n_runs, [n_generated,] n_K)`` (K in the order of the mapping) and ``ok`` (``(n_runs,)``):
    the runs whose every error is finite — a failed fit stores NaN fractions and is left out.
    """
    mse = np.stack([quantile_mse(f) for f in fractions_by_k.values()], axis=-1)
    ok = np.all(np.isfinite(mse), axis=tuple(range(1, mse.ndim)))
    return mse, ok


def marginal_run_errors(marginals_by_q: dict[int, np.ndarray]) -> np.ndarray:
    """Per-coordinate quantile MSEs, ``(n_runs, [n_generated,] n_q, dim)``.

    ``marginals_by_q[q]``: the runs' per-coordinate fractions, ``(n_runs, [n_generated,] dim, q)``.
    """
    return np.stack([quantile_mse(f) for f in marginals_by_q.values()], axis=-2)


AMPLIFICATION_VS_NTRAIN_COLUMNS = [
    "approach",
    "n_train",
    "K",
    "n_runs",
    "n_equiv",
    "n_equiv_lo",
    "n_equiv_hi",
    "amplification",
    "amplification_lo",
    "amplification_hi",
    "n_eff",
]


def amplification_vs_ntrain_rows(tables: Sequence[Sequence[dict]]) -> list[dict]:
    """One row per (approach, training size, K) from each size's equivalence rows, with the
    amplification's interval (the bootstrap interval of N_eq over N_train), ordered by approach,
    K and size."""
    rows = [
        {
            "approach": r["approach"],
            "n_train": int(r["n_train"]),
            "K": int(r["K"]),
            "n_runs": int(r["n_runs"]),
            "n_equiv": float(r["n_equiv"]),
            "n_equiv_lo": float(r["n_equiv_lo"]),
            "n_equiv_hi": float(r["n_equiv_hi"]),
            "amplification": float(r["n_equiv"]) / int(r["n_train"]),
            "amplification_lo": float(r["n_equiv_lo"]) / int(r["n_train"]),
            "amplification_hi": float(r["n_equiv_hi"]) / int(r["n_train"]),
            "n_eff": float(r["n_eff"]),
        }
        for table in tables
        for r in table
    ]
    order = list(dict.fromkeys(r["approach"] for r in rows))
    return sorted(rows, key=lambda r: (order.index(r["approach"]), r["K"], r["n_train"]))


SATURATION_COLUMNS = [
    "approach",
    "n_train",
    "K",
    "n_runs",
    "bias_mean",
    "bias_std",
    "noise_mean",
    "n_sat_mean_curve",
    "n_sat_median",
    "n_sat_lo",
    "n_sat_hi",
    "n_equiv_asymptotic",
    "amplification_asymptotic",
]


def saturation_rows(
    approach: str,
    n_train: int,
    n_generated: np.ndarray,
    mse: np.ndarray,
    ks: Sequence[int],
    *,
    fraction: float = 0.1,
) -> list[dict]:
    """Saturation of one generator approach's quantile-error curves (see :mod:`.saturation`).

    ``mse``: ``(n_runs, len(n_generated), len(ks))``, usable runs only. Per run,
    ``mse(M) = a + b / M`` is fitted and the saturation point is ``M_sat = b / (f a)``. Reported
    per K: the mean and spread of a, the median and 16–84 % range of M_sat over runs, M_sat of
    the mean curve, and the equivalent events and amplification of the mean asymptote a.
    """
    rows = []
    for j, k in enumerate(ks):
        curves = np.asarray(mse)[:, :, j]
        a, b = fit_bias_and_noise(n_generated, curves)
        a_mean_curve, b_mean_curve = fit_bias_and_noise(n_generated, curves.mean(0))
        n_sat = saturation_point(a, b, fraction)
        n_eq = float(equivalent_events(a.mean(), k))
        rows.append(
            {
                "approach": approach,
                "n_train": int(n_train),
                "K": int(k),
                "n_runs": int(curves.shape[0]),
                "bias_mean": float(a.mean()),
                "bias_std": float(a.std(ddof=1)) if a.size > 1 else float("nan"),
                "noise_mean": float(b.mean()),
                "n_sat_mean_curve": float(saturation_point(a_mean_curve, b_mean_curve, fraction)),
                "n_sat_median": float(np.median(n_sat)),
                "n_sat_lo": float(np.quantile(n_sat, 0.16)),
                "n_sat_hi": float(np.quantile(n_sat, 0.84)),
                "n_equiv_asymptotic": n_eq,
                "amplification_asymptotic": n_eq / n_train,
            }
        )
    return rows


def fit_summary_row(
    names: Sequence[str],
    truth_values: np.ndarray,
    values: np.ndarray,
    errors: np.ndarray,
    valid: np.ndarray,
) -> dict:
    """Convergence and parameter summary of a study's fits: one row.

    ``values``/``errors``: ``(n_fits, n_parameters)``; ``valid``: iminuit's verdict per fit.
    Failed fits are counted (``n_failed``), not hidden, and left out of the parameter statistics.
    Per parameter: the truth, mean and spread of the fitted values, mean error, and the mean and
    spread of the pulls (value − truth)/error.
    """
    valid = np.asarray(valid, dtype=bool)
    values, errors = np.asarray(values, dtype=float), np.asarray(errors, dtype=float)
    row = {"n_fits": int(valid.size), "n_valid": int(valid.sum()), "n_failed": int((~valid).sum())}
    ok = valid & np.all(np.isfinite(values), axis=1)
    for j, name in enumerate(names):
        v, e = values[ok, j], errors[ok, j]
        pull = (v - truth_values[j]) / e
        row[f"{name}_truth"] = float(truth_values[j])
        row[f"{name}_mean"] = float(v.mean()) if v.size else float("nan")
        row[f"{name}_std"] = float(v.std(ddof=1)) if v.size > 1 else float("nan")
        row[f"{name}_mean_error"] = float(e.mean()) if e.size else float("nan")
        row[f"{name}_pull_mean"] = float(pull.mean()) if v.size else float("nan")
        row[f"{name}_pull_std"] = float(pull.std(ddof=1)) if v.size > 1 else float("nan")
    return row


FORECAST_COLUMNS = [
    "n_train",
    "K",
    "n_generated",
    "forecast_runs",
    "members",
    "forecast_n_equiv",
    "forecast_n_equiv_lo",
    "forecast_n_equiv_hi",
    "forecast_amplification",
    "forecast_amplification_lo",
    "forecast_amplification_hi",
    "measured_runs",
    "measured_n_equiv",
    "measured_n_equiv_lo",
    "measured_n_equiv_hi",
    "measured_amplification",
    "misspecification",
    "misspecification_measured",
    "corrected_amplification",
    "verdict",
]

#: The verdicts of :func:`forecast_rows`: the measured G within the forecast's interval, below
#: it (the forecast promised more than the generator delivers), above it, or nothing measured.
VERDICTS = ("right", "over-promises", "under-promises", "")


def verdict(measured: float, lo: float, hi: float) -> str:
    """Where the measured amplification lies against the forecast's interval (:data:`VERDICTS`)."""
    if not np.isfinite(measured):
        return ""
    if measured < lo:
        return "over-promises"
    if measured > hi:
        return "under-promises"
    return "right"


def forecast_rows(
    fc,
    k: int,
    n_runs: int,
    measured_mse: np.ndarray | None = None,
    *,
    rng_for: Callable[[float], np.random.Generator] | None = None,
    n_resamples: int = 1000,
) -> list[dict]:
    """One row per M of a study's forecast for K cells (``fc``: the runs' combined
    :class:`~.forecast.AmplificationForecast`) beside the measurement.

    ``measured_mse``: ``(runs, len(fc.n_generated))``, the study's GAN's quantile MSE against the
    truth per run (NaN where not measured, e.g. M = inf), or None. Its N_eq is §1.3's with the
    bootstrap interval over runs (``rng_for(M)``, as the equivalence table's). The forecast's
    interval is the member bootstrap's. ``misspecification`` is the members' estimate against the
    truth (MSE units); ``misspecification_measured`` the measured mean MSE minus the forecast's,
    the part of the measured error the spread did not see; ``corrected_amplification`` G had the
    forecast included the members' term.
    """
    corrected = fc.n_equiv_with_misspecification() / fc.n_train
    rows = []
    for j, m in enumerate(fc.n_generated):
        meas = np.full(3, np.nan)
        runs, miss_meas = 0, float("nan")
        if measured_mse is not None:
            col = np.asarray(measured_mse, dtype=float)[:, j]
            col = col[np.isfinite(col)]
            runs = int(col.size)
            if runs:
                meas = np.array(
                    bootstrap_equivalent_events(
                        col,
                        k,
                        rng=rng_for(float(m)),
                        n_resamples=n_resamples,
                        confidence_level=fc.confidence_level,
                    )
                )
                miss_meas = float(col.mean() - fc.mse[j])
        rows.append(
            {
                "n_train": fc.n_train,
                "K": int(k),
                "n_generated": float(m),
                "forecast_runs": int(n_runs),
                "members": fc.n_members,
                "forecast_n_equiv": float(fc.n_equiv[j]),
                "forecast_n_equiv_lo": float(fc.n_equiv_lo[j]),
                "forecast_n_equiv_hi": float(fc.n_equiv_hi[j]),
                "forecast_amplification": float(fc.amplification[j]),
                "forecast_amplification_lo": float(fc.amplification_lo[j]),
                "forecast_amplification_hi": float(fc.amplification_hi[j]),
                "measured_runs": runs,
                "measured_n_equiv": float(meas[0]),
                "measured_n_equiv_lo": float(meas[1]),
                "measured_n_equiv_hi": float(meas[2]),
                "measured_amplification": float(meas[0]) / fc.n_train,
                "misspecification": float(fc.misspecification),
                "misspecification_measured": miss_meas,
                "corrected_amplification": float(corrected[j]),
                "verdict": verdict(float(meas[0]), fc.n_equiv_lo[j], fc.n_equiv_hi[j]),
            }
        )
    return rows
