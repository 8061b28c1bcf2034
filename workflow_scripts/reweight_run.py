"""rule reweight_run: run {i} of {approach}: its generator's events weighted towards its sample by
a reweighter fitted on other events of the same generator."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_amplification import reweight_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    reweight_run(
        sm.input.sample,
        sm.input.generator,
        sm.output.run,
        sm.output.model,
        approach=sm.wildcards.approach,
        truth=sm.params.truth,
        quantiles=sm.params.quantiles,
        reweighter=sm.params.reweighter,
        fit_generated=sm.params.fit_generated,
        judge=sm.params.judge,
        seed=sm.params.seed,
        threads=sm.threads,
    )
