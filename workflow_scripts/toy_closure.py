"""rule toy_closure: a fresh classifier of truth against the DCTR-weighted GAN events."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_closure

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    toy_closure(
        sm.input.truth,
        sm.input.gan,
        sm.input.weights,
        sm.output[0],
        toy=sm.wildcards.toy,
        classifier=sm.params.classifier,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        seed=sm.params.seed,
        threads=sm.threads,
    )
