"""rule toy_dctr: the cross-fitted DCTR classifier of a toy and the GAN events' weights."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_dctr

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    toy_dctr(
        sm.input.truth,
        sm.input.gan,
        sm.output[0],
        toy=sm.wildcards.toy,
        classifier=sm.params.classifier,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        weights=sm.params.weights,
        seed=sm.params.seed,
        threads=sm.threads,
    )
