"""rule calo_forecast: a calorimeter study's forecast table and figure."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_forecast import calo_forecast

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    calo_forecast(
        sm.input.training,
        list(sm.input.members),
        sm.output.table,
        sm.output.figure,
        calo=sm.wildcards.calo,
        n_train=sm.params.n_train,
        quantiles=sm.params.quantiles,
        n_generated=sm.params.n_generated,
        n_resamples=sm.params.resamples,
        confidence_level=sm.params.confidence_level,
        seed=sm.params.seed,
        reference=sm.input.get("reference"),
        measured_run=sm.input.get("measured"),
    )
