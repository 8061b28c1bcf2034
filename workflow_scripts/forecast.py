"""rule forecast: the study's forecast table and figure, beside the truth's measurement."""

from ganplify.core.runtime import job
from ganplify.jobs.forecast import forecast_study

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    forecast_study(
        list(sm.input.blocks),
        sm.output.table,
        sm.output.figure,
        study=sm.wildcards.study,
        truth=sm.params.truth,
        n_train=sm.params.n_train,
        quantiles=sm.params.quantiles,
        n_generated=sm.params.n_generated,
        statistics=sm.params.statistics,
        n_resamples=sm.params.resamples,
        seed=sm.params.seed,
        errors_h5=sm.input.get("errors"),
    )
