"""rules/fit.smk: the low-parameter fit of each training sample, and the study's fit summary."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..amplification.cells import fit_model, fitted_probabilities, n_cells
from ..amplification.tables import fit_summary_row, stack_runs
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from .common import marginal_key, quantile_key, truth_from_config

log = logging.getLogger("ganplify")


def fit_sample(sample_path, out, *, truth: Mapping, quantiles: Sequence[int]) -> dict:
    """Fit the training sample in ``sample_path``; write the fit and its cell probabilities."""
    x = read_dataset(sample_path, "x")
    attrs = read_attrs(sample_path)
    density = truth_from_config(truth)
    result = fit_model(density, x)
    datasets = {
        "values": result.values,
        "errors": result.errors,
        "covariance": result.covariance,
        "truth_values": np.array([density.parameters[p] for p in result.names]),
    }
    for q in quantiles:
        cells, marginals = fitted_probabilities(density, result, q)
        if not result.valid:  # a failed fit has no trustworthy density: counted, not scored
            cells, marginals = np.full_like(cells, np.nan), np.full_like(marginals, np.nan)
        datasets[quantile_key(n_cells(density, q))] = cells
        datasets[marginal_key(q)] = marginals
    write_h5(
        out,
        datasets,
        provenance(
            study=attrs.get("study"),
            index=attrs.get("index"),
            sample_file=str(sample_path),
            sample_seed=attrs.get("seed"),
            parameters=list(result.names),
            valid=result.valid,
            accurate=result.accurate,
            fval=result.fval,
            edm=result.edm,
            nfcn=result.nfcn,
            n_attempts=result.n_attempts,
            message=result.message,
            truth=dict(truth),
            quantiles=list(quantiles),
        ),
    )
    level = logging.INFO if result.valid else logging.WARNING
    log.log(level, "fit of %s: valid=%s values=%s", sample_path, result.valid, result.as_dict())
    return result.as_dict()


def summarize_fits(fit_files: Sequence[str], out_csv) -> dict:
    """Convergence and parameter summary of a study's fits (failed fits are counted, not hidden)."""
    row = fit_summary_row(
        read_attrs(fit_files[0])["parameters"],
        read_dataset(fit_files[0], "truth_values"),
        stack_runs(read_dataset(f, "values") for f in fit_files),
        stack_runs(read_dataset(f, "errors") for f in fit_files),
        np.array([bool(read_attrs(f)["valid"]) for f in fit_files]),
    )
    write_csv(out_csv, [row], list(row))
    if row["n_failed"]:
        log.warning("%d of %d fits failed", row["n_failed"], row["n_fits"])
    return row
