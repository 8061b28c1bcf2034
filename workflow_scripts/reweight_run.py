"""rule reweight_run: run {i} of {approach}: its generator's events weighted towards its sample."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_amplification import reweight_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    reweight_run(
        sm.input.sample,
        sm.input.generator,
        sm.output[0],
        approach=sm.wildcards.approach,
        truth=sm.params.truth,
        quantiles=sm.params.quantiles,
        classifier=sm.params.classifier,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        weights=sm.params.weights,
        max_train_generated=sm.params.max_train_generated,
        seed=sm.params.seed,
        threads=sm.threads,
        judge_classifier=sm.params.judge,
    )
